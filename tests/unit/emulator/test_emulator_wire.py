# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's wire layer: targets, regions, bodies, validation against botocore's model, redaction."""

import json

import pytest
from ansible_collections.awskms.custom_key_store.tests.emulator import errors
from ansible_collections.awskms.custom_key_store.tests.emulator import wire


def kms_operation(name):
    return wire.service_model("kms").operation_model(name)


def hsm_operation(name):
    return wire.service_model("cloudhsmv2").operation_model(name)


def validation_message(operation, params):
    with pytest.raises(errors.AwsError) as caught:
        wire.validate_input(operation, params)
    assert caught.value.code == "ValidationException"
    assert caught.value.status == 400
    return caught.value.message


def test_parse_target_accepts_both_services():
    service, operation = wire.parse_target("TrentService.ConnectCustomKeyStore")
    assert (service, operation.name) == ("kms", "ConnectCustomKeyStore")
    service, operation = wire.parse_target("BaldrApiService.DescribeClusters")
    assert (service, operation.name) == ("cloudhsmv2", "DescribeClusters")


@pytest.mark.parametrize(
    "target", [None, "", "TrentService", "TrentService.", "Nope.DescribeClusters", "TrentService.DescribeClusters"]
)
def test_parse_target_rejects_missing_unknown_and_foreign_targets(target):
    with pytest.raises(errors.AwsError) as caught:
        wire.parse_target(target)
    assert caught.value.code == "UnknownOperationException"
    assert caught.value.status == 400


def test_region_comes_from_the_sigv4_credential_scope():
    header = (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-3/kms/aws4_request, SignedHeaders=host, Signature=abc"
    )
    assert wire.region_from_authorization(header) == "eu-west-3"
    assert wire.region_from_authorization(None) == "us-east-1"
    assert wire.region_from_authorization("garbage") == "us-east-1"


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_parse_body_rejects_malformed_json_with_serialization_exception(raw):
    with pytest.raises(errors.AwsError) as caught:
        wire.parse_body(raw)
    assert caught.value.code == "SerializationException"


def test_parse_body_treats_empty_as_empty_object():
    assert wire.parse_body(b"") == {}
    assert wire.parse_body(b"  ") == {}
    assert wire.parse_body(b'{"Limit": 5}') == {"Limit": 5}


def test_valid_input_passes():
    wire.validate_input(kms_operation("DescribeCustomKeyStores"), {"Limit": 10, "Marker": "abc"})
    wire.validate_input(hsm_operation("DescribeClusters"), {"Filters": {"states": ["ACTIVE"]}, "MaxResults": 5})
    wire.validate_input(
        kms_operation("CreateCustomKeyStore"),
        {
            "CustomKeyStoreName": "x",
            "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
            "XksProxyUriEndpoint": "https://xks.example.com",
            "XksProxyUriPath": "/kms/xks/v1",
            "XksProxyConnectivity": "PUBLIC_ENDPOINT",
            "XksProxyAuthenticationCredential": {"AccessKeyId": "A" * 20, "RawSecretAccessKey": "b" * 43},
        },
    )


def test_missing_required_member():
    message = validation_message(kms_operation("ConnectCustomKeyStore"), {})
    assert "'CustomKeyStoreId'" in message and "must not be null" in message


def test_unknown_member():
    message = validation_message(kms_operation("ConnectCustomKeyStore"), {"CustomKeyStoreId": "cks-1", "Bogus": 1})
    assert "Bogus" in message and "not a member" in message


@pytest.mark.parametrize(
    "operation, params, expected",
    [
        ("DescribeCustomKeyStores", {"Limit": "5"}, "must be an integer"),
        ("DescribeCustomKeyStores", {"Limit": True}, "must be an integer"),
        ("DescribeCustomKeyStores", {"CustomKeyStoreName": 5}, "must be a string"),
        ("DescribeCustomKeyStores", {"Marker": ["a"]}, "must be a string"),
        (
            "CreateCustomKeyStore",
            {"CustomKeyStoreName": "n", "XksProxyAuthenticationCredential": "x"},
            "must be a structure",
        ),
    ],
)
def test_wrong_types(operation, params, expected):
    assert expected in validation_message(kms_operation(operation), params)


def test_wrong_types_in_lists_and_maps():
    assert "must be a map" in validation_message(hsm_operation("DescribeClusters"), {"Filters": ["states"]})
    assert "must be a list" in validation_message(hsm_operation("DescribeClusters"), {"Filters": {"states": "ACTIVE"}})
    assert "must be a string" in validation_message(hsm_operation("DescribeClusters"), {"Filters": {"states": [1]}})


def test_blob_timestamp_and_boolean_members():
    encrypt = kms_operation("Encrypt")
    wire.validate_input(encrypt, {"KeyId": "k", "Plaintext": "aGVsbG8="})
    assert "base64" in validation_message(encrypt, {"KeyId": "k", "Plaintext": "not base64!"})
    assert "greater than or equal to 1" in validation_message(encrypt, {"KeyId": "k", "Plaintext": ""})
    import_material = kms_operation("ImportKeyMaterial")
    base = {"KeyId": "k", "ImportToken": "aGVsbG8=", "EncryptedKeyMaterial": "aGVsbG8="}
    wire.validate_input(import_material, dict(base, ValidTo=1767225600))
    assert "timestamp" in validation_message(import_material, dict(base, ValidTo="tomorrow"))
    assert "boolean" in validation_message(kms_operation("CreateKey"), {"BypassPolicyLockoutSafetyCheck": "yes"})


def test_string_lengths_below_min_and_above_max():
    message = validation_message(kms_operation("DescribeCustomKeyStores"), {"CustomKeyStoreName": "n" * 257})
    assert "less than or equal to 256" in message
    message = validation_message(
        kms_operation("UpdateCustomKeyStore"), {"CustomKeyStoreId": "cks-1", "KeyStorePassword": "short"}
    )
    assert "greater than or equal to 7" in message


def test_integer_range():
    assert "less than or equal to 1000" in validation_message(kms_operation("DescribeCustomKeyStores"), {"Limit": 1001})
    assert "greater than or equal to 1" in validation_message(kms_operation("DescribeCustomKeyStores"), {"Limit": 0})
    assert "less than or equal to 25" in validation_message(hsm_operation("DescribeClusters"), {"MaxResults": 26})


def test_enum():
    message = validation_message(
        kms_operation("CreateCustomKeyStore"), {"CustomKeyStoreName": "n", "CustomKeyStoreType": "NOPE"}
    )
    assert "enum value set" in message and "AWS_CLOUDHSM" in message


def test_pattern():
    message = validation_message(
        kms_operation("CreateCustomKeyStore"), {"CustomKeyStoreName": "n", "CloudHsmClusterId": "not-a-cluster-id!!"}
    )
    assert "regular expression" in message


def test_nested_structure_members_are_checked():
    message = validation_message(
        kms_operation("UpdateCustomKeyStore"),
        {"CustomKeyStoreId": "cks-1", "XksProxyAuthenticationCredential": {"AccessKeyId": "A" * 20}},
    )
    assert "XksProxyAuthenticationCredential.RawSecretAccessKey" in message


def test_all_problems_are_reported_and_secrets_are_not_echoed():
    message = validation_message(kms_operation("UpdateCustomKeyStore"), {"KeyStorePassword": "sh0rt", "Extra": True})
    assert message.startswith("3 validation errors detected")
    assert "sh0rt" not in message


def test_non_secret_values_are_echoed_for_clarity():
    message = validation_message(
        kms_operation("CreateCustomKeyStore"), {"CustomKeyStoreName": "n", "CustomKeyStoreType": "NOPE"}
    )
    assert '"NOPE"' in message


def test_render_error_matches_json_1_1():
    status, body = wire.render_error(errors.CustomKeyStoreNotFoundError("gone"))
    assert status == 400
    assert json.loads(body.decode("utf-8")) == {"__type": "CustomKeyStoreNotFoundException", "message": "gone"}
    status, body = wire.render_error(errors.KmsInternalError("boom"))
    assert status == 500


def test_redact_replaces_every_sensitive_member():
    params = {
        "CustomKeyStoreId": "cks-1",
        "KeyStorePassword": "kmsPassw0rd",
        "XksProxyAuthenticationCredential": {"AccessKeyId": "A" * 20, "RawSecretAccessKey": "s" * 43},
        "Nested": [{"KeyStorePassword": "again"}],
    }
    redacted = wire.redact(params)
    assert redacted["CustomKeyStoreId"] == "cks-1"
    assert redacted["KeyStorePassword"] == "<redacted>"
    assert redacted["XksProxyAuthenticationCredential"]["RawSecretAccessKey"] == "<redacted>"
    assert redacted["Nested"][0]["KeyStorePassword"] == "<redacted>"
    assert "kmsPassw0rd" not in json.dumps(redacted) and "s" * 43 not in json.dumps(redacted)
    assert params["KeyStorePassword"] == "kmsPassw0rd"  # the original is untouched


def test_mutating_classification():
    assert not wire.is_mutating("DescribeCustomKeyStores")
    assert not wire.is_mutating("ListKeys")
    assert not wire.is_mutating("GetKeyPolicy")
    assert wire.is_mutating("ConnectCustomKeyStore")
    assert wire.is_mutating("CreateHsm")


def test_default_throttling_code_is_one_botocore_retries():
    from botocore.retries import standard

    assert wire.DEFAULT_THROTTLING_CODE in standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES
    assert all(code in standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES for code in wire.THROTTLING_CODES)
