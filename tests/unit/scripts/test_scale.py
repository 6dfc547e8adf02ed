# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""scripts/scale.py: the module fleet at scale, computed from the poll schedule and KMS's request quota."""

import pytest
from ansible_collections.awskms.custom_key_store.scripts.bench_schedule import detection
from ansible_collections.awskms.custom_key_store.scripts.scale import QUOTA_PER_SECOND
from ansible_collections.awskms.custom_key_store.scripts.scale import at_once
from ansible_collections.awskms.custom_key_store.scripts.scale import fleet
from ansible_collections.awskms.custom_key_store.scripts.scale import main
from ansible_collections.awskms.custom_key_store.scripts.scale import measured
from ansible_collections.awskms.custom_key_store.scripts.scale import role_fleet


def test_one_store_takes_its_connection_plus_the_schedules_lag():
    # task 1: the Connect at 0.5 s, CONNECTED at 20.5 s; task 2: the first read at 1.0 s, then the polls after it
    figures = fleet(hosts=1, stores=1, forks=1, item_seconds=0.5, connect_seconds=20)
    _polls, lag = detection(20.5 - 1.0, 1800)
    assert figures["task1"] == 0.5
    assert figures["wall"] == pytest.approx(1.0 + 19.5 + lag)


def test_a_store_connected_before_the_wait_costs_one_read():
    figures = fleet(hosts=1, stores=3, forks=1, item_seconds=0.5, connect_seconds=0.1)
    assert figures["wall"] == pytest.approx(3 * 0.5 + 3 * 0.5)


@pytest.mark.parametrize("forks", [1, 5, 20, 50])
def test_the_peak_per_account_and_region_does_not_depend_on_forks(forks):
    figures = fleet(hosts=20, stores=10, forks=forks, item_seconds=0.5, connect_seconds=20)
    # one host per account and Region, one module run after the other: 2 requests of an operation in any second
    assert figures["peaks"] == {"DescribeCustomKeyStores": 2, "ConnectCustomKeyStore": 2}
    assert max(figures["peaks"].values()) <= QUOTA_PER_SECOND


def test_more_forks_shorten_the_run_until_every_host_has_one():
    walls = [fleet(40, 10, forks, 0.5, 20)["wall"] for forks in (1, 4, 40, 80)]
    assert walls[0] > walls[1] > walls[2]
    assert walls[2] == walls[3]
    assert fleet(40, 10, 40, 0.5, 20)["task1"] == 10 * 0.5


def test_stores_connected_at_once_poll_in_step_above_the_quota():
    figures = at_once(10, 20, spread=0.0)
    assert figures["peaks"] == {"DescribeCustomKeyStores": 10, "ConnectCustomKeyStore": 10}
    assert figures["over_quota"] == {"DescribeCustomKeyStores": 5, "ConnectCustomKeyStore": 5}
    # one start a second: one Connect a second, but the polls at 1, 3, 5, 7 and 9 s of five earlier runs meet a
    # run's first read at the same instant
    spread = at_once(10, 20, spread=10.0)
    assert spread["peaks"] == {"DescribeCustomKeyStores": 6, "ConnectCustomKeyStore": 1}
    assert spread["over_quota"] == {"DescribeCustomKeyStores": 1, "ConnectCustomKeyStore": 0}
    assert at_once(1, 20)["peaks"] == {"DescribeCustomKeyStores": 1, "ConnectCustomKeyStore": 1}


def test_measured_figures_come_from_the_bench_marker(tmp_path):
    document = tmp_path / "benchmarks.md"
    document.write_text('text\n<!-- bench: {"version": "0.1.0", "rss_mib": 49.8, "role_cpu_per_store": 5.8} -->\n')
    assert measured("rss_mib", str(document)) == 49.8
    assert measured("role_cpu_per_store", str(document)) == 5.8
    assert measured("rss_mib", str(tmp_path / "missing.md")) is None


def test_the_role_fleet_is_bound_by_the_controllers_cpu_until_the_connection_is_longer():
    # the bench's fleet: 30 stores, 5.8 s of CPU each, on 2 cores: 87 s, beyond the 20 s connection
    assert role_fleet(30, 5.8, 2, 20) == pytest.approx(87.0)
    # enough cores: one store's connection and its own CPU
    assert role_fleet(30, 5.8, 64, 20) == pytest.approx(25.8)
    assert role_fleet(17000, 5.8, 64, 1200) == pytest.approx(17000 * 5.8 / 64)


def test_the_report_names_every_fork_count(capsys):
    assert (
        main(
            ["--accounts", "2", "--regions", "3", "--forks", "1", "6", "--connect-seconds", "20", "--rss-mib", "50"]
            + ["--role-cpu-seconds", "6", "--cores", "2", "360"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "2 accounts x 3 Regions x 10 stores = 60 stores, 6 inventory hosts" in out
    assert "| 1 | 20 s |" in out and "| 6 | 20 s |" in out
    assert "0.3 GiB (6 x 50.0 MiB)" in out
    # the role fleet: 60 stores x 6 s = 0.1 CPU hours; 3 min on 2 cores, one connection and its CPU on 360
    assert "6.0 s of controller CPU per store: 0.1 CPU hours for the 60 stores" in out
    assert "| 2 | 20 s | 3.0 min |" in out and "| 360 | 20 s | 0.4 min |" in out
