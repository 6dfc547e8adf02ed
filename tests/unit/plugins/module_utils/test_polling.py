# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The poll schedule and the poll loop every wait runs: its bound, what a poll tolerates, the deadline respected."""

import itertools

import botocore.exceptions
import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import AnsibleCloudHSMError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.polling import Polls
from ansible_collections.awskms.custom_key_store.plugins.module_utils.polling import poll_times


def schedule(timeout):
    """The poll times of a wait of `timeout` seconds, as the loop makes them (the last one at the timeout)."""
    times = []
    for at in poll_times():
        times.append(min(at, timeout))
        if at >= timeout:
            return times


def test_first_poll_one_second_after_the_call_then_gaps_of_a_quarter_of_the_elapsed_time_between_2_and_30_s():
    times = list(itertools.islice(poll_times(), 40))
    assert times[:6] == [1.0, 3.0, 5.0, 7.0, 9.0, 11.25]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert all(gap == min(30.0, max(2.0, 0.25 * at)) for gap, at in zip(gaps, times))
    assert gaps[-1] == 30.0


def test_worst_lag_is_at_most_a_quarter_of_the_elapsed_time_2_s_at_least_and_30_s_at_most():
    """For a transition at every T from 0 to 1200 s in 0.1 s steps, the first poll at or after T is soon enough."""
    times = schedule(1200)
    for tenths in range(0, 12001):
        transition_at = tenths / 10
        seen_at = next(at for at in times if at >= transition_at)
        lag = seen_at - transition_at
        assert 0 <= lag <= min(30.0, max(2.0, 0.25 * transition_at)) + 1e-9, transition_at


def test_a_1200_s_wait_costs_53_polls_within_the_55_the_kms_quota_allows():
    times = schedule(1200)
    assert len(times) == 53
    assert times[-1] == 1200


def aws_error(error_class, code, status=400):
    return error_class(
        message="describe",
        exception=botocore.exceptions.ClientError(
            {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Describe"
        ),
    )


def unanswered(error_class, cause):
    return error_class(message="describe", exception=cause)


def describing(*answers):
    """describe() that returns each answer in turn, raising those that are exceptions."""
    answers = iter(answers)

    def describe():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return describe


TRANSIENT = [
    aws_error(AnsibleKMSError, "ThrottlingException"),
    aws_error(AnsibleCloudHSMError, "ThrottlingException"),
    aws_error(AnsibleKMSError, "KMSInternalException", 500),
    aws_error(AnsibleCloudHSMError, "CloudHsmInternalFailureException", 500),
    aws_error(AnsibleKMSError, "ServiceUnavailable", 503),
    unanswered(
        AnsibleKMSError,
        botocore.exceptions.EndpointConnectionError(endpoint_url="https://kms.us-east-1.amazonaws.com/"),
    ),
    unanswered(
        AnsibleKMSError, botocore.exceptions.ConnectionClosedError(endpoint_url="https://kms.us-east-1.amazonaws.com/")
    ),
    unanswered(
        AnsibleKMSError, botocore.exceptions.ReadTimeoutError(endpoint_url="https://kms.us-east-1.amazonaws.com/")
    ),
    unanswered(
        AnsibleCloudHSMError,
        botocore.exceptions.ConnectTimeoutError(endpoint_url="https://cloudhsmv2.us-east-1.amazonaws.com/"),
    ),
]


@pytest.mark.parametrize(
    "error", TRANSIENT, ids=lambda error: type(error.exception).__name__ + str(error.exception)[:20]
)
def test_throttled_unanswered_and_5xx_polls_are_skipped_at_the_schedule_times(fake_clock, error):
    describe = describing("CONNECTING", error, error, "CONNECTED")

    answers = list(Polls(describe, 7.0, fake_clock.sleep, fake_clock.clock))

    assert answers == ["CONNECTING", "CONNECTED"]
    assert fake_clock.sleeps == [1.0, 2.0, 2.0, 2.0]


def test_a_slow_describe_does_not_shift_the_schedule(fake_clock):
    def describe():
        fake_clock.now += 0.5
        return "CONNECTING"

    answers = list(Polls(describe, 7.0, fake_clock.sleep, fake_clock.clock))

    assert answers == ["CONNECTING"] * 4
    assert fake_clock.sleeps == [1.0, 1.5, 1.5, 1.5]  # polls at 1, 3, 5 and 7 s


def test_the_last_poll_lands_on_the_deadline(fake_clock):
    answers = list(Polls(describing("a", "b", "c"), 4.0, fake_clock.sleep, fake_clock.clock))

    assert answers == ["a", "b", "c"]
    assert fake_clock.sleeps == [1.0, 2.0, 1.0]
    assert fake_clock.now == 4.0


def test_a_wait_that_ends_while_the_endpoint_is_down_keeps_the_last_error(fake_clock):
    closed = TRANSIENT[6]
    waiting = Polls(describing("CONNECTING", closed, closed), 5.0, fake_clock.sleep, fake_clock.clock)

    assert list(waiting) == ["CONNECTING"]
    assert waiting.unanswered is closed


def test_a_wait_whose_last_poll_was_answered_keeps_no_error(fake_clock):
    waiting = Polls(
        describing(TRANSIENT[6], "CONNECTING", aws_error(AnsibleKMSError, "KMSInternalException", 500)),
        5.0,
        fake_clock.sleep,
        fake_clock.clock,
    )

    assert list(waiting) == ["CONNECTING"]
    assert waiting.unanswered is None


@pytest.mark.parametrize("code", ["AccessDeniedException", "CustomKeyStoreNotFoundException", "ValidationException"])
def test_a_permanent_answer_ends_the_wait(fake_clock, code):
    refused = aws_error(AnsibleKMSError, code)

    with pytest.raises(AnsibleKMSError) as error:
        list(Polls(describing("CONNECTING", refused), 7.0, fake_clock.sleep, fake_clock.clock))

    assert error.value is refused
