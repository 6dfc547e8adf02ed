# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS helpers: describe, paginated listing, error handling and normalisation."""

import re

import botocore.exceptions
import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils import kms
from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import error_code
from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import is_throttling
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import COLLECTION_VERSION
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import aws_error_sentence
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import aws_client
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import store_entry


def test_describe_by_name_returns_the_entry(kms_stubbed):
    client, stubber = kms_stubbed
    stubber.add_response(
        "describe_custom_key_stores",
        {"CustomKeyStores": [store_entry("CONNECTED")]},
        {"CustomKeyStoreName": "payments-hsm"},
    )
    selector, label = kms.store_selector(custom_key_store_name="payments-hsm")
    assert kms.describe_custom_key_store(client, selector, label)["ConnectionState"] == "CONNECTED"


def test_describe_unknown_store_returns_none(kms_stubbed):
    client, stubber = kms_stubbed
    stubber.add_client_error("describe_custom_key_stores", "CustomKeyStoreNotFoundException", "nope", 400)
    selector, label = kms.store_selector(custom_key_store_id=STORE_ID)
    assert kms.describe_custom_key_store(client, selector, label) is None


def test_describe_other_errors_raise_a_kms_error_naming_the_store(kms_stubbed):
    client, stubber = kms_stubbed
    stubber.add_client_error("describe_custom_key_stores", "AccessDeniedException", "not allowed to describe", 400)
    selector, label = kms.store_selector(custom_key_store_id=STORE_ID)
    with pytest.raises(kms.AnsibleKMSError) as error:
        kms.describe_custom_key_store(client, selector, label)
    assert error_code(error.value) == "AccessDeniedException"
    assert aws_error_sentence(error.value) == (
        f"Failed to describe custom key store {STORE_ID}: AccessDeniedException: not allowed to describe."
    )


def test_list_follows_marker_paging_to_the_end(kms_stubbed):
    client, stubber = kms_stubbed
    first, second = store_entry("CONNECTED"), dict(
        store_entry("FAILED", "NETWORK_ERRORS"), CustomKeyStoreId="cks-0000000000000000b"
    )
    stubber.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [first], "Truncated": True, "NextMarker": "m1"}, {}
    )
    stubber.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [second], "Truncated": False}, {"Marker": "m1"}
    )
    assert [s["CustomKeyStoreId"] for s in kms.list_custom_key_stores(client)] == [STORE_ID, "cks-0000000000000000b"]


def test_normalisation_is_snake_case_with_iso_dates():
    cloudhsm = kms.normalize_custom_key_store(store_entry("FAILED", "USER_LOGGED_IN"))
    assert cloudhsm["creation_date"] == "2026-11-02T09:30:00+00:00"
    assert cloudhsm["connection_error_code"] == "USER_LOGGED_IN"
    assert cloudhsm["cloud_hsm_cluster_id"].startswith("cluster-")
    assert "tags" not in cloudhsm
    xks = kms.normalize_custom_key_store(store_entry("CONNECTED", store_type="EXTERNAL_KEY_STORE"))
    assert xks["xks_proxy_configuration"] == {
        "connectivity": "PUBLIC_ENDPOINT",
        "access_key_id": "ABCDEFGHIJKLMNOPQRST",
        "uri_endpoint": "https://xks.example.com",
        "uri_path": "/kms/xks/v1",
    }


def test_collection_version_matches_galaxy_yml():
    with open(__file__.rsplit("/tests/", 1)[0] + "/galaxy.yml", encoding="utf-8") as galaxy:
        version = re.search(r"^version:\s*(\S+)", galaxy.read(), re.MULTILINE).group(1).strip("\"'")
    assert version == COLLECTION_VERSION


def test_create_sends_the_request_and_returns_the_new_id(kms_stubbed):
    client, stubber = kms_stubbed
    request = {
        "CustomKeyStoreType": "AWS_CLOUDHSM",
        "CloudHsmClusterId": "cluster-1234567abcd",
        "TrustAnchorCertificate": "pem",
        "KeyStorePassword": "kmsuser-Passw0rd",
    }
    stubber.add_response(
        "create_custom_key_store", {"CustomKeyStoreId": STORE_ID}, dict(CustomKeyStoreName="payments-hsm", **request)
    )
    assert kms.create_custom_key_store(client, "payments-hsm", request) == STORE_ID


def test_create_refusal_names_the_store(kms_stubbed):
    client, stubber = kms_stubbed
    stubber.add_client_error("create_custom_key_store", "CustomKeyStoreNameInUseException", "name in use", 400)
    with pytest.raises(kms.AnsibleKMSError) as error:
        kms.create_custom_key_store(client, "payments-hsm", {})
    assert (
        aws_error_sentence(error.value)
        == "Failed to create custom key store payments-hsm: CustomKeyStoreNameInUseException: name in use."
    )


def test_update_sends_only_the_given_members(kms_stubbed):
    client, stubber = kms_stubbed
    stubber.add_response(
        "update_custom_key_store", {}, {"CustomKeyStoreId": STORE_ID, "NewCustomKeyStoreName": "renamed"}
    )
    assert kms.update_custom_key_store(client, STORE_ID, "payments-hsm", {"NewCustomKeyStoreName": "renamed"}) is None


def test_update_refusal_names_the_store(kms_stubbed):
    client, stubber = kms_stubbed
    stubber.add_client_error("update_custom_key_store", "CustomKeyStoreInvalidStateException", "not DISCONNECTED", 400)
    with pytest.raises(kms.AnsibleKMSError) as error:
        kms.update_custom_key_store(client, STORE_ID, "payments-hsm", {"CloudHsmClusterId": "cluster-1234567abcd"})
    assert error_code(error.value) == "CustomKeyStoreInvalidStateException"
    assert aws_error_sentence(error.value).startswith("Failed to update custom key store payments-hsm: ")


@pytest.mark.parametrize("error, deleted", [(None, True), ("CustomKeyStoreNotFoundException", False)])
def test_delete_is_true_when_deleted_and_false_when_already_gone(kms_stubbed, error, deleted):
    client, stubber = kms_stubbed
    if error:
        stubber.add_client_error(
            "delete_custom_key_store", error, "gone", 400, expected_params={"CustomKeyStoreId": STORE_ID}
        )
    else:
        stubber.add_response("delete_custom_key_store", {}, {"CustomKeyStoreId": STORE_ID})
    assert kms.delete_custom_key_store(client, STORE_ID, "payments-hsm") is deleted


def test_delete_refusal_keeps_the_aws_code(kms_stubbed):
    client, stubber = kms_stubbed
    stubber.add_client_error("delete_custom_key_store", "CustomKeyStoreHasCMKsException", "holds keys", 400)
    with pytest.raises(kms.AnsibleKMSError) as error:
        kms.delete_custom_key_store(client, STORE_ID, "payments-hsm")
    assert error_code(error.value) == "CustomKeyStoreHasCMKsException"


@pytest.mark.parametrize(
    "code, throttled", [("ThrottlingException", True), ("Throttling", True), ("KMSInternalException", False)]
)
def test_throttling_is_read_from_the_error_code(kms_stubbed, code, throttled):
    client, stubber = kms_stubbed
    stubber.add_client_error("describe_custom_key_stores", code, "slow down", 400)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.describe_custom_key_stores()
    assert is_throttling(error.value) is throttled


def test_a_parameter_botocore_refuses_is_one_line():
    # botocore checks parameters before sending anything (and before a Stubber answers), so no endpoint is reached.
    client = aws_client("kms")
    with pytest.raises(kms.AnsibleKMSError) as error:
        kms.describe_custom_key_store(client, {"CustomKeyStoreId": ""}, "''")
    assert aws_error_sentence(error.value) == (
        "Failed to describe custom key store '': Parameter validation failed: "
        "Invalid length for parameter CustomKeyStoreId, value: 0, valid min length: 1."
    )
