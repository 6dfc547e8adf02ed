# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The custom key store request quota (quota.py): per operation, per Region, a sliding one-second window."""

import json

import boto3
import pytest
from ansible_collections.awskms.custom_key_store.tests.emulator import client
from ansible_collections.awskms.custom_key_store.tests.emulator import quota
from ansible_collections.awskms.custom_key_store.tests.emulator import server
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import FakeClock
from botocore.config import Config
from botocore.exceptions import ClientError


def authorization(region):
    return (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/%s/kms/aws4_request, SignedHeaders=host, Signature=0" % region
    )


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def emulator(clock):
    return server.Emulator(clock=clock, custom_key_store_request_rate_quota=5)


def send(emulator, operation, region="us-east-1", **params):
    """(HTTP status, the error code or None) of one KMS request."""
    service = "BaldrApiService" if operation == "DescribeClusters" else "TrentService"
    status, body = emulator.aws_request(
        "%s.%s" % (service, operation), authorization(region), json.dumps(params).encode("utf-8")
    )
    return status, json.loads(body).get("__type")


def describe(emulator, region="us-east-1"):
    return send(emulator, "DescribeCustomKeyStores", region)


def test_five_in_a_second_pass_the_sixth_is_throttled_the_next_second_passes(emulator, clock):
    results = []
    for _index in range(5):
        results.append(describe(emulator))
        clock.advance(0.1)
    assert results == [(200, None)] * 5
    assert describe(emulator) == (400, "ThrottlingException")  # 0.5 s after the first
    clock.advance(0.5)  # one second after the first request
    assert describe(emulator) == (200, None)
    assert emulator.quota.as_dict()["counts"] == [
        {"region": "us-east-1", "operation": "DescribeCustomKeyStores", "accepted": 6, "throttled": 1}
    ]


def test_the_window_slides_and_throttled_requests_do_not_count(emulator, clock):
    clock.advance(0.9)
    assert [describe(emulator) for _index in range(5)] == [(200, None)] * 5
    clock.advance(0.2)  # past a clock-second boundary: an aligned window would let these through
    assert describe(emulator) == (400, "ThrottlingException")
    clock.advance(0.79)
    assert describe(emulator) == (400, "ThrottlingException")
    clock.advance(0.01)  # one second after the five: the throttled ones took no share of the quota
    assert [describe(emulator) for _index in range(5)] == [(200, None)] * 5
    assert describe(emulator) == (400, "ThrottlingException")


def test_each_operation_has_its_own_quota(emulator):
    assert [describe(emulator) for _index in range(5)] == [(200, None)] * 5
    assert describe(emulator) == (400, "ThrottlingException")
    unknown = {"CustomKeyStoreId": "cks-00000000000000000"}
    for operation in ("ConnectCustomKeyStore", "DisconnectCustomKeyStore", "DeleteCustomKeyStore"):
        answers = [send(emulator, operation, **unknown) for _index in range(6)]
        assert answers == [(400, "CustomKeyStoreNotFoundException")] * 5 + [(400, "ThrottlingException")]
    updates = [send(emulator, "UpdateCustomKeyStore", NewCustomKeyStoreName="x", **unknown) for _index in range(6)]
    assert updates[-1] == (400, "ThrottlingException") and updates[:5] == [(400, "CustomKeyStoreNotFoundException")] * 5
    creates = [send(emulator, "CreateCustomKeyStore", CustomKeyStoreName="s%d" % index) for index in range(6)]
    assert [code for _status, code in creates] == ["ValidationException"] * 5 + ["ThrottlingException"]
    # CloudHSM's operations are not KMS's custom key store operations
    assert [send(emulator, "DescribeClusters") for _index in range(8)] == [(200, None)] * 8


def test_each_region_has_its_own_quota(emulator):
    assert [describe(emulator, "eu-west-1") for _index in range(5)] == [(200, None)] * 5
    assert describe(emulator, "eu-west-1") == (400, "ThrottlingException")
    assert [describe(emulator, "us-east-1") for _index in range(5)] == [(200, None)] * 5
    assert describe(emulator, "us-east-1") == (400, "ThrottlingException")


def test_the_quota_is_off_by_default(clock):
    emulator = server.Emulator(clock=clock)
    assert emulator.regions.settings[quota.SETTING] == 0
    assert [describe(emulator) for _index in range(50)] == [(200, None)] * 50
    assert emulator.quota.as_dict()["counts"] == []


def test_a_region_has_its_own_rate_through_the_control_api(emulator):
    assert (
        emulator.control_request(
            "POST", "/_emulator/request-quota", b'{"region": "eu-west-1", "requests_per_second": 2}'
        )[0]
        == 200
    )
    assert (
        emulator.control_request(
            "POST", "/_emulator/request-quota", b'{"region": "eu-west-2", "requests_per_second": 0}'
        )[0]
        == 200
    )
    assert [describe(emulator, "eu-west-1") for _index in range(3)] == [(200, None)] * 2 + [
        (400, "ThrottlingException")
    ]
    assert [describe(emulator, "eu-west-2") for _index in range(20)] == [(200, None)] * 20  # 0: off there
    assert [describe(emulator, "us-east-1") for _index in range(6)][-1] == (400, "ThrottlingException")  # the setting
    status, payload = emulator.control_request("GET", "/_emulator/request-quota", b"")
    assert status == 200 and payload["requests_per_second"] == 5
    assert payload["regions"] == {"eu-west-1": 2, "eu-west-2": 0}
    # null goes back to the setting; a reset of the Region forgets its rate and its counts
    emulator.control_request(
        "POST", "/_emulator/request-quota", b'{"region": "eu-west-2", "requests_per_second": null}'
    )
    assert emulator.quota.rate("eu-west-2") == 5
    emulator.control_request("POST", "/_emulator/reset", b'{"region": "eu-west-1"}')
    assert emulator.quota.rate("eu-west-1") == 5
    assert [entry["region"] for entry in emulator.quota.as_dict()["counts"]] == ["us-east-1"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"region": "eu-west-1", "requests_per_second": -1}, "zero or more"),
        ({"region": "eu-west-1", "requests_per_second": 2.5}, "an integer"),
        ({"region": "Ireland", "requests_per_second": 2}, "region name"),
        ({"region": "eu-west-1", "rate": 2}, "unknown field"),
    ],
)
def test_bad_quota_requests_are_refused_with_a_sentence(emulator, body, message):
    status, payload = emulator.control_request("POST", "/_emulator/request-quota", json.dumps(body).encode("utf-8"))
    assert status == 400 and message in payload["error"]
    assert emulator.quota.region_rates == {}


def test_the_setting_turns_it_on_and_must_be_a_whole_number(clock):
    emulator = server.Emulator(clock=clock)
    status, _payload = emulator.control_request(
        "POST", "/_emulator/settings", b'{"custom_key_store_request_rate_quota": 1}'
    )
    assert status == 200
    assert [describe(emulator) for _index in range(2)] == [(200, None), (400, "ThrottlingException")]
    status, payload = emulator.control_request(
        "POST", "/_emulator/settings", b'{"custom_key_store_request_rate_quota": 1.5}'
    )
    assert status == 400 and "whole number" in payload["error"]


def test_throttling_over_http_is_kms_shaped_and_logged():
    with server.start(custom_key_store_request_rate_quota=1) as handle:
        kms = boto3.client(
            "kms",
            endpoint_url=handle.url,
            region_name="ap-south-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="not-a-secret",
            config=Config(retries={"total_max_attempts": 1}),
        )
        control = client.EmulatorClient(handle.url)
        control.request_quota("ap-south-1", 1)
        kms.describe_custom_key_stores()
        with pytest.raises(ClientError) as caught:
            kms.describe_custom_key_stores()
        error = caught.value.response
        assert error["Error"]["Code"] == "ThrottlingException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error["Error"]["Message"] == quota.MESSAGE
        assert [entry["error_code"] for entry in control.calls()] == [None, "ThrottlingException"]
        assert control.request_quota()["counts"] == [
            {"region": "ap-south-1", "operation": "DescribeCustomKeyStores", "accepted": 1, "throttled": 1}
        ]


def test_request_rates_from_the_log():
    entries = [
        {"time": 10.0, "region": "eu-west-1", "operation": "DescribeCustomKeyStores", "error_code": None},
        {"time": 10.2, "region": "eu-west-1", "operation": "DescribeCustomKeyStores", "error_code": None},
        {"time": 10.9, "region": "eu-west-1", "operation": "DescribeCustomKeyStores", "error_code": None},
        {
            "time": 10.95,
            "region": "eu-west-1",
            "operation": "DescribeCustomKeyStores",
            "error_code": "ThrottlingException",
        },
        {"time": 11.1, "region": "eu-west-1", "operation": "DescribeCustomKeyStores", "error_code": None},
        {
            "time": 12.5,
            "region": "eu-west-1",
            "operation": "ConnectCustomKeyStore",
            "error_code": "CustomKeyStoreInvalidStateException",
        },
        {"time": 14.0, "region": "us-east-1", "operation": "DescribeCustomKeyStores", "error_code": None},
    ]
    rates = quota.request_rates(entries)
    # 10.2, 10.9 and 11.1 lie within one second; 10.0 and 11.1 do not
    assert rates[("eu-west-1", "DescribeCustomKeyStores")] == {"calls": 4, "throttled": 1, "peak": 3, "mean": 1.0}
    assert rates[("eu-west-1", "ConnectCustomKeyStore")] == {"calls": 1, "throttled": 0, "peak": 1, "mean": 0.25}
    assert rates[("us-east-1", "DescribeCustomKeyStores")]["peak"] == 1
    assert quota.request_rates(entries, seconds=2)[("eu-west-1", "DescribeCustomKeyStores")]["mean"] == 2.0
    assert quota.peak_per_second([]) == 0
