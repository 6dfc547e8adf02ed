# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator over real HTTP: boto3 clients, raw requests, the control API and its client."""

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import pytest

boto3 = pytest.importorskip("boto3")
from ansible_collections.awskms.custom_key_store.tests.emulator import (  # noqa: E402  pylint: disable=wrong-import-position
    client,
)
from ansible_collections.awskms.custom_key_store.tests.emulator import server
from botocore.config import Config  # noqa: E402  pylint: disable=wrong-import-position
from botocore.exceptions import ClientError  # noqa: E402  pylint: disable=wrong-import-position

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRST"
SECRET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
PASSWORD = "Sup3rSecretPw"
XKS_ENDPOINT = "https://xks.example.com"
# The seeded worlds hold more HSMs than CloudHSM's default quota of 6 per Region allows; a setting raises it.
SERVER_SETTINGS = {
    "connect_seconds": 0.2,
    "disconnect_seconds": 0.1,
    "hsm_create_seconds": 0.2,
    "hsm_delete_seconds": 0.1,
    "hsms_quota": 20,
}


def aws(running, service, region="us-east-1", **config):
    config.setdefault("retries", {"total_max_attempts": 1})
    return boto3.client(
        service,
        endpoint_url=running.url,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
        config=Config(**config),
    )


@pytest.fixture
def kms(running):
    return aws(running, "kms")


@pytest.fixture
def hsm(running):
    return aws(running, "cloudhsmv2")


@pytest.fixture
def ids(emu):
    return emu.seed(
        {
            "clusters": [
                {
                    "name": "demo",
                    "lineage": "family",
                    "hsms": [{"availability_zone": "us-east-1a"}, {"availability_zone": "us-east-1b"}],
                    "kmsuser": {"password": PASSWORD},
                },
                {
                    "name": "restored",
                    "lineage": "family",
                    "hsms": [{"availability_zone": "us-east-1a"}],
                    "kmsuser": {"password": PASSWORD},
                },
                {"name": "free", "hsms": [{"availability_zone": "us-east-1a"}, {"availability_zone": "us-east-1b"}]},
                {"name": "stranger"},
            ],
            "xks_proxies": [{"uri_endpoint": XKS_ENDPOINT, "access_key_id": ACCESS_KEY, "secret_access_key": SECRET}],
            "custom_key_stores": [
                {"name": "hsm-store", "cluster": "demo", "key_store_password": PASSWORD},
                {"name": "xks-store", "type": "EXTERNAL_KEY_STORE", "xks_proxy_uri_endpoint": XKS_ENDPOINT},
            ],
        }
    )


def wait_for(kms, store_id, wanted, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        entry = kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]
        if entry["ConnectionState"] in wanted or time.monotonic() > deadline:
            return entry
        time.sleep(0.03)


def trust_anchor(emu, cluster_name):
    return [c for c in emu.world()["clusters"] if c["name"] == cluster_name][0]["trust_anchor_certificate"]


def raw_post(running, body, target="TrentService.DescribeCustomKeyStores", headers=None):
    parts = urlsplit(running.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    all_headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        all_headers["X-Amz-Target"] = target
    all_headers.update(headers or {})
    connection.request("POST", "/", body=body, headers=all_headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response, payload


# ---------------------------------------------------------------------------
# Every operation through boto3
# ---------------------------------------------------------------------------


def test_cloudhsm_store_lifecycle_through_boto3(emu, kms, ids):
    store_id = kms.create_custom_key_store(
        CustomKeyStoreName="new",
        CloudHsmClusterId=ids["clusters"]["free"],
        TrustAnchorCertificate=trust_anchor(emu, "free"),
        KeyStorePassword="kmsPassw0rd",
    )["CustomKeyStoreId"]
    entry = kms.describe_custom_key_stores(CustomKeyStoreName="new")["CustomKeyStores"][0]
    assert entry["CustomKeyStoreId"] == store_id and entry["ConnectionState"] == "DISCONNECTED"
    assert entry["CreationDate"].year >= 2024  # botocore parsed the epoch timestamp
    assert kms.connect_custom_key_store(CustomKeyStoreId=store_id)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert wait_for(kms, store_id, ("CONNECTED", "FAILED"))["ConnectionState"] == "CONNECTED"
    kms.update_custom_key_store(CustomKeyStoreId=store_id, NewCustomKeyStoreName="renamed")
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    assert wait_for(kms, store_id, ("DISCONNECTED",))["CustomKeyStoreName"] == "renamed"
    kms.update_custom_key_store(CustomKeyStoreId=store_id, KeyStorePassword="otherPassw0rd")
    kms.delete_custom_key_store(CustomKeyStoreId=store_id)
    with pytest.raises(kms.exceptions.CustomKeyStoreNotFoundException):
        kms.describe_custom_key_stores(CustomKeyStoreId=store_id)


def test_failed_connection_reports_its_code_through_boto3(emu, kms, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    emu.kmsuser("demo", "logged_in")
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    entry = wait_for(kms, store_id, ("CONNECTED", "FAILED"))
    assert (entry["ConnectionState"], entry["ConnectionErrorCode"]) == ("FAILED", "USER_LOGGED_IN")


def test_xks_store_lifecycle_through_boto3(emu, kms, ids):
    credential = {"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": SECRET}
    store_id = kms.create_custom_key_store(
        CustomKeyStoreName="xks-2",
        CustomKeyStoreType="EXTERNAL_KEY_STORE",
        XksProxyUriEndpoint=XKS_ENDPOINT,
        XksProxyUriPath="/tenant/kms/xks/v1",
        XksProxyConnectivity="PUBLIC_ENDPOINT",
        XksProxyAuthenticationCredential=credential,
    )["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    entry = wait_for(kms, store_id, ("CONNECTED", "FAILED"))
    assert entry["ConnectionState"] == "CONNECTED"
    assert entry["XksProxyConfiguration"] == {
        "Connectivity": "PUBLIC_ENDPOINT",
        "AccessKeyId": ACCESS_KEY,
        "UriEndpoint": XKS_ENDPOINT,
        "UriPath": "/tenant/kms/xks/v1",
    }
    kms.update_custom_key_store(
        CustomKeyStoreId=store_id, XksProxyUriPath="/tenant/kms/xks/v2", XksProxyAuthenticationCredential=credential
    )
    assert kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]["XksProxyConfiguration"][
        "UriPath"
    ] == ("/tenant/kms/xks/v2")


def test_cloudhsm_operations_through_boto3(emu, hsm, ids):
    cluster_id = ids["clusters"]["free"]
    clusters = hsm.describe_clusters(Filters={"clusterIds": [cluster_id]})["Clusters"]
    assert len(clusters) == 1 and clusters[0]["State"] == "ACTIVE"
    assert clusters[0]["CreateTimestamp"].year >= 2024
    created = hsm.create_hsm(ClusterId=cluster_id, AvailabilityZone="us-east-1b")["Hsm"]
    assert created["State"] == "CREATE_IN_PROGRESS" and created["AvailabilityZone"] == "us-east-1b"
    time.sleep(0.3)
    states = dict(
        (h["HsmId"], h["State"])
        for h in hsm.describe_clusters(Filters={"clusterIds": [cluster_id]})["Clusters"][0]["Hsms"]
    )
    assert states[created["HsmId"]] == "ACTIVE"
    assert hsm.delete_hsm(ClusterId=cluster_id, HsmId=created["HsmId"])["HsmId"] == created["HsmId"]
    time.sleep(0.2)
    remaining = [h["HsmId"] for h in hsm.describe_clusters(Filters={"clusterIds": [cluster_id]})["Clusters"][0]["Hsms"]]
    assert created["HsmId"] not in remaining and len(remaining) == 2


def test_boto3_paginators_walk_both_apis(emu, kms, hsm, ids):
    emu.seed({"custom_key_stores": [{"name": "extra-%d" % index, "cluster": "stranger"} for index in range(3)]})
    names = [
        entry["CustomKeyStoreName"]
        for page in kms.get_paginator("describe_custom_key_stores").paginate(PaginationConfig={"PageSize": 2})
        for entry in page["CustomKeyStores"]
    ]
    assert names == ["hsm-store", "xks-store", "extra-0", "extra-1", "extra-2"]
    pages = list(hsm.get_paginator("describe_clusters").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(page["Clusters"]) for page in pages] == [3, 1]


# ---------------------------------------------------------------------------
# Errors raise botocore's modelled exception classes
# ---------------------------------------------------------------------------


def _bad_anchor(emu, kms, hsm, ids):
    kms.create_custom_key_store(
        CustomKeyStoreName="n",
        CloudHsmClusterId=ids["clusters"]["free"],
        TrustAnchorCertificate="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        KeyStorePassword="kmsPassw0rd",
    )


def _create_on(cluster):
    def create(emu, kms, hsm, ids):
        kms.create_custom_key_store(
            CustomKeyStoreName="n",
            CloudHsmClusterId=ids["clusters"].get(cluster, cluster),
            TrustAnchorCertificate=trust_anchor(emu, "free"),
            KeyStorePassword="kmsPassw0rd",
        )

    return create


def _not_active(emu, kms, hsm, ids):
    emu.set_cluster_state("demo", "UNINITIALIZED")
    kms.connect_custom_key_store(CustomKeyStoreId=ids["custom_key_stores"]["hsm-store"])


def _invalid_configuration(emu, kms, hsm, ids):
    emu.set_cluster_state("demo", invalid_configuration=True)
    kms.connect_custom_key_store(CustomKeyStoreId=ids["custom_key_stores"]["hsm-store"])


def _has_cmks(emu, kms, hsm, ids):
    emu.set_store_state("hsm-store", kms_key_count=1)
    kms.delete_custom_key_store(CustomKeyStoreId=ids["custom_key_stores"]["hsm-store"])


def _xks(**overrides):
    params = {
        "CustomKeyStoreName": "n",
        "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
        "XksProxyUriEndpoint": XKS_ENDPOINT,
        "XksProxyUriPath": "/other/kms/xks/v1",
        "XksProxyConnectivity": "PUBLIC_ENDPOINT",
        "XksProxyAuthenticationCredential": {"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": SECRET},
    }
    params.update(overrides)

    def create(emu, kms, hsm, ids):
        kms.create_custom_key_store(**params)

    return create


def _xks_unreachable(emu, kms, hsm, ids):
    emu.xks_proxy(XKS_ENDPOINT, reachable=False)
    _xks()(emu, kms, hsm, ids)


def _xks_invalid(emu, kms, hsm, ids):
    emu.xks_proxy(XKS_ENDPOINT, invalid_configuration=True)
    _xks()(emu, kms, hsm, ids)


ERROR_CASES = [
    (
        "kms",
        "CustomKeyStoreNotFoundException",
        lambda emu, kms, hsm, ids: kms.connect_custom_key_store(CustomKeyStoreId="cks-00000000000000000"),
    ),
    (
        "kms",
        "CustomKeyStoreInvalidStateException",
        lambda emu, kms, hsm, ids: kms.disconnect_custom_key_store(
            CustomKeyStoreId=ids["custom_key_stores"]["hsm-store"]
        ),
    ),
    (
        "kms",
        "CustomKeyStoreNameInUseException",
        lambda emu, kms, hsm, ids: kms.update_custom_key_store(
            CustomKeyStoreId=ids["custom_key_stores"]["hsm-store"], NewCustomKeyStoreName="xks-store"
        ),
    ),
    ("kms", "CloudHsmClusterNotFoundException", _create_on("cluster-aaaaaaaaaaa")),
    ("kms", "CloudHsmClusterInUseException", _create_on("restored")),
    ("kms", "CloudHsmClusterNotActiveException", _not_active),
    ("kms", "CloudHsmClusterInvalidConfigurationException", _invalid_configuration),
    ("kms", "IncorrectTrustAnchorException", _bad_anchor),
    (
        "kms",
        "CloudHsmClusterNotRelatedException",
        lambda emu, kms, hsm, ids: kms.update_custom_key_store(
            CustomKeyStoreId=ids["custom_key_stores"]["hsm-store"], CloudHsmClusterId=ids["clusters"]["free"]
        ),
    ),
    ("kms", "CustomKeyStoreHasCMKsException", _has_cmks),
    ("kms", "InvalidMarkerException", lambda emu, kms, hsm, ids: kms.describe_custom_key_stores(Marker="garbage")),
    ("kms", "XksProxyUriInUseException", _xks(XksProxyUriPath="/kms/xks/v1")),
    ("kms", "XksProxyUriUnreachableException", _xks_unreachable),
    ("kms", "XksProxyInvalidConfigurationException", _xks_invalid),
    (
        "kms",
        "XksProxyIncorrectAuthenticationCredentialException",
        _xks(XksProxyAuthenticationCredential={"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": "x" * 43}),
    ),
    (
        "cloudhsmv2",
        "CloudHsmResourceNotFoundException",
        lambda emu, kms, hsm, ids: hsm.create_hsm(ClusterId="cluster-aaaaaaaaaaa", AvailabilityZone="us-east-1a"),
    ),
    (
        "cloudhsmv2",
        "CloudHsmInvalidRequestException",
        lambda emu, kms, hsm, ids: hsm.create_hsm(ClusterId=ids["clusters"]["free"], AvailabilityZone="us-east-1f"),
    ),
]


@pytest.mark.parametrize("service, exception, action", ERROR_CASES, ids=[case[1] for case in ERROR_CASES])
def test_errors_raise_the_modelled_exception_class(emu, kms, hsm, ids, service, exception, action):
    api = kms if service == "kms" else hsm
    with pytest.raises(getattr(api.exceptions, exception)) as caught:
        action(emu, kms, hsm, ids)
    assert caught.value.response["Error"]["Code"] == exception
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_server_side_validation_catches_what_botocore_does_not(emu, kms, running):
    for call in (
        lambda: kms.describe_custom_key_stores(CustomKeyStoreName="n" * 257),
        lambda: kms.create_custom_key_store(CustomKeyStoreName="n", CustomKeyStoreType="NOPE"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "ValidationException"
    unchecked = aws(running, "kms", parameter_validation=False)
    with pytest.raises(ClientError) as caught:
        unchecked.connect_custom_key_store()
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "CustomKeyStoreId" in caught.value.response["Error"]["Message"]
    assert emu.world()["custom_key_stores"] == []


def test_regions_are_isolated(emu, running, ids):
    east = aws(running, "kms", "us-east-1")
    west = aws(running, "kms", "eu-west-1")
    assert len(east.describe_custom_key_stores()["CustomKeyStores"]) == 2
    assert west.describe_custom_key_stores()["CustomKeyStores"] == []
    assert aws(running, "cloudhsmv2", "eu-west-1").describe_clusters()["Clusters"] == []
    with pytest.raises(west.exceptions.CustomKeyStoreNotFoundException):
        west.connect_custom_key_store(CustomKeyStoreId=ids["custom_key_stores"]["hsm-store"])
    emu.seed(
        {
            "region": "eu-west-1",
            "clusters": [{"name": "demo"}],
            "custom_key_stores": [{"name": "hsm-store", "cluster": "demo"}],
        }
    )
    assert [s["CustomKeyStoreName"] for s in west.describe_custom_key_stores()["CustomKeyStores"]] == ["hsm-store"]
    assert {entry["region"] for entry in emu.calls()} == {"us-east-1", "eu-west-1"}


# ---------------------------------------------------------------------------
# Raw protocol
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, target, code",
    [
        (b"{not json", "TrentService.ConnectCustomKeyStore", "SerializationException"),
        (b"[]", "TrentService.ConnectCustomKeyStore", "SerializationException"),
        (b"{}", None, "UnknownOperationException"),
        (b"{}", "Nope.ConnectCustomKeyStore", "UnknownOperationException"),
        (b"{}", "TrentService.TeleportKey", "UnknownOperationException"),
        (b'{"CustomKeyStoreId": 7}', "TrentService.DeleteCustomKeyStore", "ValidationException"),
    ],
)
def test_malformed_requests_get_aws_errors_and_leave_the_world_unchanged(emu, running, ids, body, target, code):
    before = emu.world()
    response, payload = raw_post(running, body, target)
    assert response.status == 400
    assert json.loads(payload.decode("utf-8"))["__type"] == code
    after = emu.world()
    before.pop("time")
    after.pop("time")
    assert after == before
    logged = emu.calls()[-1]
    assert (logged["status"], logged["error_code"]) == (400, code)


def test_json_1_1_headers_and_keep_alive(running, emu):
    parts = urlsplit(running.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    for _attempt in range(3):
        connection.request("POST", "/", body=b"{}", headers={"X-Amz-Target": "TrentService.DescribeCustomKeyStores"})
        response = connection.getresponse()
        assert json.loads(response.read().decode("utf-8")) == {"CustomKeyStores": [], "Truncated": False}
        assert response.status == 200
        assert response.getheader("Content-Type") == "application/x-amz-json-1.1"
        assert response.getheader("x-amzn-RequestId")
    connection.close()


def test_unsigned_requests_use_the_default_region(running, emu):
    emu.seed(
        {"region": "us-east-1", "clusters": [{"name": "demo"}], "custom_key_stores": [{"name": "s", "cluster": "demo"}]}
    )
    response, payload = raw_post(running, b"{}")
    assert response.status == 200 and len(json.loads(payload.decode("utf-8"))["CustomKeyStores"]) == 1
    signed = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260101/ap-south-1/kms/aws4_request, SignedHeaders=host, Signature=x"
    }
    response, payload = raw_post(running, b"{}", headers=signed)
    assert json.loads(payload.decode("utf-8"))["CustomKeyStores"] == []


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------


def test_throttling_is_recognised_and_retried_by_botocore(emu, running, ids):
    emu.faults(throttle_ratio=1.0)
    kms = aws(running, "kms", retries={"mode": "standard", "total_max_attempts": 2})
    since = emu.last_seq()
    with pytest.raises(ClientError) as caught:
        kms.describe_custom_key_stores()
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 1  # botocore retried it as throttling
    assert [entry["error_code"] for entry in emu.calls(since=since)] == ["ThrottlingException", "ThrottlingException"]


def test_default_throttling_code_is_retried_by_the_collections_awsretry():
    # KMS and CloudHSM answer ThrottlingException, which amazon.aws's AWSRetry retries only when asked to.
    kms_calls = pytest.importorskip("ansible_collections.awskms.custom_key_store.plugins.module_utils.kms")
    cloudhsm_calls = pytest.importorskip("ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm")
    assert server.wire.DEFAULT_THROTTLING_CODE == "ThrottlingException"
    assert server.wire.DEFAULT_THROTTLING_CODE in kms_calls.RETRIED_ERROR_CODES
    assert server.wire.DEFAULT_THROTTLING_CODE in cloudhsm_calls.RETRIED_ERROR_CODES


def test_throttling_code_can_be_chosen(emu, running, hsm):
    emu.faults(throttle_ratio=1.0, throttle_code="Throttling", operations=["DescribeClusters"])
    with pytest.raises(ClientError) as caught:
        hsm.describe_clusters()
    assert caught.value.response["Error"]["Code"] == "Throttling"


def test_error_ratio_gives_internal_errors_and_changes_nothing(emu, kms, hsm, ids):
    emu.faults(error_ratio=1.0)
    store_id = ids["custom_key_stores"]["hsm-store"]
    with pytest.raises(kms.exceptions.KMSInternalException) as caught:
        kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    with pytest.raises(hsm.exceptions.CloudHsmInternalFailureException):
        hsm.describe_clusters()
    emu.clear_faults()
    assert (
        kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]["ConnectionState"]
        == "DISCONNECTED"
    )


def test_latency_applies_to_the_chosen_operations_only(emu, kms, hsm):
    emu.faults(latency_seconds=0.4, operations=["DescribeClusters"])
    started = time.monotonic()
    hsm.describe_clusters()
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    kms.describe_custom_key_stores()
    assert time.monotonic() - started < 0.4


def test_faults_apply_to_the_chosen_regions_only(emu, running, ids):
    emu.seed({"region": "ap-south-1", "clusters": [{"name": "south"}]})
    emu.faults(throttle_ratio=1.0, latency_seconds=0.3, regions=["ap-south-1"])
    assert emu._call("GET", "faults")["regions"] == ["ap-south-1"]
    since = emu.last_seq()
    east = aws(running, "kms")  # made before the clock starts: only the request is timed
    started = time.monotonic()
    assert len(east.describe_custom_key_stores()["CustomKeyStores"]) == 2  # us-east-1: untouched
    assert time.monotonic() - started < 0.3
    with pytest.raises(ClientError) as caught:
        aws(running, "cloudhsmv2", region="ap-south-1").describe_clusters()
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert [(entry["region"], entry["error_code"]) for entry in emu.calls(since=since)] == [
        ("us-east-1", None),
        ("ap-south-1", "ThrottlingException"),
    ]
    emu.faults(error_ratio=1.0)  # regions omitted: every Region
    assert emu._call("GET", "faults")["regions"] is None
    with pytest.raises(ClientError):
        aws(running, "kms").describe_custom_key_stores()


def test_seeded_faults_are_reproducible(emu, kms):
    # ... also when other calls come between: clients side by side interleave their calls differently in each run.
    def pattern(interleaved):
        emu.faults(throttle_ratio=0.5, seed=7)
        outcomes = []
        for index in range(12):
            for _other in range(index % 3 if interleaved else 0):
                try:
                    kms.generate_random(NumberOfBytes=8)
                except ClientError:
                    pass
            try:
                kms.describe_custom_key_stores()
                outcomes.append("ok")
            except ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])
        return outcomes

    first = pattern(interleaved=False)
    assert first == pattern(interleaved=False)
    assert first == pattern(interleaved=True)
    assert set(first) == {"ok", "ThrottlingException"}


def test_one_shot_connection_errors_through_http(emu, kms, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    assert emu.connection_errors(store_id, ["NETWORK_ERRORS"])["queued_connection_errors"] == ["NETWORK_ERRORS"]
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert wait_for(kms, store_id, ("CONNECTED", "FAILED")).get("ConnectionErrorCode") == "NETWORK_ERRORS"
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    wait_for(kms, store_id, ("DISCONNECTED",))
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert wait_for(kms, store_id, ("CONNECTED", "FAILED"))["ConnectionState"] == "CONNECTED"
    with pytest.raises(client.EmulatorError) as caught:
        emu.connection_errors(store_id, ["SOMETHING_ELSE"])
    assert caught.value.status == 400 and "ConnectionErrorCode" in caught.value.message


def test_bad_fault_specs_are_refused(emu):
    for spec in (
        {"throttle_ratio": 2},
        {"operations": ["Teleport"]},
        {"latency_seconds": -1},
        {"surprise": True},
        {"regions": "ap-south-1"},
        {"regions": ["ap-south-1", "Mars"]},
        {"regions": [7]},
    ):
        with pytest.raises(client.EmulatorError) as caught:
            emu.faults(**spec)
        assert caught.value.status == 400
    assert emu._call("GET", "faults")["throttle_ratio"] == 0.0


# ---------------------------------------------------------------------------
# Request log
# ---------------------------------------------------------------------------


def test_request_log_redacts_secrets(emu, kms, running, ids):
    credential = {"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": SECRET}
    kms.update_custom_key_store(CustomKeyStoreId=ids["custom_key_stores"]["hsm-store"], KeyStorePassword=PASSWORD)
    kms.update_custom_key_store(
        CustomKeyStoreId=ids["custom_key_stores"]["xks-store"], XksProxyAuthenticationCredential=credential
    )
    with pytest.raises(ClientError):  # rejected requests are logged, and redacted, too
        aws(running, "kms", parameter_validation=False).update_custom_key_store(KeyStorePassword=PASSWORD + "!" * 40)
    text = json.dumps(emu.requests())
    assert PASSWORD not in text and SECRET not in text
    assert text.count("<redacted>") >= 3
    assert PASSWORD not in json.dumps(emu.world()) and SECRET not in json.dumps(emu.world())


def test_request_log_entries_since_and_clear(emu, kms, hsm):
    since = emu.last_seq()
    kms.describe_custom_key_stores()
    with pytest.raises(kms.exceptions.CustomKeyStoreNotFoundException):
        kms.connect_custom_key_store(CustomKeyStoreId="cks-00000000000000000")
    hsm.describe_clusters()
    entries = emu.calls(since=since)
    assert [(e["service"], e["operation"], e["status"], e["mutating"]) for e in entries] == [
        ("kms", "DescribeCustomKeyStores", 200, False),
        ("kms", "ConnectCustomKeyStore", 400, True),
        ("cloudhsmv2", "DescribeClusters", 200, False),
    ]
    assert entries[1]["error_code"] == "CustomKeyStoreNotFoundException"
    assert entries[1]["params"] == {"CustomKeyStoreId": "cks-00000000000000000"}
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries) and entries[0]["seq"] == since + 1
    assert [e["operation"] for e in emu.mutating_calls(since=since)] == ["ConnectCustomKeyStore"]
    assert len(emu.calls("DescribeClusters", since=since)) == 1
    last = emu.clear_requests()["last_seq"]
    assert emu.requests()["requests"] == [] and emu.last_seq() == last


# ---------------------------------------------------------------------------
# Control API and client
# ---------------------------------------------------------------------------


def test_control_api_errors_are_json_sentences(running, emu):
    parts = urlsplit(running.url)
    cases = [
        ("GET", "/_emulator/nothing", None, 404),
        ("DELETE", "/_emulator/seed", None, 405),
        ("POST", "/_emulator/seed", b"{broken", 400),
        ("POST", "/_emulator/kmsuser", b'{"state": "absent"}', 400),
        ("GET", "/_emulator/requests?since=abc", None, 400),
    ]
    for method, path, body, status in cases:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        connection.request(method, path, body=body)
        response = connection.getresponse()
        payload = json.loads(response.read().decode("utf-8"))
        connection.close()
        assert response.status == status, path
        assert isinstance(payload["error"], str) and payload["error"].endswith(".")
    assert emu.requests()["requests"] == []  # control calls are never logged


def test_client_operator_actions(emu, kms, hsm, ids):
    assert emu.health() == {"ok": True}
    demo = ids["clusters"]["demo"]
    world = emu.world()
    subnet = [c for c in world["clusters"] if c["name"] == "demo"][0]["subnets"][0]["subnet_id"]
    assert emu.delete_subnet(demo, subnet)["subnets"][0]["deleted"] is True
    assert emu.delete_subnet(demo, subnet, deleted=False)["subnets"][0]["deleted"] is False
    assert emu.fill_subnet(demo, subnet)["subnets"][0]["full"] is True
    assert emu.fill_subnet(demo, subnet, full=False)["subnets"][0]["full"] is False
    assert emu.kmsuser(demo, "locked")["kmsuser"] == {"state": "locked"}
    assert emu.set_cluster_state(demo, "DEGRADED")["state"] == "DEGRADED"
    assert emu.set_hsm_state(demo, ids["hsms"]["demo"][0], "DEGRADED")["active_hsm_count"] == 1
    assert emu.xks_proxy(XKS_ENDPOINT, reachable=False)["reachable"] is False
    assert emu.xks_proxy(XKS_ENDPOINT, state="absent") == {"uri_endpoint": XKS_ENDPOINT, "state": "absent"}
    store = emu.set_store_state(ids["custom_key_stores"]["hsm-store"], "FAILED", "USER_LOCKED_OUT")
    assert (store["connection_state"], store["connection_error_code"]) == ("FAILED", "USER_LOCKED_OUT")
    entry = kms.describe_custom_key_stores(CustomKeyStoreId=ids["custom_key_stores"]["hsm-store"])["CustomKeyStores"][0]
    assert entry["ConnectionErrorCode"] == "USER_LOCKED_OUT"
    store = emu.set_store_state(ids["custom_key_stores"]["hsm-store"], "DISCONNECTING", transition_seconds=30)
    assert store["pending"]["due_in_seconds"] > 20
    assert emu.race("hsm-store", "ConnectCustomKeyStore", "CONNECTING")["races"] == [
        ["ConnectCustomKeyStore", "CONNECTING"]
    ]
    assert emu.delete_store("xks-store") == {"deleted": ids["custom_key_stores"]["xks-store"]}
    assert [entry["CustomKeyStoreName"] for entry in kms.describe_custom_key_stores()["CustomKeyStores"]] == [
        "hsm-store"
    ]
    assert emu.delete_cluster(demo) == {"deleted": demo}
    assert demo not in [c["ClusterId"] for c in hsm.describe_clusters()["Clusters"]]
    assert emu.settings(connect_seconds=0.5)["connect_seconds"] == 0.5
    assert emu.settings()["connect_seconds"] == 0.5
    assert emu.reset("us-east-1") == {"reset": "us-east-1"}
    assert emu.world()["clusters"] == []


def test_client_reports_an_unreachable_emulator():
    dead = client.EmulatorClient("http://127.0.0.1:9", timeout=1)
    with pytest.raises(client.EmulatorError) as caught:
        dead.health()
    assert caught.value.status == 0
    with pytest.raises(client.EmulatorError):
        dead.wait_until_healthy(timeout=0.2)


def test_start_accepts_a_seed_and_stops_cleanly():
    handle = server.start(seed={"clusters": [{"name": "c"}]}, connect_seconds=0.1)
    try:
        control = client.EmulatorClient(handle.url)
        assert [c["name"] for c in control.wait_until_healthy() and control.world()["clusters"]] == ["c"]
        assert control.settings()["connect_seconds"] == 0.1
    finally:
        handle.stop()
    with pytest.raises(client.EmulatorError):
        client.EmulatorClient(handle.url, timeout=1).health()


# ---------------------------------------------------------------------------
# Concurrency
# ---------------------------------------------------------------------------

ALLOWED_TRANSITIONS = {
    ("DISCONNECTED", "CONNECTING"),
    ("CONNECTING", "CONNECTED"),
    ("CONNECTING", "FAILED"),
    ("CONNECTING", "DISCONNECTING"),
    ("CONNECTED", "DISCONNECTING"),
    ("FAILED", "DISCONNECTING"),
    ("DISCONNECTING", "DISCONNECTED"),
}


def test_concurrent_clients_leave_a_consistent_world(emu, running, ids):
    emu.settings(connect_seconds=0.05, disconnect_seconds=0.05)
    store_ids = list(ids["custom_key_stores"].values())
    clients = [aws(running, "kms") for _index in range(8)]
    since = emu.last_seq()
    counts = []
    errors = []

    def worker(index, kms):
        calls = 0
        for step in range(12):
            store_id = store_ids[(index + step) % len(store_ids)]
            try:
                calls += 1
                if index % 2:
                    kms.describe_custom_key_stores()
                elif step % 2:
                    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
                else:
                    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
            except kms.exceptions.CustomKeyStoreInvalidStateException:
                pass
            except Exception as exc:  # anything else is a failure of the emulator
                errors.append(exc)
        counts.append(calls)

    threads = [threading.Thread(target=worker, args=(index, kms)) for index, kms in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert len(emu.calls(since=since)) == sum(counts) == 8 * 12
    time.sleep(0.2)
    for store in emu.world()["custom_key_stores"]:
        states = [entry["state"] for entry in store["history"]]
        assert set(zip(states, states[1:])) <= ALLOWED_TRANSITIONS, states
        times = [entry["time"] for entry in store["history"]]
        assert times == sorted(times)
        assert store["connection_state"] in ("CONNECTED", "DISCONNECTED", "FAILED")
        assert store["pending"] is None
