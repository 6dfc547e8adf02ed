# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""make bench's analysis of the poll schedule: when a wait polls, how soon it sees a transition."""

import pytest
from ansible_collections.awskms.custom_key_store.scripts.bench_schedule import detection
from ansible_collections.awskms.custom_key_store.scripts.bench_schedule import poll_times
from ansible_collections.awskms.custom_key_store.scripts.bench_schedule import worst_case


def test_a_1200_s_wait_costs_53_describe_calls():
    times = poll_times(1200)
    assert len(times) == 53
    assert times[-1] == 1200


@pytest.mark.parametrize("timeout", [1, 10, 60, 1200])
def test_the_last_poll_lands_on_the_timeout(timeout):
    times = poll_times(timeout)
    assert times[-1] == timeout
    assert times == sorted(times)


@pytest.mark.parametrize("transition_at", [0.2, 0.5, 1.0, 1.9, 2.0])
def test_a_short_emulator_connection_is_seen_within_2_s(transition_at):
    _calls, lag = detection(transition_at, 1200)
    assert lag <= 2.0


@pytest.mark.parametrize("transition_at, calls", [(2, 2), (30, 11), (120, 17), (300, 23), (1200, 53)])
def test_describe_calls_to_see_a_transition(transition_at, calls):
    assert detection(transition_at, 1200)[0] == calls


def test_a_transition_after_the_timeout_is_not_seen():
    calls, lag = detection(1300, 1200)
    assert lag is None
    assert calls == len(poll_times(1200))


@pytest.mark.parametrize(
    "transition_at, polls, worst_lag",
    [(20, 9, 4.39453125), (32, 11, 6.866455078125), (300, 23, 30.0), (1200, 53, 19.032762944698334)],
)
def test_benchmark_worst_case_figures(transition_at, polls, worst_lag):
    """make bench's metric 4: a connection ending just after the poll before T is seen at the poll at or after T."""
    seen_polls, lag, (earlier, later) = worst_case(transition_at, 1200)
    assert (seen_polls, lag) == (polls, pytest.approx(worst_lag))
    assert earlier < transition_at <= later
    assert detection(earlier + 1e-6, 1200) == (polls, pytest.approx(later - earlier - 1e-6))
    assert lag <= min(30.0, max(2.0, 0.25 * earlier)) + 1e-9
