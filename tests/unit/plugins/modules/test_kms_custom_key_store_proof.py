# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kms_custom_key_store_proof as Ansible runs it: arguments in, one JSON result out, KMS behind botocore's Stubber."""

import json

import pytest
import yaml
from ansible_collections.awskms.custom_key_store.plugins.modules import kms_custom_key_store_proof
from ansible_collections.awskms.custom_key_store.tests.unit.plugins import stubs
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_NAME
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import store_entry


def run_module(capsys, **args):
    return stubs.run_module(kms_custom_key_store_proof.main, capsys, **args)


def expect_store(kms_stubber, state="CONNECTED", store_type="AWS_CLOUDHSM", selector=None):
    kms_stubber.add_response(
        "describe_custom_key_stores",
        {"CustomKeyStores": [store_entry(state, store_type=store_type)]},
        selector or {"CustomKeyStoreId": STORE_ID},
    )


@pytest.mark.parametrize("check_mode", [False, True])
def test_generate_random_proves_a_connected_store_in_check_mode_too(kms_stubber, capsys, check_mode):
    expect_store(kms_stubber, selector={"CustomKeyStoreName": STORE_NAME})
    kms_stubber.add_response(
        "generate_random", {"Plaintext": b"\x01" * 32}, {"NumberOfBytes": 32, "CustomKeyStoreId": STORE_ID}
    )

    result = run_module(capsys, custom_key_store_name=STORE_NAME, _ansible_check_mode=check_mode)

    assert result["changed"] is False
    assert result["proven"] is True
    assert result["random_byte_count"] == 32
    assert result["actions"] == ["DescribeCustomKeyStores", "GenerateRandom"]
    assert "plaintext" not in json.dumps(result).lower()


def test_access_denied_does_not_fail_by_default(kms_stubber, capsys):
    expect_store(kms_stubber)
    kms_stubber.add_client_error("generate_random", "AccessDeniedException", "User is not authorized", 400)

    result = run_module(capsys, custom_key_store_id=STORE_ID)

    assert result.get("failed") is not True
    assert result["proven"] is None
    assert result["missing_iam_action"] == "kms:GenerateRandom"


def test_required_fails_with_the_reason_and_keeps_the_result(kms_stubber, capsys):
    expect_store(kms_stubber)
    kms_stubber.add_client_error("generate_random", "AccessDeniedException", "User is not authorized", 400)

    result = run_module(capsys, custom_key_store_id=STORE_ID, required=True)

    assert result["failed"] is True
    assert result["msg"].startswith("Not checked: the caller is not allowed kms:GenerateRandom (AccessDeniedException)")
    assert result["proven"] is None
    assert result["missing_iam_action"] == "kms:GenerateRandom"
    assert "exception" not in result


def test_required_fails_for_a_disconnected_store(kms_stubber, capsys):
    expect_store(kms_stubber, "DISCONNECTED")

    result = run_module(capsys, custom_key_store_id=STORE_ID, required=True)

    assert result["failed"] is True
    assert result["proven"] is False
    assert result["msg"].startswith(f"Not proven: custom key store {STORE_NAME} ({STORE_ID}) is DISCONNECTED")


def test_required_passes_when_proven(kms_stubber, capsys):
    expect_store(kms_stubber)
    kms_stubber.add_response("generate_random", {"Plaintext": b"\x01" * 32})

    result = run_module(capsys, custom_key_store_id=STORE_ID, required=True)

    assert result.get("failed") is not True
    assert result["proven"] is True


def test_key_id_with_a_cloudhsm_store_is_a_warning(kms_stubber, capsys):
    expect_store(kms_stubber)
    kms_stubber.add_response("generate_random", {"Plaintext": b"\x01" * 32})

    result = run_module(capsys, custom_key_store_id=STORE_ID, key_id="alias/unused")

    assert len(result["warnings"]) == 1
    assert "key_id is used only with external key stores" in json.dumps(result["warnings"])


def test_an_unknown_store_fails(kms_stubber, capsys):
    kms_stubber.add_response("describe_custom_key_stores", {"CustomKeyStores": []}, {"CustomKeyStoreId": STORE_ID})

    result = run_module(capsys, custom_key_store_id=STORE_ID)

    assert result["failed"] is True
    assert result["msg"] == f"Custom key store {STORE_ID} not found in us-east-1."


@pytest.mark.parametrize(
    "args, message",
    [
        ({}, "one of the following is required: custom_key_store_id, custom_key_store_name"),
        (
            {"custom_key_store_id": STORE_ID, "custom_key_store_name": STORE_NAME},
            "parameters are mutually exclusive: custom_key_store_id|custom_key_store_name",
        ),
        ({"custom_key_store_name": " "}, "custom_key_store_name must not be empty."),
        ({"custom_key_store_id": STORE_ID, "key_id": ""}, "key_id must not be empty."),
        ({"custom_key_store_id": "x" * 65}, "custom_key_store_id must be 1 to 64 characters"),
    ],
)
def test_bad_options_fail_before_any_call(kms_stubber, capsys, args, message):
    result = run_module(capsys, **args)

    assert result["failed"] is True
    assert message in result["msg"]


def test_every_returned_key_is_documented(kms_stubber, capsys):
    """An external key store's round trip and a denied GenerateRandom return every key the module has."""
    documented = set(yaml.safe_load(kms_custom_key_store_proof.RETURN))
    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    expect_store(kms_stubber, store_type="EXTERNAL_KEY_STORE")
    kms_stubber.add_response("describe_key", {"KeyMetadata": {"KeyId": "k", "Arn": arn, "CustomKeyStoreId": STORE_ID}})
    kms_stubber.add_response("encrypt", {"CiphertextBlob": b"sealed", "KeyId": arn})
    kms_stubber.add_client_error("decrypt", "AccessDeniedException", "not authorized", 400)
    expect_store(kms_stubber)
    kms_stubber.add_response("generate_random", {"Plaintext": b"\x01" * 32})

    results = [
        run_module(capsys, custom_key_store_id=STORE_ID, key_id="alias/xks"),
        run_module(capsys, custom_key_store_id=STORE_ID),
    ]

    returned = set().union(*(set(result) for result in results)) - {"changed", "invocation", "warnings"}
    assert returned <= documented, returned - documented
    assert documented <= returned, documented - returned
