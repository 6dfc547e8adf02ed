# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run playbooks/demo.yml as AWX runs a job template, through `ansible-runner run`, and check its job events.

The emulator is started with the demo world, the playbook runs with process isolation off (as
AWX does outside a container), and then: the job's status is `successful`, the role's waits for
the store's connection are reported while they run (item events of the wait task named after the store,
each labelled with the store, its state and the seconds waited) and end with a line saying the store is
CONNECTED, and the waits for its two new HSMs end ACTIVE. The emulator's connection lasts 5 s and the role reports
every 2 s (playbooks/demo.yml), so at least one round reports the store CONNECTING. Run it
from the collection root with ANSIBLE_COLLECTIONS_PATH set and ansible-runner on PATH
(`make runner` does this). Exits 0 when every check passes.
"""

import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

sys.path.insert(0, os.path.dirname(HERE))
from emulator.client import start_process  # noqa: E402  pylint: disable=wrong-import-position

STORE = "demo-store"
# The role watches each wait with one looped wait_for task named after what it waits for; every round of the
# watch (connect_progress_interval seconds, 2 in playbooks/demo.yml) is an item whose label names it, its state
# and the seconds waited: "custom key store NAME (ID): CONNECTING, 2 s waited"; the last round's state is "ended".
# Then the job's result is read (a task named after the wait too), and one line says the state the wait ended in.
CONNECT_WAIT_TASK = "Wait for custom key store " + STORE + " ("
CONNECT_RESULT_TASK = "Read the job's result, custom key store " + STORE + " ("
HSM_RESULT_TASK = "Read the job's result, the HSM in "
END_TASK = "Say how the wait ended"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def job_events(private_data_dir):
    """The job events ansible-runner wrote, in order."""
    events = []
    for path in glob.glob(os.path.join(private_data_dir, "artifacts", "*", "job_events", "*.json")):
        with open(path, encoding="utf-8") as handle:
            events.append(json.load(handle))
    return sorted(events, key=lambda event: event["counter"])


def wait_rounds(events, task_prefix):
    """The rounds of the waits whose task name starts with task_prefix: (label, result) per item, in order."""
    return [
        (event["event_data"]["res"].get("_ansible_item_label", ""), event["event_data"]["res"])
        for event in events
        if event["event"] == "runner_item_on_ok" and event["event_data"].get("task", "").startswith(task_prefix)
    ]


def task_results(events, task_prefix):
    """The results of the tasks (not loops) whose name starts with task_prefix, in order."""
    return [
        event["event_data"]["res"]
        for event in events
        if event["event"] == "runner_on_ok" and event["event_data"].get("task", "").startswith(task_prefix)
    ]


def check(events, status, rc):
    """Every failed check, as a sentence."""
    failures = []
    if status != "successful" or rc != 0:
        failures.append(f"the job ended {status} with rc {rc}, not successful with rc 0")
    rounds = wait_rounds(events, CONNECT_WAIT_TASK)
    labels = [label for label, _result in rounds]
    # The 5 s connection is watched in 2 s rounds: at least one round reports it CONNECTING while it runs.
    if not any(label.startswith(f"custom key store {STORE} (") and ": CONNECTING, " in label for label in labels):
        failures.append(
            f"no round of the wait for {STORE} reported it CONNECTING with the seconds waited (saw {labels})"
        )
    if rounds and not (labels[-1].endswith(" s waited") and ": ended, " in labels[-1]):
        failures.append(f"the last round's label does not say ended and the seconds waited (saw {labels[-1]})")
    stores = [result.get("custom_key_store", {}) for result in task_results(events, CONNECT_RESULT_TASK)]
    if [(store.get("custom_key_store_name"), store.get("connection_state")) for store in stores] != [
        (STORE, "CONNECTED")
    ]:
        failures.append(f"the job's result read after the wait for {STORE} does not say CONNECTED (saw {stores})")
    ends = [result.get("msg", "") for result in task_results(events, END_TASK)]
    if not any(end.startswith(f"custom key store {STORE} (") and ": CONNECTED after " in end for end in ends):
        failures.append(f"no line says that the wait for {STORE} ended CONNECTED (saw {ends})")
    hsm_states = [result.get("hsm", {}).get("state", "") for result in task_results(events, HSM_RESULT_TASK)]
    if hsm_states != ["ACTIVE", "ACTIVE"]:
        failures.append(f"the role's waits for its two new HSMs did not both end ACTIVE (saw {hsm_states})")
    return failures


def main():
    process, url = start_process(
        "--seed",
        os.path.join(ROOT, "playbooks", "files", "demo-world.json"),
        "--connect-seconds",
        "5",
        "--hsm-create-seconds",
        "3",
    )
    try:
        with tempfile.TemporaryDirectory() as private_data_dir:
            os.symlink(os.path.join(ROOT, "playbooks"), os.path.join(private_data_dir, "project"))
            write(
                os.path.join(private_data_dir, "inventory", "hosts"),
                f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n",
            )
            write(os.path.join(private_data_dir, "env", "extravars"), json.dumps({"emulator_url": url}))
            write(os.path.join(private_data_dir, "env", "settings"), json.dumps({"process_isolation": False}))
            finished = subprocess.run(["ansible-runner", "run", private_data_dir, "-p", "demo.yml"], check=False)
            status_files = glob.glob(os.path.join(private_data_dir, "artifacts", "*", "status"))
            status = open(status_files[0], encoding="utf-8").read().strip() if status_files else "without a status file"
            failures = check(job_events(private_data_dir), status, finished.returncode)
    finally:
        process.terminate()
        process.wait(timeout=10)
    for failure in failures:
        print(f"FAILED: {failure}")
    if not failures:
        print(
            f"ansible-runner: the demo job is successful and its events report the waits for {STORE}, which ends CONNECTED"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
