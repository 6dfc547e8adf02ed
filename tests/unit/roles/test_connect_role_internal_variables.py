# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The connect role clears every variable it sets (tasks/result.yml) and leaves the caller only connect_result."""

import glob
import os

import yaml

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "connect")


def tasks(items):
    """Every task of a task list, blocks (block, rescue, always) included."""
    for task in items or []:
        yield task
        for section in ("block", "rescue", "always"):
            yield from tasks(task.get(section))


CLEAR_TASK = "Publish connect_result and clear the role's internal variables"


def role_tasks():
    """(task file, task) for every task of the role."""
    for path in glob.glob(os.path.join(ROLE, "tasks", "*.yml")):
        with open(path, encoding="utf-8") as handle:
            for task in tasks(yaml.safe_load(handle)):
                yield os.path.basename(path), task


def variables_set():
    """{variable: task file} for every variable a task of the role, but the publishing one, sets (set_fact, register)."""
    found = {}
    for path, task in role_tasks():
        if task.get("name") == CLEAR_TASK:
            continue
        for name in list(task.get("ansible.builtin.set_fact", {}) or {}) + [task.get("register")]:
            if name and "{{" not in name:
                found.setdefault(name, path)
    return found


def test_every_internal_variable_is_cleared_and_only_connect_result_is_public():
    [clear] = [
        task for path, task in role_tasks() if task.get("name") == CLEAR_TASK and "ansible.builtin.set_fact" in task
    ]
    values = dict(clear["ansible.builtin.set_fact"])
    assert "custom_key_store" in values.pop("connect_result")
    assert set(values.values()) == {None}
    set_by_tasks = variables_set()
    assert not {name for name in set_by_tasks if not name.startswith("connect__")}
    assert set(set_by_tasks) == set(values)
