# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMS rules of the emulator: the custom key store operations and how a connection ends.

Each operation is a function of (world, validated parameters) returning the response body;
``OPERATIONS`` maps operation names to them. The rules and their AWS sources are listed in
README.md ("Rules"). No HTTP here, and no timers of their own: the world keeps the clock.
"""

from . import kms_crypto
from . import xks
from .entities import AWS_CLOUDHSM
from .entities import CONNECTED
from .entities import CONNECTING
from .entities import DISCONNECTED
from .entities import DISCONNECTING
from .entities import EXTERNAL_KEY_STORE
from .entities import FAILED
from .entities import PUBLIC_ENDPOINT
from .entities import VPC_ENDPOINT_SERVICE
from .entities import same_pem
from .errors import CloudHsmClusterInUseError
from .errors import CloudHsmClusterInvalidConfigurationError
from .errors import CloudHsmClusterNotActiveError
from .errors import CloudHsmClusterNotFoundError
from .errors import CloudHsmClusterNotRelatedError
from .errors import CustomKeyStoreHasCMKsError
from .errors import CustomKeyStoreInvalidStateError
from .errors import CustomKeyStoreNameInUseError
from .errors import CustomKeyStoreNotFoundError
from .errors import IncorrectTrustAnchorError
from .errors import InvalidMarkerError
from .errors import LimitExceededError
from .errors import ValidationError
from .errors import XksProxyUriEndpointInUseError
from .errors import XksProxyUriInUseError
from .errors import XksProxyVpcEndpointServiceInUseError
from .paging import paginate

DEFAULT_LIMIT = 1000

# Fields that belong to one store type only, per operation.
CLOUDHSM_FIELDS = ("CloudHsmClusterId", "TrustAnchorCertificate", "KeyStorePassword")
XKS_FIELDS = (
    "XksProxyUriEndpoint",
    "XksProxyUriPath",
    "XksProxyVpcEndpointServiceName",
    "XksProxyVpcEndpointServiceOwner",
    "XksProxyAuthenticationCredential",
    "XksProxyConnectivity",
)

# UpdateCustomKeyStore fields AWS accepts only while the store is DISCONNECTED.
UPDATE_NEEDS_DISCONNECTED = {
    AWS_CLOUDHSM: ("KeyStorePassword", "CloudHsmClusterId"),
    EXTERNAL_KEY_STORE: (
        "XksProxyUriEndpoint",
        "XksProxyConnectivity",
        "XksProxyVpcEndpointServiceName",
        "XksProxyVpcEndpointServiceOwner",
    ),
}

# The settings a VPC endpoint service check reads: an update that changes one checks the service again.
VPC_SERVICE_SETTINGS = ("connectivity", "uri_endpoint", "vpc_service_name", "vpc_service_owner")

_USER_CODES = {"absent": "USER_NOT_FOUND", "locked": "USER_LOCKED_OUT", "logged_in": "USER_LOGGED_IN"}


# ---------------------------------------------------------------------------
# How a connection ends
# ---------------------------------------------------------------------------


def connection_outcome(world, store):
    """None for CONNECTED, else the ConnectionErrorCode the world causes right now."""
    if store.injected:
        return store.injected.popleft()
    if store.store_type == AWS_CLOUDHSM:
        return _cloudhsm_outcome(world, store)
    return xks.connection_outcome(world, store)


def _cloudhsm_outcome(world, store):
    cluster = world.clusters.get(store.cluster_id)
    if cluster is None or cluster.state in ("DELETE_IN_PROGRESS", "DELETED"):
        return "CLUSTER_NOT_FOUND"
    if cluster.deleted_subnets:
        return "SUBNET_NOT_FOUND"
    if cluster.full_subnets:
        return "INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET"
    if not cluster.active_hsms():
        return "INSUFFICIENT_CLOUDHSM_HSMS"
    user = cluster.kmsuser
    if user.state in _USER_CODES:
        return _USER_CODES[user.state]
    if user.password != store.password:
        return "INVALID_CREDENTIALS"
    return None


# ---------------------------------------------------------------------------
# Checks shared by the operations
# ---------------------------------------------------------------------------


def _store(world, store_id):
    store = world.stores.get(store_id)
    if store is None:
        raise CustomKeyStoreNotFoundError("Custom key store %s does not exist in %s." % (store_id, world.region))
    return store


def _state_error(store, operation, allowed):
    return CustomKeyStoreInvalidStateError(
        "%s is not valid when custom key store %s is %s; it is valid when the store is %s."
        % (operation, store.store_id, store.state, " or ".join(allowed))
    )


def _require(params, names, store_type):
    missing = [name for name in names if params.get(name) is None]
    if missing:
        raise ValidationError("A custom key store of type %s needs %s." % (store_type, ", ".join(missing)))


def _reject_foreign_fields(store_type, params, operation):
    foreign = XKS_FIELDS if store_type == AWS_CLOUDHSM else CLOUDHSM_FIELDS
    present = [name for name in foreign if params.get(name) is not None]
    if present:
        raise ValidationError(
            "%s does not accept %s for a custom key store of type %s." % (operation, ", ".join(present), store_type)
        )


def _check_name_free(world, name, exclude=None):
    other = world.store_named(name, exclude)
    if other is not None:
        raise CustomKeyStoreNameInUseError(
            "Custom key store %s already uses the name %r in %s." % (other.store_id, name, world.region)
        )


def _cluster_not_active(cluster):
    return CloudHsmClusterNotActiveError("CloudHSM cluster %s is %s, not ACTIVE." % (cluster.cluster_id, cluster.state))


def _cluster_not_found(world, cluster_id):
    return CloudHsmClusterNotFoundError("CloudHSM cluster %s does not exist in %s." % (cluster_id, world.region))


def _store_of_lineage(world, cluster):
    for store in world.stores.values():
        if store.store_type == AWS_CLOUDHSM and (
            store.cluster_id == cluster.cluster_id or store.cluster_lineage == cluster.lineage
        ):
            return store
    return None


def _check_cluster_configuration(cluster, operation):
    """The cluster requirements of Create/UpdateCustomKeyStore (and, from the flag, of ConnectCustomKeyStore)."""
    if cluster.invalid_configuration:
        raise CloudHsmClusterInvalidConfigurationError(
            "CloudHSM cluster %s does not meet the configuration requirements of a custom key store "
            "(for example its security group rules)." % cluster.cluster_id
        )
    if len(cluster.live_availability_zones()) < 2:
        raise CloudHsmClusterInvalidConfigurationError(
            "CloudHSM cluster %s must have private subnets in at least two Availability Zones." % cluster.cluster_id
        )
    zones = sorted(set(hsm.availability_zone for hsm in cluster.active_hsms()))
    if len(zones) < 2:
        raise CloudHsmClusterInvalidConfigurationError(
            "For %s, CloudHSM cluster %s must have at least two active HSMs, each in a different Availability Zone; "
            "it has %d active HSM(s)%s."
            % (operation, cluster.cluster_id, len(cluster.active_hsms()), " in %s" % ", ".join(zones) if zones else "")
        )


def _merge_xks_config(world, current, params):
    """The XKS configuration after applying Create/UpdateCustomKeyStore parameters."""
    config = dict(current)
    mapping = (
        ("XksProxyUriEndpoint", "uri_endpoint"),
        ("XksProxyUriPath", "uri_path"),
        ("XksProxyConnectivity", "connectivity"),
        ("XksProxyVpcEndpointServiceName", "vpc_service_name"),
        ("XksProxyVpcEndpointServiceOwner", "vpc_service_owner"),
    )
    for param, key in mapping:
        if params.get(param) is not None:
            config[key] = params[param]
    if params.get("XksProxyConnectivity") == PUBLIC_ENDPOINT and params.get("XksProxyVpcEndpointServiceName") is None:
        # Switching to a public endpoint drops the VPC endpoint service it used.
        config.pop("vpc_service_name", None)
        if params.get("XksProxyVpcEndpointServiceOwner") is None:
            config.pop("vpc_service_owner", None)
    if config.get("connectivity") == VPC_ENDPOINT_SERVICE and not config.get("vpc_service_owner"):
        # "If not provided, the Amazon Web Services account ID calling the action will be used."
        config["vpc_service_owner"] = world.account_id
    credential = params.get("XksProxyAuthenticationCredential")
    if credential is not None:
        config["access_key_id"] = credential["AccessKeyId"]
        config["secret"] = credential["RawSecretAccessKey"]
    return config


def _check_connectivity_change(store, params):
    """UpdateCustomKeyStore: a new XksProxyConnectivity comes with a new XksProxyUriEndpoint."""
    connectivity = params.get("XksProxyConnectivity")
    if connectivity is None or connectivity == store.xks["connectivity"]:
        return
    endpoint = params.get("XksProxyUriEndpoint")
    if endpoint is None or endpoint == store.xks["uri_endpoint"]:
        raise ValidationError(
            "Changing XksProxyConnectivity of custom key store %s to %s needs a new XksProxyUriEndpoint."
            % (store.store_id, connectivity)
        )


def _check_xks_config(world, config, store=None):
    """AWS's create/update checks of an XKS configuration: shape, uniqueness, then the endpoint service or the proxy.

    A VPC_ENDPOINT_SERVICE store's endpoint service is checked at create and at an update of a setting the
    check reads; its proxy is not contacted (KMS tries it at connect). A PUBLIC_ENDPOINT store's proxy is
    tried at create and at every update of the proxy settings.
    """
    vpc = config["connectivity"] == VPC_ENDPOINT_SERVICE
    if vpc and not config.get("vpc_service_name"):
        raise ValidationError(
            "XksProxyVpcEndpointServiceName is required when XksProxyConnectivity is VPC_ENDPOINT_SERVICE."
        )
    if not vpc and (config.get("vpc_service_name") or config.get("vpc_service_owner")):
        raise ValidationError(
            "XksProxyVpcEndpointServiceName and XksProxyVpcEndpointServiceOwner "
            "are only valid when XksProxyConnectivity is VPC_ENDPOINT_SERVICE."
        )
    for other in world.stores.values():
        if other is store or other.store_type != EXTERNAL_KEY_STORE:
            continue
        if (other.xks["uri_endpoint"], other.xks["uri_path"]) == (config["uri_endpoint"], config["uri_path"]):
            raise XksProxyUriInUseError(
                "Custom key store %s already uses %s%s." % (other.store_id, config["uri_endpoint"], config["uri_path"])
            )
        other_vpc = other.xks["connectivity"] == VPC_ENDPOINT_SERVICE
        if (vpc or other_vpc) and other.xks["uri_endpoint"] == config["uri_endpoint"]:
            raise XksProxyUriEndpointInUseError(
                "Custom key store %s already uses the endpoint %s." % (other.store_id, config["uri_endpoint"])
            )
        if vpc and other.xks.get("vpc_service_name") == config["vpc_service_name"]:
            raise XksProxyVpcEndpointServiceInUseError(
                "Custom key store %s already uses VPC endpoint service %s."
                % (other.store_id, config["vpc_service_name"])
            )
    if vpc and (store is None or any(config.get(key) != store.xks.get(key) for key in VPC_SERVICE_SETTINGS)):
        xks.check_endpoint_service(world, config)
    xks.check_at_create(world, config, "UpdateCustomKeyStore" if store else "CreateCustomKeyStore")


def _run_race(world, store, operation):
    """Apply the first race queued for this operation, as if another client acted in between."""
    for race in list(store.races):
        if race[0] == operation:
            store.races.remove(race)
            world.set_state(store, race[1])
            return


# ---------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------


def create_custom_key_store(world, params):
    """CreateCustomKeyStore: a new DISCONNECTED store of either type."""
    store_type = params.get("CustomKeyStoreType", AWS_CLOUDHSM)
    _reject_foreign_fields(store_type, params, "CreateCustomKeyStore")
    if store_type == AWS_CLOUDHSM:
        _require(params, CLOUDHSM_FIELDS, AWS_CLOUDHSM)
        retried = _identical_disconnected_store(world, params)
        if retried is not None:
            return {"CustomKeyStoreId": retried.store_id}
    quota = world.settings["custom_key_stores_quota"]
    if len(world.stores) >= quota:
        raise LimitExceededError(
            "The account already has %d custom key stores in %s, its quota of %d."
            % (len(world.stores), world.region, quota)
        )
    if store_type == AWS_CLOUDHSM:
        store = _new_cloudhsm_store(world, params)
    else:
        store = _new_xks_store(world, params)
    world.add_store(store, DISCONNECTED)
    return {"CustomKeyStoreId": store.store_id}


def _identical_disconnected_store(world, params):
    """A DISCONNECTED CloudHSM store with all the properties of this create (KMS treats it as a retry), or None."""
    for store in world.stores.values():
        if (
            store.store_type == AWS_CLOUDHSM
            and store.state == DISCONNECTED
            and store.name == params["CustomKeyStoreName"]
            and store.cluster_id == params["CloudHsmClusterId"]
            and store.trust_anchor == params["TrustAnchorCertificate"]
            and store.password == params["KeyStorePassword"]
        ):
            return store
    return None


def _new_cloudhsm_store(world, params):
    _check_name_free(world, params["CustomKeyStoreName"])
    cluster = world.clusters.get(params["CloudHsmClusterId"])
    if cluster is None:
        raise _cluster_not_found(world, params["CloudHsmClusterId"])
    user = _store_of_lineage(world, cluster)
    if user is not None:
        raise CloudHsmClusterInUseError(
            "CloudHSM cluster %s, or a cluster with the same backup history, "
            "already backs custom key store %s." % (cluster.cluster_id, user.store_id)
        )
    if cluster.state != "ACTIVE":
        raise _cluster_not_active(cluster)
    if not same_pem(params["TrustAnchorCertificate"], cluster.trust_anchor):
        raise IncorrectTrustAnchorError(
            "The trust anchor certificate does not match the one that "
            "initialized CloudHSM cluster %s." % cluster.cluster_id
        )
    _check_cluster_configuration(cluster, "CreateCustomKeyStore")
    store = world.new_store(params["CustomKeyStoreName"], AWS_CLOUDHSM)
    store.cluster_id = cluster.cluster_id
    store.cluster_lineage = cluster.lineage
    store.trust_anchor = params["TrustAnchorCertificate"]
    store.password = params["KeyStorePassword"]
    return store


def _new_xks_store(world, params):
    _require(
        params,
        ("XksProxyUriEndpoint", "XksProxyUriPath", "XksProxyAuthenticationCredential", "XksProxyConnectivity"),
        EXTERNAL_KEY_STORE,
    )
    _check_name_free(world, params["CustomKeyStoreName"])
    config = _merge_xks_config(world, {}, params)
    _check_xks_config(world, config)
    store = world.new_store(params["CustomKeyStoreName"], EXTERNAL_KEY_STORE)
    store.xks = config
    return store


def describe_custom_key_stores(world, params):
    """DescribeCustomKeyStores: one store by id or name, or all in creation order, paged."""
    store_id = params.get("CustomKeyStoreId")
    name = params.get("CustomKeyStoreName")
    if store_id is not None and name is not None:
        raise ValidationError("Specify CustomKeyStoreId or CustomKeyStoreName, not both.")
    if store_id is not None:
        stores = [_store(world, store_id)]
    elif name is not None:
        store = world.store_named(name)
        if store is None:
            raise CustomKeyStoreNotFoundError("No custom key store is named %r in %s." % (name, world.region))
        stores = [store]
    else:
        stores = list(world.stores.values())
    page, marker = paginate(
        stores, params.get("Marker"), params.get("Limit", DEFAULT_LIMIT), "custom-key-stores", InvalidMarkerError
    )
    result = {"CustomKeyStores": [store.describe() for store in page], "Truncated": marker is not None}
    if marker is not None:
        result["NextMarker"] = marker
    return result


def connect_custom_key_store(world, params):
    """ConnectCustomKeyStore: DISCONNECTED -> CONNECTING; the outcome comes when the timer ends."""
    store = _store(world, params["CustomKeyStoreId"])
    _run_race(world, store, "ConnectCustomKeyStore")
    if store.state in (DISCONNECTING, FAILED):
        raise _state_error(store, "ConnectCustomKeyStore", (CONNECTED, CONNECTING, DISCONNECTED))
    if store.state in (CONNECTED, CONNECTING):
        return {}
    if store.store_type == AWS_CLOUDHSM:
        cluster = world.clusters.get(store.cluster_id)
        # These two fail at once in AWS; every other problem shows up as FAILED later.
        if cluster is not None and cluster.state != "ACTIVE":
            raise _cluster_not_active(cluster)
        if cluster is not None and cluster.invalid_configuration:
            _check_cluster_configuration(cluster, "ConnectCustomKeyStore")
    world.set_state(store, CONNECTING)
    return {}


def disconnect_custom_key_store(world, params):
    """DisconnectCustomKeyStore: CONNECTED, CONNECTING or FAILED -> DISCONNECTING -> DISCONNECTED."""
    store = _store(world, params["CustomKeyStoreId"])
    _run_race(world, store, "DisconnectCustomKeyStore")
    if store.state in (DISCONNECTING, DISCONNECTED):
        raise _state_error(store, "DisconnectCustomKeyStore", (CONNECTED, CONNECTING, FAILED))
    # Replacing the pending transition also cancels a connection still in progress.
    world.set_state(store, DISCONNECTING)
    return {}


def update_custom_key_store(world, params):
    """UpdateCustomKeyStore: checks everything first, then applies all changes at once."""
    store = _store(world, params["CustomKeyStoreId"])
    changes = dict((key, value) for key, value in params.items() if key != "CustomKeyStoreId" and value is not None)
    _reject_foreign_fields(store.store_type, changes, "UpdateCustomKeyStore")
    if store.state not in (CONNECTED, DISCONNECTED):
        raise _state_error(store, "UpdateCustomKeyStore", (CONNECTED, DISCONNECTED))
    restricted = [name for name in UPDATE_NEEDS_DISCONNECTED[store.store_type] if name in changes]
    if restricted and store.state != DISCONNECTED:
        raise CustomKeyStoreInvalidStateError(
            "Custom key store %s is %s; UpdateCustomKeyStore can change %s "
            "only while it is DISCONNECTED." % (store.store_id, store.state, ", ".join(restricted))
        )
    new_name = changes.get("NewCustomKeyStoreName")
    if new_name is not None:
        _check_name_free(world, new_name, exclude=store)
    if store.store_type == AWS_CLOUDHSM:
        _update_cloudhsm_store(world, store, changes)
    else:
        _update_xks_store(world, store, changes)
    if new_name is not None:
        store.name = new_name
    return {}


def _update_cloudhsm_store(world, store, changes):
    cluster = None
    if "CloudHsmClusterId" in changes:
        cluster = world.clusters.get(changes["CloudHsmClusterId"])
        if cluster is None:
            raise _cluster_not_found(world, changes["CloudHsmClusterId"])
        if cluster.state != "ACTIVE":
            raise _cluster_not_active(cluster)
        if cluster.lineage != store.cluster_lineage:
            raise CloudHsmClusterNotRelatedError(
                "CloudHSM cluster %s does not share a backup history with cluster %s, "
                "the one custom key store %s was created with." % (cluster.cluster_id, store.cluster_id, store.store_id)
            )
        _check_cluster_configuration(cluster, "UpdateCustomKeyStore")
    if cluster is not None:
        store.cluster_id = cluster.cluster_id
    if "KeyStorePassword" in changes:
        store.password = changes["KeyStorePassword"]


def _update_xks_store(world, store, changes):
    if any(name in changes for name in XKS_FIELDS):
        _check_connectivity_change(store, changes)
        config = _merge_xks_config(world, store.xks, changes)
        _check_xks_config(world, config, store)
        store.xks = config


def delete_custom_key_store(world, params):
    """DeleteCustomKeyStore: only DISCONNECTED stores without KMS keys."""
    store = _store(world, params["CustomKeyStoreId"])
    if store.state != DISCONNECTED:
        raise _state_error(store, "DeleteCustomKeyStore", (DISCONNECTED,))
    if store.kms_key_count > 0:
        raise CustomKeyStoreHasCMKsError(
            "Custom key store %s still holds %d KMS key(s); delete them first." % (store.store_id, store.kms_key_count)
        )
    del world.stores[store.store_id]
    return {}


OPERATIONS = {
    "CreateCustomKeyStore": create_custom_key_store,
    "DescribeCustomKeyStores": describe_custom_key_stores,
    "ConnectCustomKeyStore": connect_custom_key_store,
    "DisconnectCustomKeyStore": disconnect_custom_key_store,
    "UpdateCustomKeyStore": update_custom_key_store,
    "DeleteCustomKeyStore": delete_custom_key_store,
}
OPERATIONS.update(kms_crypto.OPERATIONS)
