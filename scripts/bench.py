# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench: what kms_custom_key_store_connection costs, measured against the local emulator.

Usage: python scripts/bench.py [--repeats N] [--fleet-runs N] [--serial-stores N] [--quota-runs N]
                               [--only fleet-quota | role | role-fleet] [--output FILE]
(from the collection root, with ansible-playbook on PATH and ANSIBLE_COLLECTIONS_PATH pointing at an
ansible_collections/ tree that holds this collection and amazon.aws; `make bench` does this).

Starts its own emulator on a free port, measures the eight figures of the benchmark, prints a table
and rewrites docs/benchmarks.md with the figures, the machine and the date (bench_report.py writes them). Timings are medians of
runs alternated side by side in this one run; API call counts come from the emulator's request log.
Each measurement uses its own AWS Region of the emulator, so they never see each other's stores.
`--only fleet-quota` measures only the figures under KMS's request quota (7 and 8) and writes them alone to --output.
`--only role` measures only the connect role (section 9) and prints it, writing no file; `--only role-fleet` the same
for the role fleet (figures 11 and 12).
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

from emulator.client import EmulatorClient  # noqa: E402  pylint: disable=wrong-import-position
from emulator.client import start_process  # noqa: E402  pylint: disable=wrong-import-position
from emulator.quota import request_rates  # noqa: E402  pylint: disable=wrong-import-position

# The poll schedule is the collection's own (plugins/module_utils/polling.py), imported from the
# ansible_collections/ tree that ANSIBLE_COLLECTIONS_PATH names, as ansible-playbook finds it.
sys.path[1:1] = [path for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if path]

from bench_report import bench_marker  # noqa: E402  pylint: disable=wrong-import-position
from bench_report import render  # noqa: E402  pylint: disable=wrong-import-position
from bench_report import render_quota_only  # noqa: E402  pylint: disable=wrong-import-position
from bench_report import role_lines  # noqa: E402  pylint: disable=wrong-import-position
from bench_report import summary_text  # noqa: E402  pylint: disable=wrong-import-position
from bench_schedule import detection  # noqa: E402  pylint: disable=wrong-import-position
from bench_schedule import lag_bound  # noqa: E402  pylint: disable=wrong-import-position
from bench_schedule import worst_case  # noqa: E402  pylint: disable=wrong-import-position
from scale import at_once  # noqa: E402  pylint: disable=wrong-import-position

MODULE = "awskms.custom_key_store.kms_custom_key_store_connection"
ROLE = "awskms.custom_key_store.connect"
FLEET_PLAYBOOK = os.path.join(REPO, "playbooks", "fleet.yml")
DEFAULT_OUTPUT = os.path.join(REPO, "docs", "benchmarks.md")
PYTHON = sys.executable
# The ansible-playbook of the interpreter's environment (a venv's bin/), else the one on PATH.
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(PYTHON), "ansible-playbook")
if not os.path.exists(ANSIBLE_PLAYBOOK):
    ANSIBLE_PLAYBOOK = "ansible-playbook"

# One Region of the emulator per measurement.
COUNTS_REGION = "us-east-2"
TIMING_REGION = "us-west-1"
LAG_REGIONS = {2: "eu-north-1", 20: "eu-west-2", 32: "sa-east-1", 120: "eu-west-3"}
FLEET_REGIONS = ["eu-west-1", "eu-central-1", "ap-southeast-2"]
SERIAL_REGIONS = ["ap-northeast-1", "ap-south-1", "ca-central-1"]
ROLE_REGION = "eu-south-2"
ROLE_CONNECT_SECONDS = 2
FLEET_STORES_PER_REGION = 10
FLEET_CONNECT_SECONDS = 20
# Under KMS's request quota (metrics 7 and 8): the fleet of metric 5 in Regions of its own, and 10 stores of one Region
# connecting at once (one module run each).
QUOTA_PER_SECOND = 5
FLEET_QUOTA_REGIONS = ["us-west-2", "ap-northeast-2", "eu-south-1"]
AT_ONCE_REGION = "ap-southeast-1"
# Figures 11 and 12: the connect role on 30 stores (playbooks/connect_fleet.yml), under the quota, in Regions of its own;
# in the second, 2 stores of each Region FAILED for reasons the role repairs (a transient code; too few HSMs).
ROLE_FLEET_PLAYBOOK = os.path.join(REPO, "playbooks", "connect_fleet.yml")
ROLE_FLEET_REGIONS = ["af-south-1", "us-east-1", "ap-northeast-3"]
AT_ONCE_STORES = 10
SCHEDULE_SECONDS = [20, 32, 300, 1200]
MODULE_WAIT_TIMEOUT = 1200  # the module's default wait_timeout
# Measurements run side by side (metric 3's connections run while the rest is measured): no two share a Region.
BENCH_REGIONS = (
    [COUNTS_REGION, TIMING_REGION, ROLE_REGION, AT_ONCE_REGION]
    + list(LAG_REGIONS.values())
    + FLEET_REGIONS
    + SERIAL_REGIONS
    + FLEET_QUOTA_REGIONS
    + ROLE_FLEET_REGIONS
)
if len(set(BENCH_REGIONS)) != len(BENCH_REGIONS):
    raise SystemExit(f"bench.py: two measurements share a Region: {sorted(BENCH_REGIONS)}")

ENV = dict(
    os.environ,
    ANSIBLE_NOCOLOR="1",
    ANSIBLE_FORCE_COLOR="0",
    ANSIBLE_RETRY_FILES_ENABLED="0",
    AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY="emulator-does-not-check-this",
)
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
    ENV.pop(_name, None)


# --- emulator and ansible-playbook --------------------------------------------------------------


def seed_stores(emulator, region, stores):
    """Reset a Region and seed it with healthy CloudHSM key stores (each on its own cluster with an HSM).

    `stores` maps store names to connection states, or lists names of DISCONNECTED stores.
    """
    if not isinstance(stores, dict):
        stores = dict.fromkeys(stores, "DISCONNECTED")
    emulator.reset(region)
    emulator.seed(
        {
            "region": region,
            "clusters": [
                {"name": f"cluster-of-{name}", "hsms": [{"availability_zone": f"{region}a"}]} for name in stores
            ],
            "custom_key_stores": [
                {"name": name, "cluster": f"cluster-of-{name}", "connection_state": state}
                for name, state in stores.items()
            ],
        }
    )


def requests_since(emulator, since, region=None):
    entries = emulator.requests(since)["requests"]
    return [entry for entry in entries if region is None or entry["region"] == region]


class Runner:
    """Writes playbooks and inventories into a work directory and runs ansible-playbook on them."""

    def __init__(self, workdir, url):
        self.workdir = workdir
        self.url = url
        self.inventory = self.write(
            "localhost.ini", f"localhost ansible_connection=local ansible_python_interpreter={PYTHON}\n"
        )

    def write(self, name, text):
        path = os.path.join(self.workdir, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path

    def one_task_playbook(self, name, task):
        """A one-task play on localhost (JSON is YAML)."""
        play = [{"name": name, "hosts": "localhost", "gather_facts": False, "tasks": [dict(task, name=name)]}]
        return self.write(f"{name}.yml", json.dumps(play, indent=2))

    def module_playbook(self, name, region, store, check_mode=False, **options):
        args = dict(custom_key_store_name=store, region=region, endpoint_url=self.url, **options)
        task = {MODULE: args}
        if check_mode:
            task["check_mode"] = True
        return self.one_task_playbook(name, task)

    def role_playbook(self, name, region, store, print_end=False, **role_vars):
        """The connect role on one store, with the role's defaults unless role_vars says otherwise; with print_end, a
        last task prints when the role saw the end of its last wait (ROLE_SAW_END)."""
        play = [
            {
                "name": name,
                "hosts": "localhost",
                "gather_facts": False,
                "module_defaults": {"group/awskms.custom_key_store.aws": {"region": region, "endpoint_url": self.url}},
                "tasks": [
                    {
                        "name": name,
                        "ansible.builtin.include_role": {"name": ROLE},
                        "vars": dict(connect_custom_key_store_name=store, **role_vars),
                    }
                ],
            }
        ]
        if print_end:
            message = ROLE_SAW_END + "{{ (connect_result.waits | last).ended }}"
            play[0]["tasks"].append({"name": "When the role saw the end", "ansible.builtin.debug": {"msg": message}})
        return self.write(f"{name}.yml", json.dumps(play, indent=2))

    def command(self, playbook, inventory=None, extra=()):
        return [ANSIBLE_PLAYBOOK, "-i", inventory or self.inventory, playbook, *extra]

    def run(self, playbook, inventory=None, extra=(), env=None):
        """Run a playbook to its end; return its wall time in seconds (fails the bench when the playbook fails)."""
        started = time.perf_counter()
        finished = subprocess.run(
            self.command(playbook, inventory, extra),
            env=env or ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if finished.returncode != 0:
            raise SystemExit(f"{os.path.basename(playbook)} failed:\n{finished.stdout}")
        return seconds

    def start(self, playbook):
        """Start a playbook in the background; returns a handle whose `ended` is the wall-clock time it ended."""
        process = subprocess.Popen(
            self.command(playbook), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        handle = {"process": process, "ended": None, "output": ""}

        def wait():
            handle["output"] = process.communicate()[0]
            handle["ended"] = time.time()

        handle["thread"] = threading.Thread(target=wait, daemon=True)
        handle["thread"].start()
        return handle


# Linux keeps a process's peak RSS across exec: a child of this (large) process starts its count at this process's
# size. So the peak is read by a small Python that forks the command and waits for it (its own size is the floor).
PEAK_RSS_PROBE = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execv(sys.argv[1], sys.argv[1:])\n"
    "_pid, status, usage = os.wait4(pid, 0)\n"
    "print(usage.ru_maxrss)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def run_measured(command, env=None):
    """Run a command to its end, twice: (wall seconds, peak RSS in MiB) of that process."""
    started = time.perf_counter()
    process = subprocess.run(command, env=env or ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - started
    probe = subprocess.run(
        [PYTHON, "-c", PEAK_RSS_PROBE, *command], env=env or ENV, stdout=subprocess.PIPE, text=True, check=False
    )
    if process.returncode != 0 or probe.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode or probe.returncode}")
    return seconds, int(probe.stdout.split()[-1]) / 1024.0


def median(values):
    return statistics.median(values)


def alternated(first, second, repeats):
    """`repeats` pairs of runs side by side, each pair in the other order than the one before: first, second, second,
    first, first, second, ..."""
    for index in range(repeats):
        yield from (first, second) if index % 2 == 0 else (second, first)


# --- metric 1: API calls ------------------------------------------------------------------------------


def measure_counts(runner, emulator):
    seed_stores(emulator, COUNTS_REGION, {"bench-connected": "CONNECTED", "bench-idle": "DISCONNECTED"})
    cases = [
        ("no-op on CONNECTED", runner.module_playbook("counts-noop", COUNTS_REGION, "bench-connected"), 1),
        (
            "check mode (DISCONNECTED, would connect)",
            runner.module_playbook("counts-check", COUNTS_REGION, "bench-idle", check_mode=True),
            1,
        ),
        ("connect without wait", runner.module_playbook("counts-connect", COUNTS_REGION, "bench-idle", wait=False), 2),
    ]
    rows = []
    for label, playbook, target in cases:
        since = emulator.last_seq()
        runner.run(playbook)
        operations = [entry["operation"] for entry in requests_since(emulator, since, COUNTS_REGION)]
        rows.append({"case": label, "calls": len(operations), "operations": operations, "target": target})
    return rows


# --- metric 2 and 6: wall time against ansible.builtin.ping, where the time goes, peak RSS ------------------


def measure_timing(runner, emulator, repeats):
    seed_stores(emulator, TIMING_REGION, {"bench-timing": "CONNECTED"})
    module = runner.module_playbook("timing-module", TIMING_REGION, "bench-timing")
    ping = runner.one_task_playbook("timing-ping", {"ansible.builtin.ping": {}})
    runner.run(ping)  # warm the file cache
    runner.run(module)
    times = {"ping": [], "module": []}
    since = emulator.last_seq()
    for name in alternated("ping", "module", repeats):
        times[name].append(runner.run(ping if name == "ping" else module))
    describes = len(requests_since(emulator, since, TIMING_REGION))
    return {
        "ping": median(times["ping"]),
        "module": median(times["module"]),
        "ratio": median(times["module"]) / median(times["ping"]),
        "runs": repeats,
        "describe_calls_per_run": describes / repeats,
        "samples": times,
    }, (ping, module)


def kept_ansiballz(runner, playbook, name):
    """Run a playbook once keeping the module file; return the path of its AnsiballZ file."""
    remote_tmp = os.path.join(runner.workdir, f"remote-{name}")
    env = dict(ENV, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=remote_tmp)
    runner.run(playbook, env=env)
    for root, _dirs, files in os.walk(remote_tmp):
        for file_name in files:
            if file_name.startswith("AnsiballZ_"):
                return os.path.join(root, file_name)
    raise SystemExit(f"no AnsiballZ file kept for {name}")


def measure_breakdown(runner, playbooks, repeats):
    """Where the module's time goes: the module processes alone, and the SDK floor every boto3 module pays."""
    ping_file = kept_ansiballz(runner, playbooks[0], "ping")
    module_file = kept_ansiballz(runner, playbooks[1], "module")
    sdk = (
        "import boto3\n"
        f"client = boto3.client('kms', endpoint_url={runner.url!r}, region_name={TIMING_REGION!r})\n"
        "client.describe_custom_key_stores(CustomKeyStoreName='bench-timing')\n"
    )
    commands = {
        "python": [PYTHON, "-c", "pass"],
        "import boto3": [PYTHON, "-c", "import boto3"],
        "boto3 client + 1 Describe": [PYTHON, "-c", sdk],
        "ping module process": [PYTHON, ping_file],
        "connection module process": [PYTHON, module_file],
    }
    samples = {name: [] for name in commands}
    rss = {name: [] for name in commands}
    for _index in range(repeats):
        for name, command in commands.items():
            seconds, peak = run_measured(command)
            samples[name].append(seconds)
            rss[name].append(peak)
    return {name: median(values) for name, values in samples.items()}, {
        name: median(values) for name, values in rss.items()
    }


# --- metric 3: detection lag of real connections ----------------------------------------------------------


def start_lag_runs(runner, emulator):
    """Start one connection per duration, each in its own Region; they run while the rest is measured."""
    runs = []
    for seconds in sorted(LAG_REGIONS, reverse=True):
        region = LAG_REGIONS[seconds]
        seed_stores(emulator, region, [f"bench-lag-{seconds}"])
        emulator.settings(connect_seconds=seconds)
        since = emulator.last_seq()
        playbook = runner.module_playbook(
            f"lag-{seconds}", region, f"bench-lag-{seconds}", wait=True, wait_timeout=MODULE_WAIT_TIMEOUT
        )
        handle = runner.start(playbook)
        deadline = time.monotonic() + 60
        # The duration applies to connections started after it is set: wait for this one's call.
        while not [
            entry for entry in requests_since(emulator, since, region) if entry["operation"] == "ConnectCustomKeyStore"
        ]:
            if time.monotonic() > deadline or handle["ended"]:
                raise SystemExit(f"lag-{seconds}: no ConnectCustomKeyStore call seen:\n{handle['output']}")
            time.sleep(0.05)
        polls, lag = detection(seconds, MODULE_WAIT_TIMEOUT)
        runs.append(
            {
                "seconds": seconds,
                "region": region,
                "since": since,
                "handle": handle,
                "predicted_calls": 1 + polls,
                "predicted_lag": lag,
            }
        )
    emulator.settings(connect_seconds=2)
    return runs


def finish_lag_runs(emulator, runs):
    rows = []
    for run in runs:
        run["handle"]["thread"].join()
        if run["handle"]["process"].returncode != 0:
            raise SystemExit(f"lag-{run['seconds']} failed:\n{run['handle']['output']}")
        store = emulator.world(run["region"])["custom_key_stores"][0]
        connected = [entry["time"] for entry in store["history"] if entry["state"] == "CONNECTED"][-1]
        calls = requests_since(emulator, run["since"], run["region"])
        describes = [entry for entry in calls if entry["operation"] == "DescribeCustomKeyStores"]
        seen = describes[-1]["time"]
        rows.append(
            {
                "seconds": run["seconds"],
                "lag": seen - connected,
                "playbook_lag": run["handle"]["ended"] - connected,
                "describe_calls": len(describes),
                "predicted_calls": run["predicted_calls"],
                "predicted_lag": run["predicted_lag"],
                "target": lag_bound(run["seconds"]),
            }
        )
    return rows


# --- the connect role: its lag on a 2 s connection and its no-op cost, each against one module task --------------


# The role playbook of the lag runs prints when the role saw the end of its wait (connect_result.waits[].ended).
ROLE_SAW_END = "role saw the end at "


def connection_lag(runner, emulator, name, playbook, kind):
    """(seconds from the store becoming CONNECTED, in the emulator's history, to `kind` seeing it, to the playbook's end).

    The module sees it at its last DescribeCustomKeyStores; the role when its wait ends (connect_result.waits).
    """
    seed_stores(emulator, ROLE_REGION, [name])
    emulator.settings(connect_seconds=ROLE_CONNECT_SECONDS)
    since = emulator.last_seq()
    handle = runner.start(playbook)
    handle["thread"].join()
    if handle["process"].returncode != 0:
        raise SystemExit(f"{os.path.basename(playbook)} failed:\n{handle['output']}")
    store = emulator.world(ROLE_REGION)["custom_key_stores"][0]
    connected = [entry["time"] for entry in store["history"] if entry["state"] == "CONNECTED"][-1]
    if kind == "module":
        describes = [
            entry
            for entry in requests_since(emulator, since, ROLE_REGION)
            if entry["operation"] == "DescribeCustomKeyStores"
        ]
        seen = describes[-1]["time"]
    else:
        seen = float(re.findall(re.escape(ROLE_SAW_END) + r"([0-9.]+)", handle["output"])[-1])
    return seen - connected, handle["ended"] - connected


def measure_role(runner, emulator, repeats):
    """The role's lag and no-op cost, each next to one kms_custom_key_store_connection task doing the same."""
    lag_playbooks = {
        "module": runner.module_playbook("role-lag-module", ROLE_REGION, "bench-role", wait=True),
        "role": runner.role_playbook("role-lag-role", ROLE_REGION, "bench-role", print_end=True),
    }
    lags = {"module": [], "role": []}
    for kind in alternated("module", "role", repeats):
        lags[kind].append(connection_lag(runner, emulator, "bench-role", lag_playbooks[kind], kind))
    seed_stores(emulator, ROLE_REGION, {"bench-role-connected": "CONNECTED"})
    playbooks = {
        "module": runner.module_playbook("role-noop-module", ROLE_REGION, "bench-role-connected"),
        "role": runner.role_playbook("role-noop-role", ROLE_REGION, "bench-role-connected"),
    }
    times = {"module": [], "role": []}
    calls = {}
    for kind in alternated("module", "role", repeats):
        since = emulator.last_seq()
        times[kind].append(runner.run(playbooks[kind]))
        calls[kind] = [entry["operation"] for entry in requests_since(emulator, since, ROLE_REGION)]
    emulator.settings(connect_seconds=2)
    # Each run's role minus module, paired in the order they ran: the worst pair, not the worst of each apart.
    seen_gaps = [role[0] - module[0] for role, module in zip(lags["role"], lags["module"])]
    noop_ratios = [role / module for role, module in zip(times["role"], times["module"])]
    return {
        "connect_seconds": ROLE_CONNECT_SECONDS,
        "runs": repeats,
        "seen": {kind: median([seen for seen, _end in values]) for kind, values in lags.items()},
        "playbook_end": {kind: median([end for _seen, end in values]) for kind, values in lags.items()},
        "seen_gap": {"typical": median(seen_gaps), "worst": max(seen_gaps)},
        "noop_seconds": {kind: median(values) for kind, values in times.items()},
        "noop_ratio": {"typical": median(noop_ratios), "worst": max(noop_ratios)},
        "noop_calls": calls,
    }


# --- metric 4: the poll schedule -----------------------------------------------------------------------------


def schedule_figures():
    rows = []
    for seconds in SCHEDULE_SECONDS:
        polls, lag = detection(seconds, MODULE_WAIT_TIMEOUT)
        # The worst connection of about T ends just after the poll before T and is seen at the poll at or after T;
        # the best one ends at a poll (lag 0).
        worst_polls, worst, (earlier, later) = worst_case(seconds, MODULE_WAIT_TIMEOUT)
        rows.append(
            {
                "seconds": seconds,
                "polls": polls,
                "describe_calls": 1 + polls,
                "lag": lag,
                "worst_lag": worst,
                "worst_describe_calls": 1 + worst_polls,
                "polls_around": [earlier, later],
                "bound": lag_bound(earlier),
            }
        )
    return rows


# --- metric 5: the fleet -----------------------------------------------------------------------------------


def fleet_inventory(runner, regions, stores_per_region, url):
    hosts = {}
    for region in regions:
        hosts[f"emulator-{region}"] = {
            "ansible_python_interpreter": PYTHON,
            "aws_region": region,
            "aws_endpoint_url": url,
            "fleet_custom_key_stores": [f"fleet-{region}-{number:02d}" for number in range(1, stores_per_region + 1)],
        }
    return runner.write("fleet-inventory.yml", json.dumps({"kms_custom_key_stores": {"hosts": hosts}}, indent=2))


def peak_rate(times):
    """The most requests seen in any one-second window."""
    times = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def all_connected(emulator, regions):
    states = [store["connection_state"] for region in regions for store in emulator.world(region)["custom_key_stores"]]
    return len(states), states.count("CONNECTED")


def measure_fleet(runner, emulator, runs, serial_stores):
    inventory = fleet_inventory(runner, FLEET_REGIONS, FLEET_STORES_PER_REGION, runner.url)
    emulator.settings(connect_seconds=FLEET_CONNECT_SECONDS)
    forks = max(5, len(FLEET_REGIONS))
    times = []
    rates = {}
    for _run in range(runs):
        for region in FLEET_REGIONS:
            seed_stores(
                emulator, region, [f"fleet-{region}-{number:02d}" for number in range(1, FLEET_STORES_PER_REGION + 1)]
            )
        since = emulator.last_seq()
        times.append(runner.run(FLEET_PLAYBOOK, inventory=inventory, extra=["--forks", str(forks)]))
        total, connected = all_connected(emulator, FLEET_REGIONS)
        if connected != total:
            raise SystemExit(f"the fleet run left {total - connected} of {total} stores not CONNECTED")
        for region in FLEET_REGIONS:
            calls = requests_since(emulator, since, region)
            for operation in ("DescribeCustomKeyStores", "ConnectCustomKeyStore"):
                moments = [entry["time"] for entry in calls if entry["operation"] == operation]
                figures = rates.setdefault((region, operation), {"calls": [], "peak": [], "mean": []})
                figures["calls"].append(len(moments))
                figures["peak"].append(peak_rate(moments))
                figures["mean"].append(len(moments) / times[-1])

    # The plain serial loop: one store after the other, each waited for.
    stores = [
        {"region": SERIAL_REGIONS[index % len(SERIAL_REGIONS)], "name": f"serial-{index:02d}"}
        for index in range(serial_stores)
    ]
    for region in SERIAL_REGIONS:
        seed_stores(emulator, region, [store["name"] for store in stores if store["region"] == region])
    serial_task = {
        MODULE: {
            "custom_key_store_name": "{{ item.name }}",
            "region": "{{ item.region }}",
            "endpoint_url": runner.url,
            "wait": True,
        },
        "loop": stores,
    }
    serial = runner.run(runner.one_task_playbook("fleet-serial", serial_task))
    emulator.settings(connect_seconds=2)
    per_store = serial / serial_stores
    serial_lag = detection(FLEET_CONNECT_SECONDS, MODULE_WAIT_TIMEOUT)[1]
    return {
        "runs": runs,
        "stores": len(FLEET_REGIONS) * FLEET_STORES_PER_REGION,
        "regions": len(FLEET_REGIONS),
        "forks": forks,
        "stores_per_region": FLEET_STORES_PER_REGION,
        "connect_seconds": FLEET_CONNECT_SECONDS,
        "seconds": median(times),
        "samples": times,
        "target": 1.5 * FLEET_CONNECT_SECONDS + 10,
        "serial_stores": serial_stores,
        "serial_seconds": serial,
        "serial_per_store": per_store,
        "serial_for_fleet": per_store * len(FLEET_REGIONS) * FLEET_STORES_PER_REGION,
        "serial_lag": serial_lag,
        "rates": {
            key: {name: max(values) if name == "peak" else median(values) for name, values in figures.items()}
            for key, figures in rates.items()
        },
    }


# --- metric 7 and 8: under KMS's request quota ------------------------------------------------------------------


def run_fleet(runner, playbook, inventory, forks):
    """Run a fleet playbook to its end, whatever its outcome: (wall seconds, the finished process)."""
    started = time.perf_counter()
    finished = subprocess.run(
        runner.command(playbook, inventory, ["--forks", str(forks)]),
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return time.perf_counter() - started, finished


def fleet_quota_run(runner, emulator, inventory, forks, rate=QUOTA_PER_SECOND):
    """One run of the fleet under the quota (`rate`; 0: without it): (wall seconds, failed hosts, stores not
    CONNECTED, request rates)."""
    for region in FLEET_QUOTA_REGIONS:
        seed_stores(
            emulator, region, [f"fleet-{region}-{number:02d}" for number in range(1, FLEET_STORES_PER_REGION + 1)]
        )
        emulator.request_quota(region, rate)
    since = emulator.last_seq()
    seconds, finished = run_fleet(runner, FLEET_PLAYBOOK, inventory, forks)
    failed = len(re.findall(r"^\S+ +: ok=.* failed=[1-9]", finished.stdout, re.MULTILINE))
    if finished.returncode != 0 and not failed:
        failed = len(FLEET_QUOTA_REGIONS)  # the playbook failed before its recap
    total, connected = all_connected(emulator, FLEET_QUOTA_REGIONS)
    entries = [entry for entry in requests_since(emulator, since) if entry["region"] in FLEET_QUOTA_REGIONS]
    for region in FLEET_QUOTA_REGIONS:
        emulator.request_quota(region, None)
    return seconds, failed, total - connected, request_rates(entries, seconds)


def measure_fleet_quota(runner, emulator, runs):
    """Metric 7: 30 stores in 3 Regions, 20 s connections, quota 5/s: the module fleet's wall time and failures,
    alternated with runs of the same fleet without the quota (what the quota costs, on this machine's load)."""
    inventory = fleet_inventory(runner, FLEET_QUOTA_REGIONS, FLEET_STORES_PER_REGION, runner.url)
    emulator.settings(connect_seconds=FLEET_CONNECT_SECONDS)
    forks = max(5, len(FLEET_QUOTA_REGIONS))
    samples, unlimited, failures, rates = [], [], [], {}
    load = [os.getloadavg()[0]]
    try:
        for index in range(runs):
            if index % 2:
                unlimited.append(fleet_quota_run(runner, emulator, inventory, forks, rate=0)[0])
            seconds, failed, not_connected, run_rates = fleet_quota_run(runner, emulator, inventory, forks)
            if not index % 2:
                unlimited.append(fleet_quota_run(runner, emulator, inventory, forks, rate=0)[0])
            samples.append(seconds)
            failures.append(failed + not_connected)
            for key, figures in run_rates.items():
                for name, value in figures.items():
                    rates.setdefault(key, {}).setdefault(name, []).append(value)
    finally:
        emulator.settings(connect_seconds=2)
    load.append(os.getloadavg()[0])
    return {
        "runs": runs,
        "load": load,
        "unlimited": unlimited,
        "unlimited_typical": median(unlimited),
        "unlimited_worst": max(unlimited),
        "stores": len(FLEET_QUOTA_REGIONS) * FLEET_STORES_PER_REGION,
        "regions": len(FLEET_QUOTA_REGIONS),
        "forks": forks,
        "connect_seconds": FLEET_CONNECT_SECONDS,
        "quota": QUOTA_PER_SECOND,
        "samples": samples,
        "typical": median(samples),
        "worst": max(samples),
        "target": 1.5 * FLEET_CONNECT_SECONDS + 15,
        "failures": sum(failures),
        "rates": {
            key: {
                "calls": median(figures["calls"]),
                "throttled": median(figures["throttled"]),
                "throttled_worst": max(figures["throttled"]),
                "mean": median(figures["mean"]),
                "peak": median(figures["peak"]),
                "peak_worst": max(figures["peak"]),
            }
            for key, figures in rates.items()
        },
    }


def at_once_playbook(runner):
    """One host per store, each connecting its own store and waiting, all forks at once."""
    hosts = {
        f"store-{number:02d}": {"ansible_python_interpreter": PYTHON, "store": f"at-once-{number:02d}"}
        for number in range(1, AT_ONCE_STORES + 1)
    }
    inventory = runner.write("at-once-inventory.yml", json.dumps({"all": {"hosts": hosts}}, indent=2))
    play = [
        {
            "name": "Connect one store per host, all at once",
            "hosts": "all",
            "connection": "local",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Connect and wait",
                    MODULE: {
                        "custom_key_store_name": "{{ store }}",
                        "region": AT_ONCE_REGION,
                        "endpoint_url": runner.url,
                        "wait": True,
                        "wait_timeout": MODULE_WAIT_TIMEOUT,
                    },
                }
            ],
        }
    ]
    return runner.write("at-once.yml", json.dumps(play, indent=2)), inventory


def measure_at_once(runner, emulator):
    """Metric 8: the peak requests per second per operation for 10 stores of one Region connecting at once, measured
    without and with the quota, and computed from the poll schedule."""
    playbook, inventory = at_once_playbook(runner)
    stores = [f"at-once-{number:02d}" for number in range(1, AT_ONCE_STORES + 1)]
    emulator.settings(connect_seconds=FLEET_CONNECT_SECONDS)
    measured = {}
    try:
        for label, rate in (("no quota", None), (f"quota {QUOTA_PER_SECOND}/s", QUOTA_PER_SECOND)):
            seed_stores(emulator, AT_ONCE_REGION, stores)
            emulator.request_quota(AT_ONCE_REGION, rate)
            since = emulator.last_seq()
            seconds = runner.run(playbook, inventory=inventory, extra=["--forks", str(AT_ONCE_STORES)])
            total, connected = all_connected(emulator, [AT_ONCE_REGION])
            entries = requests_since(emulator, since, AT_ONCE_REGION)
            connects = sorted(entry["time"] for entry in entries if entry["operation"] == "ConnectCustomKeyStore")
            measured[label] = {
                "seconds": seconds,
                "not_connected": total - connected,
                "spread": connects[-1] - connects[0] if connects else 0.0,
                "rates": {
                    operation: figures for (_region, operation), figures in request_rates(entries, seconds).items()
                },
            }
    finally:
        emulator.request_quota(AT_ONCE_REGION, None)
        emulator.settings(connect_seconds=2)
    spread = measured["no quota"]["spread"]
    return {
        "stores": AT_ONCE_STORES,
        "connect_seconds": FLEET_CONNECT_SECONDS,
        "quota": QUOTA_PER_SECOND,
        "measured": measured,
        "computed_worst": at_once(AT_ONCE_STORES, FLEET_CONNECT_SECONDS, 0.0),
        "computed_measured_spread": at_once(AT_ONCE_STORES, FLEET_CONNECT_SECONDS, spread),
        "spread": spread,
    }


# --- the machine ------------------------------------------------------------------------------------------


def role_fleet_world(region, failed):
    """10 healthy CloudHSM key stores, or with `failed`, the first FAILED with NETWORK_ERRORS and the second FAILED
    with INSUFFICIENT_CLOUDHSM_HSMS on a cluster without HSMs (the role adds one: connect_create_hsms)."""
    names = [f"role-fleet-{region}-{number:02d}" for number in range(1, FLEET_STORES_PER_REGION + 1)]
    clusters, stores = [], []
    for index, name in enumerate(names):
        cluster = {"name": f"cluster-of-{name}", "hsms": [{"availability_zone": f"{region}a"}]}
        store = {"name": name, "cluster": cluster["name"]}
        if failed and index == 0:
            store.update(connection_state="FAILED", connection_error_code="NETWORK_ERRORS")
        if failed and index == 1:
            cluster.update(hsms=[], subnets={f"{region}a": "subnet-0bench0001", f"{region}b": "subnet-0bench0002"})
            store.update(connection_state="FAILED", connection_error_code="INSUFFICIENT_CLOUDHSM_HSMS")
        clusters.append(cluster)
        stores.append(store)
    return {"region": region, "clusters": clusters, "custom_key_stores": stores}


def role_fleet_inventory(runner):
    """playbooks/connect_fleet.yml's inventory: one host per store, one group per Region."""
    children = {}
    for region in ROLE_FLEET_REGIONS:
        names = [store["name"] for store in role_fleet_world(region, False)["custom_key_stores"]]
        children[f"emulator_{region.replace('-', '_')}"] = {
            "vars": {
                "ansible_python_interpreter": PYTHON,
                "aws_region": region,
                "aws_endpoint_url": runner.url,
                "connect_transient_retry_delay": 0,
                "connect_create_hsms": True,
            },
            "hosts": {name: {"connect_custom_key_store_name": name} for name in names},
        }
    return runner.write("role-fleet-inventory.json", json.dumps({"custom_key_stores": {"children": children}}))


def children_cpu_seconds():
    """CPU seconds (user and system) of this process's ended children and their descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def role_fleet_run(runner, emulator, inventory, failed):
    """One run of the role fleet under the quota: {seconds, not_connected, failed, cpu_per_store}; cpu_per_store is the
    controller's CPU seconds (ansible-playbook, its workers and the module runs) per store."""
    for region in ROLE_FLEET_REGIONS:
        emulator.reset(region)
        emulator.seed(role_fleet_world(region, failed))
        emulator.request_quota(region, QUOTA_PER_SECOND)
    stores = len(ROLE_FLEET_REGIONS) * FLEET_STORES_PER_REGION
    since = emulator.last_seq()
    cpu_before = children_cpu_seconds()
    started = time.time()
    seconds, finished = run_fleet(runner, ROLE_FLEET_PLAYBOOK, inventory, stores)
    cpu_per_store = (children_cpu_seconds() - cpu_before) / stores
    total, connected = all_connected(emulator, ROLE_FLEET_REGIONS)
    for region in ROLE_FLEET_REGIONS:
        emulator.request_quota(region, None)
    entries = [entry for entry in requests_since(emulator, since) if entry["region"] in ROLE_FLEET_REGIONS]
    return {
        "seconds": seconds,
        "not_connected": total - connected,
        "failed": finished.returncode != 0,
        "cpu_per_store": cpu_per_store,
        "phases": role_fleet_phases(entries, started),
    }


def role_fleet_phases(entries, started):
    """When, in seconds after the run started, the role fleet's first call came, its first and last accepted
    ConnectCustomKeyStore calls, and its last call (from the emulator's request log)."""
    times = [entry["time"] - started for entry in entries]
    connects = [
        entry["time"] - started
        for entry in entries
        if entry["operation"] == "ConnectCustomKeyStore" and entry["status"] == 200
    ]
    return {
        "first_call": min(times, default=0.0),
        "first_connect": min(connects, default=0.0),
        "last_connect": max(connects, default=0.0),
        "last_call": max(times, default=0.0),
    }


def measure_role_fleet(runner, emulator, runs):
    """Figures 11 and 12: the role fleet of 30 stores, 20 s connections, quota 5/s; healthy, and with 6 FAILED."""
    inventory = role_fleet_inventory(runner)
    # 10 clusters of one Region hold 10 HSMs and the role adds 1: above CloudHSM's default 6 HSMs per Region, a quota
    # AWS raises on request (the emulator enforces it; settings raise it).
    emulator.settings(connect_seconds=FLEET_CONNECT_SECONDS, hsms_quota=2 * FLEET_STORES_PER_REGION)
    figures = {}
    try:
        for failed in (False, True):
            samples = [role_fleet_run(runner, emulator, inventory, failed) for _run in range(runs)]
            seconds = [sample["seconds"] for sample in samples]
            cpu = [sample["cpu_per_store"] for sample in samples]
            figures["failed" if failed else "healthy"] = {
                "samples": seconds,
                "typical": median(seconds),
                "worst": max(seconds),
                "cpu_per_store": {"typical": median(cpu), "worst": max(cpu)},
                # The phases of the run whose wall time is the median (the one the typical figure is).
                "phases": sorted(samples, key=lambda sample: sample["seconds"])[(len(samples) - 1) // 2]["phases"],
                "not_connected": sum(sample["not_connected"] for sample in samples),
                "failed_runs": sum(1 for sample in samples if sample["failed"]),
            }
    finally:
        emulator.settings(connect_seconds=2, hsms_quota=6)
    return {
        "runs": runs,
        "stores": len(ROLE_FLEET_REGIONS) * FLEET_STORES_PER_REGION,
        "failed_stores": 2 * len(ROLE_FLEET_REGIONS),
        "regions": len(ROLE_FLEET_REGIONS),
        "connect_seconds": FLEET_CONNECT_SECONDS,
        "quota": QUOTA_PER_SECOND,
        "target": 1.5 * FLEET_CONNECT_SECONDS + 30,
        "cores": os.cpu_count(),
        **figures,
    }


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            models = re.findall(r"^model name\s*:\s*(.+)$", handle.read(), re.MULTILINE)
        cpu = models[0] if models else cpu
    except OSError:
        pass
    versions = subprocess.run(
        [
            PYTHON,
            "-c",
            "import ansible.release, boto3, botocore, importlib.util, os; print(ansible.release.__version__, boto3.__version__,"
            " botocore.__version__, os.path.exists(importlib.util.cache_from_source(botocore.__file__)))",
        ],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout.split()
    with open(os.path.join(REPO, "galaxy.yml"), encoding="utf-8") as handle:
        version = re.search(r"^version:\s*(\S+)", handle.read(), re.MULTILINE).group(1)
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "ansible_core": versions[0],
        "boto3": versions[1],
        "botocore": versions[2],
        # Without bytecode, every module run compiles boto3 and botocore again: slower than any real controller.
        "byte_compiled": versions[3] == "True",
        "collection": version,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def only_role(repeats):
    """--only role: the connect role's figures alone, printed."""
    process, url = start_process("--connect-seconds", "2", "--disconnect-seconds", "1", python=PYTHON, env=ENV)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            role = measure_role(Runner(workdir, url), EmulatorClient(url), repeats)
    finally:
        process.terminate()
        process.wait(timeout=10)
    print("\n".join(role_lines(role)))
    print(summary_text({"role": role}))
    return 0


def only_role_fleet(runs):
    """--only role-fleet: figures 11 and 12 alone, printed."""
    process, url = start_process("--connect-seconds", "2", "--disconnect-seconds", "1", python=PYTHON, env=ENV)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            results = {"role_fleet": measure_role_fleet(Runner(workdir, url), EmulatorClient(url), runs)}
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(summary_text(results))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=7, help="alternating runs for the timing figures (default 7, at least 5)"
    )
    parser.add_argument("--fleet-runs", type=int, default=5, help="runs of the fleet playbook (default 5)")
    parser.add_argument(
        "--serial-stores", type=int, default=3, help="stores the serial loop is measured on (default 3)"
    )
    parser.add_argument("--quota-runs", type=int, default=3, help="runs of the fleet under the quota (default 3)")
    parser.add_argument(
        "--only",
        choices=["fleet-quota", "role", "role-fleet"],
        help="fleet-quota: measure only figures 7 and 8 and write them alone to --output; "
        "role: measure only the connect role (its lag and no-op cost), print them, and write no file; "
        "role-fleet: measure only the role fleet (figures 11 and 12), print them, and write no file",
    )
    parser.add_argument(
        "--output", default=DEFAULT_OUTPUT, help="the Markdown file to rewrite (default docs/benchmarks.md)"
    )
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error("--repeats must be at least 5")
    if args.only == "role":
        return only_role(args.repeats)
    if args.only == "role-fleet":
        return only_role_fleet(args.quota_runs)
    if args.only and args.output == DEFAULT_OUTPUT:
        parser.error("--only writes part of the figures: give --output another file than docs/benchmarks.md")

    started = time.monotonic()
    process, url = start_process("--connect-seconds", "2", "--disconnect-seconds", "1", python=PYTHON, env=ENV)
    emulator = EmulatorClient(url)
    results = {}
    try:
        with tempfile.TemporaryDirectory() as workdir:
            runner = Runner(workdir, url)
            if args.only:
                measure_quota_figures(runner, emulator, args.quota_runs, results)
                return finish(args, results, started, render_quota_only)
            print(f"emulator on {url}; metric 3 connections (2 s, 30 s, 120 s) run in the background", flush=True)
            lag_runs = start_lag_runs(runner, emulator)
            print("1. API calls", flush=True)
            results["counts"] = measure_counts(runner, emulator)
            print(f"2. playbook wall time, {args.repeats} alternating runs", flush=True)
            results["timing"], playbooks = measure_timing(runner, emulator, args.repeats)
            print("2, 6. where the time goes, peak RSS", flush=True)
            results["breakdown"], results["rss"] = measure_breakdown(runner, playbooks, args.repeats)
            results["schedule"] = schedule_figures()
            print(f"5. fleet, {args.fleet_runs} runs, then a serial loop over {args.serial_stores} stores", flush=True)
            results["fleet"] = measure_fleet(runner, emulator, args.fleet_runs, args.serial_stores)
            measure_quota_figures(runner, emulator, args.quota_runs, results)
            print(f"9. the connect role, {args.repeats} alternating runs", flush=True)
            results["role"] = measure_role(runner, emulator, args.repeats)
            print(f"11, 12. the role fleet under the request quota, {args.quota_runs} runs each", flush=True)
            results["role_fleet"] = measure_role_fleet(runner, emulator, args.quota_runs)
            print("3. waiting for the background connections", flush=True)
            results["lag"] = finish_lag_runs(emulator, lag_runs)
    finally:
        process.terminate()
        process.wait(timeout=10)
    return finish(args, results, started, render)


def measure_quota_figures(runner, emulator, runs, results):
    print(f"7. fleet under the request quota, {runs} runs", flush=True)
    results["fleet_quota"] = measure_fleet_quota(runner, emulator, runs)
    print(f"8. {AT_ONCE_STORES} stores of one Region connecting at once, without and with the quota", flush=True)
    results["at_once"] = measure_at_once(runner, emulator)


def finish(args, results, started, render_document):
    """Write the document, print the summary."""
    seconds = time.monotonic() - started
    info = machine()
    previous = bench_marker(args.output)
    document = render_document(results, info, previous, seconds)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(document)
    print()
    print(
        f"{info['cores']} cores, Python {info['python']}, ansible-core {info['ansible_core']}, {info['date']}, {seconds / 60:.1f} min"
    )
    print(summary_text(results))
    print(f"\nwritten: {os.path.relpath(args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
