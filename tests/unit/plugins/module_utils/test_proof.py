# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The proof of use (proof.py) against a Stubber-checked KMS client: which calls each store type costs, and the outcome."""

import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils.proof import ENCRYPTION_CONTEXT
from ansible_collections.awskms.custom_key_store.plugins.module_utils.proof import NUMBER_OF_BYTES
from ansible_collections.awskms.custom_key_store.plugins.module_utils.proof import ProofRunner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_NAME
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import store_entry

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PLAINTEXT = bytes(range(NUMBER_OF_BYTES))
NAMED = f"custom key store {STORE_NAME} ({STORE_ID})"


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch):
    """AWSRetry's jittered backoff sleeps for real; these tests only count its attempts."""
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", lambda seconds: None)


def prove(client, **args):
    runner = ProofRunner(client, "us-east-1", random_bytes=lambda count: PLAINTEXT[:count])
    return runner, runner.prove(**dict({"custom_key_store_id": STORE_ID}, **args))


def expect_store(stubber, state="CONNECTED", store_type="AWS_CLOUDHSM"):
    stubber.add_response(
        "describe_custom_key_stores",
        {"CustomKeyStores": [store_entry(state, store_type=store_type)]},
        {"CustomKeyStoreId": STORE_ID},
    )


def expect_random(stubber, count=NUMBER_OF_BYTES):
    stubber.add_response(
        "generate_random",
        {"Plaintext": b"\x07" * count},
        {"NumberOfBytes": NUMBER_OF_BYTES, "CustomKeyStoreId": STORE_ID},
    )


def expect_key(stubber, store_id=STORE_ID, key_id="alias/xks-payments"):
    metadata = {"KeyId": KEY_ARN.rsplit("/", 1)[1], "Arn": KEY_ARN}
    if store_id:
        metadata["CustomKeyStoreId"] = store_id
    stubber.add_response("describe_key", {"KeyMetadata": metadata}, {"KeyId": key_id})


def expect_round_trip(stubber, decrypted=PLAINTEXT):
    stubber.add_response(
        "encrypt",
        {"CiphertextBlob": b"sealed", "KeyId": KEY_ARN},
        {"KeyId": KEY_ARN, "Plaintext": PLAINTEXT, "EncryptionContext": ENCRYPTION_CONTEXT},
    )
    stubber.add_response(
        "decrypt",
        {"Plaintext": decrypted, "KeyId": KEY_ARN},
        {"KeyId": KEY_ARN, "CiphertextBlob": b"sealed", "EncryptionContext": ENCRYPTION_CONTEXT},
    )


# -- CloudHSM key stores ----------------------------------------------------------------------------------


def test_a_connected_cloudhsm_store_is_proven_by_generate_random_without_returning_the_bytes(kms):
    client, stubber = kms
    expect_store(stubber)
    expect_random(stubber)

    _runner, result = prove(client)

    assert result["proven"] is True
    assert result["proof"] == "GenerateRandom"
    assert result["random_byte_count"] == NUMBER_OF_BYTES
    assert result["actions"] == ["DescribeCustomKeyStores", "GenerateRandom"]
    assert result["reason"] == f"Proven: the CloudHSM cluster of {NAMED} generated 32 random bytes (GenerateRandom)."
    assert b"\x07" not in repr(result).encode()  # no bytes anywhere in the result
    assert "\\x07" not in repr(result)


def test_fewer_bytes_than_asked_for_is_not_proven(kms):
    client, stubber = kms
    expect_store(stubber)
    expect_random(stubber, count=31)

    _runner, result = prove(client)

    assert result["proven"] is False
    assert result["reason"] == f"Not proven: GenerateRandom in {NAMED} returned 31 bytes instead of 32."


@pytest.mark.parametrize("state", ["DISCONNECTED", "CONNECTING", "DISCONNECTING", "FAILED"])
def test_a_store_that_is_not_connected_is_not_proven_and_costs_one_call(kms, state):
    client, stubber = kms
    expect_store(stubber, state)

    _runner, result = prove(client)

    assert result["proven"] is False
    assert result["connection_state"] == state
    assert result["actions"] == ["DescribeCustomKeyStores"]
    assert result["reason"] == (
        f"Not proven: {NAMED} is {state}, and KMS can use a custom key store only while it is CONNECTED; connect it "
        "(kms_custom_key_store_connection), then prove it again."
    )


def test_access_denied_is_not_checked_naming_the_iam_action(kms):
    client, stubber = kms
    expect_store(stubber)
    stubber.add_client_error("generate_random", "AccessDeniedException", "not authorized", 400)

    _runner, result = prove(client)

    assert result["proven"] is None
    assert result["missing_iam_action"] == "kms:GenerateRandom"
    assert result["reason"] == (
        f"Not checked: the caller is not allowed kms:GenerateRandom (AccessDeniedException), so {NAMED} could not be "
        "proved; allow that IAM action to prove it."
    )


def test_access_denied_on_the_describe_is_not_checked_either(kms):
    client, stubber = kms
    stubber.add_client_error("describe_custom_key_stores", "AccessDeniedException", "not authorized", 400)

    _runner, result = prove(client)

    assert result["proven"] is None
    assert result["proof"] is None
    assert result["missing_iam_action"] == "kms:DescribeCustomKeyStores"


@pytest.mark.parametrize(
    "code, message",
    [
        ("CustomKeyStoreInvalidStateException", "not connected"),
        ("DependencyTimeoutException", "KMS could not reach an HSM"),
    ],
)
def test_kms_refusing_generate_random_is_not_proven_with_its_message(kms, code, message):
    client, stubber = kms
    expect_store(stubber)
    stubber.add_client_error("generate_random", code, message, 400)

    _runner, result = prove(client)

    assert result["proven"] is False
    assert (
        result["reason"]
        == f"Not proven: Failed to generate random bytes in custom key store {STORE_ID}: {code}: {message}."
    )


def test_throttling_after_the_retries_is_not_checked(kms):
    client, stubber = kms
    expect_store(stubber)
    for _attempt in range(8):  # every attempt AWSRetry makes (retries=8)
        stubber.add_client_error("generate_random", "ThrottlingException", "Rate exceeded", 400)

    _runner, result = prove(client)

    assert result["proven"] is None
    assert "missing_iam_action" not in result
    assert result["reason"].startswith(
        f"Not checked: {NAMED} could not be proved, as GenerateRandom got no usable answer"
    )


def test_key_id_is_not_used_for_a_cloudhsm_store(kms):
    client, stubber = kms
    expect_store(stubber)
    expect_random(stubber)

    runner, result = prove(client, key_id="alias/anything")

    assert result["proven"] is True
    assert result["actions"] == ["DescribeCustomKeyStores", "GenerateRandom"]
    assert runner.warnings == [
        f"key_id is used only with external key stores; {NAMED} is a CloudHSM key store, proved by GenerateRandom in "
        "its cluster, so key_id was not used."
    ]


def test_an_unknown_store_fails_in_one_sentence(kms):
    client, stubber = kms
    stubber.add_client_error("describe_custom_key_stores", "CustomKeyStoreNotFoundException", "no such store", 400)

    with pytest.raises(RunFailure) as failure:
        prove(client)

    assert failure.value.message == f"Custom key store {STORE_ID} not found in us-east-1."


# -- external key stores ---------------------------------------------------------------------------------


def test_an_external_store_without_key_id_is_not_checked(kms):
    client, stubber = kms
    expect_store(stubber, store_type="EXTERNAL_KEY_STORE")

    _runner, result = prove(client)

    assert result["proven"] is None
    assert result["proof"] == "Encrypt/Decrypt"
    assert result["actions"] == ["DescribeCustomKeyStores"]
    assert result["reason"] == (
        f"Not checked: {NAMED} is an external key store, which is proved by an Encrypt/Decrypt round trip with one of "
        "its KMS keys (GenerateRandom does not take external key stores); set key_id to one."
    )


def test_an_external_store_is_proven_by_a_round_trip_with_its_key(kms):
    client, stubber = kms
    expect_store(stubber, store_type="EXTERNAL_KEY_STORE")
    expect_key(stubber)
    expect_round_trip(stubber)

    _runner, result = prove(client, key_id="alias/xks-payments")

    assert result["proven"] is True
    assert result["key_id"] == KEY_ARN
    assert result["actions"] == ["DescribeCustomKeyStores", "DescribeKey", "Encrypt", "Decrypt"]
    assert result["reason"] == (
        f"Proven: KMS key {KEY_ARN} of {NAMED} encrypted and decrypted 32 bytes (Encrypt/Decrypt)."
    )


def test_a_round_trip_that_returns_other_bytes_is_not_proven(kms):
    client, stubber = kms
    expect_store(stubber, store_type="EXTERNAL_KEY_STORE")
    expect_key(stubber)
    expect_round_trip(stubber, decrypted=b"\x00" * NUMBER_OF_BYTES)

    _runner, result = prove(client, key_id="alias/xks-payments")

    assert result["proven"] is False


@pytest.mark.parametrize("denied, action", [("encrypt", "kms:Encrypt"), ("decrypt", "kms:Decrypt")])
def test_access_denied_in_the_round_trip_names_the_action(kms, denied, action):
    client, stubber = kms
    expect_store(stubber, store_type="EXTERNAL_KEY_STORE")
    expect_key(stubber)
    if denied == "decrypt":
        stubber.add_response("encrypt", {"CiphertextBlob": b"sealed", "KeyId": KEY_ARN})
    stubber.add_client_error(denied, "AccessDeniedException", "not authorized", 400)

    _runner, result = prove(client, key_id="alias/xks-payments")

    assert result["proven"] is None
    assert result["missing_iam_action"] == action


def test_an_xks_proxy_failure_in_the_round_trip_is_not_proven(kms):
    client, stubber = kms
    expect_store(stubber, store_type="EXTERNAL_KEY_STORE")
    expect_key(stubber)
    stubber.add_client_error("encrypt", "KMSInvalidStateException", "The external key store proxy did not answer", 400)

    _runner, result = prove(client, key_id="alias/xks-payments")

    assert result["proven"] is False
    assert result["reason"] == (
        f"Not proven: Failed to encrypt with KMS key {KEY_ARN}: KMSInvalidStateException: "
        "The external key store proxy did not answer."
    )


@pytest.mark.parametrize(
    "store_id, where", [("cks-0000000000000000f", "cks-0000000000000000f"), (None, "no custom key store")]
)
def test_a_key_of_another_store_fails_before_any_round_trip(kms, store_id, where):
    client, stubber = kms
    expect_store(stubber, store_type="EXTERNAL_KEY_STORE")
    expect_key(stubber, store_id=store_id)

    with pytest.raises(RunFailure) as failure:
        prove(client, key_id="alias/xks-payments")

    assert failure.value.message == (
        f"KMS key alias/xks-payments is not a key of {NAMED} (it is in {where}); set key_id to a KMS key of that store."
    )
    assert failure.value.result["actions"] == ["DescribeCustomKeyStores", "DescribeKey"]
