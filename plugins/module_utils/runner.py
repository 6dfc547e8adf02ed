# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the runners (connection, key store, HSM) share: the failure they raise, the clock they wait on,
the copy of a resource in another state, and the sentence for a wait that timed out."""

import copy
import time

from ansible_collections.awskms.custom_key_store.plugins.module_utils.polling import Polls


class RunFailure(Exception):
    """A failure to report to the user: one sentence, plus what the run observed and did (module result keys)."""

    def __init__(self, message, **result):
        super().__init__(message)
        self.message = message
        self.result = result


def with_state(resource, state, key="State"):
    """A copy of an AWS resource (boto3 form) in another state; a store's ConnectionErrorCode stays only with FAILED."""
    resource = copy.deepcopy(resource)
    resource[key] = state
    if state != "FAILED":
        resource.pop("ConnectionErrorCode", None)
    return resource


def timeout_sentence(elapsed, waited_for, last_state, unanswered=None):
    """Why a wait ended, and that running the task again resumes it.

    `unanswered`: the error of the last poll when the endpoint stopped answering (polling.Polls.unanswered).
    """
    if unanswered is not None:
        cause = getattr(unanswered, "exception", None) or unanswered
        return (
            f"Timed out after {elapsed:.0f} s waiting for {waited_for}: the endpoint stopped answering "
            f"({' '.join(str(cause).split()).rstrip('.')}), last state seen: {last_state}. "
            "AWS carries on with the operation: once the endpoint is reachable, run the task again to resume waiting."
        )
    return (
        f"Timed out after {elapsed:.0f} s waiting for {waited_for} (last observed state: {last_state}). "
        "AWS carries on with the operation: run the task again to resume waiting, or raise wait_timeout."
    )


class Runner:
    """A run against one AWS client, on an injectable clock (sleep and clock are fakes in the unit tests).

    Calls that create go through create_client(), a client that sends them once
    (CustomKeyStoreModule.single_attempt_client); every other call through client.
    """

    def __init__(self, client, region, check_mode=False, sleep=time.sleep, clock=time.monotonic, create_client=None):
        self.client = client
        self.create_client = create_client or (lambda: client)
        self.region = region
        self.check_mode = check_mode
        self.sleep = sleep
        self.clock = clock
        self.actions = []
        self._start = None
        self._deadline = None
        self._last_polls = None

    def _start_clock(self, wait_timeout):
        """Every wait of the run ends at the same deadline, wait_timeout after the run started."""
        self._start = self.clock()
        self._deadline = self._start + wait_timeout

    def _elapsed(self):
        return self.clock() - self._start

    def _polls(self, describe):
        """describe() at the poll schedule's times until the deadline (see polling.Polls)."""
        self._last_polls = Polls(describe, self._deadline, self.sleep, self.clock)
        return self._last_polls

    def _timeout_sentence(self, waited_for, last_state):
        """The sentence of the last wait that timed out, saying so when the endpoint stopped answering."""
        unanswered = self._last_polls.unanswered if self._last_polls else None
        return timeout_sentence(self._elapsed(), waited_for, last_state, unanswered)
