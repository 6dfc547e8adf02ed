# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""scripts/bench_report.py: the verdicts of the connect role's figures (9 to 12) follow their targets."""

from ansible_collections.awskms.custom_key_store.scripts.bench_report import marker
from ansible_collections.awskms.custom_key_store.scripts.bench_report import packages_line
from ansible_collections.awskms.custom_key_store.scripts.bench_report import role_fleet_lines
from ansible_collections.awskms.custom_key_store.scripts.bench_report import role_fleet_rows
from ansible_collections.awskms.custom_key_store.scripts.bench_report import role_rows


def role(worst_gap, worst_ratio, role_calls):
    """Figures of the role's runs whose worst lag gap and no-op ratio are these (the typical ones are smaller)."""
    return {
        "connect_seconds": 2,
        "runs": 5,
        "seen": {"module": 1.0, "role": 1.5},
        "playbook_end": {"module": 1.2, "role": 3.0},
        "seen_gap": {"typical": 0.5, "worst": worst_gap},
        "noop_seconds": {"module": 2.0, "role": 2.5},
        "noop_ratio": {"typical": 1.25, "worst": worst_ratio},
        "noop_calls": {"module": ["DescribeCustomKeyStores"], "role": role_calls},
    }


def verdicts(rows):
    return [row[-1] for row in rows]


def test_the_role_meets_its_targets_within_2_s_2_calls_and_1_5_times_the_module():
    calls = ["DescribeCustomKeyStores", "DescribeClusters"]
    assert verdicts(role_rows(role(2.0, 1.5, calls))) == ["met", "met"]


def test_the_role_misses_them_one_by_one_on_the_worst_run():
    calls = ["DescribeCustomKeyStores", "DescribeClusters"]
    assert verdicts(role_rows(role(2.1, 1.5, calls))) == ["MISSED", "met"]
    assert verdicts(role_rows(role(2.0, 1.51, calls))) == ["met", "MISSED"]
    assert verdicts(role_rows(role(2.0, 1.5, calls + ["GenerateRandom"]))) == ["met", "MISSED"]


def fleet(healthy_worst, failed_missing=0, failed_runs=0):
    run = {
        "typical": 40.0,
        "not_connected": 0,
        "failed_runs": 0,
        "cpu_per_store": {"typical": 3.5, "worst": 4.0},
        "phases": {"first_call": 9.04, "first_connect": 21.1, "last_connect": 29.34, "last_call": 51.3},
    }
    return {
        "runs": 3,
        "stores": 30,
        "failed_stores": 6,
        "regions": 3,
        "connect_seconds": 20,
        "quota": 5,
        "target": 60.0,
        "cores": 2,
        "healthy": dict(run, worst=healthy_worst),
        "failed": dict(run, worst=90.0, not_connected=failed_missing, failed_runs=failed_runs),
    }


def test_the_role_fleet_is_judged_by_its_worst_run_and_by_every_store_connected():
    assert verdicts(role_fleet_rows(fleet(60.0))) == ["met", "met"]
    assert verdicts(role_fleet_rows(fleet(60.1))) == ["MISSED", "met"]
    assert verdicts(role_fleet_rows(fleet(50.0, failed_missing=1))) == ["met", "MISSED"]
    assert verdicts(role_fleet_rows(fleet(50.0, failed_runs=1))) == ["met", "MISSED"]


def test_the_role_fleet_section_computes_the_cpu_floor_from_the_worst_cpu_per_store():
    text = "\n".join(role_fleet_lines(fleet(70.0)))
    assert "30 x 4.0 s / 2 = 60 s" in text
    assert "30 x 4.0 s / 60 s = 2.0 cores" in text
    assert "controller CPU 3.5 s per store (4.0 s worst)" in role_fleet_rows(fleet(70.0))[0][3]


def test_the_role_fleet_section_says_when_the_typical_run_connected():
    text = " ".join(role_fleet_lines(fleet(70.0)))
    assert "typical run of figure 11 (40.0 s)" in text
    assert "first call came 9.0 s after the start" in text
    assert "Connect calls from 21.1 s to 29.3 s, its last call at 51.3 s" in text


def test_the_marker_records_the_rss_and_the_role_fleets_worst_cpu_per_store_for_scale_py():
    info = {"collection": "0.1.0"}
    results = {"rss": {"connection module process": 45.04}}
    assert marker(results, info) == {"version": "0.1.0", "rss_mib": 45.0}
    results["role_fleet"] = dict(fleet(70.0), failed=dict(fleet(70.0)["failed"], cpu_per_store={"worst": 4.26}))
    assert marker(results, info)["role_cpu_per_store"] == 4.3


def test_the_machine_lines_say_when_the_packages_lack_bytecode():
    assert "NOT byte-compiled" in packages_line({"byte_compiled": False})
    assert "NOT" not in packages_line({"byte_compiled": True})
