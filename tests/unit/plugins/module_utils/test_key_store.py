# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Creating, updating and deleting a custom key store, against Stubber-checked KMS clients."""

import json

import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils import key_store_plan
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store import KeyStoreRunner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import explain_aws_error
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import CLUSTER_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import KMSUSER_PASSWORD
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_NAME
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import XKS_ACCESS_KEY_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import XKS_SECRET
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import entry_with
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import store_entry

CLOUDHSM = "AWS_CLOUDHSM"
XKS = "EXTERNAL_KEY_STORE"
BY_NAME = {"CustomKeyStoreName": STORE_NAME}
BY_ID = {"CustomKeyStoreId": STORE_ID}
CREATE, UPDATE, DELETE = "CreateCustomKeyStore", "UpdateCustomKeyStore", "DeleteCustomKeyStore"
CONNECT, DISCONNECT = "ConnectCustomKeyStore", "DisconnectCustomKeyStore"
OTHER_CLUSTER = "cluster-7654322dcba"
VPC_SERVICE = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef1"
OTHER_VPC_SERVICE = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef2"
OTHER_KEY_ID = "ZYXWVUTSRQPONMLKJIHG"
ANCHOR = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
CREDENTIAL = {"access_key_id": XKS_ACCESS_KEY_ID, "raw_secret_access_key": XKS_SECRET}
NEW_CREDENTIAL = {"access_key_id": OTHER_KEY_ID, "raw_secret_access_key": XKS_SECRET}


def params(**overrides):
    """Module parameters as Ansible hands them over (every option present, defaults applied)."""
    values = dict(
        custom_key_store_name=STORE_NAME,
        custom_key_store_id=None,
        state="present",
        custom_key_store_type=CLOUDHSM,
        cloud_hsm_cluster_id=None,
        trust_anchor_certificate=None,
        key_store_password=None,
        xks_proxy_uri_endpoint=None,
        xks_proxy_uri_path=None,
        xks_proxy_connectivity=None,
        xks_proxy_vpc_endpoint_service_name=None,
        xks_proxy_vpc_endpoint_service_owner=None,
        xks_proxy_authentication_credential=None,
        update_password="on_create",
        allow_disconnect=False,
        wait=False,
        wait_timeout=1200,
    )
    values.update(overrides)
    return values


def xks(**overrides):
    return params(custom_key_store_type=XKS, **overrides)


def runner(client, clock, check_mode=False):
    return KeyStoreRunner(client, "us-east-1", check_mode=check_mode, sleep=clock.sleep, clock=clock.clock)


def expect_describe(stubber, entry, selector=None):
    stubber.add_response("describe_custom_key_stores", {"CustomKeyStores": [entry]}, selector or BY_ID)


def expect_not_found(stubber, selector):
    stubber.add_client_error(
        "describe_custom_key_stores", "CustomKeyStoreNotFoundException", "none", 400, expected_params=selector
    )


def expect_call(stubber, operation, **members):
    stubber.add_response(operation, {}, dict(CustomKeyStoreId=STORE_ID, **members))


def secret_free(result):
    text = json.dumps(result)
    return KMSUSER_PASSWORD not in text and XKS_SECRET not in text


# ---------------------------------------------------------------------------
# The change computation
# ---------------------------------------------------------------------------

HSM = store_entry("CONNECTED")
XKS_STORE = store_entry("CONNECTED", store_type=XKS)
VPC_STORE = entry_with(XKS_STORE, Connectivity="VPC_ENDPOINT_SERVICE", VpcEndpointServiceName=VPC_SERVICE)

# (entry, params) -> the UpdateCustomKeyStore members besides the ID
CHANGES = {
    "cloudhsm-nothing-asked": (HSM, params(), {}),
    "cloudhsm-same-name-and-cluster": (HSM, params(cloud_hsm_cluster_id=CLUSTER_ID), {}),
    "cloudhsm-rename-by-id": (
        HSM,
        params(custom_key_store_id=STORE_ID, custom_key_store_name="renamed"),
        {"NewCustomKeyStoreName": "renamed"},
    ),
    "cloudhsm-other-cluster": (HSM, params(cloud_hsm_cluster_id=OTHER_CLUSTER), {"CloudHsmClusterId": OTHER_CLUSTER}),
    "cloudhsm-password-on-create": (HSM, params(key_store_password=KMSUSER_PASSWORD), {}),
    "cloudhsm-password-always": (
        HSM,
        params(key_store_password=KMSUSER_PASSWORD, update_password="always"),
        {"KeyStorePassword": KMSUSER_PASSWORD},
    ),
    "cloudhsm-always-without-password": (HSM, params(update_password="always"), {}),
    "cloudhsm-trust-anchor-ignored": (HSM, params(trust_anchor_certificate=ANCHOR), {}),
    "xks-same-settings": (
        XKS_STORE,
        xks(
            xks_proxy_uri_endpoint="https://xks.example.com",
            xks_proxy_uri_path="/kms/xks/v1",
            xks_proxy_connectivity="PUBLIC_ENDPOINT",
        ),
        {},
    ),
    "xks-endpoint": (
        XKS_STORE,
        xks(xks_proxy_uri_endpoint="https://xks2.example.com"),
        {"XksProxyUriEndpoint": "https://xks2.example.com"},
    ),
    "xks-path": (XKS_STORE, xks(xks_proxy_uri_path="/kms/xks/v2"), {"XksProxyUriPath": "/kms/xks/v2"}),
    "xks-connectivity": (
        XKS_STORE,
        xks(xks_proxy_connectivity="VPC_ENDPOINT_SERVICE", xks_proxy_vpc_endpoint_service_name=VPC_SERVICE),
        {"XksProxyConnectivity": "VPC_ENDPOINT_SERVICE", "XksProxyVpcEndpointServiceName": VPC_SERVICE},
    ),
    "xks-vpc-service-name": (
        VPC_STORE,
        xks(xks_proxy_vpc_endpoint_service_name=OTHER_VPC_SERVICE),
        {"XksProxyVpcEndpointServiceName": OTHER_VPC_SERVICE},
    ),
    "xks-vpc-service-owner": (
        VPC_STORE,
        xks(xks_proxy_vpc_endpoint_service_owner="111122223333"),
        {"XksProxyVpcEndpointServiceOwner": "111122223333"},
    ),
    "xks-credential-same-key-id": (XKS_STORE, xks(xks_proxy_authentication_credential=CREDENTIAL), {}),
    "xks-credential-other-key-id": (
        XKS_STORE,
        xks(xks_proxy_authentication_credential=NEW_CREDENTIAL),
        {"XksProxyAuthenticationCredential": {"AccessKeyId": OTHER_KEY_ID, "RawSecretAccessKey": XKS_SECRET}},
    ),
    "xks-credential-always": (
        XKS_STORE,
        xks(xks_proxy_authentication_credential=CREDENTIAL, update_password="always"),
        {"XksProxyAuthenticationCredential": {"AccessKeyId": XKS_ACCESS_KEY_ID, "RawSecretAccessKey": XKS_SECRET}},
    ),
}


@pytest.mark.parametrize("case", sorted(CHANGES))
def test_compute_changes_sends_only_what_differs(case):
    entry, wanted, changes = CHANGES[case]
    assert key_store_plan.compute_changes(entry, wanted) == changes


@pytest.mark.parametrize(
    "store_type, changes, blocked",
    [
        (CLOUDHSM, {"NewCustomKeyStoreName": "x"}, []),
        (
            CLOUDHSM,
            {"CloudHsmClusterId": "c", "KeyStorePassword": "p", "NewCustomKeyStoreName": "x"},
            ["cloud_hsm_cluster_id", "key_store_password"],
        ),
        (XKS, {"NewCustomKeyStoreName": "x", "XksProxyUriPath": "/p", "XksProxyAuthenticationCredential": {}}, []),
        (
            XKS,
            {
                "XksProxyUriEndpoint": "e",
                "XksProxyConnectivity": "c",
                "XksProxyVpcEndpointServiceName": "n",
                "XksProxyVpcEndpointServiceOwner": "o",
            },
            [
                "xks_proxy_uri_endpoint",
                "xks_proxy_connectivity",
                "xks_proxy_vpc_endpoint_service_name",
                "xks_proxy_vpc_endpoint_service_owner",
            ],
        ),
    ],
)
def test_fields_that_need_a_disconnected_store(store_type, changes, blocked):
    assert key_store_plan.needs_disconnected(store_type, changes) == blocked


# ---------------------------------------------------------------------------
# Updates: the exact calls for each change, connection state and allow_disconnect
# ---------------------------------------------------------------------------

RENAME = {"custom_key_store_id": STORE_ID, "custom_key_store_name": "renamed"}
PASSWORD = {"key_store_password": KMSUSER_PASSWORD, "update_password": "always"}

# name -> (store type, observed state, params, allow_disconnect, wait, UpdateCustomKeyStore members,
#          script of the calls after the first Describe ("D:<state>" is a Describe by ID), actions)
# A script of None: the run is refused after the first Describe, naming the fields.
UPDATES = {
    "cloudhsm-rename-connected": (
        CLOUDHSM,
        "CONNECTED",
        RENAME,
        False,
        False,
        {"NewCustomKeyStoreName": "renamed"},
        ["update", "D:CONNECTED"],
        [UPDATE],
    ),
    "cloudhsm-cluster-disconnected": (
        CLOUDHSM,
        "DISCONNECTED",
        {"cloud_hsm_cluster_id": OTHER_CLUSTER},
        False,
        False,
        {"CloudHsmClusterId": OTHER_CLUSTER},
        ["update", "D:DISCONNECTED"],
        [UPDATE],
    ),
    "cloudhsm-cluster-connected-refused": (
        CLOUDHSM,
        "CONNECTED",
        {"cloud_hsm_cluster_id": OTHER_CLUSTER},
        False,
        False,
        {"CloudHsmClusterId": OTHER_CLUSTER},
        None,
        [],
    ),
    "cloudhsm-cluster-connected-allowed": (
        CLOUDHSM,
        "CONNECTED",
        {"cloud_hsm_cluster_id": OTHER_CLUSTER},
        True,
        False,
        {"CloudHsmClusterId": OTHER_CLUSTER},
        ["D:CONNECTED", "disconnect", "D:DISCONNECTED", "update", "D:DISCONNECTED", "connect", "D:CONNECTING"],
        [DISCONNECT, UPDATE, CONNECT],
    ),
    "cloudhsm-password-connected-allowed-wait": (
        CLOUDHSM,
        "CONNECTED",
        PASSWORD,
        True,
        True,
        {"KeyStorePassword": KMSUSER_PASSWORD},
        [
            "D:CONNECTED",
            "disconnect",
            "D:DISCONNECTED",
            "update",
            "D:DISCONNECTED",
            "connect",
            "D:CONNECTING",
            "D:CONNECTED",
            "D:CONNECTED",
        ],
        [DISCONNECT, UPDATE, CONNECT],
    ),
    "cloudhsm-password-failed-allowed": (
        CLOUDHSM,
        "FAILED",
        PASSWORD,
        True,
        False,
        {"KeyStorePassword": KMSUSER_PASSWORD},
        ["D:FAILED", "disconnect", "D:DISCONNECTED", "update", "D:DISCONNECTED", "connect", "D:CONNECTING"],
        [DISCONNECT, UPDATE, CONNECT],
    ),
    "cloudhsm-password-connecting-allowed": (
        CLOUDHSM,
        "CONNECTING",
        PASSWORD,
        True,
        False,
        {"KeyStorePassword": KMSUSER_PASSWORD},
        ["D:CONNECTING", "disconnect", "D:DISCONNECTED", "update", "D:DISCONNECTED", "connect", "D:CONNECTING"],
        [DISCONNECT, UPDATE, CONNECT],
    ),
    # A DISCONNECTING store is waited for, and then needs no disconnect.
    "cloudhsm-password-disconnecting-allowed": (
        CLOUDHSM,
        "DISCONNECTING",
        PASSWORD,
        True,
        False,
        {"KeyStorePassword": KMSUSER_PASSWORD},
        ["D:DISCONNECTING", "D:DISCONNECTED", "update", "D:DISCONNECTED"],
        [UPDATE],
    ),
    "cloudhsm-password-disconnecting": (
        CLOUDHSM,
        "DISCONNECTING",
        PASSWORD,
        False,
        False,
        {"KeyStorePassword": KMSUSER_PASSWORD},
        ["D:DISCONNECTED", "update", "D:DISCONNECTED"],
        [UPDATE],
    ),
    # UpdateCustomKeyStore only in CONNECTED or DISCONNECTED: a rename waits out CONNECTING and DISCONNECTING ...
    "cloudhsm-rename-connecting": (
        CLOUDHSM,
        "CONNECTING",
        RENAME,
        False,
        False,
        {"NewCustomKeyStoreName": "renamed"},
        ["D:CONNECTING", "D:CONNECTED", "update", "D:CONNECTED"],
        [UPDATE],
    ),
    "cloudhsm-rename-disconnecting": (
        CLOUDHSM,
        "DISCONNECTING",
        RENAME,
        False,
        False,
        {"NewCustomKeyStoreName": "renamed"},
        ["D:DISCONNECTED", "update", "D:DISCONNECTED"],
        [UPDATE],
    ),
    # ... and needs allow_disconnect on a FAILED store (disconnect, update, connect).
    "cloudhsm-rename-failed-refused": (
        CLOUDHSM,
        "FAILED",
        RENAME,
        False,
        False,
        {"NewCustomKeyStoreName": "renamed"},
        None,
        [],
    ),
    "cloudhsm-rename-failed-allowed": (
        CLOUDHSM,
        "FAILED",
        RENAME,
        True,
        False,
        {"NewCustomKeyStoreName": "renamed"},
        ["D:FAILED", "disconnect", "D:DISCONNECTED", "update", "D:DISCONNECTED", "connect", "D:CONNECTING"],
        [DISCONNECT, UPDATE, CONNECT],
    ),
    "xks-path-failed-allowed-wait": (
        XKS,
        "FAILED",
        {"xks_proxy_uri_path": "/kms/xks/v2"},
        True,
        True,
        {"XksProxyUriPath": "/kms/xks/v2"},
        [
            "D:FAILED",
            "disconnect",
            "D:DISCONNECTED",
            "update",
            "D:DISCONNECTED",
            "connect",
            "D:CONNECTING",
            "D:CONNECTED",
            "D:CONNECTED",
        ],
        [DISCONNECT, UPDATE, CONNECT],
    ),
    "cloudhsm-password-disconnected": (
        CLOUDHSM,
        "DISCONNECTED",
        PASSWORD,
        False,
        False,
        {"KeyStorePassword": KMSUSER_PASSWORD},
        ["update", "D:DISCONNECTED"],
        [UPDATE],
    ),
    "cloudhsm-password-on-create-unchanged": (
        CLOUDHSM,
        "CONNECTED",
        {"key_store_password": KMSUSER_PASSWORD},
        False,
        False,
        {},
        [],
        [],
    ),
    "xks-path-connected": (
        XKS,
        "CONNECTED",
        {"xks_proxy_uri_path": "/kms/xks/v2"},
        False,
        False,
        {"XksProxyUriPath": "/kms/xks/v2"},
        ["update", "D:CONNECTED"],
        [UPDATE],
    ),
    "xks-credential-connected": (
        XKS,
        "CONNECTED",
        {"xks_proxy_authentication_credential": NEW_CREDENTIAL},
        False,
        False,
        {"XksProxyAuthenticationCredential": {"AccessKeyId": OTHER_KEY_ID, "RawSecretAccessKey": XKS_SECRET}},
        ["update", "D:CONNECTED"],
        [UPDATE],
    ),
    "xks-endpoint-connected-refused": (
        XKS,
        "CONNECTED",
        {"xks_proxy_uri_endpoint": "https://xks2.example.com"},
        False,
        False,
        {"XksProxyUriEndpoint": "https://xks2.example.com"},
        None,
        [],
    ),
    "xks-endpoint-connected-allowed": (
        XKS,
        "CONNECTED",
        {"xks_proxy_uri_endpoint": "https://xks2.example.com"},
        True,
        False,
        {"XksProxyUriEndpoint": "https://xks2.example.com"},
        ["D:CONNECTED", "disconnect", "D:DISCONNECTED", "update", "D:DISCONNECTED", "connect", "D:CONNECTING"],
        [DISCONNECT, UPDATE, CONNECT],
    ),
    "xks-connectivity-failed-refused": (
        XKS,
        "FAILED",
        {
            "xks_proxy_connectivity": "VPC_ENDPOINT_SERVICE",
            "xks_proxy_vpc_endpoint_service_name": VPC_SERVICE,
            "xks_proxy_uri_endpoint": "https://vpc.example.com",
        },
        False,
        False,
        {
            "XksProxyConnectivity": "VPC_ENDPOINT_SERVICE",
            "XksProxyVpcEndpointServiceName": VPC_SERVICE,
            "XksProxyUriEndpoint": "https://vpc.example.com",
        },
        None,
        [],
    ),
}
CALLS = {"update": None, "disconnect": "disconnect_custom_key_store", "connect": "connect_custom_key_store"}


def store_in(store_type, state):
    return store_entry(state, "NETWORK_ERRORS" if state == "FAILED" else None, store_type=store_type)


def update_params(store_type, options, allow, wait):
    return params(custom_key_store_type=store_type, allow_disconnect=allow, wait=wait, **options)


def first_selector(options):
    return BY_ID if options.get("custom_key_store_id") else BY_NAME


@pytest.mark.parametrize("case", sorted(UPDATES))
def test_update_makes_exactly_the_calls_of_the_case(case, kms, fake_clock):
    client, stubber = kms
    store_type, observed, options, allow, wait, changes, script, actions = UPDATES[case]
    expect_describe(stubber, store_in(store_type, observed), first_selector(options))
    for step in script or []:
        if step.startswith("D:"):
            expect_describe(stubber, store_in(store_type, step[2:]))
        elif step == "update":
            expect_call(stubber, "update_custom_key_store", **changes)
        else:
            expect_call(stubber, CALLS[step])

    if script is None:
        with pytest.raises(RunFailure) as failure:
            runner(client, fake_clock).run(update_params(store_type, options, allow, wait))
        if observed == "FAILED":
            assert failure.value.message == (
                f"Custom key store {STORE_NAME} is FAILED, and AWS updates a store only while it is CONNECTED or DISCONNECTED: "
                "set allow_disconnect: true to disconnect it, update it and connect it again, or disconnect it first."
            )
            return
        assert failure.value.message.startswith(f"Custom key store {STORE_NAME} is {observed}, and AWS changes ")
        assert "only while a store is DISCONNECTED: set allow_disconnect: true" in failure.value.message
        for option in key_store_plan.needs_disconnected(store_type, changes):
            assert option in failure.value.message
        return

    result = runner(client, fake_clock).run(update_params(store_type, options, allow, wait))

    assert result["actions"] == actions
    assert result["changed"] is bool(actions)
    assert result["custom_key_store"]["custom_key_store_id"] == STORE_ID
    assert secret_free(result)


@pytest.mark.parametrize("case", sorted(UPDATES))
def test_check_mode_only_describes_and_predicts_the_calls(case, kms, fake_clock):
    client, stubber = kms
    store_type, observed, options, allow, wait, _changes, script, actions = UPDATES[case]
    expect_describe(stubber, store_in(store_type, observed), first_selector(options))

    if script is None:
        with pytest.raises(RunFailure, match="set allow_disconnect: true"):
            runner(client, fake_clock, check_mode=True).run(update_params(store_type, options, allow, wait))
        return
    result = runner(client, fake_clock, check_mode=True).run(update_params(store_type, options, allow, wait))

    assert result["actions"] == actions
    assert result["changed"] is bool(actions)
    assert fake_clock.sleeps == []
    assert secret_free(result)


def test_refusal_names_fields_and_state_in_one_sentence(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"), BY_NAME)

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(params(cloud_hsm_cluster_id=OTHER_CLUSTER, **PASSWORD))

    assert failure.value.message == (
        f"Custom key store {STORE_NAME} is CONNECTED, and AWS changes cloud_hsm_cluster_id and key_store_password only while "
        "a store is DISCONNECTED: set allow_disconnect: true to disconnect it, update it and connect it again (disconnecting "
        "interrupts all use of its KMS keys until it is connected again), or disconnect it first."
    )


def test_check_mode_diff_shows_the_update_and_names_secrets_only(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"), BY_NAME)

    result = runner(client, fake_clock, check_mode=True).run(
        params(cloud_hsm_cluster_id=OTHER_CLUSTER, allow_disconnect=True, wait=True, **PASSWORD)
    )

    assert result["diff"]["before"] == {
        "custom_key_store_name": STORE_NAME,
        "custom_key_store_type": CLOUDHSM,
        "connection_state": "CONNECTED",
        "cloud_hsm_cluster_id": CLUSTER_ID,
    }
    assert result["diff"]["after"] == {
        "custom_key_store_name": STORE_NAME,
        "custom_key_store_type": CLOUDHSM,
        "connection_state": "CONNECTED",
        "cloud_hsm_cluster_id": OTHER_CLUSTER,
        "secrets_updated": ["key_store_password"],
    }
    assert result["custom_key_store"]["cloud_hsm_cluster_id"] == OTHER_CLUSTER


def test_xks_switch_to_public_endpoint_drops_the_vpc_service_in_check_mode(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, entry_with(VPC_STORE, ConnectionState="DISCONNECTED"), BY_NAME)

    result = runner(client, fake_clock, check_mode=True).run(
        xks(xks_proxy_connectivity="PUBLIC_ENDPOINT", xks_proxy_uri_endpoint="https://public.example.com")
    )

    assert result["actions"] == [UPDATE]
    assert "vpc_endpoint_service_name" not in result["custom_key_store"]["xks_proxy_configuration"]
    assert result["custom_key_store"]["xks_proxy_configuration"]["connectivity"] == "PUBLIC_ENDPOINT"
    assert result["custom_key_store"]["xks_proxy_configuration"]["uri_endpoint"] == "https://public.example.com"


def test_failed_update_after_disconnecting_connects_the_store_again(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"), BY_NAME)
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"))
    expect_call(stubber, "disconnect_custom_key_store")
    expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTED"))
    stubber.add_client_error(
        "update_custom_key_store", "CloudHsmClusterNotRelatedException", "not a backup of the original", 400
    )
    expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTED"))
    expect_call(stubber, "connect_custom_key_store")

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(params(cloud_hsm_cluster_id=OTHER_CLUSTER, allow_disconnect=True))

    assert failure.value.message == (
        f"Failed to update custom key store {STORE_NAME}: CloudHsmClusterNotRelatedException: not a backup of the original. "
        "Next step: Set cloud_hsm_cluster_id to the store's original cluster or to a cluster created from a backup of it. "
        f"Custom key store {STORE_NAME} was connected again, as it was before the task."
    )
    assert failure.value.result["actions"] == [DISCONNECT, CONNECT]


def test_reconnect_that_ends_failed_fails_with_the_code(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"), BY_NAME)
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"))
    expect_call(stubber, "disconnect_custom_key_store")
    expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTED"))
    expect_call(stubber, "update_custom_key_store", KeyStorePassword=KMSUSER_PASSWORD)
    expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTED"))
    expect_call(stubber, "connect_custom_key_store")
    expect_describe(stubber, store_entry("FAILED", "INVALID_CREDENTIALS"))

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(params(allow_disconnect=True, wait=True, **PASSWORD))

    assert failure.value.message.startswith(f"Custom key store {STORE_NAME} is FAILED with INVALID_CREDENTIALS:")
    assert failure.value.result["actions"] == [DISCONNECT, UPDATE, CONNECT]
    assert failure.value.result["changed"] is True
    assert KMSUSER_PASSWORD not in failure.value.message


def test_the_disconnect_wait_is_bounded_by_wait_timeout(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"), BY_NAME)
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"))
    expect_call(stubber, "disconnect_custom_key_store")
    for _poll in range(3):  # at 1, 3 and 5 s
        expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTING"))

    with pytest.raises(
        RunFailure, match="Timed out after 5 s waiting for custom key store payments-hsm to leave DISCONNECTING"
    ):
        runner(client, fake_clock).run(
            params(cloud_hsm_cluster_id=OTHER_CLUSTER, allow_disconnect=True, wait_timeout=5)
        )
    assert fake_clock.now == 5


def test_the_wait_for_a_transitional_store_is_bounded_by_wait_timeout(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTING"), BY_ID)
    for _poll in range(3):  # at 1, 3 and 5 s
        expect_describe(stubber, store_in(CLOUDHSM, "CONNECTING"))

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(params(wait_timeout=5, **RENAME))
    assert failure.value.message.startswith(
        "Timed out after 5 s waiting for custom key store payments-hsm to leave CONNECTING before updating it"
    )
    assert fake_clock.now == 5
    stubber.assert_no_pending_responses()


def test_a_connecting_store_that_ends_failed_is_not_updated_without_allow_disconnect(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTING"), BY_ID)
    expect_describe(stubber, store_in(CLOUDHSM, "FAILED"))

    with pytest.raises(
        RunFailure, match="is FAILED, and AWS updates a store only while it is CONNECTED or DISCONNECTED"
    ):
        runner(client, fake_clock).run(params(**RENAME))
    stubber.assert_no_pending_responses()  # no UpdateCustomKeyStore


@pytest.mark.parametrize(
    "options",
    [
        {"xks_proxy_connectivity": "VPC_ENDPOINT_SERVICE", "xks_proxy_vpc_endpoint_service_name": VPC_SERVICE},
        {
            "xks_proxy_connectivity": "VPC_ENDPOINT_SERVICE",
            "xks_proxy_vpc_endpoint_service_name": VPC_SERVICE,
            "xks_proxy_uri_endpoint": "https://xks.example.com",
        },
    ],
    ids=["no-endpoint", "same-endpoint"],
)
def test_a_connectivity_change_needs_a_new_endpoint_before_any_call(kms, fake_clock, options):
    client, stubber = kms
    expect_describe(stubber, store_in(XKS, "DISCONNECTED"), BY_NAME)

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(xks(**options))
    assert failure.value.message == (
        "Changing xks_proxy_connectivity from PUBLIC_ENDPOINT to VPC_ENDPOINT_SERVICE needs a new xks_proxy_uri_endpoint, "
        "as AWS requires: set it to the endpoint the proxy has with the new connectivity."
    )
    stubber.assert_no_pending_responses()


def test_a_switch_to_public_endpoint_sends_a_new_endpoint_and_no_vpc_service(kms, fake_clock):
    client, stubber = kms
    disconnected_vpc_store = entry_with(
        store_in(XKS, "DISCONNECTED"), Connectivity="VPC_ENDPOINT_SERVICE", VpcEndpointServiceName=VPC_SERVICE
    )
    expect_describe(stubber, disconnected_vpc_store, BY_NAME)
    expect_call(
        stubber,
        "update_custom_key_store",
        XksProxyConnectivity="PUBLIC_ENDPOINT",
        XksProxyUriEndpoint="https://public.example.com",
    )
    expect_describe(stubber, store_in(XKS, "DISCONNECTED"))

    result = runner(client, fake_clock).run(
        xks(xks_proxy_connectivity="PUBLIC_ENDPOINT", xks_proxy_uri_endpoint="https://public.example.com")
    )

    assert result["actions"] == [UPDATE]


# ---------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------

CREATES = {
    "cloudhsm": (
        params(cloud_hsm_cluster_id=CLUSTER_ID, trust_anchor_certificate=ANCHOR, key_store_password=KMSUSER_PASSWORD),
        {
            "CustomKeyStoreType": CLOUDHSM,
            "CloudHsmClusterId": CLUSTER_ID,
            "TrustAnchorCertificate": ANCHOR,
            "KeyStorePassword": KMSUSER_PASSWORD,
        },
        store_entry("DISCONNECTED"),
        ["key_store_password"],
    ),
    "xks-public": (
        xks(
            xks_proxy_uri_endpoint="https://xks.example.com",
            xks_proxy_uri_path="/kms/xks/v1",
            xks_proxy_connectivity="PUBLIC_ENDPOINT",
            xks_proxy_authentication_credential=CREDENTIAL,
        ),
        {
            "CustomKeyStoreType": XKS,
            "XksProxyUriEndpoint": "https://xks.example.com",
            "XksProxyUriPath": "/kms/xks/v1",
            "XksProxyConnectivity": "PUBLIC_ENDPOINT",
            "XksProxyAuthenticationCredential": {"AccessKeyId": XKS_ACCESS_KEY_ID, "RawSecretAccessKey": XKS_SECRET},
        },
        store_entry("DISCONNECTED", store_type=XKS),
        ["xks_proxy_authentication_credential"],
    ),
    "xks-vpc": (
        xks(
            xks_proxy_uri_endpoint="https://xks.example.com",
            xks_proxy_uri_path="/kms/xks/v1",
            xks_proxy_connectivity="VPC_ENDPOINT_SERVICE",
            xks_proxy_vpc_endpoint_service_name=VPC_SERVICE,
            xks_proxy_vpc_endpoint_service_owner="111122223333",
            xks_proxy_authentication_credential=CREDENTIAL,
        ),
        {
            "CustomKeyStoreType": XKS,
            "XksProxyUriEndpoint": "https://xks.example.com",
            "XksProxyUriPath": "/kms/xks/v1",
            "XksProxyConnectivity": "VPC_ENDPOINT_SERVICE",
            "XksProxyVpcEndpointServiceName": VPC_SERVICE,
            "XksProxyVpcEndpointServiceOwner": "111122223333",
            "XksProxyAuthenticationCredential": {"AccessKeyId": XKS_ACCESS_KEY_ID, "RawSecretAccessKey": XKS_SECRET},
        },
        entry_with(VPC_STORE, ConnectionState="DISCONNECTED", VpcEndpointServiceOwner="111122223333"),
        ["xks_proxy_authentication_credential"],
    ),
}


@pytest.mark.parametrize("case", sorted(CREATES))
def test_create_sends_every_option_then_describes_the_new_store(case, kms, fake_clock):
    client, stubber = kms
    wanted, request, created, secrets = CREATES[case]
    expect_not_found(stubber, BY_NAME)
    stubber.add_response(
        "create_custom_key_store", {"CustomKeyStoreId": STORE_ID}, dict(CustomKeyStoreName=STORE_NAME, **request)
    )
    expect_describe(stubber, created)

    result = runner(client, fake_clock).run(wanted)

    assert result["changed"] is True
    assert result["actions"] == [CREATE]
    assert result["custom_key_store"]["custom_key_store_id"] == STORE_ID
    assert result["custom_key_store"]["connection_state"] == "DISCONNECTED"
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["secrets_updated"] == secrets
    assert secret_free(result)


@pytest.mark.parametrize("case", sorted(CREATES))
def test_create_in_check_mode_describes_only(case, kms, fake_clock):
    client, stubber = kms
    wanted, request, _created, _secrets = CREATES[case]
    expect_not_found(stubber, BY_NAME)

    result = runner(client, fake_clock, check_mode=True).run(wanted)

    assert result["actions"] == [CREATE]
    store = result["custom_key_store"]
    assert "custom_key_store_id" not in store
    assert store["custom_key_store_type"] == request["CustomKeyStoreType"]
    assert store["connection_state"] == "DISCONNECTED"
    assert secret_free(result)


@pytest.mark.parametrize(
    "wanted, missing",
    [
        (params(), "cloud_hsm_cluster_id, trust_anchor_certificate and key_store_password: set them"),
        (params(cloud_hsm_cluster_id=CLUSTER_ID, trust_anchor_certificate=ANCHOR), "key_store_password: set it"),
        (
            xks(),
            "xks_proxy_uri_endpoint, xks_proxy_uri_path, xks_proxy_connectivity and xks_proxy_authentication_credential: set them",
        ),
        (
            xks(
                xks_proxy_uri_endpoint="https://xks.example.com",
                xks_proxy_uri_path="/kms/xks/v1",
                xks_proxy_connectivity="VPC_ENDPOINT_SERVICE",
                xks_proxy_authentication_credential=CREDENTIAL,
            ),
            "xks_proxy_vpc_endpoint_service_name: set it",
        ),
    ],
)
def test_create_without_required_options_names_them_all_and_changes_nothing(kms, fake_clock, wanted, missing):
    client, stubber = kms
    expect_not_found(stubber, BY_NAME)

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(wanted)

    assert (
        f"Custom key store {STORE_NAME} does not exist, and creating it (type {wanted['custom_key_store_type']}) needs {missing}"
        in (failure.value.message)
    )
    assert failure.value.message.endswith("or correct custom_key_store_name if you meant an existing store.")


def test_unknown_id_is_not_created(kms, fake_clock):
    client, stubber = kms
    expect_not_found(stubber, BY_ID)

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(params(custom_key_store_id=STORE_ID, cloud_hsm_cluster_id=CLUSTER_ID))

    assert failure.value.message == (
        f"custom key store {STORE_ID} not found in us-east-1; KMS chooses the ID of a new store, "
        f"so omit custom_key_store_id to create a store named {STORE_NAME}."
    )


def test_aws_refusal_of_create_is_raised_for_the_module(kms, fake_clock):
    client, stubber = kms
    expect_not_found(stubber, BY_NAME)
    stubber.add_client_error("create_custom_key_store", "CloudHsmClusterInUseException", "cluster backs cks-0", 400)

    with pytest.raises(AnsibleKMSError) as error:
        runner(client, fake_clock).run(CREATES["cloudhsm"][0])

    assert explain_aws_error(error.value) == (
        f"Failed to create custom key store {STORE_NAME}: CloudHsmClusterInUseException: cluster backs cks-0. Next step: Use a cluster "
        "that backs no other custom key store (clusters created from each other's backups count as one)."
    )


def test_the_type_of_an_existing_store_cannot_change(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(XKS, "CONNECTED"), BY_NAME)

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(params(cloud_hsm_cluster_id=CLUSTER_ID))

    assert failure.value.message == (
        f"Custom key store {STORE_NAME} is of type EXTERNAL_KEY_STORE, not AWS_CLOUDHSM, and a store's type cannot change: "
        "set custom_key_store_type: EXTERNAL_KEY_STORE, or create a new store under another name."
    )


# ---------------------------------------------------------------------------
# Option checks (no AWS call at all)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wanted, message",
    [
        (
            params(xks_proxy_uri_path="/p"),
            "xks_proxy_uri_path applies only to custom key stores of type EXTERNAL_KEY_STORE, "
            "not to custom_key_store_type AWS_CLOUDHSM: remove it, or set custom_key_store_type: EXTERNAL_KEY_STORE.",
        ),
        (
            params(xks_proxy_uri_path="/p", xks_proxy_connectivity="PUBLIC_ENDPOINT"),
            "xks_proxy_uri_path and xks_proxy_connectivity apply only",
        ),
        (
            xks(key_store_password=KMSUSER_PASSWORD),
            "key_store_password applies only to custom key stores of type AWS_CLOUDHSM",
        ),
        (params(custom_key_store_name=" "), "custom_key_store_name must not be empty."),
        (params(cloud_hsm_cluster_id=""), "cloud_hsm_cluster_id must not be empty."),
        (xks(xks_proxy_uri_path=""), "xks_proxy_uri_path must not be empty."),
        (
            xks(xks_proxy_authentication_credential={"access_key_id": "", "raw_secret_access_key": XKS_SECRET}),
            "xks_proxy_authentication_credential.access_key_id must not be empty.",
        ),
        (
            xks(
                xks_proxy_authentication_credential={
                    "access_key_id": "lowercase-key-id-00000",
                    "raw_secret_access_key": XKS_SECRET,
                }
            ),
            "xks_proxy_authentication_credential.access_key_id must be 20 to 30 characters of A-Z and 2-7.",
        ),
        (
            xks(
                xks_proxy_authentication_credential={
                    "access_key_id": XKS_ACCESS_KEY_ID,
                    "raw_secret_access_key": "short",
                }
            ),
            "xks_proxy_authentication_credential.raw_secret_access_key must be 43 to 64 characters",
        ),
        (params(key_store_password="short"), "key_store_password must be 7 to 32 characters."),
        (
            xks(xks_proxy_connectivity="PUBLIC_ENDPOINT", xks_proxy_vpc_endpoint_service_name="svc"),
            "xks_proxy_vpc_endpoint_service_name applies only with xks_proxy_connectivity VPC_ENDPOINT_SERVICE",
        ),
        (params(wait_timeout=0), "wait_timeout must be greater than 0 seconds, got 0."),
    ],
)
def test_bad_options_fail_before_any_call(kms, fake_clock, wanted, message):
    client, _stubber = kms

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(wanted)

    assert message in failure.value.message
    assert "short" not in failure.value.message  # a refused secret is never echoed


def test_vpc_options_on_a_public_store_are_refused(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(XKS, "DISCONNECTED"), BY_NAME)

    with pytest.raises(RunFailure, match="and the store's connectivity is PUBLIC_ENDPOINT"):
        runner(client, fake_clock).run(xks(xks_proxy_vpc_endpoint_service_owner="111122223333"))


def test_a_vpc_store_keeps_its_service_name_when_only_connectivity_is_given(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, VPC_STORE, BY_NAME)

    result = runner(client, fake_clock).run(xks(xks_proxy_connectivity="VPC_ENDPOINT_SERVICE"))

    assert result["changed"] is False


# ---------------------------------------------------------------------------
# Delete
# ---------------------------------------------------------------------------


def absent(**overrides):
    return params(state="absent", **overrides)


def test_delete_a_disconnected_store(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTED"), BY_NAME)
    expect_call(stubber, "delete_custom_key_store")

    result = runner(client, fake_clock).run(absent())

    assert result["changed"] is True
    assert result["actions"] == [DELETE]
    assert result["custom_key_store"] == {}
    assert result["diff"]["before"]["connection_state"] == "DISCONNECTED"
    assert result["diff"]["after"] == {}


@pytest.mark.parametrize("selector, wanted", [(BY_NAME, absent()), (BY_ID, absent(custom_key_store_id=STORE_ID))])
def test_delete_an_absent_store_changes_nothing(kms, fake_clock, selector, wanted):
    client, stubber = kms
    expect_not_found(stubber, selector)

    result = runner(client, fake_clock).run(wanted)

    assert result == {"changed": False, "custom_key_store": {}, "actions": [], "diff": {"before": {}, "after": {}}}


@pytest.mark.parametrize("observed", ["CONNECTED", "CONNECTING", "FAILED", "DISCONNECTING"])
def test_delete_a_store_that_is_not_disconnected_without_allow_disconnect_is_refused(kms, fake_clock, observed):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, observed), BY_NAME)

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(absent())

    assert failure.value.message == (
        f"Custom key store {STORE_NAME} is {observed}, and AWS deletes only a DISCONNECTED store: set allow_disconnect: true to "
        "disconnect it first (disconnecting interrupts all use of its KMS keys), or disconnect it yourself."
    )


def test_delete_a_connected_store_with_allow_disconnect(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"), BY_NAME)
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"))
    expect_call(stubber, "disconnect_custom_key_store")
    expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTING"))
    expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTED"))
    expect_call(stubber, "delete_custom_key_store")

    result = runner(client, fake_clock).run(absent(allow_disconnect=True))

    assert result["actions"] == [DISCONNECT, DELETE]
    assert fake_clock.sleeps == [1.0, 2.0]


def test_delete_in_check_mode_describes_only(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"), BY_NAME)

    result = runner(client, fake_clock, check_mode=True).run(absent(allow_disconnect=True))

    assert result["actions"] == [DISCONNECT, DELETE]
    assert result["custom_key_store"] == {}


def test_delete_a_store_with_kms_keys_explains_what_to_do(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTED"), BY_NAME)
    stubber.add_client_error("delete_custom_key_store", "CustomKeyStoreHasCMKsException", "holds 2 keys", 400)

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(absent())

    assert failure.value.message == (
        f"Custom key store {STORE_NAME} holds KMS keys: schedule deletion of its KMS keys first "
        "(they are deleted after the waiting period), then run again."
    )
    assert failure.value.result == {"changed": False, "actions": []}


def test_delete_with_kms_keys_after_disconnecting_connects_the_store_again(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"), BY_NAME)
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"))
    expect_call(stubber, "disconnect_custom_key_store")
    expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTED"))
    stubber.add_client_error("delete_custom_key_store", "CustomKeyStoreHasCMKsException", "holds 2 keys", 400)
    expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTED"))
    expect_call(stubber, "connect_custom_key_store")
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTING"))
    expect_describe(stubber, store_in(CLOUDHSM, "CONNECTED"))

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).run(absent(allow_disconnect=True, wait=True))

    assert failure.value.message.endswith(
        "then run again. Custom key store payments-hsm was connected again, as it was before the task."
    )
    assert failure.value.result["actions"] == [DISCONNECT, CONNECT]


def test_a_store_deleted_meanwhile_counts_as_deleted(kms, fake_clock):
    client, stubber = kms
    expect_describe(stubber, store_in(CLOUDHSM, "DISCONNECTED"), BY_NAME)
    stubber.add_client_error("delete_custom_key_store", "CustomKeyStoreNotFoundException", "gone", 400)

    result = runner(client, fake_clock).run(absent())

    assert result["actions"] == [DELETE]
    assert result["custom_key_store"] == {}
