# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""make bench's analysis of the poll schedule: when a wait polls, how soon it sees a transition."""

import pytest

from ansible_collections.awskms.custom_key_store.scripts.bench_schedule import detection
from ansible_collections.awskms.custom_key_store.scripts.bench_schedule import poll_times


def test_a_1200_s_wait_costs_at_most_45_describe_calls():
    times = poll_times(1200)
    assert len(times) <= 45
    assert times[-1] == 1200


@pytest.mark.parametrize("timeout", [1, 10, 60, 1200])
def test_the_last_poll_lands_on_the_timeout(timeout):
    times = poll_times(timeout)
    assert times[-1] == timeout
    assert times == sorted(times)


@pytest.mark.parametrize("transition_at", [0.2, 0.5, 1.0, 1.9, 2.0])
def test_a_short_emulator_connection_is_seen_within_1_5_s(transition_at):
    _calls, lag = detection(transition_at, 1200)
    assert lag <= 1.5


def test_lag_stays_under_the_cap_and_about_the_elapsed_time():
    """Doubling delays keep the lag under max(30 s, elapsed + 1 s): they trade lag for calls.

    A lag of at most 10 % of the elapsed time would need delays growing by 10 % a poll, about
    70 calls for 1200 s instead of 44; doubling is the slowest growth that fits 45 calls.
    """
    for quarter_seconds in range(1, 4800):
        transition_at = quarter_seconds / 4
        _calls, lag = detection(transition_at, 1200)
        assert 0 <= lag <= min(30.0, transition_at + 1.0), transition_at


@pytest.mark.parametrize("transition_at, calls", [(2, 2), (30, 5), (120, 8), (300, 14), (1200, 44)])
def test_describe_calls_to_see_a_transition(transition_at, calls):
    assert detection(transition_at, 1200)[0] == calls


def test_a_transition_after_the_timeout_is_not_seen():
    calls, lag = detection(1300, 1200)
    assert lag is None
    assert calls == len(poll_times(1200))


@pytest.mark.parametrize("transition_at, describe_calls, lag", [(300, 15, 1.0), (1200, 45, 0.0)])
def test_benchmark_schedule_figures(transition_at, describe_calls, lag):
    """make bench's metric 4: the run's Describe calls (the first read of the store, then the polls) and the lag."""
    polls, seen_lag = detection(transition_at, 1200)
    assert 1 + polls == describe_calls <= 45
    assert seen_lag == lag
