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


def variables_set():
    """{variable: task file} for every variable a task of the role sets with set_fact or register."""
    found = {}
    for path in glob.glob(os.path.join(ROLE, "tasks", "*.yml")):
        with open(path, encoding="utf-8") as handle:
            for task in tasks(yaml.safe_load(handle)):
                names = list(task.get("ansible.builtin.set_fact", {}) or {}) + [task.get("register")]
                for name in names:
                    if name and "{{" not in name:
                        found.setdefault(name, os.path.basename(path))
    return found


def test_every_internal_variable_is_cleared_and_only_connect_result_is_public():
    with open(os.path.join(ROLE, "vars", "main.yml"), encoding="utf-8") as handle:
        cleared = set(yaml.safe_load(handle)["connect__internal_variables"])
    set_by_tasks = variables_set()
    assert {name for name in set_by_tasks if not name.startswith("connect__")} == {"connect_result"}
    assert {name for name in set_by_tasks if name.startswith("connect__")} == cleared
