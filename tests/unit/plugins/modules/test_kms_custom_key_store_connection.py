# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module as Ansible runs it: arguments in, one JSON result out, KMS behind botocore's Stubber."""

import pytest
import yaml
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import COLLECTION_NAME
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import COLLECTION_VERSION
from ansible_collections.awskms.custom_key_store.plugins.modules import kms_custom_key_store_connection
from ansible_collections.awskms.custom_key_store.tests.unit.plugins import stubs
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import AWS
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_NAME
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import store_entry

from ansible.module_utils.testing import patch_module_args


def run_module(capsys, **args):
    return stubs.run_module(kms_custom_key_store_connection.main, capsys, **args)


def expect_describe(stubber, state, selector):
    stubber.add_response("describe_custom_key_stores", {"CustomKeyStores": [store_entry(state)]}, selector)


def test_connected_store_costs_exactly_one_api_call(kms_stubber, capsys):
    expect_describe(kms_stubber, "CONNECTED", {"CustomKeyStoreName": STORE_NAME})

    result = run_module(capsys, custom_key_store_name=STORE_NAME, wait=True)

    assert result["changed"] is False
    assert result["connection_state"] == "CONNECTED"
    assert result["actions"] == []
    assert result["custom_key_store"]["custom_key_store_id"] == STORE_ID


def test_check_mode_reports_the_change_with_one_call_and_a_diff(kms_stubber, capsys):
    expect_describe(kms_stubber, "DISCONNECTED", {"CustomKeyStoreId": STORE_ID})

    result = run_module(capsys, custom_key_store_id=STORE_ID, wait=True, _ansible_check_mode=True, _ansible_diff=True)

    assert result["changed"] is True
    assert result["actions"] == ["ConnectCustomKeyStore"]
    assert result["diff"] == {
        "before": {"connection_state": "DISCONNECTED"},
        "after": {"connection_state": "CONNECTED"},
    }


def test_connect_without_wait_costs_two_calls(kms_stubber, capsys):
    expect_describe(kms_stubber, "DISCONNECTED", {"CustomKeyStoreId": STORE_ID})
    kms_stubber.add_response("connect_custom_key_store", {}, {"CustomKeyStoreId": STORE_ID})

    result = run_module(capsys, custom_key_store_id=STORE_ID)

    assert result["changed"] is True
    assert result["connection_state"] == "CONNECTING"
    assert "state_history" not in result


def test_prove_adds_generate_random_to_a_connected_store_and_changes_nothing(kms_stubber, capsys):
    expect_describe(kms_stubber, "CONNECTED", {"CustomKeyStoreId": STORE_ID})
    kms_stubber.add_response(
        "generate_random", {"Plaintext": b"\x01" * 32}, {"NumberOfBytes": 32, "CustomKeyStoreId": STORE_ID}
    )

    result = run_module(capsys, custom_key_store_id=STORE_ID, wait=True, prove=True)

    assert result["changed"] is False
    assert result["actions"] == []
    assert result["proof"]["proven"] is True
    assert result["proof"]["actions"] == ["GenerateRandom"]
    assert result["proof"]["reason"].startswith(f"Proven: the CloudHSM cluster of custom key store {STORE_NAME}")


def test_a_proof_that_is_denied_is_said_and_the_task_does_not_fail(kms_stubber, capsys):
    expect_describe(kms_stubber, "CONNECTED", {"CustomKeyStoreId": STORE_ID})
    kms_stubber.add_client_error("generate_random", "AccessDeniedException", "User is not authorized", 400)

    result = run_module(capsys, custom_key_store_id=STORE_ID, prove=True)

    assert result.get("failed") is not True
    assert result["proof"]["proven"] is None
    assert result["proof"]["missing_iam_action"] == "kms:GenerateRandom"


@pytest.mark.parametrize(
    "state, store_type, check_mode, why",
    [
        ("DISCONNECTED", "AWS_CLOUDHSM", True, "check mode, and custom key store"),
        ("CONNECTING", "AWS_CLOUDHSM", True, "check mode, and custom key store"),
        ("CONNECTED", "EXTERNAL_KEY_STORE", False, "is an external key store"),
    ],
)
def test_prove_makes_no_call_for_a_predicted_state_or_an_external_key_store(
    kms_stubber, capsys, state, store_type, check_mode, why
):
    kms_stubber.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [store_entry(state, store_type=store_type)]}
    )

    result = run_module(capsys, custom_key_store_id=STORE_ID, wait=True, prove=True, _ansible_check_mode=check_mode)

    assert result["proof"]["proven"] is None
    assert result["proof"]["actions"] == []
    assert result["proof"]["reason"].startswith("Not run: ")
    assert why in result["proof"]["reason"]


def test_a_store_left_connecting_is_not_proved(kms_stubber, capsys):
    expect_describe(kms_stubber, "DISCONNECTED", {"CustomKeyStoreId": STORE_ID})
    kms_stubber.add_response("connect_custom_key_store", {}, {"CustomKeyStoreId": STORE_ID})

    result = run_module(capsys, custom_key_store_id=STORE_ID, prove=True)

    assert result["connection_state"] == "CONNECTING"
    assert (
        result["proof"]["reason"]
        == f"Not run: custom key store {STORE_NAME} ({STORE_ID}) is CONNECTING, not CONNECTED."
    )


def test_the_proofs_keys_are_documented(kms_stubber, capsys):
    expect_describe(kms_stubber, "CONNECTED", {"CustomKeyStoreId": STORE_ID})
    kms_stubber.add_client_error("generate_random", "AccessDeniedException", "User is not authorized", 400)
    expect_describe(kms_stubber, "CONNECTED", {"CustomKeyStoreId": STORE_ID})
    kms_stubber.add_response("generate_random", {"Plaintext": b"\x01" * 32})

    results = [run_module(capsys, custom_key_store_id=STORE_ID, prove=True) for _run in range(2)]

    documented = set(yaml.safe_load(kms_custom_key_store_connection.RETURN)["proof"]["contains"])
    assert set().union(*(set(result["proof"]) for result in results)) == documented


def test_unknown_store_fails_with_one_sentence(kms_stubber, capsys):
    kms_stubber.add_client_error("describe_custom_key_stores", "CustomKeyStoreNotFoundException", "none", 400)

    result = run_module(capsys, custom_key_store_name="typo-store")

    assert result["failed"] is True
    assert result["msg"] == "custom key store typo-store not found in us-east-1"
    assert "exception" not in result


def test_aws_refusal_is_one_sentence_without_traceback(kms_stubber, capsys):
    kms_stubber.add_client_error(
        "describe_custom_key_stores",
        "AccessDeniedException",
        "User is not authorized to perform kms:DescribeCustomKeyStores",
        400,
    )

    result = run_module(capsys, custom_key_store_id=STORE_ID)

    assert result["msg"] == (
        f"Failed to describe custom key store {STORE_ID}: AccessDeniedException: "
        "User is not authorized to perform kms:DescribeCustomKeyStores."
    )
    assert "exception" not in result


@pytest.mark.parametrize(
    "args, message",
    [
        (
            {"custom_key_store_id": STORE_ID, "custom_key_store_name": STORE_NAME},
            "mutually exclusive: custom_key_store_id|custom_key_store_name",
        ),
        ({}, "one of the following is required: custom_key_store_id, custom_key_store_name"),
        ({"custom_key_store_id": STORE_ID, "wait_timeout": 0}, "wait_timeout must be greater than 0 seconds, got 0."),
        ({"custom_key_store_id": STORE_ID, "wait_timeout": -5}, "wait_timeout must be greater than 0 seconds, got -5."),
        ({"custom_key_store_id": STORE_ID, "wait_timeout": "soon"}, "argument 'wait_timeout' is of type str"),
        ({"custom_key_store_name": "  "}, "custom_key_store_name must not be empty."),
        (
            {"custom_key_store_id": STORE_ID, "state": "online"},
            "value of state must be one of: connected, disconnected",
        ),
        (
            {"custom_key_store_id": STORE_ID, "state": "disconnected", "prove": True},
            "prove=true proves a store this task leaves CONNECTED: use it with state=connected.",
        ),
    ],
)
def test_bad_options_fail_before_any_api_call(kms_stubber, capsys, args, message):
    result = run_module(capsys, **args)

    assert result["failed"] is True
    assert message in result["msg"]


def test_user_agent_names_this_collection(capsys, monkeypatch):
    seen = {}

    def fake_runner(client, *args, **kwargs):
        seen["user_agent"] = client.meta.config.user_agent
        raise SystemExit(0)

    monkeypatch.setattr(kms_custom_key_store_connection, "ConnectionRunner", fake_runner)
    with patch_module_args(dict(AWS, custom_key_store_id=STORE_ID)), pytest.raises(SystemExit):
        kms_custom_key_store_connection.main()

    assert f"{COLLECTION_NAME}/{COLLECTION_VERSION}" in seen["user_agent"]
