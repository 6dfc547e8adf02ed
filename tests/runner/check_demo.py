# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run playbooks/demo.yml as AWX runs a job template, through `ansible-runner run`, and check its job events.

The emulator is started with the demo world, the playbook runs with process isolation off (as
AWX does outside a container), and then: the job's status is `successful`, the role's waits for
the store's connection are reported while they run (async poll events) and end in an event of the
task named after the store with the store CONNECTED, and the waits for its two new HSMs end ACTIVE.
The emulator's connection lasts 5 s and the role polls every 2 s (playbooks/demo.yml), so the
connection is always polled at least once. Run it
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
# The role names its connection task after the store: "Connect, and wait ..., custom key store NAME (ID)".
CONNECT_TASK = "custom key store " + STORE + " ("
HSM_WAIT_TASK = "Wait until the new HSMs are ACTIVE"


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


def check(events, status, rc):
    """Every failed check, as a sentence."""
    failures = []
    if status != "successful" or rc != 0:
        failures.append(f"the job ended {status} with rc {rc}, not successful with rc 0")
    # An async task's progress comes as runner_on_async_poll events (of async_status, with the task's job id),
    # its end as one runner_on_async_ok event of the task itself.
    done = [event["event_data"] for event in events if event["event"] == "runner_on_async_ok"]
    polled_jobs = {event["event_data"].get("jid") for event in events if event["event"] == "runner_on_async_poll"}
    connections = [data for data in done if CONNECT_TASK in data.get("task", "")]
    stores = [data["res"].get("custom_key_store", {}) for data in connections]
    if not any(
        store.get("custom_key_store_name") == STORE and store.get("connection_state") == "CONNECTED" for store in stores
    ):
        failures.append(
            f"no runner_on_async_ok event of a task named after {STORE} that ends it CONNECTED (saw {stores})"
        )
    if not any(data.get("jid") in polled_jobs for data in connections):
        failures.append(
            f"no runner_on_async_poll event for the connection of {STORE}: its wait was not reported while it ran"
        )
    hsms = [data["res"].get("hsm", {}) for data in done if data.get("task") == HSM_WAIT_TASK]
    if sorted(hsm.get("state", "") for hsm in hsms) != ["ACTIVE", "ACTIVE"]:
        failures.append(
            f"the role's waits for its two new HSMs did not both end ACTIVE in runner_on_async_ok events (saw {hsms})"
        )
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
