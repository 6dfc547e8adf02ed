# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's KMS rules, driven directly on a World with a stepped clock (no HTTP)."""

from collections import deque

import pytest
from ansible_collections.awskms.custom_key_store.tests.emulator import entities
from ansible_collections.awskms.custom_key_store.tests.emulator.errors import AwsError
from ansible_collections.awskms.custom_key_store.tests.emulator.errors import ControlError
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import ACCESS_KEY
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import OTHER_SECRET
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import SECRET
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import XKS_ENDPOINT
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import call
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import connect_and_settle
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import error_of
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import force
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import state_of

VPC_SERVICE = "com.amazonaws.vpce.us-east-1.vpce-svc-0abc"
OTHER_VPC_SERVICE = "com.amazonaws.vpce.us-east-1.vpce-svc-0def"


def add_endpoint_service(world, name=VPC_SERVICE, **settings):
    """Register a VPC endpoint service that meets KMS's requirements, unless ``settings`` say otherwise."""
    settings["service_name"] = name
    world.control("vpc-endpoint-service", settings)


# ---------------------------------------------------------------------------
# State x operation
# ---------------------------------------------------------------------------

STATES = entities.CONNECTION_STATES

CONNECT = {
    "CONNECTED": "CONNECTED",
    "CONNECTING": "CONNECTING",
    "DISCONNECTED": "CONNECTING",
    "DISCONNECTING": "CustomKeyStoreInvalidStateException",
    "FAILED": "CustomKeyStoreInvalidStateException",
}
DISCONNECT = {
    "CONNECTED": "DISCONNECTING",
    "CONNECTING": "DISCONNECTING",
    "DISCONNECTED": "CustomKeyStoreInvalidStateException",
    "DISCONNECTING": "CustomKeyStoreInvalidStateException",
    "FAILED": "DISCONNECTING",
}


@pytest.mark.parametrize(
    "operation, outcomes", [("ConnectCustomKeyStore", CONNECT), ("DisconnectCustomKeyStore", DISCONNECT)]
)
@pytest.mark.parametrize("state", STATES)
def test_connect_and_disconnect_in_every_state(world, ids, state, operation, outcomes):
    store_id = ids["custom_key_stores"]["hsm-store"]
    force(world, store_id, state, "INTERNAL_ERROR" if state == "FAILED" else None)
    expected = outcomes[state]
    if expected.endswith("Exception"):
        assert error_of(world, operation, CustomKeyStoreId=store_id) == expected
        assert state_of(world, store_id)["ConnectionState"] == state
    else:
        assert call(world, operation, CustomKeyStoreId=store_id) == {}
        entry = state_of(world, store_id)
        assert entry["ConnectionState"] == expected
        assert "ConnectionErrorCode" not in entry


@pytest.mark.parametrize("state", STATES)
def test_delete_in_every_state(world, ids, state):
    store_id = ids["custom_key_stores"]["hsm-store"]
    force(world, store_id, state, "INTERNAL_ERROR" if state == "FAILED" else None)
    if state == "DISCONNECTED":
        assert call(world, "DeleteCustomKeyStore", CustomKeyStoreId=store_id) == {}
        assert (
            error_of(world, "DescribeCustomKeyStores", CustomKeyStoreId=store_id) == "CustomKeyStoreNotFoundException"
        )
    else:
        assert (
            error_of(world, "DeleteCustomKeyStore", CustomKeyStoreId=store_id) == "CustomKeyStoreInvalidStateException"
        )
        assert state_of(world, store_id)["ConnectionState"] == state


CLOUDHSM_UPDATES = {
    "name": ({"NewCustomKeyStoreName": "renamed"}, False),
    "password": ({"KeyStorePassword": "newPassw0rd"}, True),
    "cluster": ({"CloudHsmClusterId": "restored"}, True),
}


def _update_refused(state, needs_disconnected):
    # UpdateCustomKeyStore: CONNECTED or DISCONNECTED only, and most fields DISCONNECTED only.
    return state not in ("CONNECTED", "DISCONNECTED") or (needs_disconnected and state != "DISCONNECTED")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("field", sorted(CLOUDHSM_UPDATES))
def test_update_cloudhsm_fields_in_every_state(world, ids, state, field):
    store_id = ids["custom_key_stores"]["hsm-store"]
    params, needs_disconnected = CLOUDHSM_UPDATES[field]
    params = dict((key, ids["clusters"].get(value, value)) for key, value in params.items())
    force(world, store_id, state, "INTERNAL_ERROR" if state == "FAILED" else None)
    if _update_refused(state, needs_disconnected):
        assert (
            error_of(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, **params)
            == "CustomKeyStoreInvalidStateException"
        )
        assert state_of(world, store_id)["CloudHsmClusterId"] == ids["clusters"]["demo"]
    else:
        assert call(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, **params) == {}
        entry = state_of(world, store_id)
        if field == "name":
            assert entry["CustomKeyStoreName"] == "renamed"
        if field == "cluster":
            assert entry["CloudHsmClusterId"] == ids["clusters"]["restored"]
        assert entry["ConnectionState"] == state


XKS_UPDATES = {
    "name": ({"NewCustomKeyStoreName": "renamed"}, False),
    "credential": (
        {"XksProxyAuthenticationCredential": {"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": SECRET}},
        False,
    ),
    "path": ({"XksProxyUriPath": "/tenant/kms/xks/v2"}, False),
    "endpoint": ({"XksProxyUriEndpoint": "https://xks2.example.com"}, True),
    "connectivity": (
        {
            "XksProxyConnectivity": "VPC_ENDPOINT_SERVICE",
            "XksProxyUriEndpoint": "https://xks2.example.com",
            "XksProxyVpcEndpointServiceName": VPC_SERVICE,
        },
        True,
    ),
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("field", sorted(XKS_UPDATES))
def test_update_xks_fields_in_every_state(world, ids, state, field):
    store_id = ids["custom_key_stores"]["xks-store"]
    world.control(
        "xks-proxy",
        {"uri_endpoint": "https://xks2.example.com", "access_key_id": ACCESS_KEY, "secret_access_key": SECRET},
    )
    add_endpoint_service(world)
    params, needs_disconnected = XKS_UPDATES[field]
    force(world, store_id, state, "INTERNAL_ERROR" if state == "FAILED" else None)
    before = state_of(world, store_id)["XksProxyConfiguration"]
    if _update_refused(state, needs_disconnected):
        assert (
            error_of(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, **params)
            == "CustomKeyStoreInvalidStateException"
        )
        assert state_of(world, store_id)["XksProxyConfiguration"] == before
    else:
        assert call(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, **params) == {}
        entry = state_of(world, store_id)
        assert entry["ConnectionState"] == state
        if field == "path":
            assert entry["XksProxyConfiguration"]["UriPath"] == "/tenant/kms/xks/v2"
        if field == "connectivity":
            assert entry["XksProxyConfiguration"]["Connectivity"] == "VPC_ENDPOINT_SERVICE"
            assert entry["XksProxyConfiguration"]["VpcEndpointServiceName"] == VPC_SERVICE


def test_unknown_store_is_not_found_for_every_operation(world, ids):
    for operation in (
        "ConnectCustomKeyStore",
        "DisconnectCustomKeyStore",
        "UpdateCustomKeyStore",
        "DeleteCustomKeyStore",
    ):
        assert error_of(world, operation, CustomKeyStoreId="cks-00000000000000000") == "CustomKeyStoreNotFoundException"
    assert error_of(world, "DescribeCustomKeyStores", CustomKeyStoreName="nope") == "CustomKeyStoreNotFoundException"


def test_delete_refuses_a_store_with_kms_keys(world, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    world.control("set-store-state", {"custom_key_store_id": store_id, "kms_key_count": 2})
    assert [entry["state"] for entry in world.stores[store_id].history] == ["DISCONNECTED"]
    assert error_of(world, "DeleteCustomKeyStore", CustomKeyStoreId=store_id) == "CustomKeyStoreHasCMKsException"


# ---------------------------------------------------------------------------
# Connection outcomes
# ---------------------------------------------------------------------------


def _break_cluster(action, **extra):
    def breaker(world, ids):
        body = {"cluster_id": ids["clusters"]["demo"]}
        body.update(extra)
        if "subnet_id" in extra:
            body["subnet_id"] = world.clusters[ids["clusters"]["demo"]].subnets["us-east-1a"]
        world.control(action, body)

    return breaker


def _no_active_hsm(world, ids):
    cluster_id = ids["clusters"]["demo"]
    for hsm_id in ids["hsms"]["demo"]:
        world.control("set-hsm-state", {"cluster_id": cluster_id, "hsm_id": hsm_id, "state": "DEGRADED"})


def _kmsuser_password(world, ids):
    world.control("kmsuser", {"cluster_id": "demo", "state": "present", "password": "rotatedPassw0rd"})


CLOUDHSM_BREAKS = {
    "CLUSTER_NOT_FOUND": _break_cluster("delete-cluster"),
    "SUBNET_NOT_FOUND": _break_cluster("delete-subnet", subnet_id=True),
    "INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET": _break_cluster("fill-subnet", subnet_id=True),
    "INSUFFICIENT_CLOUDHSM_HSMS": _no_active_hsm,
    "USER_NOT_FOUND": _break_cluster("kmsuser", state="absent"),
    "USER_LOCKED_OUT": _break_cluster("kmsuser", state="locked"),
    "USER_LOGGED_IN": _break_cluster("kmsuser", state="logged_in"),
    "INVALID_CREDENTIALS": _kmsuser_password,
}


@pytest.mark.parametrize("code", sorted(CLOUDHSM_BREAKS))
def test_cloudhsm_outcome_is_computed_from_the_world_when_the_connection_ends(world, clock, ids, code):
    store_id = ids["custom_key_stores"]["hsm-store"]
    call(world, "ConnectCustomKeyStore", CustomKeyStoreId=store_id)
    clock.advance(1)
    CLOUDHSM_BREAKS[code](world, ids)  # broken while CONNECTING: the outcome sees it
    clock.advance(1.5)
    entry = state_of(world, store_id)
    assert (entry["ConnectionState"], entry["ConnectionErrorCode"]) == ("FAILED", code)


def _proxy(**fields):
    def breaker(world, ids):
        body = {"uri_endpoint": XKS_ENDPOINT}
        body.update(fields)
        world.control("xks-proxy", body)

    return breaker


XKS_BREAKS = {
    "XKS_PROXY_NOT_REACHABLE": _proxy(reachable=False),
    "INVALID_CREDENTIALS": _proxy(secret_access_key=OTHER_SECRET),
    "XKS_PROXY_INVALID_CONFIGURATION": _proxy(invalid_configuration=True),
}


@pytest.mark.parametrize("code", sorted(XKS_BREAKS))
def test_xks_outcome_is_computed_from_the_world(world, clock, ids, code):
    store_id = ids["custom_key_stores"]["xks-store"]
    XKS_BREAKS[code](world, ids)
    entry = connect_and_settle(world, clock, store_id)
    assert (entry["ConnectionState"], entry["ConnectionErrorCode"]) == ("FAILED", code)


def test_xks_proxy_removed_is_not_reachable(world, clock, ids):
    world.control("xks-proxy", {"uri_endpoint": XKS_ENDPOINT, "state": "absent"})
    entry = connect_and_settle(world, clock, ids["custom_key_stores"]["xks-store"])
    assert entry["ConnectionErrorCode"] == "XKS_PROXY_NOT_REACHABLE"


def test_outcome_rules_apply_in_the_documented_order(world, clock, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    world.control("kmsuser", {"cluster_id": "demo", "state": "locked"})
    _no_active_hsm(world, ids)
    assert connect_and_settle(world, clock, store_id)["ConnectionErrorCode"] == "INSUFFICIENT_CLOUDHSM_HSMS"


@pytest.mark.parametrize("store", ["hsm-store", "xks-store"])
def test_healthy_world_connects(world, clock, ids, store):
    entry = connect_and_settle(world, clock, ids["custom_key_stores"][store])
    assert entry["ConnectionState"] == "CONNECTED"
    assert "ConnectionErrorCode" not in entry


@pytest.mark.parametrize("code", sorted(CLOUDHSM_BREAKS))
def test_fixing_the_world_fixes_the_next_connection(world, clock, ids, code):
    store_id = ids["custom_key_stores"]["hsm-store"]
    CLOUDHSM_BREAKS[code](world, ids)
    assert connect_and_settle(world, clock, store_id)["ConnectionErrorCode"] == code
    call(world, "DisconnectCustomKeyStore", CustomKeyStoreId=store_id)
    clock.advance(1.5)
    assert state_of(world, store_id)["ConnectionState"] == "DISCONNECTED"
    _fix(world, ids, code)
    assert connect_and_settle(world, clock, store_id)["ConnectionState"] == "CONNECTED"


def _fix(world, ids, code):
    """Repair what CLOUDHSM_BREAKS[code] broke, the way an operator would."""
    store_id = ids["custom_key_stores"]["hsm-store"]
    cluster = world.clusters.get(ids["clusters"]["demo"])
    if code == "CLUSTER_NOT_FOUND":
        # Point the store at the cluster restored from the same backups.
        call(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, CloudHsmClusterId=ids["clusters"]["restored"])
    elif code in ("SUBNET_NOT_FOUND", "INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET"):
        action, flag = ("delete-subnet", "deleted") if code == "SUBNET_NOT_FOUND" else ("fill-subnet", "full")
        world.control(
            action, {"cluster_id": cluster.cluster_id, "subnet_id": cluster.subnets["us-east-1a"], flag: False}
        )
    elif code == "INSUFFICIENT_CLOUDHSM_HSMS":
        call(world, "CreateHsm", ClusterId=cluster.cluster_id, AvailabilityZone="us-east-1b")
        world.clock.advance(3)
    elif code == "INVALID_CREDENTIALS":
        call(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, KeyStorePassword="rotatedPassw0rd")
    else:
        world.control(
            "kmsuser",
            {"cluster_id": cluster.cluster_id, "state": "logged_out" if code == "USER_LOGGED_IN" else "present"},
        )


def test_one_shot_codes_are_consumed_once_in_order(world, clock, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    world.control("connection-errors", {"custom_key_store_id": store_id, "codes": ["NETWORK_ERRORS", "INTERNAL_ERROR"]})
    for expected in ("NETWORK_ERRORS", "INTERNAL_ERROR", None):
        entry = connect_and_settle(world, clock, store_id)
        assert entry.get("ConnectionErrorCode") == expected
        if expected:
            call(world, "DisconnectCustomKeyStore", CustomKeyStoreId=store_id)
            clock.advance(1)
    assert entry["ConnectionState"] == "CONNECTED"


def test_one_shot_codes_are_validated_against_botocore_enum(world, ids):
    with pytest.raises(ControlError):
        world.control(
            "connection-errors", {"custom_key_store_id": ids["custom_key_stores"]["hsm-store"], "codes": ["NOT_A_CODE"]}
        )
    with pytest.raises(ControlError):
        world.control("connection-errors", {"custom_key_store_id": ids["custom_key_stores"]["hsm-store"], "codes": []})
    assert world.stores[ids["custom_key_stores"]["hsm-store"]].injected == deque()


def test_connected_store_stays_connected_when_the_world_breaks_later(world, clock, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    assert connect_and_settle(world, clock, store_id)["ConnectionState"] == "CONNECTED"
    world.control("delete-cluster", {"cluster_id": "demo"})
    clock.advance(60)
    assert state_of(world, store_id)["ConnectionState"] == "CONNECTED"


def test_synchronous_connect_failures_leave_the_store_disconnected(world, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    world.control("set-cluster-state", {"cluster_id": "demo", "state": "DEGRADED"})
    assert error_of(world, "ConnectCustomKeyStore", CustomKeyStoreId=store_id) == "CloudHsmClusterNotActiveException"
    assert state_of(world, store_id)["ConnectionState"] == "DISCONNECTED"
    world.control("set-cluster-state", {"cluster_id": "demo", "state": "ACTIVE", "invalid_configuration": True})
    assert (
        error_of(world, "ConnectCustomKeyStore", CustomKeyStoreId=store_id)
        == "CloudHsmClusterInvalidConfigurationException"
    )
    assert state_of(world, store_id)["ConnectionState"] == "DISCONNECTED"


# ---------------------------------------------------------------------------
# Create / update rules
# ---------------------------------------------------------------------------


def create_hsm_store(world, ids, cluster="free", **overrides):
    cluster_id = ids["clusters"].get(cluster, cluster)
    params = {
        "CustomKeyStoreName": "new-store",
        "CloudHsmClusterId": cluster_id,
        "KeyStorePassword": "kmsPassw0rd",
        "TrustAnchorCertificate": world.clusters[cluster_id].trust_anchor if cluster_id in world.clusters else "x",
    }
    params.update(overrides)
    return call(world, "CreateCustomKeyStore", **params)


def test_create_cloudhsm_store_succeeds_disconnected(world, ids):
    store_id = create_hsm_store(world, ids)["CustomKeyStoreId"]
    assert entities.STORE_ID_RE.match(store_id)
    entry = state_of(world, store_id)
    assert entry["ConnectionState"] == "DISCONNECTED"
    assert entry["CustomKeyStoreType"] == "AWS_CLOUDHSM"
    assert set(entry) == {
        "CustomKeyStoreId",
        "CustomKeyStoreName",
        "CloudHsmClusterId",
        "TrustAnchorCertificate",
        "ConnectionState",
        "CreationDate",
        "CustomKeyStoreType",
    }


@pytest.mark.parametrize("missing", ["CloudHsmClusterId", "TrustAnchorCertificate", "KeyStorePassword"])
def test_create_cloudhsm_store_names_the_missing_field(world, ids, missing):
    with pytest.raises(AwsError) as caught:
        create_hsm_store(world, ids, **{missing: None})
    assert caught.value.code == "ValidationException" and missing in caught.value.message


def test_create_cloudhsm_store_errors(world, ids):
    assert _create_error(world, ids, CustomKeyStoreName="hsm-store") == "CustomKeyStoreNameInUseException"
    assert _create_error(world, ids, cluster="cluster-aaaaaaaaaaa") == "CloudHsmClusterNotFoundException"
    assert _create_error(world, ids, cluster="demo") == "CloudHsmClusterInUseException"
    assert _create_error(world, ids, cluster="restored") == "CloudHsmClusterInUseException"  # same backup family
    assert _create_error(
        world, ids, TrustAnchorCertificate="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
    ) == ("IncorrectTrustAnchorException")
    world.control("set-cluster-state", {"cluster_id": "free", "state": "UNINITIALIZED"})
    assert _create_error(world, ids) == "CloudHsmClusterNotActiveException"
    world.control("set-cluster-state", {"cluster_id": "free", "state": "ACTIVE", "invalid_configuration": True})
    assert _create_error(world, ids) == "CloudHsmClusterInvalidConfigurationException"
    world.control("set-cluster-state", {"cluster_id": "free", "invalid_configuration": False})
    world.control(
        "delete-subnet",
        {"cluster_id": "free", "subnet_id": world.clusters[ids["clusters"]["free"]].subnets["us-east-1a"]},
    )
    assert _create_error(world, ids) == "CloudHsmClusterInvalidConfigurationException"  # one AZ left
    assert len(world.stores) == 2


def _create_error(world, ids, cluster="free", **overrides):
    with pytest.raises(AwsError) as caught:
        create_hsm_store(world, ids, cluster, **overrides)
    return caught.value.code


def xks_params(**overrides):
    params = {
        "CustomKeyStoreName": "new-xks",
        "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
        "XksProxyUriEndpoint": XKS_ENDPOINT,
        "XksProxyUriPath": "/other/kms/xks/v1",
        "XksProxyConnectivity": "PUBLIC_ENDPOINT",
        "XksProxyAuthenticationCredential": {"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": SECRET},
    }
    params.update(overrides)
    return dict((key, value) for key, value in params.items() if value is not None)


def test_create_xks_store_succeeds_without_exposing_the_secret(world, ids):
    store_id = call(world, "CreateCustomKeyStore", **xks_params())["CustomKeyStoreId"]
    entry = state_of(world, store_id)
    assert entry["XksProxyConfiguration"] == {
        "Connectivity": "PUBLIC_ENDPOINT",
        "AccessKeyId": ACCESS_KEY,
        "UriEndpoint": XKS_ENDPOINT,
        "UriPath": "/other/kms/xks/v1",
    }
    assert SECRET not in repr(entry) and "ConnectionErrorCode" not in entry


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"XksProxyUriPath": None}, "ValidationException"),
        ({"XksProxyAuthenticationCredential": None}, "ValidationException"),
        ({"XksProxyConnectivity": "VPC_ENDPOINT_SERVICE"}, "ValidationException"),
        ({"XksProxyVpcEndpointServiceName": VPC_SERVICE}, "ValidationException"),
        ({"KeyStorePassword": "kmsPassw0rd"}, "ValidationException"),
        ({"CustomKeyStoreName": "xks-store"}, "CustomKeyStoreNameInUseException"),
        ({"XksProxyUriPath": "/kms/xks/v1"}, "XksProxyUriInUseException"),
        ({"XksProxyUriEndpoint": "https://unknown.example.com"}, "XksProxyUriUnreachableException"),
        (
            {"XksProxyAuthenticationCredential": {"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": OTHER_SECRET}},
            "XksProxyIncorrectAuthenticationCredentialException",
        ),
    ],
)
def test_create_xks_store_errors(world, ids, overrides, code):
    assert error_of(world, "CreateCustomKeyStore", **xks_params(**overrides)) == code
    assert len(world.stores) == 2


def test_create_xks_store_vpc_uniqueness_and_proxy_configuration(world, ids):
    def vpc(name, endpoint="https://vpc.example.com", path="/a/kms/xks/v1"):
        return xks_params(
            CustomKeyStoreName=name,
            XksProxyUriEndpoint=endpoint,
            XksProxyUriPath=path,
            XksProxyConnectivity="VPC_ENDPOINT_SERVICE",
            XksProxyVpcEndpointServiceName=VPC_SERVICE,
        )

    add_endpoint_service(world)
    for endpoint in ("https://vpc.example.com", "https://xks3.example.com"):
        world.control("xks-proxy", {"uri_endpoint": endpoint, "access_key_id": ACCESS_KEY, "secret_access_key": SECRET})
    # A VPC endpoint service store needs an endpoint of its own, even if a public store used it with another path.
    assert (
        error_of(world, "CreateCustomKeyStore", **vpc("vpc-0", endpoint=XKS_ENDPOINT))
        == "XksProxyUriEndpointInUseException"
    )
    call(world, "CreateCustomKeyStore", **vpc("vpc-1"))
    assert (
        error_of(world, "CreateCustomKeyStore", **vpc("vpc-2", path="/b/kms/xks/v1"))
        == "XksProxyUriEndpointInUseException"
    )
    assert (
        error_of(world, "CreateCustomKeyStore", **vpc("vpc-3", endpoint="https://xks3.example.com"))
        == "XksProxyVpcEndpointServiceInUseException"
    )
    world.control("xks-proxy", {"uri_endpoint": "https://xks3.example.com", "invalid_configuration": True})
    assert error_of(
        world,
        "CreateCustomKeyStore",
        **xks_params(CustomKeyStoreName="pub", XksProxyUriEndpoint="https://xks3.example.com")
    ) == ("XksProxyInvalidConfigurationException")


def test_update_rejects_fields_of_the_other_store_type(world, ids):
    assert (
        error_of(
            world,
            "UpdateCustomKeyStore",
            CustomKeyStoreId=ids["custom_key_stores"]["hsm-store"],
            XksProxyUriPath="/kms/xks/v2",
        )
        == "ValidationException"
    )
    assert (
        error_of(
            world,
            "UpdateCustomKeyStore",
            CustomKeyStoreId=ids["custom_key_stores"]["xks-store"],
            KeyStorePassword="kmsPassw0rd",
        )
        == "ValidationException"
    )


def test_update_cloudhsm_cluster_rules(world, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    assert error_of(
        world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, CloudHsmClusterId="cluster-aaaaaaaaaaa"
    ) == ("CloudHsmClusterNotFoundException")
    assert error_of(
        world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, CloudHsmClusterId=ids["clusters"]["stranger"]
    ) == ("CloudHsmClusterNotRelatedException")
    world.control("set-cluster-state", {"cluster_id": "restored", "state": "UNINITIALIZED"})
    assert error_of(
        world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, CloudHsmClusterId=ids["clusters"]["restored"]
    ) == ("CloudHsmClusterNotActiveException")
    assert state_of(world, store_id)["CloudHsmClusterId"] == ids["clusters"]["demo"]


def test_update_name_in_use_and_atomicity(world, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    assert error_of(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, NewCustomKeyStoreName="xks-store") == (
        "CustomKeyStoreNameInUseException"
    )
    # A valid name with an invalid cluster changes nothing.
    assert (
        error_of(
            world,
            "UpdateCustomKeyStore",
            CustomKeyStoreId=store_id,
            NewCustomKeyStoreName="fresh",
            CloudHsmClusterId=ids["clusters"]["stranger"],
        )
        == "CloudHsmClusterNotRelatedException"
    )
    assert state_of(world, store_id)["CustomKeyStoreName"] == "hsm-store"
    assert call(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, NewCustomKeyStoreName="hsm-store") == {}


def test_update_xks_credential_is_checked_against_the_proxy(world, ids):
    store_id = ids["custom_key_stores"]["xks-store"]
    bad = {"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": OTHER_SECRET}
    assert error_of(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, XksProxyAuthenticationCredential=bad) == (
        "XksProxyIncorrectAuthenticationCredentialException"
    )


# ---------------------------------------------------------------------------
# Describe and paging
# ---------------------------------------------------------------------------


def test_describe_by_name_and_by_id(world, ids):
    by_name = call(world, "DescribeCustomKeyStores", CustomKeyStoreName="xks-store")
    assert [e["CustomKeyStoreId"] for e in by_name["CustomKeyStores"]] == [ids["custom_key_stores"]["xks-store"]]
    assert by_name["Truncated"] is False and "NextMarker" not in by_name
    assert (
        error_of(world, "DescribeCustomKeyStores", CustomKeyStoreId="x", CustomKeyStoreName="y")
        == "ValidationException"
    )


def test_kms_paging_with_limit_and_marker(regions, world, ids):
    for index in range(3):
        regions.seed({"custom_key_stores": [{"name": "extra-%d" % index, "cluster": "stranger"}]})
    names, marker, pages = [], None, 0
    while True:
        params = {"Limit": 2}
        if marker:
            params["Marker"] = marker
        page = call(world, "DescribeCustomKeyStores", **params)
        pages += 1
        names.extend(entry["CustomKeyStoreName"] for entry in page["CustomKeyStores"])
        assert page["Truncated"] == ("NextMarker" in page)
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]
    assert pages == 3
    assert names == ["hsm-store", "xks-store", "extra-0", "extra-1", "extra-2"]
    assert error_of(world, "DescribeCustomKeyStores", Marker="not-a-marker") == "InvalidMarkerException"


# ---------------------------------------------------------------------------
# AWS rules of issue 11 (README.md, Rules: each row names its test here)
# ---------------------------------------------------------------------------


def _seed_cluster(world, regions, name, hsms, lineage=None):
    cluster = {"name": name, "hsms": hsms}
    if lineage:
        cluster["lineage"] = lineage
    return regions.seed({"clusters": [cluster]})["clusters"][name]


@pytest.mark.parametrize(
    "hsms",
    [
        [],
        [{"availability_zone": "us-east-1a"}],
        [{"availability_zone": "us-east-1a"}, {"availability_zone": "us-east-1a"}],
        [{"availability_zone": "us-east-1a"}, {"availability_zone": "us-east-1b", "state": "CREATE_IN_PROGRESS"}],
        [{"availability_zone": "us-east-1a"}, {"availability_zone": "us-east-1b", "state": "DEGRADED"}],
    ],
    ids=["none", "one", "two-in-one-az", "one-active-one-creating", "one-active-one-degraded"],
)
def test_create_and_update_need_two_active_hsms_in_different_azs(world, regions, ids, hsms):
    cluster_id = _seed_cluster(world, regions, "small", hsms)
    with pytest.raises(AwsError) as caught:
        create_hsm_store(world, ids, cluster_id)
    assert caught.value.code == "CloudHsmClusterInvalidConfigurationException"
    assert "at least two active HSMs, each in a different Availability Zone" in caught.value.message
    # UpdateCustomKeyStore(CloudHsmClusterId) to a related cluster: the same requirement.
    related_id = _seed_cluster(world, regions, "small-related", hsms, lineage="family-a")
    store_id = ids["custom_key_stores"]["hsm-store"]
    assert error_of(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, CloudHsmClusterId=related_id) == (
        "CloudHsmClusterInvalidConfigurationException"
    )
    assert state_of(world, store_id)["CloudHsmClusterId"] == ids["clusters"]["demo"]


def test_two_active_hsms_in_two_azs_are_enough_and_connect_needs_one(world, regions, clock, ids):
    store_id = create_hsm_store(world, ids)["CustomKeyStoreId"]  # 'free': two ACTIVE HSMs in two AZs
    assert (
        call(
            world,
            "UpdateCustomKeyStore",
            CustomKeyStoreId=ids["custom_key_stores"]["hsm-store"],
            CloudHsmClusterId=ids["clusters"]["restored"],
        )
        == {}
    )
    free = world.clusters[ids["clusters"]["free"]]
    world.control("set-hsm-state", {"cluster_id": "free", "hsm_id": sorted(free.hsms)[0], "state": "DELETED"})
    assert connect_and_settle(world, clock, store_id)["ConnectionState"] == "CONNECTED"  # one ACTIVE HSM connects


def test_update_is_refused_in_failed_connecting_and_disconnecting_naming_the_states(world, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    for state in ("FAILED", "CONNECTING", "DISCONNECTING"):
        force(world, store_id, state)
        with pytest.raises(AwsError) as caught:
            call(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, NewCustomKeyStoreName="renamed")
        assert caught.value.code == "CustomKeyStoreInvalidStateException"
        assert state in caught.value.message and "CONNECTED or DISCONNECTED" in caught.value.message
    assert state_of(world, store_id)["CustomKeyStoreName"] == "hsm-store"


def vpc_params(name="vpc-store", endpoint="https://vpc.example.com", **overrides):
    params = dict(
        CustomKeyStoreName=name,
        XksProxyUriEndpoint=endpoint,
        XksProxyUriPath="/kms/xks/v1",
        XksProxyConnectivity="VPC_ENDPOINT_SERVICE",
        XksProxyVpcEndpointServiceName=VPC_SERVICE,
    )
    params.update(overrides)
    return xks_params(**params)


def test_vpc_store_is_created_without_contacting_the_proxy_and_tested_at_connect(world, clock, ids):
    # No proxy at all behind the endpoint: a PUBLIC_ENDPOINT create fails, a VPC_ENDPOINT_SERVICE one does not ...
    assert error_of(world, "CreateCustomKeyStore", **xks_params(XksProxyUriEndpoint="https://vpc.example.com")) == (
        "XksProxyUriUnreachableException"
    )
    # ... once its VPC endpoint service, which KMS does check at create, is there.
    assert error_of(world, "CreateCustomKeyStore", **vpc_params()) == "XksProxyVpcEndpointServiceNotFoundException"
    add_endpoint_service(world)
    store_id = call(world, "CreateCustomKeyStore", **vpc_params())["CustomKeyStoreId"]
    assert state_of(world, store_id)["ConnectionState"] == "DISCONNECTED"
    # KMS tests the proxy at connect: nothing answers at the endpoint.
    assert connect_and_settle(world, clock, store_id)["ConnectionErrorCode"] == "XKS_PROXY_NOT_REACHABLE"


def test_vpc_store_with_a_wrong_credential_is_created(world, ids):
    world.control(
        "xks-proxy",
        {"uri_endpoint": "https://vpc.example.com", "access_key_id": ACCESS_KEY, "secret_access_key": SECRET},
    )
    add_endpoint_service(world)
    bad = {"AccessKeyId": ACCESS_KEY, "RawSecretAccessKey": OTHER_SECRET}
    assert call(world, "CreateCustomKeyStore", **vpc_params(XksProxyAuthenticationCredential=bad))["CustomKeyStoreId"]


# (settings of the store's VPC endpoint service, the exception CreateCustomKeyStore raises)
ENDPOINT_SERVICE_CASES = [
    ({"state": "absent"}, "XksProxyVpcEndpointServiceNotFoundException"),
    ({"kms_principal_allowed": False}, "XksProxyVpcEndpointServiceNotFoundException"),
    ({"acceptance_required": True}, "XksProxyVpcEndpointServiceInvalidConfigurationException"),
    ({"availability_zones": 1}, "XksProxyVpcEndpointServiceInvalidConfigurationException"),
    ({"load_balancer_type": "gateway"}, "XksProxyVpcEndpointServiceInvalidConfigurationException"),
    ({"private_dns_name": ""}, "XksProxyVpcEndpointServiceInvalidConfigurationException"),
    ({"private_dns_verified": False}, "XksProxyVpcEndpointServiceInvalidConfigurationException"),
    ({"private_dns_name": "other.example.com"}, "XksProxyVpcEndpointServiceInvalidConfigurationException"),
]


@pytest.mark.parametrize("settings, code", ENDPOINT_SERVICE_CASES)
def test_vpc_create_checks_the_endpoint_service(world, ids, settings, code):
    add_endpoint_service(world, **settings)
    with pytest.raises(AwsError) as caught:
        call(world, "CreateCustomKeyStore", **vpc_params())
    assert caught.value.code == code and VPC_SERVICE in caught.value.message
    assert len(world.stores) == 2
    # Fixed in the world (registered anew, with the defaults that meet KMS's requirements), the same create succeeds.
    add_endpoint_service(world, state="absent")
    add_endpoint_service(world)
    assert call(world, "CreateCustomKeyStore", **vpc_params())["CustomKeyStoreId"]


def test_vpc_private_dns_name_must_be_unique_at_create(world, ids):
    add_endpoint_service(world, OTHER_VPC_SERVICE, private_dns_name="vpc.example.com")
    add_endpoint_service(world, private_dns_name="vpc.example.com")
    assert error_of(world, "CreateCustomKeyStore", **vpc_params()) == (
        "XksProxyVpcEndpointServiceInvalidConfigurationException"
    )


def test_vpc_update_checks_the_endpoint_service_when_a_setting_it_reads_changes(world, ids):
    add_endpoint_service(world, private_dns_name="vpc.example.com")
    store_id = call(world, "CreateCustomKeyStore", **vpc_params())["CustomKeyStoreId"]
    before = state_of(world, store_id)["XksProxyConfiguration"]
    # A new endpoint service name: the new service is checked.
    assert error_of(
        world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, XksProxyVpcEndpointServiceName=OTHER_VPC_SERVICE
    ) == ("XksProxyVpcEndpointServiceNotFoundException")
    # A new endpoint: the service's private DNS name must be its host.
    assert error_of(
        world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, XksProxyUriEndpoint="https://vpc2.example.com"
    ) == ("XksProxyVpcEndpointServiceInvalidConfigurationException")
    assert state_of(world, store_id)["XksProxyConfiguration"] == before
    # The private DNS name moves to the new service (it must be unique in the Region).
    add_endpoint_service(world, private_dns_name="retired.example.com")
    add_endpoint_service(world, OTHER_VPC_SERVICE)
    assert (
        call(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, XksProxyVpcEndpointServiceName=OTHER_VPC_SERVICE)
        == {}
    )
    assert state_of(world, store_id)["XksProxyConfiguration"]["VpcEndpointServiceName"] == OTHER_VPC_SERVICE
    # A rename does not read the endpoint service (emulator's choice), even when it no longer meets the requirements.
    add_endpoint_service(world, OTHER_VPC_SERVICE, acceptance_required=True)
    assert call(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, NewCustomKeyStoreName="renamed") == {}


def test_endpoint_uniqueness_between_public_and_vpc_stores_both_ways(world, ids):
    world.control(
        "xks-proxy",
        {"uri_endpoint": "https://vpc.example.com", "access_key_id": ACCESS_KEY, "secret_access_key": SECRET},
    )
    add_endpoint_service(world)
    call(world, "CreateCustomKeyStore", **vpc_params())
    # A PUBLIC_ENDPOINT store cannot use a VPC_ENDPOINT_SERVICE store's endpoint, whatever its path ...
    assert error_of(world, "CreateCustomKeyStore", **xks_params(XksProxyUriEndpoint="https://vpc.example.com")) == (
        "XksProxyUriEndpointInUseException"
    )
    # ... nor move to it ...
    assert error_of(
        world,
        "UpdateCustomKeyStore",
        CustomKeyStoreId=ids["custom_key_stores"]["xks-store"],
        XksProxyUriEndpoint="https://vpc.example.com",
        XksProxyUriPath="/moved/kms/xks/v1",
    ) == ("XksProxyUriEndpointInUseException")
    # ... and a VPC_ENDPOINT_SERVICE store cannot use a PUBLIC_ENDPOINT store's endpoint.
    assert (
        error_of(
            world,
            "CreateCustomKeyStore",
            **vpc_params(
                "vpc-2",
                endpoint=XKS_ENDPOINT,
                XksProxyUriPath="/vpc/kms/xks/v1",
                XksProxyVpcEndpointServiceName=OTHER_VPC_SERVICE,
            )
        )
        == "XksProxyUriEndpointInUseException"
    )
    # Two PUBLIC_ENDPOINT stores may share an endpoint with different paths.
    assert call(world, "CreateCustomKeyStore", **xks_params())["CustomKeyStoreId"]


def test_identical_create_of_a_disconnected_cloudhsm_store_returns_its_id(world, ids):
    store_id = create_hsm_store(world, ids)["CustomKeyStoreId"]
    assert create_hsm_store(world, ids)["CustomKeyStoreId"] == store_id
    assert len(world.stores) == 3
    # Any other property value, or a store that is not DISCONNECTED, is not a retry.
    assert _create_error(world, ids, KeyStorePassword="otherPassw0rd") == "CustomKeyStoreNameInUseException"
    force(world, store_id, "CONNECTED")
    assert _create_error(world, ids) == "CustomKeyStoreNameInUseException"
    assert len(world.stores) == 3


def test_custom_key_store_quota_counts_every_store_and_a_setting_raises_it(world, regions, ids):
    regions.seed(
        {
            "custom_key_stores": [
                {"name": "extra-%d" % index, "cluster": "stranger", "connection_state": state}
                for index, state in enumerate(["CONNECTED", "FAILED"] + ["DISCONNECTED"] * 6)
            ]
        }
    )
    assert len(world.stores) == 10 and world.settings["custom_key_stores_quota"] == 10
    assert _create_error(world, ids) == "LimitExceededException"
    assert error_of(world, "CreateCustomKeyStore", **xks_params()) == "LimitExceededException"
    world.settings.update({"custom_key_stores_quota": 11})
    assert create_hsm_store(world, ids)["CustomKeyStoreId"]


def test_vpc_endpoint_service_owner_defaults_to_the_callers_account(world, ids):
    add_endpoint_service(world)
    add_endpoint_service(world, OTHER_VPC_SERVICE)
    store_id = call(world, "CreateCustomKeyStore", **vpc_params())["CustomKeyStoreId"]
    assert (
        state_of(world, store_id)["XksProxyConfiguration"]["VpcEndpointServiceOwner"]
        == world.account_id
        == "111122223333"
    )
    other = call(
        world,
        "CreateCustomKeyStore",
        **vpc_params(
            "vpc-2",
            endpoint="https://vpc2.example.com",
            XksProxyVpcEndpointServiceName=OTHER_VPC_SERVICE,
            XksProxyVpcEndpointServiceOwner="444455556666",
        )
    )["CustomKeyStoreId"]
    assert state_of(world, other)["XksProxyConfiguration"]["VpcEndpointServiceOwner"] == "444455556666"
    assert (
        "VpcEndpointServiceOwner" not in state_of(world, ids["custom_key_stores"]["xks-store"])["XksProxyConfiguration"]
    )


def test_connectivity_change_needs_a_new_endpoint(world, ids):
    store_id = ids["custom_key_stores"]["xks-store"]
    # (An update of the proxy settings tries the proxy, whatever the connectivity: the emulator's choice.)
    world.control(
        "xks-proxy",
        {"uri_endpoint": "https://vpc.example.com", "access_key_id": ACCESS_KEY, "secret_access_key": SECRET},
    )
    add_endpoint_service(world)
    to_vpc = {"XksProxyConnectivity": "VPC_ENDPOINT_SERVICE", "XksProxyVpcEndpointServiceName": VPC_SERVICE}
    assert error_of(world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, **to_vpc) == "ValidationException"
    assert error_of(
        world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, XksProxyUriEndpoint=XKS_ENDPOINT, **to_vpc
    ) == ("ValidationException")
    assert (
        call(
            world,
            "UpdateCustomKeyStore",
            CustomKeyStoreId=store_id,
            XksProxyUriEndpoint="https://vpc.example.com",
            **to_vpc
        )
        == {}
    )
    config = state_of(world, store_id)["XksProxyConfiguration"]
    assert (config["Connectivity"], config["UriEndpoint"], config["VpcEndpointServiceOwner"]) == (
        "VPC_ENDPOINT_SERVICE",
        "https://vpc.example.com",
        world.account_id,
    )
    # Back to PUBLIC_ENDPOINT: a new endpoint, and no VPC endpoint service name.
    assert error_of(
        world, "UpdateCustomKeyStore", CustomKeyStoreId=store_id, XksProxyConnectivity="PUBLIC_ENDPOINT"
    ) == ("ValidationException")
    assert (
        error_of(
            world,
            "UpdateCustomKeyStore",
            CustomKeyStoreId=store_id,
            XksProxyConnectivity="PUBLIC_ENDPOINT",
            XksProxyUriEndpoint=XKS_ENDPOINT,
            XksProxyVpcEndpointServiceName=VPC_SERVICE,
        )
        == "ValidationException"
    )
    assert (
        call(
            world,
            "UpdateCustomKeyStore",
            CustomKeyStoreId=store_id,
            XksProxyConnectivity="PUBLIC_ENDPOINT",
            XksProxyUriEndpoint=XKS_ENDPOINT,
        )
        == {}
    )
    assert state_of(world, store_id)["XksProxyConfiguration"] == {
        "Connectivity": "PUBLIC_ENDPOINT",
        "AccessKeyId": ACCESS_KEY,
        "UriEndpoint": XKS_ENDPOINT,
        "UriPath": "/kms/xks/v1",
    }
