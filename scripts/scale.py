# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module fleet at internet scale, on paper: what one controller running playbooks/fleet.yml with N forks does
for many accounts x Regions x stores, computed from the poll schedule (plugins/module_utils/polling.py) and KMS's
request quota; and the role fleet (playbooks/connect_fleet.yml), bound by the controller's CPU. docs/scale.md quotes
its output.

Usage: python scripts/scale.py [--accounts 100] [--regions 17] [--stores 10] [--forks 10 50 100 200]
       [--item-seconds 0.5] [--connect-seconds 20 1200] [--rss-mib 49.8] [--role-cpu-seconds 5.8]
       [--cores 2 16 64 256]
(from the collection root, with ANSIBLE_COLLECTIONS_PATH naming an ansible_collections/ tree that holds this
collection, as for make bench; `make bench` is not needed).

The model, as the playbook runs (one inventory host per account and Region, Ansible's linear strategy):
- each task runs on every host before the next task starts; `forks` hosts at a time, the next host starting as soon
  as a fork is free; a host runs its loop one store after the other, each module run taking `item_seconds`;
- task 1, per store: DescribeCustomKeyStores and ConnectCustomKeyStore at the end of the module run; the connection
  ends `connect_seconds` later;
- task 2, per store: the first read (DescribeCustomKeyStores) at the end of the module's start-up; a store not yet
  CONNECTED is polled at the schedule's times after that read until a poll sees it CONNECTED.
"""

import argparse
import heapq
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(REPO, "scripts"), os.path.join(REPO, "tests")]
sys.path[1:1] = [path for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if path]

from bench_report import bench_marker  # noqa: E402  pylint: disable=wrong-import-position
from bench_schedule import poll_times  # noqa: E402  pylint: disable=wrong-import-position

from emulator.quota import peak_per_second  # noqa: E402  pylint: disable=wrong-import-position

QUOTA_PER_SECOND = 5  # KMS Developer Guide, "Request quotas": each custom key store operation, per account and Region
MODULE_WAIT_TIMEOUT = 1800  # fleet.yml's default fleet_wait_timeout
DESCRIBE = "DescribeCustomKeyStores"
CONNECT = "ConnectCustomKeyStore"


def peak(times):
    """The most requests in any one second, counted in whole microseconds (no float noise at the window's edge)."""
    return peak_per_second([round(at * 1e6) for at in times], window=1e6)


def measured(name, path=os.path.join(REPO, "docs", "benchmarks.md")):
    """A figure the last `make bench` recorded in docs/benchmarks.md, or None: rss_mib, the peak RSS of one module
    run (MiB); role_cpu_per_store, the role fleet's controller CPU seconds per store (the worst run)."""
    return (bench_marker(path) or {}).get(name)


def connect_host(start, stores, item_seconds, connect_seconds):
    """Task 1 on one host from `start`: (end, [(time, operation)], [when each store is CONNECTED])."""
    requests, connected = [], []
    moment = start
    for _store in range(stores):
        moment += item_seconds
        requests += [(moment, DESCRIBE), (moment, CONNECT)]
        connected.append(moment + connect_seconds)
    return moment, requests, connected


def wait_host(start, connected, item_seconds, timeout=MODULE_WAIT_TIMEOUT):
    """Task 2 on one host from `start`: (end, [(time, operation)]); `connected` lists each store's CONNECTED time."""
    requests = []
    moment = start
    schedule = poll_times(timeout)
    for done in connected:
        read = moment + item_seconds
        requests.append((read, DESCRIBE))
        moment = read
        if done > read:
            for at in schedule:
                requests.append((read + at, DESCRIBE))
                moment = read + at
                if read + at >= done:
                    break
    return moment, requests


def run_task(hosts, forks, start, work):
    """Run `work(host, began)` -> (end, result) for every host, `forks` at a time; (end of the task, {host: result})."""
    free = [start] * min(forks, len(hosts))
    heapq.heapify(free)
    results, end = {}, start
    for host in hosts:
        began = heapq.heappop(free)
        finished, results[host] = work(host, began)
        heapq.heappush(free, finished)
        end = max(end, finished)
    return end, results


def fleet(hosts, stores, forks, item_seconds, connect_seconds):
    """The whole run of playbooks/fleet.yml: wall time, and the peak requests per second of one host (one account and
    Region) for each operation."""
    hosts = list(range(hosts))
    first = {}

    def connect(host, began):
        end, requests, connected = connect_host(began, stores, item_seconds, connect_seconds)
        first[host] = (requests, connected)
        return end, None

    task1_end = run_task(hosts, forks, 0.0, connect)[0]

    def wait(host, began):
        return wait_host(began, first[host][1], item_seconds)

    wall, waited = run_task(hosts, forks, task1_end, wait)
    peaks = {DESCRIBE: 0, CONNECT: 0}
    for host in hosts:
        requests = first[host][0] + waited[host]
        for operation in peaks:
            peaks[operation] = max(peaks[operation], peak([at for at, name in requests if name == operation]))
    return {"wall": wall, "task1": task1_end, "peaks": peaks}


def at_once(stores, connect_seconds, spread=0.0, timeout=MODULE_WAIT_TIMEOUT):
    """`stores` module runs (wait: true) in one account and Region started together (spread evenly over `spread`
    seconds): the peak requests per second of each operation, and how many requests the quota would refuse in that
    busiest second."""
    describes, connects = [], []
    for index in range(stores):
        start = spread * index / stores
        describes.append(start)  # the first read
        connects.append(start)
        for at in poll_times(timeout):
            describes.append(start + at)
            if at >= connect_seconds:
                break
    peaks = {DESCRIBE: peak(describes), CONNECT: peak(connects)}
    return {"peaks": peaks, "over_quota": dict((name, max(0, peak - QUOTA_PER_SECOND)) for name, peak in peaks.items())}


def role_fleet(stores, cpu_per_store, cores, connect_seconds):
    """playbooks/connect_fleet.yml, one host per store, on a controller of `cores` cores: a lower bound of the wall time
    (seconds). Each store costs the controller cpu_per_store seconds of CPU (ansible-playbook, its workers, the module
    runs), so the run lasts at least the CPU of all stores spread over every core, and at least one store's own
    connection, which waits on AWS, plus its CPU; the request quota only lengthens it (throttled calls, retried)."""
    return max(stores * cpu_per_store / cores, connect_seconds + cpu_per_store)


def report(args):
    """The Markdown that docs/scale.md quotes."""
    hosts = args.accounts * args.regions
    total = hosts * args.stores
    rss = args.rss_mib if args.rss_mib is not None else measured("rss_mib")
    role_cpu = args.role_cpu_seconds if args.role_cpu_seconds is not None else measured("role_cpu_per_store")
    lines = [
        f"{args.accounts} accounts x {args.regions} Regions x {args.stores} stores = {total} stores, {hosts} inventory hosts "
        f"(one per account and Region); {args.item_seconds} s per module run; quota {QUOTA_PER_SECOND} requests per second "
        "per operation, account and Region.",
        "",
        "| forks | connection | wall time | task 1 (every Connect sent) | peak per account and Region (Describe / Connect) "
        "| controller memory (forks x one module run) |",
        "|---|---|---|---|---|---|",
    ]
    for seconds in args.connect_seconds:
        for forks in args.forks:
            figures = fleet(hosts, args.stores, forks, args.item_seconds, seconds)
            memory = f"{forks * rss / 1024:.1f} GiB ({forks} x {rss:.1f} MiB)" if rss else "n/a"
            lines.append(
                f"| {forks} | {seconds:.0f} s | {figures['wall'] / 60:.1f} min | {figures['task1'] / 60:.1f} min | "
                f"{figures['peaks'][DESCRIBE]} / {figures['peaks'][CONNECT]} per s | {memory} |"
            )
    lines += [
        "",
        f"{args.stores} stores of one account and Region connected at once instead (one module run each, `wait: true`):",
        "",
        "| connection | starts spread over | peak Describe / Connect per s | above the quota in the busiest second |",
        "|---|---|---|---|",
    ]
    for seconds in args.connect_seconds:
        for spread in (0.0, 1.0, 5.0):
            figures = at_once(args.stores, seconds, spread)
            lines.append(
                f"| {seconds:.0f} s | {spread:.0f} s | {figures['peaks'][DESCRIBE]} / {figures['peaks'][CONNECT]} | "
                f"{figures['over_quota'][DESCRIBE]} / {figures['over_quota'][CONNECT]} |"
            )
    if role_cpu:
        lines += [
            "",
            f"The role fleet (playbooks/connect_fleet.yml, one host per store), {role_cpu:.1f} s of controller CPU per store: "
            f"{total * role_cpu / 3600:.1f} CPU hours for the {total} stores.",
            "",
            "| controller cores (all execution nodes) | connection | wall time, at least |",
            "|---|---|---|",
        ]
        for seconds in args.connect_seconds:
            for cores in args.cores:
                lines.append(
                    f"| {cores} | {seconds:.0f} s | {role_fleet(total, role_cpu, cores, seconds) / 60:.1f} min |"
                )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--regions", type=int, default=17)
    parser.add_argument("--stores", type=int, default=10, help="stores per account and Region (KMS allows 10)")
    parser.add_argument("--forks", type=int, nargs="+", default=[10, 50, 100, 200])
    parser.add_argument("--item-seconds", type=float, default=0.5, help="one module run in a loop (default 0.5 s)")
    parser.add_argument("--connect-seconds", type=float, nargs="+", default=[20.0, 1200.0])
    parser.add_argument("--rss-mib", type=float, help="peak RSS of one module run (default: docs/benchmarks.md)")
    parser.add_argument(
        "--role-cpu-seconds", type=float, help="the role fleet's controller CPU per store (default: docs/benchmarks.md)"
    )
    parser.add_argument("--cores", type=int, nargs="+", default=[2, 16, 64, 256], help="cores for the role fleet")
    print(report(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
