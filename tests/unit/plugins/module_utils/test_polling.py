# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The poll schedule and the poll loop every wait runs: the delays, throttled polls skipped, the deadline respected."""

import itertools

import botocore.exceptions
import pytest

from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import AnsibleCloudHSMError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.polling import poll_delays
from ansible_collections.awskms.custom_key_store.plugins.module_utils.polling import polls


def test_first_poll_one_second_after_the_call_then_doubling_to_a_30_s_cap():
    assert list(itertools.islice(poll_delays(), 8)) == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def aws_error(error_class, code):
    return error_class(message="describe", exception=botocore.exceptions.ClientError({"Error": {"Code": code}}, "Describe"))


def describing(*answers):
    """describe() that returns each answer in turn, raising those that are exceptions."""
    answers = iter(answers)

    def describe():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return describe


@pytest.mark.parametrize("error_class, code", [(AnsibleKMSError, "ThrottlingException"), (AnsibleCloudHSMError, "ThrottlingException")])
def test_polls_at_the_schedule_delays_skipping_throttled_answers(fake_clock, error_class, code):
    describe = describing("CONNECTING", aws_error(error_class, code), "CONNECTED")

    answers = list(polls(describe, 7.0, fake_clock.sleep, fake_clock.clock))

    assert answers == ["CONNECTING", "CONNECTED"]
    assert fake_clock.sleeps == [1.0, 2.0, 4.0]


def test_the_last_poll_lands_on_the_deadline(fake_clock):
    answers = list(polls(describing("a", "b", "c"), 5.0, fake_clock.sleep, fake_clock.clock))

    assert answers == ["a", "b", "c"]
    assert fake_clock.sleeps == [1.0, 2.0, 2.0]
    assert fake_clock.now == 5.0


def test_any_other_aws_error_ends_the_wait(fake_clock):
    denied = aws_error(AnsibleKMSError, "AccessDeniedException")

    with pytest.raises(AnsibleKMSError) as error:
        list(polls(describing(denied), 7.0, fake_clock.sleep, fake_clock.clock))

    assert error.value is denied
