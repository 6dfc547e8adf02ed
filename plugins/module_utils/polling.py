# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The poll schedule and the poll loop behind every wait of this collection (a store's connection, an HSM's
creation or deletion).

The schedule is a list of absolute times after the call: the first poll at 1 s, then each next poll
min(30, max(2, 0.25 * t)) seconds after the poll at t (1, 3, 5, 7, 9, 11.3, 14.1, 17.6, 22.0, 27.5, 34.3 ...
then every 30 s from about 131 s). The loop sleeps until the next time, so a slow Describe does not shift
the schedule. The bound this gives: a transition T seconds after the call is seen at most
max(2 s, 25 % of T) and at most 30 s after it happened, and a 1200 s wait costs 53 polls (KMS allows 5
requests per second per custom key store operation, account and Region). tests/unit/plugins/module_utils/
test_polling.py proves the bound for every T from 0 to 1200 s in 0.1 s steps.

What a poll tolerates: once the first read has succeeded (the runners read before they wait), a poll
that is throttled, gets no answer (connection refused, reset or closed, connect or read timeout) or an
HTTP 5xx answer is skipped until the deadline: a blip is not a reason to end a 20-minute wait. Any other
answer (access denied, not found, validation) ends the wait at once. A poll is one call: AWSRetry's backoff
is not applied to it (kms.poll_custom_key_store, cloudhsm.poll_cluster), so no poll outlasts the deadline by more
than one call of the waiting modules' client (modules.wait_client: about 40 s without an answer).
"""

try:
    import botocore.exceptions
except ImportError:
    pass  # AnsibleAWSModule reports a missing SDK.

from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import is_throttling

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

FIRST_POLL = 1.0
MIN_GAP = 2.0
GAP_RATIO = 0.25
MAX_GAP = 30.0


def next_poll_time(t):
    """The time of the poll after the one at t (seconds after the call)."""
    return t + min(MAX_GAP, max(MIN_GAP, GAP_RATIO * t))


def poll_times():
    """Endless poll times, in seconds after the call."""
    t = FIRST_POLL
    while True:
        yield t
        t = next_poll_time(t)


def is_unanswered(error):
    """True for an AnsibleAWSError whose request got no answer: refused, reset or closed connection, timeout."""
    cause = getattr(error, "exception", error)
    return isinstance(cause, (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError))


def is_server_error(error):
    """True for an AnsibleAWSError that is an HTTP 5xx answer (KMSInternalException, InternalFailure, ServiceUnavailable ...)."""
    cause = getattr(error, "exception", error)
    response = getattr(cause, "response", None) or {}
    return (response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500


def is_transient(error):
    return is_throttling(error) or is_unanswered(error) or is_server_error(error)


class Polls:
    """describe() at the poll schedule's times until `deadline` (a clock() value); iterating yields each answer.

    A transient failure (throttled, no answer, 5xx) skips the poll; any other AWS error ends the wait. The
    caller stops when it sees what it waits for; when the iteration ends, the wait has timed out, and
    `unanswered` holds the error of the last poll if that poll got no answer (else None).
    """

    def __init__(self, describe, deadline, sleep, clock):
        self.describe = describe
        self.deadline = deadline
        self.sleep = sleep
        self.clock = clock
        self.unanswered = None

    def __iter__(self):
        origin = self.clock()
        for at in poll_times():
            now = self.clock()
            if origin + at < now:
                continue  # a slow Describe took us past this time: the next one keeps the schedule
            if now >= self.deadline:
                return
            self.sleep(min(origin + at, self.deadline) - now)
            try:
                answer = self.describe()
            except AnsibleAWSError as error:
                if not is_transient(error):
                    raise
                self.unanswered = error if is_unanswered(error) else None
                continue
            self.unanswered = None
            yield answer
