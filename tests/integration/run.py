# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run the integration targets with ansible-playbook against a local KMS / CloudHSM emulator.

Each target under tests/integration/targets/ is an ansible-test style role (tasks/main.yml). This
runner starts one emulator on a free port, runs every target (or those named on the command line)
as a role on localhost with `emulator_url` set, stops the emulator, and ends with the line
"N passed, N failed". Targets run a few at a time (--jobs), the longest first: each
one seeds and asserts on its own AWS Region of the emulator, so they never see each other's stores;
a target's output is printed in one piece when it ends. Run it from the collection root with ANSIBLE_COLLECTIONS_PATH pointing at an
ansible_collections/ tree that holds this collection and amazon.aws (make integration does this).

With --ansible-test the same targets run through `ansible-test integration` instead, one at a time:
the runner starts the emulator, writes tests/integration/integration_config.yml (which ansible-test
passes to every target as extra vars: `emulator_url`), runs ansible-test and removes the file again.
Run it with the user's own HOME: with another one, async_wrapper writes its job files under
$HOME/.ansible_async while async_status looks in the user's home directory ("could not find job").
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(HERE, "targets")
TESTS = os.path.dirname(HERE)

sys.path.insert(0, TESTS)
from emulator.client import start_process  # noqa: E402  pylint: disable=wrong-import-position

# Fast timers keep the suite short; the module's first poll comes 1 s after its call.
EMULATOR_SETTINGS = [
    "--connect-seconds",
    "1",
    "--disconnect-seconds",
    "0.5",
    "--hsm-create-seconds",
    "1",
    "--hsm-delete-seconds",
    "0.5",
]

PLAYBOOK = """- name: Integration target {target}
  hosts: localhost
  gather_facts: false
  roles:
    - role: {target}
"""

INVENTORY = "localhost ansible_connection=local ansible_python_interpreter={python}\n"


# The longest targets, longest first, as measured on a 2-core machine (make integration, three at a time): they start
# first, so that the last minutes are not one long target alone.
LONGEST_FIRST = [
    "connect_role",
    "connect_role_remediation",
    "kms_custom_key_store_connection",
    "faults",
    "check_mode",
    "kms_custom_key_store",
]


def start_order(target):
    """Sort key: LONGEST_FIRST in its order, then the other targets with the alias `slow`, then the rest, by name."""
    if target in LONGEST_FIRST:
        return (0, LONGEST_FIRST.index(target), target)
    return (1 if is_slow(target) else 2, 0, target)


# An AWS Region name as the targets write them (us-east-1, ap-southeast-2, ...; not an Availability Zone's letter).
REGION = re.compile(r"\b(?:af|ap|ca|eu|il|me|mx|sa|us)-[a-z]+-[0-9]\b")


def shared_regions(targets):
    """{Region: [targets]} for each Region named in the files of more than one of the targets."""
    users = {}
    for target in targets:
        found = set()
        for folder, _dirs, files in os.walk(os.path.join(TARGETS, target)):
            for name in files:
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    found.update(REGION.findall(handle.read()))
        for region in found:
            users.setdefault(region, []).append(target)
    return {region: names for region, names in sorted(users.items()) if len(names) > 1}


def is_slow(target):
    """Whether the target's aliases file has the alias `slow` (as ansible-test reads it)."""
    path = os.path.join(TARGETS, target, "aliases")
    if not os.path.isfile(path):
        return False
    with open(path, encoding="utf-8") as handle:
        return "slow" in handle.read().split()


def run_target(target, url, workdir, verbosity):
    """Run one target; return (passed, its ansible-playbook output ending with a verdict line)."""
    playbook = os.path.join(workdir, f"{target}.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        handle.write(PLAYBOOK.format(target=target))
    inventory = os.path.join(workdir, "inventory")
    env = dict(os.environ, ANSIBLE_ROLES_PATH=TARGETS, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    command = ["ansible-playbook", "-i", inventory, playbook, "-e", f"emulator_url={url}"] + verbosity
    started = time.monotonic()
    finished = subprocess.run(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    passed = finished.returncode == 0
    verdict = f"=== {target}: {'passed' if passed else 'FAILED'} in {time.monotonic() - started:.1f} s"
    return passed, f"{finished.stdout}{verdict}\n"


def run_ansible_test(targets, url, verbosity):
    """ansible-test integration for `targets` (all when empty) with the emulator at `url`; return its exit status."""
    config = os.path.join(HERE, "integration_config.yml")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(f"emulator_url: {url}\n")
    try:
        command = ["ansible-test", "integration", "--color", "no"] + verbosity + targets
        return subprocess.run(command, cwd=os.path.dirname(TESTS), check=False).returncode
    finally:
        os.remove(config)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="targets to run (default: all)")
    parser.add_argument("-v", action="count", default=0, help="ansible-playbook verbosity")
    parser.add_argument("--jobs", type=int, default=3, help="targets run at the same time (default: 3)")
    parser.add_argument("--ansible-test", action="store_true", help="run the targets with ansible-test integration")
    args = parser.parse_args()
    verbosity = ["-" + "v" * args.v] if args.v else []
    if args.ansible_test:
        process, url = start_process(*EMULATOR_SETTINGS)
        try:
            return run_ansible_test(args.targets, url, verbosity)
        finally:
            process.terminate()
            process.wait(timeout=10)
    targets = args.targets or sorted(
        (
            name
            for name in os.listdir(TARGETS)
            # setup_* roles are dependencies of the targets, as in ansible-test
            if not name.startswith("setup_") and os.path.isfile(os.path.join(TARGETS, name, "tasks", "main.yml"))
        ),
        key=start_order,
    )

    # Targets run side by side, each in Regions of its own: two that share one reset and seed each other's stores.
    clashes = shared_regions(targets)
    if clashes:
        print(
            "Targets share AWS Regions of the emulator; give each its own: "
            + "; ".join(f"{region}: {', '.join(names)}" for region, names in clashes.items())
        )
        return 2
    process, url = start_process(*EMULATOR_SETTINGS)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            with open(os.path.join(workdir, "inventory"), "w", encoding="utf-8") as handle:
                handle.write(INVENTORY.format(python=sys.executable))
            with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                runs = [pool.submit(run_target, target, url, workdir, verbosity) for target in targets]
                results = []
                for run in concurrent.futures.as_completed(runs):
                    passed, output = run.result()
                    print(output, end="", flush=True)
                    results.append(passed)
    finally:
        process.terminate()
        process.wait(timeout=10)
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) and results else 1


if __name__ == "__main__":
    sys.exit(main())
