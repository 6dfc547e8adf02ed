# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make demo: playbooks/demo.yml against a freshly started, seeded emulator, which is stopped afterwards.

Usage: python scripts/demo.py (with ansible-playbook on PATH and ANSIBLE_COLLECTIONS_PATH pointing at an
ansible_collections/ tree that holds this collection and amazon.aws; `make demo` does this). The Python
running this script also runs the emulator and the modules. Exits with ansible-playbook's status.
"""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

from emulator.client import start_process  # noqa: E402  pylint: disable=wrong-import-position

SEED = os.path.join(REPO, "playbooks", "files", "demo-world.json")
PLAYBOOK = os.path.join(REPO, "playbooks", "demo.yml")
# Short enough for a demo, long enough to watch the role wait for the HSMs and the connection.
TIMERS = ("--connect-seconds", "3", "--hsm-create-seconds", "4")


def main():
    """Start the emulator, run the demo playbook against it, stop the emulator."""
    process, url = start_process("--seed", SEED, *TIMERS)
    try:
        print(f"Emulator of KMS and CloudHSM listening on {url}", flush=True)
        env = dict(os.environ, ANSIBLE_DISPLAY_SKIPPED_HOSTS="false")
        command = [
            "ansible-playbook",
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-e",
            f"emulator_url={url}",
            PLAYBOOK,
        ]
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
