# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kms_custom_key_store as Ansible runs it: arguments in, one JSON result out, KMS behind botocore's Stubber."""

import copy
import json

import botocore.loaders
import botocore.model
import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import CustomKeyStoreModule
from ansible_collections.awskms.custom_key_store.plugins.modules import kms_custom_key_store
from ansible_collections.awskms.custom_key_store.tests.unit.plugins import stubs
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import CLUSTER_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import KMSUSER_PASSWORD
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_NAME
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import XKS_ACCESS_KEY_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import XKS_SECRET
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import aws_client
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import store_entry
from botocore.stub import Stubber

from ansible.module_utils.testing import patch_module_args

ANCHOR = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
CREDENTIAL = {"access_key_id": XKS_ACCESS_KEY_ID, "raw_secret_access_key": XKS_SECRET}


def run_module(capsys, **args):
    result = stubs.run_module(kms_custom_key_store.main, capsys, **args)
    assert KMSUSER_PASSWORD not in json.dumps(result) and XKS_SECRET not in json.dumps(result)
    return result


def test_create_a_cloudhsm_store(kms_stubber, capsys):
    kms_stubber.add_client_error("describe_custom_key_stores", "CustomKeyStoreNotFoundException", "none", 400)
    kms_stubber.add_response(
        "create_custom_key_store",
        {"CustomKeyStoreId": STORE_ID},
        {
            "CustomKeyStoreName": STORE_NAME,
            "CustomKeyStoreType": "AWS_CLOUDHSM",
            "CloudHsmClusterId": CLUSTER_ID,
            "TrustAnchorCertificate": ANCHOR,
            "KeyStorePassword": KMSUSER_PASSWORD,
        },
    )
    kms_stubber.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [store_entry("DISCONNECTED")]}, {"CustomKeyStoreId": STORE_ID}
    )

    result = run_module(
        capsys,
        custom_key_store_name=STORE_NAME,
        cloud_hsm_cluster_id=CLUSTER_ID,
        trust_anchor_certificate=ANCHOR,
        key_store_password=KMSUSER_PASSWORD,
        _ansible_diff=True,
    )

    assert result["changed"] is True
    assert result["actions"] == ["CreateCustomKeyStore"]
    assert result["custom_key_store"]["custom_key_store_id"] == STORE_ID
    assert result["custom_key_store"]["connection_state"] == "DISCONNECTED"
    assert result["diff"]["after"]["secrets_updated"] == ["key_store_password"]


def test_update_xks_credential_always_in_check_mode_makes_one_call(kms_stubber, capsys):
    kms_stubber.add_response(
        "describe_custom_key_stores",
        {"CustomKeyStores": [store_entry("CONNECTED", store_type="EXTERNAL_KEY_STORE")]},
        {"CustomKeyStoreName": STORE_NAME},
    )

    result = run_module(
        capsys,
        custom_key_store_name=STORE_NAME,
        custom_key_store_type="EXTERNAL_KEY_STORE",
        xks_proxy_authentication_credential=CREDENTIAL,
        update_password="always",
        _ansible_check_mode=True,
        _ansible_diff=True,
    )

    assert result["changed"] is True
    assert result["actions"] == ["UpdateCustomKeyStore"]
    assert result["diff"]["after"]["secrets_updated"] == ["xks_proxy_authentication_credential"]
    assert result["custom_key_store"]["connection_state"] == "CONNECTED"


def test_refusal_without_allow_disconnect_is_one_sentence_and_changes_nothing(kms_stubber, capsys):
    kms_stubber.add_response(
        "describe_custom_key_stores",
        {"CustomKeyStores": [store_entry("CONNECTED")]},
        {"CustomKeyStoreName": STORE_NAME},
    )

    result = run_module(
        capsys, custom_key_store_name=STORE_NAME, key_store_password=KMSUSER_PASSWORD, update_password="always"
    )

    assert result["failed"] is True
    assert result["changed"] is False
    assert result["actions"] == []
    assert result["msg"].startswith(
        f"Custom key store {STORE_NAME} is CONNECTED, and AWS changes key_store_password only while"
    )
    assert "exception" not in result


def test_aws_refusal_with_a_known_remedy(kms_stubber, capsys):
    kms_stubber.add_client_error("describe_custom_key_stores", "CustomKeyStoreNotFoundException", "none", 400)
    kms_stubber.add_client_error(
        "create_custom_key_store", "IncorrectTrustAnchorException", "The trust anchor does not match.", 400
    )

    result = run_module(
        capsys,
        custom_key_store_name=STORE_NAME,
        cloud_hsm_cluster_id=CLUSTER_ID,
        trust_anchor_certificate=ANCHOR,
        key_store_password=KMSUSER_PASSWORD,
    )

    assert result["msg"] == (
        f"Failed to create custom key store {STORE_NAME}: IncorrectTrustAnchorException: The trust anchor does not match. "
        "Next step: Set trust_anchor_certificate to the content of the customerCA.crt file that initialized the cluster."
    )
    assert result["actions"] == []
    assert "exception" not in result


def test_other_aws_errors_are_one_line_without_traceback(kms_stubber, capsys):
    kms_stubber.add_client_error(
        "describe_custom_key_stores",
        "AccessDeniedException",
        "User is not authorized to perform kms:DescribeCustomKeyStores",
        400,
    )

    result = run_module(capsys, custom_key_store_name=STORE_NAME, state="absent")

    assert result["msg"] == (
        f"Failed to describe custom key store {STORE_NAME}: AccessDeniedException: "
        "User is not authorized to perform kms:DescribeCustomKeyStores."
    )
    assert "exception" not in result


def test_delete(kms_stubber, capsys):
    kms_stubber.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [store_entry("DISCONNECTED")]}, {"CustomKeyStoreId": STORE_ID}
    )
    kms_stubber.add_response("delete_custom_key_store", {}, {"CustomKeyStoreId": STORE_ID})

    result = run_module(capsys, custom_key_store_name=STORE_NAME, custom_key_store_id=STORE_ID, state="absent")

    assert result["changed"] is True
    assert result["actions"] == ["DeleteCustomKeyStore"]
    assert result["custom_key_store"] == {}


@pytest.mark.parametrize(
    "args, message",
    [
        ({}, "missing required arguments: custom_key_store_name"),
        ({"custom_key_store_name": ""}, "custom_key_store_name must not be empty."),
        (
            {"custom_key_store_name": STORE_NAME, "wait_timeout": -1},
            "wait_timeout must be greater than 0 seconds, got -1.",
        ),
        (
            {"custom_key_store_name": STORE_NAME, "xks_proxy_uri_endpoint": "https://xks.example.com"},
            "xks_proxy_uri_endpoint applies only to custom key stores of type EXTERNAL_KEY_STORE",
        ),
        (
            {
                "custom_key_store_name": STORE_NAME,
                "custom_key_store_type": "EXTERNAL_KEY_STORE",
                "xks_proxy_authentication_credential": {"access_key_id": XKS_ACCESS_KEY_ID},
            },
            "missing required arguments: raw_secret_access_key found in xks_proxy_authentication_credential",
        ),
        (
            {
                "custom_key_store_name": STORE_NAME,
                "custom_key_store_type": "EXTERNAL_KEY_STORE",
                "xks_proxy_authentication_credential": {
                    "access_key_id": XKS_ACCESS_KEY_ID,
                    "raw_secret_access_key": XKS_SECRET[:20],
                },
            },
            "xks_proxy_authentication_credential.raw_secret_access_key must be 43 to 64 characters",
        ),
        (
            {"custom_key_store_name": STORE_NAME, "update_password": "sometimes"},
            "value of update_password must be one of: on_create, always",
        ),
    ],
)
def test_bad_options_fail_before_any_api_call(kms_stubber, capsys, args, message):
    result = run_module(capsys, **args)

    assert result["failed"] is True
    assert message in result["msg"]
    assert XKS_SECRET[:20] not in json.dumps(result)


def test_the_create_is_sent_once_by_botocore(kms_stubber, capsys, monkeypatch):
    """CreateCustomKeyStore goes through the module's single-attempt client; the Describe calls do not."""
    create_client = aws_client("kms")
    monkeypatch.setattr(CustomKeyStoreModule, "single_attempt_client", lambda self, service: create_client)
    kms_stubber.add_client_error("describe_custom_key_stores", "CustomKeyStoreNotFoundException", "none", 400)
    kms_stubber.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [store_entry("DISCONNECTED")]}, {"CustomKeyStoreId": STORE_ID}
    )
    with Stubber(create_client) as create_stubber:
        create_stubber.add_response("create_custom_key_store", {"CustomKeyStoreId": STORE_ID})

        result = run_module(
            capsys,
            custom_key_store_name=STORE_NAME,
            cloud_hsm_cluster_id=CLUSTER_ID,
            trust_anchor_certificate=ANCHOR,
            key_store_password=KMSUSER_PASSWORD,
        )

        create_stubber.assert_no_pending_responses()
    assert result["actions"] == ["CreateCustomKeyStore"]


def test_the_single_attempt_client_makes_botocore_send_each_call_once():
    with patch_module_args(dict(stubs.AWS)):
        module = CustomKeyStoreModule(argument_spec={})
    assert module.single_attempt_client("kms").meta.config.retries["total_max_attempts"] == 1


VPC_OWNER_ARGS = dict(
    custom_key_store_name=STORE_NAME,
    custom_key_store_type="EXTERNAL_KEY_STORE",
    xks_proxy_uri_endpoint="https://xks.example.com",
    xks_proxy_uri_path="/kms/xks/v1",
    xks_proxy_connectivity="VPC_ENDPOINT_SERVICE",
    xks_proxy_vpc_endpoint_service_name="com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef1",
    xks_proxy_vpc_endpoint_service_owner="111122223333",
    xks_proxy_authentication_credential=CREDENTIAL,
)


def without_the_owner_parameter(monkeypatch, client):
    """Give the client the KMS model of botocore 1.40.62 and earlier, whose CreateCustomKeyStore has no owner.

    The integration target old_botocore runs the module on a real botocore 1.40.62.
    """
    model = copy.deepcopy(botocore.loaders.Loader().load_service_model("kms", "service-2"))
    for operation in ("CreateCustomKeyStoreRequest", "UpdateCustomKeyStoreRequest"):
        del model["shapes"][operation]["members"]["XksProxyVpcEndpointServiceOwner"]
    monkeypatch.setattr(client.meta, "_service_model", botocore.model.ServiceModel(model, "kms"))


def test_vpc_endpoint_service_owner_with_an_old_botocore_fails_before_any_call(kms_stubber, capsys, monkeypatch):
    without_the_owner_parameter(monkeypatch, kms_stubber.client)
    result = run_module(capsys, **VPC_OWNER_ARGS)

    assert result["failed"] is True
    assert result["msg"] == (
        "xks_proxy_vpc_endpoint_service_owner needs botocore 1.40.63 or later: "
        "upgrade botocore, or remove xks_proxy_vpc_endpoint_service_owner."
    )
    kms_stubber.assert_no_pending_responses()


def test_vpc_endpoint_service_owner_is_sent_when_the_model_has_it(kms_stubber, capsys):
    kms_stubber.add_client_error("describe_custom_key_stores", "CustomKeyStoreNotFoundException", "none", 400)
    request = {
        "CustomKeyStoreName": STORE_NAME,
        "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
        "XksProxyUriEndpoint": "https://xks.example.com",
        "XksProxyUriPath": "/kms/xks/v1",
        "XksProxyConnectivity": "VPC_ENDPOINT_SERVICE",
        "XksProxyVpcEndpointServiceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef1",
        "XksProxyVpcEndpointServiceOwner": "111122223333",
        "XksProxyAuthenticationCredential": {"AccessKeyId": XKS_ACCESS_KEY_ID, "RawSecretAccessKey": XKS_SECRET},
    }
    kms_stubber.add_response("create_custom_key_store", {"CustomKeyStoreId": STORE_ID}, request)
    kms_stubber.add_response(
        "describe_custom_key_stores",
        {"CustomKeyStores": [store_entry("DISCONNECTED", store_type="EXTERNAL_KEY_STORE")]},
        {"CustomKeyStoreId": STORE_ID},
    )

    result = run_module(capsys, **VPC_OWNER_ARGS)

    assert result["changed"] is True and result["actions"] == ["CreateCustomKeyStore"]


def test_an_old_botocore_does_not_matter_without_the_owner_option(kms_stubber, capsys, monkeypatch):
    without_the_owner_parameter(monkeypatch, kms_stubber.client)
    kms_stubber.add_response(
        "describe_custom_key_stores",
        {"CustomKeyStores": [store_entry("CONNECTED")]},
        {"CustomKeyStoreName": STORE_NAME},
    )

    result = run_module(capsys, custom_key_store_name=STORE_NAME)

    assert result.get("failed") is not True and result["changed"] is False
