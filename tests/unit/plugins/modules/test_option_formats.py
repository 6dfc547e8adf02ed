# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Malformed IDs, endpoints and paths: one sentence naming the option, before any AWS call (issue 7, bad input).

botocore checks only lengths (in a multi-line message naming the API member) and leaves patterns to AWS, whose
ValidationException would come from a create or update call. kms_custom_key_store and cloudhsm_hsm check the
formats of botocore's model themselves (module_utils/options.py); these tests keep their checks in step with the model.
"""

import json
import re

import botocore.session
import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils import options
from ansible_collections.awskms.custom_key_store.plugins.modules import cloudhsm_hsm
from ansible_collections.awskms.custom_key_store.plugins.modules import kms_custom_key_store
from ansible_collections.awskms.custom_key_store.tests.unit.plugins import stubs
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import CLUSTER_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import HSM_CLUSTER_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import KMSUSER_PASSWORD
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import XKS_ACCESS_KEY_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import XKS_SECRET

ANCHOR = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
CREDENTIAL = {"access_key_id": XKS_ACCESS_KEY_ID, "raw_secret_access_key": XKS_SECRET}
HSM_STORE = {
    "custom_key_store_name": "ledger",
    "cloud_hsm_cluster_id": CLUSTER_ID,
    "trust_anchor_certificate": ANCHOR,
    "key_store_password": KMSUSER_PASSWORD,
}
XKS_STORE = {
    "custom_key_store_name": "ledger",
    "custom_key_store_type": "EXTERNAL_KEY_STORE",
    "xks_proxy_uri_endpoint": "https://xks.example.com",
    "xks_proxy_uri_path": "/kms/xks/v1",
    "xks_proxy_connectivity": "PUBLIC_ENDPOINT",
    "xks_proxy_authentication_credential": CREDENTIAL,
}
VPC = {
    "xks_proxy_connectivity": "VPC_ENDPOINT_SERVICE",
    "xks_proxy_vpc_endpoint_service_name": "com.amazonaws.vpce.us-east-1.vpce-svc-0a1b2c3d",
}


def run_module(module, capsys, **args):
    """Run a module whose client is a Stubber-backed one with no response queued: any AWS call would fail the test."""
    result = stubs.run_module(module.main, capsys, **args)
    assert KMSUSER_PASSWORD not in json.dumps(result) and XKS_SECRET not in json.dumps(result)
    return result


@pytest.mark.parametrize(
    "args, message",
    [
        (
            dict(HSM_STORE, cloud_hsm_cluster_id="cluster-BAD!"),
            "cloud_hsm_cluster_id must be cluster- followed by 11 to 16 letters or digits 2 to 7, got cluster-BAD!.",
        ),
        # the right length, so botocore would send it: AWS refuses the digit 1 (and 0, 8, 9)
        (
            dict(HSM_STORE, cloud_hsm_cluster_id="cluster-1a23b4cdefg"),
            "cloud_hsm_cluster_id must be cluster- followed by 11 to 16 letters or digits 2 to 7, got cluster-1a23b4cdefg.",
        ),
        (
            dict(HSM_STORE, custom_key_store_name="x" * 257),
            "custom_key_store_name must be 1 to 256 characters, got a value of 257 characters.",
        ),
        (
            dict(HSM_STORE, custom_key_store_id="cks-" + "0" * 61, state="absent"),
            "custom_key_store_id must be 1 to 64 characters, for example cks-1234567890abcdef0, got cks-"
            + "0" * 61
            + ".",
        ),
        (
            dict(HSM_STORE, trust_anchor_certificate="A" * 5001),
            "trust_anchor_certificate must be 1 to 5000 characters, got a value of 5001 characters.",
        ),
        (
            dict(XKS_STORE, xks_proxy_uri_endpoint="http://xks.example.com"),
            "xks_proxy_uri_endpoint must be https:// followed by a DNS name (letters, digits, dots and hyphens), 10 to 128 characters "
            "in all, for example https://xks.example.com, got http://xks.example.com.",
        ),
        (
            dict(XKS_STORE, xks_proxy_uri_endpoint="https://xks.example.com/kms"),
            "xks_proxy_uri_endpoint must be https:// followed by a DNS name (letters, digits, dots and hyphens), 10 to 128 characters "
            "in all, for example https://xks.example.com, got https://xks.example.com/kms.",
        ),
        (
            dict(XKS_STORE, xks_proxy_uri_path="/kms/xks/vX"),
            "xks_proxy_uri_path must be /kms/xks/v followed by the API version (1 or 2 digits), optionally after a prefix such as "
            "/example, 10 to 128 characters, got /kms/xks/vX.",
        ),
        (
            dict(XKS_STORE, **dict(VPC, xks_proxy_vpc_endpoint_service_name="vpce-svc-0a1b2c3d4e5f")),
            "xks_proxy_vpc_endpoint_service_name must be the name of a VPC endpoint service, for example "
            "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0, got vpce-svc-0a1b2c3d4e5f.",
        ),
        (
            dict(XKS_STORE, xks_proxy_vpc_endpoint_service_owner="1111-2222-3333", **VPC),
            "xks_proxy_vpc_endpoint_service_owner must be an AWS account ID of 12 digits, got 1111-2222-3333.",
        ),
    ],
    ids=[
        "cluster-short",
        "cluster-digit-1",
        "name",
        "id",
        "anchor",
        "endpoint-http",
        "endpoint-path",
        "path",
        "vpc-name",
        "vpc-owner",
    ],
)
def test_kms_custom_key_store_refuses_malformed_values_before_any_call(kms_stubber, capsys, args, message):
    result = run_module(kms_custom_key_store, capsys, **args)

    assert result["failed"] is True
    assert result["msg"] == message
    assert result["changed"] is False
    assert result["actions"] == []
    assert "exception" not in result


@pytest.mark.parametrize(
    "args, message",
    [
        (
            {"cluster_id": "cluster-BAD!", "availability_zone": "us-east-1a"},
            "cluster_id must be cluster- followed by 11 to 16 letters or digits 2 to 7, got cluster-BAD!.",
        ),
        (
            {"cluster_id": "cluster-1a23b4cdefg", "availability_zone": "us-east-1a"},
            "cluster_id must be cluster- followed by 11 to 16 letters or digits 2 to 7, got cluster-1a23b4cdefg.",
        ),
        (
            {"availability_zone": "us-east-1a", "ip_address": "10.0.1"},
            "ip_address must be an IPv4 address, for example 10.0.1.4, got 10.0.1.",
        ),
        (
            {"availability_zone": "us-east-1a", "ip_address": "10.0.1.256"},
            "ip_address must be an IPv4 address, for example 10.0.1.4, got 10.0.1.256.",
        ),
        (
            {"state": "absent", "hsm_id": "hsm-1"},
            "hsm_id must be hsm- followed by 11 to 16 letters or digits 2 to 7, got hsm-1.",
        ),
        (
            {"state": "absent", "eni_id": "eni-xyz"},
            "eni_id must be eni- followed by 8 to 17 hexadecimal digits, got eni-xyz.",
        ),
        (
            {"state": "absent", "eni_ip": "ten.0.0.1"},
            "eni_ip must be an IPv4 address, for example 10.0.1.4, got ten.0.0.1.",
        ),
    ],
    ids=["cluster-short", "cluster-digit-1", "ip-short", "ip-octet", "hsm-id", "eni-id", "eni-ip"],
)
def test_cloudhsm_hsm_refuses_malformed_values_before_any_call(cloudhsm_stubber, capsys, args, message):
    result = run_module(cloudhsm_hsm, capsys, **dict({"cluster_id": HSM_CLUSTER_ID}, **args))

    assert result["failed"] is True
    assert result["msg"] == message
    assert result.get("changed", False) is False
    assert "exception" not in result


def model_accepts(service, shape_name, value):
    """What botocore's model says AWS accepts: the length limits and the pattern, as a whole match."""
    shape = botocore.session.get_session().get_service_model(service).shape_for(shape_name)
    limits = shape.metadata
    if not limits.get("min", 0) <= len(value) <= limits.get("max", len(value)):
        return False
    return "pattern" not in limits or re.fullmatch(limits["pattern"], value) is not None


@pytest.mark.parametrize(
    "option, shape, values",
    [
        (
            "cloud_hsm_cluster_id",
            "CloudHsmClusterIdType",
            [
                "cluster-jxhlf7644ne",
                "cluster-ABCDEFGHIJKLMNOP",
                "cluster-1a23b4cdefg",
                "cluster-abc",
                "cluster-abcdefghijklmnopq",
                "Cluster-jxhlf7644ne",
            ],
        ),
        (
            "xks_proxy_uri_endpoint",
            "XksProxyUriEndpointType",
            [
                "https://xks.example.com",
                "https://a.b",
                "https://a",
                "http://xks.example.com",
                "https://xks.example.com:443",
                "https://" + "a" * 120,
                "https://" + "a" * 121,
            ],
        ),
        (
            "xks_proxy_uri_path",
            "XksProxyUriPathType",
            [
                "/kms/xks/v1",
                "/kms/xks/v12",
                "/example/kms/xks/v1",
                "/a_b-c/d/kms/xks/v2",
                "/kms/xks/v",
                "/kms/xks/v123",
                "kms/xks/v1",
                "/example/kms/xks/v1/",
                "/" + "a" * 118 + "/kms/xks/v1",
            ],
        ),
        (
            "xks_proxy_vpc_endpoint_service_name",
            "XksProxyVpcEndpointServiceNameType",
            [
                "com.amazonaws.vpce.us-east-1.vpce-svc-0a1b2c3d",
                "eu.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0",
                "com.amazonaws.vpce.us-gov-west-1.vpce-svc-0a1b",
                "com.amazonaws.vpce.svc-1",
                "vpce-svc-0a1b2c3d4e5f",
                "com.amazonaws.vpce.us-east-1.vpce-svc-0A1B",
            ],
        ),
        (
            "xks_proxy_vpc_endpoint_service_owner",
            "AccountIdType",
            ["111122223333", "11112222333", "1111-2222-33", "111122223333a"],
        ),
        ("custom_key_store_name", "CustomKeyStoreNameType", ["a", "a" * 256, "a" * 257, "two\nlines"]),
        ("custom_key_store_id", "CustomKeyStoreIdType", ["cks-1234567890abcdef0", "x" * 64, "x" * 65]),
        ("trust_anchor_certificate", "TrustAnchorCertificateType", [ANCHOR, "A" * 5000, "A" * 5001]),
    ],
)
def test_kms_formats_agree_with_the_model(option, shape, values):
    verdicts = [(value, options.well_formed(option, value)) for value in values]
    assert verdicts == [(value, model_accepts("kms", shape, value)) for value in values]
    assert [accepted for _value, accepted in verdicts].count(True) >= 1
    assert [accepted for _value, accepted in verdicts].count(False) >= 1


@pytest.mark.parametrize(
    "option, operation, member",
    [
        ("cluster_id", "CreateHsm", "ClusterId"),
        ("ip_address", "CreateHsm", "IpAddress"),
        ("hsm_id", "DeleteHsm", "HsmId"),
        ("eni_id", "DeleteHsm", "EniId"),
        ("eni_ip", "DeleteHsm", "EniIp"),
    ],
)
def test_cloudhsm_formats_are_the_model_patterns(option, operation, member):
    model = botocore.session.get_session().get_service_model("cloudhsmv2")
    assert (
        options.FORMATS[option][0].pattern
        == model.operation_model(operation).input_shape.members[member].metadata["pattern"]
    )
