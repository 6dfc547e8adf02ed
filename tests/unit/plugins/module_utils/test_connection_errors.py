# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ConnectionErrorCode table, checked against botocore's KMS model."""

import botocore.session
import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils import connection_errors
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection_errors import KNOWN_CODES
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection_errors import describe_connection_error
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection_errors import failure_sentence

BOTOCORE_CODES = botocore.session.get_session().get_service_model("kms").shape_for("ConnectionErrorCodeType").enum

CLASSES = {
    connection_errors.TRANSIENT: {
        "INTERNAL_ERROR",
        "NETWORK_ERRORS",
        "XKS_PROXY_TIMED_OUT",
        "XKS_PROXY_INVALID_RESPONSE",
    },
    connection_errors.HSM_CAPACITY: {"INSUFFICIENT_CLOUDHSM_HSMS"},
    connection_errors.CREDENTIALS: {"INVALID_CREDENTIALS", "USER_LOCKED_OUT", "USER_NOT_FOUND"},
    connection_errors.OPERATOR_ACTION: {"USER_LOGGED_IN"},
    connection_errors.CLUSTER_NETWORK: {
        "CLUSTER_NOT_FOUND",
        "SUBNET_NOT_FOUND",
        "INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET",
    },
}
XKS_CLASS = {
    "INVALID_CREDENTIALS",
    "XKS_PROXY_ACCESS_DENIED",
    "XKS_PROXY_NOT_REACHABLE",
    "XKS_PROXY_INVALID_CONFIGURATION",
    "XKS_PROXY_INVALID_TLS_CONFIGURATION",
    "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND",
    "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION",
}


def test_every_code_botocore_knows_is_described_and_no_other():
    assert len(BOTOCORE_CODES) >= 18
    assert set(BOTOCORE_CODES) == KNOWN_CODES


@pytest.mark.parametrize("code", BOTOCORE_CODES)
def test_every_code_has_a_class_meaning_and_remedy(code):
    store_type = "EXTERNAL_KEY_STORE" if code.startswith("XKS_") else "AWS_CLOUDHSM"
    info = describe_connection_error(code, store_type)
    assert info.error_class != connection_errors.UNKNOWN
    assert info.meaning.endswith(".") and info.remedy.endswith(".")


@pytest.mark.parametrize("error_class, codes", sorted(CLASSES.items()))
def test_cloudhsm_classes_follow_the_design(error_class, codes):
    for code in codes:
        assert describe_connection_error(code, "AWS_CLOUDHSM").error_class == error_class


@pytest.mark.parametrize("code", sorted(XKS_CLASS))
def test_xks_configuration_class_follows_the_design(code):
    assert describe_connection_error(code, "EXTERNAL_KEY_STORE").error_class == connection_errors.XKS_CONFIGURATION


def test_invalid_credentials_means_kmsuser_for_cloudhsm_and_proxy_credential_for_xks():
    assert "kmsuser" in describe_connection_error("INVALID_CREDENTIALS", "AWS_CLOUDHSM").meaning
    assert (
        "XksProxyAuthenticationCredential"
        in describe_connection_error("INVALID_CREDENTIALS", "EXTERNAL_KEY_STORE").remedy
    )


def test_a_code_aws_adds_later_still_gets_a_sentence():
    info = describe_connection_error("SOMETHING_NEW", "AWS_CLOUDHSM")
    assert info.error_class == connection_errors.UNKNOWN
    assert "SOMETHING_NEW" in info.meaning


def test_failure_sentence_names_store_code_meaning_and_next_step():
    sentence = failure_sentence("payments-hsm", "CLUSTER_NOT_FOUND", "AWS_CLOUDHSM")
    assert sentence.startswith("Custom key store payments-hsm is FAILED with CLUSTER_NOT_FOUND: KMS cannot find")
    assert "Next step: Create a cluster from a recent backup" in sentence


def test_error_fields_are_the_result_keys_of_a_failed_store():
    assert connection_errors.error_fields("USER_NOT_FOUND", "AWS_CLOUDHSM") == {
        "connection_error_code": "USER_NOT_FOUND",
        "connection_error_class": "credentials",
        "connection_error_meaning": "KMS cannot find a kmsuser crypto user in the cluster.",
        "connection_error_remedy": connection_errors.describe_connection_error("USER_NOT_FOUND").remedy,
    }
