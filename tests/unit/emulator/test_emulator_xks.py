# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""XKS outcomes from the world, over real HTTP: each ConnectionErrorCode arises from a proxy or
VPC endpoint service condition, and goes away when the condition is fixed (tests/emulator/xks.py)."""

import time

import pytest

boto3 = pytest.importorskip("boto3")
from ansible_collections.awskms.custom_key_store.tests.emulator import (  # noqa: E402  pylint: disable=wrong-import-position
    client,
)
from botocore.config import Config  # noqa: E402  pylint: disable=wrong-import-position
from botocore.exceptions import ClientError  # noqa: E402  pylint: disable=wrong-import-position

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRST"
SECRET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OTHER_SECRET = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
PUBLIC = "https://xks.example.com"
VPC = "https://vpc-xks.example.com"
SERVICE = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
# The probe timeout is 1 s here; a proxy that waits 3 s times out.
SERVER_SETTINGS = {"connect_seconds": 0.05, "disconnect_seconds": 0.05, "xks_probe_timeout_seconds": 1.0}


@pytest.fixture
def kms(running):
    return boto3.client(
        "kms",
        endpoint_url=running.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def ids(emu):
    """A healthy public store and a healthy VPC endpoint service store, each with its own proxy."""
    return emu.seed(
        {
            "xks_proxies": [
                {"uri_endpoint": endpoint, "access_key_id": ACCESS_KEY, "secret_access_key": SECRET}
                for endpoint in (PUBLIC, VPC)
            ],
            "vpc_endpoint_services": [{"service_name": SERVICE}],
            "custom_key_stores": [
                {"name": "public", "type": "EXTERNAL_KEY_STORE", "xks_proxy_uri_endpoint": PUBLIC},
                {
                    "name": "vpc",
                    "type": "EXTERNAL_KEY_STORE",
                    "xks_proxy_uri_endpoint": VPC,
                    "xks_proxy_connectivity": "VPC_ENDPOINT_SERVICE",
                    "xks_proxy_vpc_endpoint_service_name": SERVICE,
                },
            ],
        }
    )["custom_key_stores"]


def settle(kms, store_id, timeout=8.0):
    deadline = time.monotonic() + timeout
    while True:
        entry = kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]
        if entry["ConnectionState"] not in ("CONNECTING", "DISCONNECTING") or time.monotonic() > deadline:
            return entry
        time.sleep(0.02)


def connect(kms, store_id):
    """Connect (disconnecting a FAILED store first) and return (state, code) once it settles."""
    if settle(kms, store_id)["ConnectionState"] == "FAILED":
        kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
        settle(kms, store_id)
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    entry = settle(kms, store_id)
    return entry["ConnectionState"], entry.get("ConnectionErrorCode")


def proxy_for(running, endpoint):
    return running.emulator.regions.proxy_servers.handle("us-east-1", endpoint)


# (code, broken, fixed): proxy conditions, applied with the control API's xks-proxy action.
PROXY_CASES = [
    ("XKS_PROXY_NOT_REACHABLE", {"reachable": False}, {"reachable": True}),
    ("XKS_PROXY_NOT_REACHABLE", {"ekm_health": "UNAVAILABLE"}, {"ekm_health": "DEGRADED"}),
    ("INVALID_CREDENTIALS", {"secret_access_key": OTHER_SECRET}, {"secret_access_key": SECRET}),
    ("INVALID_CREDENTIALS", {"access_key_id": "QRSTUVWXYZABCDEFGHIJ"}, {"access_key_id": ACCESS_KEY}),
    ("XKS_PROXY_TIMED_OUT", {"delay_seconds": 3}, {"delay_seconds": 0}),
    ("XKS_PROXY_INVALID_RESPONSE", {"answer": "garbage"}, {"answer": "health"}),
    ("XKS_PROXY_INVALID_RESPONSE", {"answer": "incomplete"}, {"answer": "health"}),
    ("XKS_PROXY_ACCESS_DENIED", {"deny_access": True}, {"deny_access": False}),
    ("XKS_PROXY_INVALID_TLS_CONFIGURATION", {"certificate": "wrong_host"}, {"certificate": "valid"}),
    ("XKS_PROXY_INVALID_TLS_CONFIGURATION", {"certificate": "expired"}, {"certificate": "valid"}),
    ("XKS_PROXY_INVALID_TLS_CONFIGURATION", {"certificate": "unknown_ca"}, {"certificate": "valid"}),
    ("XKS_PROXY_INVALID_CONFIGURATION", {"invalid_configuration": True}, {"invalid_configuration": False}),
    ("XKS_PROXY_INVALID_CONFIGURATION", {"uri_path": "/tenant/kms/xks/v1"}, {"uri_path": ""}),
]


@pytest.mark.parametrize("store", ["public", "vpc"])
@pytest.mark.parametrize(
    "code, broken, fixed", PROXY_CASES, ids=[case[0] + "-%s=%s" % sorted(case[1].items())[0] for case in PROXY_CASES]
)
def test_proxy_condition_fails_the_connection_until_fixed(emu, kms, ids, store, code, broken, fixed):
    endpoint = PUBLIC if store == "public" else VPC
    emu.xks_proxy(endpoint, **broken)
    assert connect(kms, ids[store]) == ("FAILED", code)
    emu.xks_proxy(endpoint, **fixed)
    assert connect(kms, ids[store]) == ("CONNECTED", None)


# (code, broken, fixed): VPC endpoint service settings, applied with the vpc-endpoint-service action.
SERVICE_CASES = [
    ("XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND", {"state": "absent"}, {}),
    ("XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND", {"kms_principal_allowed": False}, {"kms_principal_allowed": True}),
    ("XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION", {"acceptance_required": True}, {"acceptance_required": False}),
    ("XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION", {"availability_zones": 1}, {"availability_zones": 2}),
    (
        "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION",
        {"load_balancer_type": "gateway"},
        {"load_balancer_type": "network"},
    ),
    (
        "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION",
        {"private_dns_name": ""},
        {"private_dns_name": "vpc-xks.example.com"},
    ),
    (
        "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION",
        {"private_dns_name": "other.example.com"},
        {"private_dns_name": "vpc-xks.example.com"},
    ),
    ("XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION", {"private_dns_verified": False}, {"private_dns_verified": True}),
]


@pytest.mark.parametrize(
    "code, broken, fixed",
    SERVICE_CASES,
    ids=[case[0] + "-%s=%s" % sorted(case[1].items())[0] for case in SERVICE_CASES],
)
def test_endpoint_service_condition_fails_the_connection_until_fixed(emu, kms, ids, code, broken, fixed):
    emu.vpc_endpoint_service(SERVICE, **broken)
    assert connect(kms, ids["vpc"]) == ("FAILED", code)
    emu.vpc_endpoint_service(SERVICE, **fixed)
    assert connect(kms, ids["vpc"]) == ("CONNECTED", None)


def test_private_dns_name_must_be_unique_in_the_region(emu, kms, ids):
    other = SERVICE.replace("0123456789abcdef0", "00000000000000001")
    emu.vpc_endpoint_service(other, private_dns_name="vpc-xks.example.com")
    assert connect(kms, ids["vpc"]) == ("FAILED", "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION")
    emu.vpc_endpoint_service(other, state="absent")
    assert connect(kms, ids["vpc"]) == ("CONNECTED", None)


def test_endpoint_service_is_checked_before_the_proxy(emu, kms, ids):
    emu.xks_proxy(VPC, reachable=False)
    emu.vpc_endpoint_service(SERVICE, acceptance_required=True)
    assert connect(kms, ids["vpc"]) == ("FAILED", "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION")
    emu.vpc_endpoint_service(SERVICE, acceptance_required=False)
    assert connect(kms, ids["vpc"]) == ("FAILED", "XKS_PROXY_NOT_REACHABLE")


def test_a_wrong_credential_really_fails_the_signature_check(emu, kms, running, ids):
    emu.xks_proxy(PUBLIC, secret_access_key=OTHER_SECRET)
    assert connect(kms, ids["public"]) == ("FAILED", "INVALID_CREDENTIALS")
    emu.xks_proxy(PUBLIC, secret_access_key=SECRET)
    assert connect(kms, ids["public"]) == ("CONNECTED", None)
    answered = [
        (entry["path"], entry["status"], entry["kms_operation"]) for entry in proxy_for(running, PUBLIC).requests()
    ]
    assert answered[-2:] == [
        ("/kms/xks/v1/health", 401, "ConnectCustomKeyStore"),
        ("/kms/xks/v1/health", 200, "ConnectCustomKeyStore"),
    ]


def test_the_outcome_is_probed_when_the_connection_ends(emu, kms, ids):
    emu.settings(connect_seconds=1.0)
    kms.connect_custom_key_store(CustomKeyStoreId=ids["public"])
    emu.xks_proxy(PUBLIC, reachable=False)  # broken while CONNECTING: the probe at the end sees it
    assert settle(kms, ids["public"])["ConnectionErrorCode"] == "XKS_PROXY_NOT_REACHABLE"


def test_a_slow_proxy_costs_at_most_the_probe_timeout(emu, kms, ids):
    emu.xks_proxy(PUBLIC, delay_seconds=30)
    kms.connect_custom_key_store(CustomKeyStoreId=ids["public"])
    time.sleep(0.1)
    started = time.monotonic()
    entry = settle(kms, ids["public"])
    assert entry["ConnectionErrorCode"] == "XKS_PROXY_TIMED_OUT"
    assert time.monotonic() - started < 3.0


def test_one_shot_codes_still_win_over_a_healthy_world(emu, kms, ids):
    emu.connection_errors(ids["public"], ["XKS_PROXY_TIMED_OUT"])
    assert connect(kms, ids["public"]) == ("FAILED", "XKS_PROXY_TIMED_OUT")
    assert connect(kms, ids["public"]) == ("CONNECTED", None)


def _create(kms, name, endpoint, secret=SECRET, **params):
    params.setdefault("XksProxyConnectivity", "PUBLIC_ENDPOINT")
    return kms.create_custom_key_store(
        CustomKeyStoreName=name,
        CustomKeyStoreType="EXTERNAL_KEY_STORE",
        XksProxyUriEndpoint=endpoint,
        XksProxyUriPath="/new/kms/xks/v1",
        XksProxyAuthenticationCredential={"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": secret},
        **params
    )


CREATE_CASES = [
    ({"reachable": False}, "XksProxyUriUnreachableException"),
    ({"delay_seconds": 3}, "XksProxyUriUnreachableException"),
    ({"certificate": "wrong_host"}, "XksProxyUriUnreachableException"),
    ({"secret_access_key": OTHER_SECRET}, "XksProxyIncorrectAuthenticationCredentialException"),
    ({"invalid_configuration": True}, "XksProxyInvalidConfigurationException"),
    ({"answer": "garbage"}, "XksProxyInvalidResponseException"),
]


@pytest.mark.parametrize("broken, exception", CREATE_CASES, ids=[sorted(case[0])[0] for case in CREATE_CASES])
def test_public_create_tests_the_proxy(emu, kms, running, ids, broken, exception):
    endpoint = "https://new-xks.example.com"
    conditions = {"access_key_id": ACCESS_KEY, "secret_access_key": SECRET}
    conditions.update(broken)
    emu.xks_proxy(endpoint, **conditions)
    with pytest.raises(ClientError) as caught:
        _create(kms, "new", endpoint)
    assert caught.value.response["Error"]["Code"] == exception
    assert SECRET not in str(caught.value) and OTHER_SECRET not in str(caught.value)
    assert [s["CustomKeyStoreName"] for s in kms.describe_custom_key_stores()["CustomKeyStores"]] == ["public", "vpc"]
    emu.xks_proxy(
        endpoint,
        reachable=True,
        delay_seconds=0,
        certificate="valid",
        secret_access_key=SECRET,
        invalid_configuration=False,
        answer="health",
    )
    assert _create(kms, "new", endpoint)["CustomKeyStoreId"]
    operations = [entry["kms_operation"] for entry in proxy_for(running, endpoint).requests()]
    assert operations[-1] == "CreateCustomKeyStore"


def test_public_create_accepts_a_proxy_that_denies_the_health_check(emu, kms, ids):
    # KMS names no create exception for XKS_PROXY_ACCESS_DENIED; the store fails at connect instead.
    emu.xks_proxy("https://new-xks.example.com", access_key_id=ACCESS_KEY, secret_access_key=SECRET, deny_access=True)
    store_id = _create(kms, "new", "https://new-xks.example.com")["CustomKeyStoreId"]
    assert connect(kms, store_id) == ("FAILED", "XKS_PROXY_ACCESS_DENIED")


def test_vpc_create_does_not_contact_the_proxy(emu, kms, running, ids):
    endpoint = "https://new-vpc.example.com"
    emu.xks_proxy(endpoint, access_key_id=ACCESS_KEY, secret_access_key=OTHER_SECRET)
    service = SERVICE.replace("0123456789abcdef0", "00000000000000002")
    emu.vpc_endpoint_service(service)
    store_id = _create(
        kms, "new", endpoint, XksProxyConnectivity="VPC_ENDPOINT_SERVICE", XksProxyVpcEndpointServiceName=service
    )["CustomKeyStoreId"]
    assert proxy_for(running, endpoint).requests() == []
    assert connect(kms, store_id) == ("FAILED", "INVALID_CREDENTIALS")
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)  # UpdateCustomKeyStore is refused while FAILED
    settle(kms, store_id)
    kms.update_custom_key_store(
        CustomKeyStoreId=store_id,
        XksProxyAuthenticationCredential={"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": OTHER_SECRET},
    )
    assert connect(kms, store_id) == ("CONNECTED", None)


def test_update_of_a_public_store_tests_the_new_credential(emu, kms, ids):
    with pytest.raises(ClientError) as caught:
        kms.update_custom_key_store(
            CustomKeyStoreId=ids["public"],
            XksProxyAuthenticationCredential={"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": OTHER_SECRET},
        )
    assert caught.value.response["Error"]["Code"] == "XksProxyIncorrectAuthenticationCredentialException"
    assert connect(kms, ids["public"]) == ("CONNECTED", None)  # the store kept the credential the proxy accepts


def test_controls_refuse_unknown_conditions_and_never_show_secrets(emu, ids):
    with pytest.raises(client.EmulatorError) as caught:
        emu.xks_proxy(PUBLIC, certificate="self_signed")
    assert caught.value.status == 400 and "wrong_host" in caught.value.message
    with pytest.raises(client.EmulatorError) as caught:
        emu.vpc_endpoint_service(SERVICE, load_balancer="network")
    assert caught.value.status == 400 and "load_balancer_type" in caught.value.message
    world = emu.world()
    assert [service["service_name"] for service in world["vpc_endpoint_services"]] == [SERVICE]
    assert SECRET not in str(world)
