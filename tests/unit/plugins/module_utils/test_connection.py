# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The decision table of docs/design.md (Connection state machine), carried out against Stubber-checked KMS clients."""

import botocore.exceptions
import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils import connection
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection import CONNECT
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection import DISCONNECT
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection import WAIT
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection import ConnectionRunner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection import decide
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_NAME
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import store_entry

BY_NAME = {"CustomKeyStoreName": STORE_NAME}
BY_ID = {"CustomKeyStoreId": STORE_ID}

# (desired, observed, wait, reconnect_failed) -> (decided steps, the run's API script after the first Describe, final state)
# The script lists, in order, the calls the run makes (CONNECT / DISCONNECT) and the state each later Describe returns.
# Every cell of the table (docs/design.md, Connection state machine), with and without wait.
CELLS = {
    ("connected", "CONNECTED", False, False): ((), [], "CONNECTED"),
    ("connected", "CONNECTED", True, False): ((), [], "CONNECTED"),
    ("connected", "CONNECTING", False, False): ((), [], "CONNECTING"),
    ("connected", "CONNECTING", True, False): ((WAIT,), ["CONNECTING", "CONNECTED"], "CONNECTED"),
    ("connected", "DISCONNECTED", False, False): ((CONNECT,), [CONNECT], "CONNECTING"),
    ("connected", "DISCONNECTED", True, False): ((CONNECT, WAIT), [CONNECT, "CONNECTING", "CONNECTED"], "CONNECTED"),
    ("connected", "DISCONNECTING", False, False): ((WAIT, CONNECT), ["DISCONNECTED", CONNECT], "CONNECTING"),
    ("connected", "DISCONNECTING", True, False): (
        (WAIT, CONNECT, WAIT),
        ["DISCONNECTING", "DISCONNECTED", CONNECT, "CONNECTED"],
        "CONNECTED",
    ),
    ("connected", "FAILED", False, True): (
        (DISCONNECT, WAIT, CONNECT),
        [DISCONNECT, "DISCONNECTED", CONNECT],
        "CONNECTING",
    ),
    ("connected", "FAILED", True, True): (
        (DISCONNECT, WAIT, CONNECT, WAIT),
        [DISCONNECT, "DISCONNECTING", "DISCONNECTED", CONNECT, "CONNECTING", "CONNECTED"],
        "CONNECTED",
    ),
    ("disconnected", "CONNECTED", False, False): ((DISCONNECT,), [DISCONNECT], "DISCONNECTING"),
    ("disconnected", "CONNECTED", True, False): ((DISCONNECT, WAIT), [DISCONNECT, "DISCONNECTED"], "DISCONNECTED"),
    ("disconnected", "CONNECTING", False, False): ((DISCONNECT,), [DISCONNECT], "DISCONNECTING"),
    ("disconnected", "CONNECTING", True, False): (
        (DISCONNECT, WAIT),
        [DISCONNECT, "DISCONNECTING", "DISCONNECTED"],
        "DISCONNECTED",
    ),
    ("disconnected", "FAILED", False, False): ((DISCONNECT,), [DISCONNECT], "DISCONNECTING"),
    ("disconnected", "FAILED", True, True): ((DISCONNECT, WAIT), [DISCONNECT, "DISCONNECTED"], "DISCONNECTED"),
    ("disconnected", "DISCONNECTED", False, False): ((), [], "DISCONNECTED"),
    ("disconnected", "DISCONNECTING", False, False): ((), [], "DISCONNECTING"),
    ("disconnected", "DISCONNECTING", True, False): ((WAIT,), ["DISCONNECTED"], "DISCONNECTED"),
}
each_cell = pytest.mark.parametrize("cell", sorted(CELLS), ids=lambda cell: "-".join(str(part) for part in cell))
API = {CONNECT: "ConnectCustomKeyStore", DISCONNECT: "DisconnectCustomKeyStore"}
CALL = {CONNECT: "connect_custom_key_store", DISCONNECT: "disconnect_custom_key_store"}


def runner(client, clock, check_mode=False, selector=None):
    return ConnectionRunner(
        client,
        selector or BY_NAME,
        STORE_NAME,
        "us-east-1",
        check_mode=check_mode,
        sleep=clock.sleep,
        clock=clock.clock,
    )


def expect_describe(stubber, state, selector=None, code=None):
    stubber.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [store_entry(state, code)]}, selector or BY_ID
    )


def expect_first_describe(stubber, observed):
    """The run's first Describe, by name; a FAILED store carries a transient error code."""
    expect_describe(stubber, observed, BY_NAME, code="NETWORK_ERRORS" if observed == "FAILED" else None)


def expect_call(stubber, step):
    stubber.add_response(CALL[step], {}, {"CustomKeyStoreId": STORE_ID})


@each_cell
def test_decide_covers_every_cell(cell):
    desired, observed, wait, reconnect_failed = cell
    steps, _script, _final = CELLS[cell]
    assert decide(observed, desired, wait, reconnect_failed) == steps


def test_decide_refuses_failed_without_reconnect_failed():
    assert decide("FAILED", "connected", wait=True, reconnect_failed=False) is None


def test_decide_rejects_unknown_state():
    with pytest.raises(ValueError, match="PENDING"):
        decide("PENDING", "connected")


@each_cell
def test_run_makes_exactly_the_calls_of_the_cell(cell, kms, fake_clock):
    client, stubber = kms
    desired, observed, wait, reconnect_failed = cell
    steps, script, final = CELLS[cell]
    expect_first_describe(stubber, observed)
    for item in script:
        if item in CALL:
            expect_call(stubber, item)
        else:
            expect_describe(stubber, item)

    result = runner(client, fake_clock).run(desired, wait=wait, reconnect_failed=reconnect_failed)

    assert result["connection_state"] == final
    assert result["custom_key_store"]["connection_state"] == final
    assert result["actions"] == [API[step] for step in steps if step in API]
    assert result["changed"] is bool(result["actions"])
    assert result["diff"] == {"before": {"connection_state": observed}, "after": {"connection_state": final}}
    assert ("state_history" in result) is (WAIT in steps)


@each_cell
def test_check_mode_describes_once_and_predicts(cell, kms, fake_clock):
    client, stubber = kms
    desired, observed, wait, reconnect_failed = cell
    steps, _script, _final = CELLS[cell]
    expect_first_describe(stubber, observed)

    result = runner(client, fake_clock, check_mode=True).run(desired, wait=wait, reconnect_failed=reconnect_failed)

    assert result["actions"] == [API[step] for step in steps if step in API]
    assert result["changed"] is bool(result["actions"])
    assert result["connection_state"] == connection.state_after(observed, steps)
    assert fake_clock.sleeps == []


def test_failed_store_without_reconnect_fails_with_code_and_remedy(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "FAILED", BY_NAME, code="USER_LOGGED_IN")

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run("connected", wait=True)

    assert failure.value.message.startswith(f"Custom key store {STORE_NAME} is FAILED with USER_LOGGED_IN:")
    assert "Log kmsuser out" in failure.value.message
    assert failure.value.result["changed"] is False
    assert failure.value.result["connection_error_code"] == "USER_LOGGED_IN"
    assert failure.value.result["connection_error_remedy"].startswith("Log kmsuser out")
    assert failure.value.result["connection_error_class"] == "operator_action"
    assert failure.value.result["connection_error_meaning"].startswith("The kmsuser crypto user is logged in")
    assert "state_history" not in failure.value.result  # returned only when the run waited


def test_failed_store_in_check_mode_fails_the_same_way(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "FAILED", BY_NAME, code="INSUFFICIENT_CLOUDHSM_HSMS")

    with pytest.raises(RunFailure, match="INSUFFICIENT_CLOUDHSM_HSMS"):
        runner(client, fake_clock, check_mode=True).run("connected")


def test_wait_that_ends_failed_reports_code_and_does_not_reconnect_again(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "FAILED", BY_NAME, code="NETWORK_ERRORS")
    expect_call(stubber, DISCONNECT)
    expect_describe(stubber, "DISCONNECTED")
    expect_call(stubber, CONNECT)
    expect_describe(stubber, "FAILED", code="INSUFFICIENT_CLOUDHSM_HSMS")

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run("connected", wait=True, reconnect_failed=True)

    assert "INSUFFICIENT_CLOUDHSM_HSMS" in failure.value.message
    assert "Add an HSM" in failure.value.message
    assert failure.value.result["changed"] is True
    assert failure.value.result["actions"] == ["DisconnectCustomKeyStore", "ConnectCustomKeyStore"]
    assert [h["connection_state"] for h in failure.value.result["state_history"]] == [
        "FAILED",
        "DISCONNECTING",
        "DISCONNECTED",
        "CONNECTING",
        "FAILED",
    ]


def test_timeout_names_last_state_and_resumability(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "DISCONNECTED", BY_NAME)
    expect_call(stubber, CONNECT)
    for _poll in range(
        14
    ):  # the polls of a 60 s wait: at 1, 3, 5, 7, 9, 11.3, 14.1, 17.6, 22.0, 27.5, 34.3, 42.9, 53.6 and 60 s
        expect_describe(stubber, "CONNECTING")

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run("connected", wait=True, wait_timeout=60)

    message = failure.value.message
    assert message.startswith(f"Timed out after 60 s waiting for custom key store {STORE_NAME} to leave CONNECTING")
    assert "last observed state: CONNECTING" in message
    assert "run the task again to resume waiting" in message
    assert fake_clock.now == 60
    assert failure.value.result["changed"] is True


def test_unknown_store_is_one_sentence_naming_region(kms, fake_clock):
    client, stubber = kms
    stubber.add_client_error(
        "describe_custom_key_stores", "CustomKeyStoreNotFoundException", "no such store", 400, expected_params=BY_NAME
    )

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run("connected")

    assert failure.value.message == f"custom key store {STORE_NAME} not found in us-east-1"


def test_store_deleted_while_waiting(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "DISCONNECTED", BY_NAME)
    expect_call(stubber, CONNECT)
    stubber.add_client_error(
        "describe_custom_key_stores", "CustomKeyStoreNotFoundException", "gone", 400, expected_params=BY_ID
    )

    with pytest.raises(RunFailure, match="was deleted in us-east-1 while this task was acting on it"):
        runner(client, fake_clock).run("connected", wait=True)


def test_race_redescribes_and_redecides(kms, fake_clock):
    """Another client connected the store between our Describe and our Connect."""
    client, stubber = kms
    expect_describe(stubber, "DISCONNECTED", BY_NAME)
    stubber.add_client_error("connect_custom_key_store", "CustomKeyStoreInvalidStateException", "moved", 400)
    expect_describe(stubber, "CONNECTING")
    expect_describe(stubber, "CONNECTED")

    result = runner(client, fake_clock).run("connected", wait=True)

    assert result["changed"] is False
    assert result["actions"] == []
    assert result["connection_state"] == "CONNECTED"


def test_race_is_bounded(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "DISCONNECTED", BY_NAME)
    for _attempt in range(connection.MAX_RACES):
        stubber.add_client_error("connect_custom_key_store", "CustomKeyStoreInvalidStateException", "moved", 400)
        expect_describe(stubber, "DISCONNECTED")
    stubber.add_client_error("connect_custom_key_store", "CustomKeyStoreInvalidStateException", "moved", 400)

    with pytest.raises(AnsibleKMSError, match="connect custom key store"):
        runner(client, fake_clock).run("connected")


@pytest.mark.parametrize(
    "code, words",
    [
        ("CloudHsmClusterNotActiveException", "is not ACTIVE"),
        ("CloudHsmClusterInvalidConfigurationException", "is not configured as KMS requires"),
    ],
)
def test_synchronous_refusals_are_explained(kms, fake_clock, code, words):
    client, stubber = kms
    expect_describe(stubber, "DISCONNECTED", BY_NAME)
    stubber.add_client_error("connect_custom_key_store", code, "refused", 400)

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run("connected", wait=True)

    assert failure.value.message.startswith(
        f"KMS refused to connect custom key store {STORE_NAME}: its CloudHSM cluster"
    )
    assert words in failure.value.message
    assert failure.value.result["changed"] is False
    assert failure.value.result["connection_state"] == "DISCONNECTED"


def test_selection_by_id_polls_by_id(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "CONNECTING", BY_ID)
    expect_describe(stubber, "CONNECTED", BY_ID)

    result = runner(client, fake_clock, selector=BY_ID).run("connected", wait=True)

    assert result["connection_state"] == "CONNECTED"
    assert fake_clock.sleeps == [1.0]


# -- waits that survive the real world: stale reads right after our own call, a network that drops out ---------------


def test_a_stale_read_after_our_connect_costs_no_second_connect(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "DISCONNECTED", BY_NAME)
    expect_call(stubber, CONNECT)
    for state in ("DISCONNECTED", "DISCONNECTED", "CONNECTING", "CONNECTED"):  # polls at 1, 3, 5 and 7 s
        expect_describe(stubber, state)

    result = runner(client, fake_clock).run("connected", wait=True)

    assert result["actions"] == ["ConnectCustomKeyStore"]
    assert result["connection_state"] == "CONNECTED"
    assert [h["connection_state"] for h in result["state_history"]] == ["DISCONNECTED", "CONNECTING", "CONNECTED"]


def test_a_stale_read_after_our_disconnect_costs_no_second_call(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "CONNECTED", BY_NAME)
    expect_call(stubber, DISCONNECT)
    for state in ("CONNECTED", "DISCONNECTED"):
        expect_describe(stubber, state)

    result = runner(client, fake_clock).run("disconnected", wait=True)

    assert result["actions"] == ["DisconnectCustomKeyStore"]
    assert result["connection_state"] == "DISCONNECTED"


def test_a_store_still_disconnected_after_the_grace_is_connected_again(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "DISCONNECTED", BY_NAME)
    expect_call(stubber, CONNECT)
    polls_in_grace = 5  # at 1, 3, 5, 7 and 9 s; the poll at 11.25 s is past the grace
    assert connection.STALE_READ_GRACE_SECONDS == 10
    for _poll in range(polls_in_grace + 1):
        expect_describe(stubber, "DISCONNECTED")
    expect_call(stubber, CONNECT)
    expect_describe(stubber, "CONNECTED")

    result = runner(client, fake_clock).run("connected", wait=True)

    assert result["actions"] == ["ConnectCustomKeyStore", "ConnectCustomKeyStore"]
    assert result["connection_state"] == "CONNECTED"
    assert fake_clock.now == pytest.approx(11.25 + 1)


def test_a_store_that_we_did_not_move_is_never_taken_as_stale(kms, fake_clock):
    """Found CONNECTING, the wait takes the first other state as the outcome, even within 10 s."""
    client, stubber = kms
    expect_describe(stubber, "CONNECTING", BY_NAME)
    expect_describe(stubber, "DISCONNECTED")
    expect_call(stubber, CONNECT)
    expect_describe(stubber, "CONNECTED")

    result = runner(client, fake_clock).run("connected", wait=True)

    assert result["actions"] == ["ConnectCustomKeyStore"]
    assert result["connection_state"] == "CONNECTED"


def closing_connections(client, count):
    """The next `count` DescribeCustomKeyStores calls get no answer: the connection is closed (before Stubber answers)."""
    left = [count]

    def close(**_kwargs):
        if left[0]:
            left[0] -= 1
            raise botocore.exceptions.ConnectionClosedError(endpoint_url="https://kms.us-east-1.amazonaws.com/")

    client.meta.events.register_first("before-parameter-build.kms.DescribeCustomKeyStores", close)


def test_polls_without_an_answer_are_skipped_until_the_store_is_seen_again(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "CONNECTING", BY_NAME)
    stubber.add_client_error(
        "describe_custom_key_stores", "KMSInternalFailure", "Internal failure.", 500, expected_params=BY_ID
    )
    expect_describe(stubber, "CONNECTED")
    run = runner(client, fake_clock)
    describe = run._describe  # pylint: disable=protected-access
    calls = []

    def first_then_blip(*read):
        calls.append(fake_clock.now)
        if len(calls) == 2:
            closing_connections(client, 3)  # the polls at 1, 3 and 5 s get no answer, the one at 7 s a 500
        return describe(*read)

    run._describe = first_then_blip  # pylint: disable=protected-access
    result = run.run("connected", wait=True)

    assert result["connection_state"] == "CONNECTED"
    assert result["actions"] == []
    assert calls == [0.0, 1.0, 3.0, 5.0, 7.0, 9.0]


def test_a_wait_that_times_out_while_the_endpoint_is_down_says_so(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, "CONNECTING", BY_NAME)
    run = runner(client, fake_clock)
    describe = run._describe  # pylint: disable=protected-access

    def first_then_down(*read):
        if run.history:  # every poll after the first read gets no answer (as kms.py's error handler wraps it)
            closed = botocore.exceptions.ConnectionClosedError(endpoint_url="https://kms.us-east-1.amazonaws.com/")
            raise AnsibleKMSError(message=f"Failed to describe custom key store {STORE_NAME}", exception=closed)
        return describe(*read)

    run._describe = first_then_down  # pylint: disable=protected-access
    with pytest.raises(RunFailure) as failure:
        run.run("connected", wait=True, wait_timeout=30)

    assert failure.value.message == (
        f"Timed out after 30 s waiting for custom key store {STORE_NAME} to leave CONNECTING: the endpoint stopped answering "
        '(Connection was closed before we received a valid response from endpoint URL: "https://kms.us-east-1.amazonaws.com/"), '
        "last state seen: CONNECTING. AWS carries on with the operation: once the endpoint is reachable, run the task again to resume waiting."
    )
    assert fake_clock.now == 30


def test_a_throttled_poll_is_skipped_not_retried(kms, fake_clock):
    client, stubber = kms
    expect_first_describe(stubber, "CONNECTING")
    # Throttled on the first poll: skipped (no AWSRetry backoff inside a wait), seen CONNECTED on the next poll.
    stubber.add_client_error(
        "describe_custom_key_stores", "ThrottlingException", "Rate exceeded", 400, expected_params=BY_ID
    )
    expect_describe(stubber, "CONNECTED")

    result = runner(client, fake_clock).run("connected", wait=True)

    assert result["connection_state"] == "CONNECTED"
    assert fake_clock.sleeps == [1.0, 2.0]
    stubber.assert_no_pending_responses()
