# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Making a custom key store CONNECTED or DISCONNECTED: the decision table and the loop that carries it out.

KMS's reads are eventually consistent ("The KMS API follows an eventual consistency model", KMS API Reference):
right after this run's own Connect or Disconnect, a Describe may still show the state from before the call.
For STALE_READ_GRACE_SECONDS after the call such a read is taken as stale and the wait polls on; only a store
still in that state after the grace is decided on again (docs/design.md, Connection state machine).
"""

import time

from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import aws_error_advice
from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import error_code
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection_errors import error_fields
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection_errors import failure_sentence
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import connect_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import describe_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import disconnect_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import normalize_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import poll_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import Runner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import with_state

CONNECT = "connect"
DISCONNECT = "disconnect"
WAIT = "wait"

API_ACTIONS = {CONNECT: "ConnectCustomKeyStore", DISCONNECT: "DisconnectCustomKeyStore"}

# The state a store is in right after a step. ConnectCustomKeyStore and DisconnectCustomKeyStore
# move the store synchronously; a wait is assumed to reach the end of the transition.
_AFTER_CALL = {CONNECT: "CONNECTING", DISCONNECT: "DISCONNECTING"}
_AFTER_WAIT = {"CONNECTING": "CONNECTED", "DISCONNECTING": "DISCONNECTED"}

# docs/design.md, Connection state machine. None: a FAILED store that must not be touched without reconnect_failed.
_TO_CONNECTED = {
    "CONNECTED": (),
    "CONNECTING": (),
    "DISCONNECTED": (CONNECT,),
    "DISCONNECTING": (WAIT, CONNECT),
    "FAILED": None,
}
_TO_DISCONNECTED = {
    "CONNECTED": (DISCONNECT,),
    "CONNECTING": (DISCONNECT,),
    "DISCONNECTED": (),
    "DISCONNECTING": (),
    "FAILED": (DISCONNECT,),
}

# The refusals of ConnectCustomKeyStore that are about the store's cluster: what they say of it (the next step
# is in aws_errors.ADVICE).
_CLUSTER_REFUSALS = {
    "CloudHsmClusterNotActiveException": "is not ACTIVE",
    "CloudHsmClusterInvalidConfigurationException": "is not configured as KMS requires",
}

# A bounded number of times the state may move under our feet (another client acting at once).
MAX_RACES = 3
MAX_CALLS = 4

# How long after this run's own Connect / Disconnect a Describe showing the state from before the call is a stale read.
STALE_READ_GRACE_SECONDS = 10


def decide(observed, desired, wait=False, reconnect_failed=False):
    """The steps that take a store from its observed ConnectionState to the desired one.

    Returns a tuple of CONNECT / DISCONNECT / WAIT steps (empty: nothing to do), or None when the
    store is FAILED, the desire is to connect it, and reconnect_failed does not allow touching it.
    """
    table = _TO_CONNECTED if desired == "connected" else _TO_DISCONNECTED
    if observed not in table:
        raise ValueError(f"unknown custom key store connection state {observed!r}")
    if observed == "FAILED" and desired == "connected" and reconnect_failed:
        steps = (DISCONNECT, WAIT, CONNECT)
    else:
        steps = table[observed]
    if steps is None:
        return None
    if wait and state_after(observed, steps) in _AFTER_WAIT:
        steps += (WAIT,)
    return steps


def state_after(observed, steps):
    """The ConnectionState a store is expected to be in once the steps are done."""
    state = observed
    for step in steps:
        state = _AFTER_WAIT.get(state, state) if step == WAIT else _AFTER_CALL[step]
    return state


def api_actions(steps):
    """The KMS API actions among the steps."""
    return [API_ACTIONS[step] for step in steps if step in API_ACTIONS]


def plan(observed, desired, wait=False):
    """(KMS API actions, ConnectionState after them) of a run from `observed` to `desired`, as check mode reports it."""
    steps = decide(observed, desired, wait)
    return api_actions(steps), state_after(observed, steps)


class ConnectionRunner(Runner):
    """Carries out the decision table against AWS, re-deciding after every step.

    Each step is decided on the state just observed (or just caused), so a store that another
    client moves at the same time is handled by the same table, and a call that AWS refuses with
    CustomKeyStoreInvalidStateException is followed by a fresh Describe instead of a failure.
    """

    def __init__(self, client, selector, label, region, check_mode=False, sleep=time.sleep, clock=time.monotonic):
        super().__init__(client, region, check_mode, sleep, clock)
        self.selector = selector
        self.label = label
        self.history = []
        self.waited = False
        self._last_call = None  # (ConnectionState before this run's last Connect / Disconnect, clock() after it)
        self.entry = None  # the store as a run that ended left it (its DescribeCustomKeyStores entry)

    def run(self, desired, wait=False, wait_timeout=1200, reconnect_failed=False):
        self._start_clock(wait_timeout)
        entry = self._describe()
        before = entry["ConnectionState"]
        self._record(before)
        self.selector = {"CustomKeyStoreId": entry["CustomKeyStoreId"]}
        races = 0

        while True:
            state = entry["ConnectionState"]
            # reconnect_failed repairs a store found FAILED; a FAILED outcome of our own connect is reported.
            steps = decide(state, desired, wait, reconnect_failed and API_ACTIONS[CONNECT] not in self.actions)
            if steps is None:
                raise self._failure(
                    failure_sentence(
                        self._name(entry), entry.get("ConnectionErrorCode"), entry.get("CustomKeyStoreType")
                    ),
                    entry,
                )
            if not steps:
                break
            if self.check_mode:
                self.actions = api_actions(steps)
                entry = with_state(entry, state_after(state, steps), "ConnectionState")
                break
            if steps[0] == WAIT:
                entry = self._wait_for_change(entry)
                continue
            if len(self.actions) >= MAX_CALLS:
                raise self._failure(
                    f"Custom key store {self._name(entry)} kept changing state while this task acted on it "
                    f"(now {state}); another client is changing it at the same time. Run again once it is done.",
                    entry,
                )
            try:
                self._call(steps[0], entry)
            except AnsibleKMSError as error:
                if error_code(error) != "CustomKeyStoreInvalidStateException" or races >= MAX_RACES:
                    raise
                races += 1
                entry = self._describe()
                self._record(entry["ConnectionState"])
                continue
            self._last_call = (state, self.clock())
            entry = with_state(entry, _AFTER_CALL[steps[0]], "ConnectionState")
            self._record(entry["ConnectionState"])

        self.entry = entry
        return self._result(entry, before)

    def _name(self, entry):
        return entry.get("CustomKeyStoreName") or self.label

    def _elapsed(self):
        return round(super()._elapsed(), 3)

    def _record(self, state):
        if not self.history or self.history[-1]["connection_state"] != state:
            self.history.append({"connection_state": state, "seconds": self._elapsed()})

    def _describe(self, read=describe_custom_key_store):
        entry = read(self.client, self.selector, self.label)
        if entry is None:
            if self.history:
                raise RunFailure(
                    f"Custom key store {self.label} was deleted in {self.region} while this task was acting on it.",
                    actions=self.actions,
                    state_history=self.history,
                )
            raise RunFailure(f"custom key store {self.label} not found in {self.region}")
        return entry

    def _call(self, step, entry):
        store_id = entry["CustomKeyStoreId"]
        try:
            if step == CONNECT:
                connect_custom_key_store(self.client, store_id)
            else:
                disconnect_custom_key_store(self.client, store_id)
        except AnsibleKMSError as error:
            refused = _CLUSTER_REFUSALS.get(error_code(error))
            if refused:
                raise self._failure(
                    f"KMS refused to connect custom key store {self._name(entry)}: its CloudHSM cluster "
                    f"{entry.get('CloudHsmClusterId')} {refused}. Next step: {aws_error_advice(error_code(error))}",
                    entry,
                )
            raise
        self.actions.append(API_ACTIONS[step])

    def _wait_for_change(self, entry):
        """Poll until the store leaves its transitional state; blips and stale reads never end the wait."""
        from_state = entry["ConnectionState"]
        self.waited = True
        for entry in self._polls(lambda: self._describe(poll_custom_key_store)):
            if entry["ConnectionState"] != from_state and not self._stale(entry["ConnectionState"]):
                self._record(entry["ConnectionState"])
                return entry
        waited_for = f"custom key store {self._name(entry)} to leave {from_state}"
        raise self._failure(self._timeout_sentence(waited_for, entry["ConnectionState"]), entry)

    def _stale(self, state):
        """True for a state read within the grace after this run's own call that is still the state from before it."""
        if self._last_call is None:
            return False
        before, called_at = self._last_call
        return state == before and self.clock() - called_at < STALE_READ_GRACE_SECONDS

    def _failure(self, message, entry):
        return RunFailure(message, **self._result(entry, None))

    def _result(self, entry, before):
        state = entry["ConnectionState"]
        result = {
            "changed": bool(self.actions),
            "custom_key_store": normalize_custom_key_store(entry),
            "connection_state": state,
            "actions": list(self.actions),
        }
        if state == "FAILED":
            result.update(error_fields(entry.get("ConnectionErrorCode"), entry.get("CustomKeyStoreType")))
        if self.waited:
            result["state_history"] = list(self.history)
        if before is not None:
            result["diff"] = {"before": {"connection_state": before}, "after": {"connection_state": state}}
        return result
