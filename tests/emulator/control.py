# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control API's actions on one region: acting as an operator (lock ``kmsuser``, delete a
subnet, force a state...), injecting connection outcomes and races, and seeding.

Each action is a function of (world, ``Fields`` of the request body) returning a JSON-able
result; ``ACTIONS`` maps the control path (``POST /_emulator/<action>``) to them. Seeding skips
AWS's create-time checks on purpose, so a test can build worlds AWS would not let a client make.
"""

import re

from . import xks
from .cloudhsm import hsm_ip
from .entities import AWS_CLOUDHSM
from .entities import BASE32
from .entities import CLUSTER_ID_RE
from .entities import CONNECTING
from .entities import CONNECTION_STATES
from .entities import DEFAULT_KMSUSER_PASSWORD
from .entities import DISCONNECTED
from .entities import DISCONNECTING
from .entities import FAILED
from .entities import HEX
from .entities import HSM_ID_RE
from .entities import KMSUSER_STATES
from .entities import PUBLIC_ENDPOINT
from .entities import STORE_ID_RE
from .entities import STORE_TYPES
from .entities import VPC_ENDPOINT_SERVICE
from .entities import XKS_CONNECTIVITY
from .entities import Cluster
from .entities import Hsm
from .entities import KmsUser
from .entities import cluster_states
from .entities import connection_error_codes
from .entities import fake_pem
from .entities import hsm_states
from .entities import new_id
from .errors import AwsError
from .errors import ControlError

DEFAULT_XKS_URI_PATH = "/kms/xks/v1"

# Calls before which a queued race moves the store (action `race`).
RACEABLE_OPERATIONS = ("ConnectCustomKeyStore", "DisconnectCustomKeyStore")

_PASSWORD_RE = re.compile(r"^.{7,32}$", re.S)

_KINDS = {
    "string": ((str,), "a string"),
    "boolean": ((bool,), "true or false"),
    "number": ((int, float), "a number"),
    "integer": ((int,), "an integer"),
    "list": ((list,), "a list"),
    "object": ((dict,), "a JSON object"),
}


class Fields:
    """Reads a control-API JSON object field by field.

    Unknown keys and wrong types are refused with one clear sentence, so a typo in a seed or
    an operator action fails loudly instead of silently doing nothing. Call ``done()`` after
    the last ``get()`` and before changing anything.
    """

    def __init__(self, data, what):
        if not isinstance(data, dict):
            raise ControlError("%s must be a JSON object." % what)
        self.data = data
        self.what = what
        self.known = []

    def get(self, name, kind, default=None, required=False, choices=None):
        """One field: validated against ``kind`` and ``choices``, else ``default``."""
        self.known.append(name)
        value = self.data.get(name)
        if value is None:
            if required:
                raise ControlError('%s needs "%s".' % (self.what, name))
            return default
        types, description = _KINDS[kind]
        if not isinstance(value, types) or (isinstance(value, bool) and kind != "boolean"):
            raise ControlError('"%s" in %s must be %s.' % (name, self.what, description))
        if choices is not None and value not in choices:
            raise ControlError('"%s" in %s must be one of %s, not %r.' % (name, self.what, ", ".join(choices), value))
        return value

    def done(self):
        """Refuse keys nobody asked for."""
        unknown = sorted(set(self.data) - set(self.known))
        if unknown:
            raise ControlError(
                "%s has unknown field(s) %s; known fields are %s."
                % (self.what, ", ".join(unknown), ", ".join(self.known))
            )


# ---------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------


def _cluster(world, fields):
    key = fields.get("cluster_id", "string", required=True)
    cluster = world.find_cluster(key)
    if cluster is None:
        raise ControlError("No cluster with id or name %r exists in %s." % (key, world.region))
    return cluster


def _store(world, fields):
    key = fields.get("custom_key_store_id", "string", required=True)
    store = world.stores.get(key) or world.store_named(key)
    if store is None:
        raise ControlError("No custom key store with id or name %r exists in %s." % (key, world.region))
    return store


def _subnet(cluster, fields):
    subnet_id = fields.get("subnet_id", "string", required=True)
    if subnet_id not in cluster.subnets.values():
        raise ControlError(
            "Cluster %s has no subnet %s; its subnets are %s."
            % (cluster.cluster_id, subnet_id, ", ".join(sorted(cluster.subnets.values())))
        )
    return subnet_id


def _transition_seconds(fields, state):
    """The optional `transition_seconds` of a seeded or forced CONNECTING / DISCONNECTING state."""
    seconds = fields.get("transition_seconds", "number")
    if seconds is not None and (state not in (CONNECTING, DISCONNECTING) or seconds < 0):
        raise ControlError('"transition_seconds" (zero or more) goes with a CONNECTING or DISCONNECTING state.')
    return seconds


def _toggle(values, value, present):
    if present:
        values.add(value)
    else:
        values.discard(value)


# ---------------------------------------------------------------------------
# Operator actions
# ---------------------------------------------------------------------------


def set_kmsuser(world, fields):
    """kmsuser: create, delete, lock, log in or out the cluster's kmsuser; optionally set its password."""
    cluster = _cluster(world, fields)
    state = fields.get("state", "string", required=True, choices=KMSUSER_STATES)
    password = fields.get("password", "string")
    fields.done()
    cluster.kmsuser.state = "present" if state == "logged_out" else state
    if password is not None:
        cluster.kmsuser.password = password
    return {"cluster_id": cluster.cluster_id, "kmsuser": {"state": cluster.kmsuser.state}}


def delete_cluster(world, fields):
    """delete-cluster: the cluster and its HSMs vanish; stores keep pointing at its id."""
    cluster = _cluster(world, fields)
    fields.done()
    del world.clusters[cluster.cluster_id]
    return {"deleted": cluster.cluster_id}


def set_cluster_state(world, fields):
    """set-cluster-state: force a cluster state and/or flag its configuration invalid."""
    cluster = _cluster(world, fields)
    state = fields.get("state", "string", choices=cluster_states())
    invalid = fields.get("invalid_configuration", "boolean")
    fields.done()
    if state is None and invalid is None:
        raise ControlError('set-cluster-state needs "state" or "invalid_configuration".')
    if state is not None:
        cluster.state = state
    if invalid is not None:
        cluster.invalid_configuration = invalid
    return cluster.dump()


def delete_subnet(world, fields):
    """delete-subnet: the subnet is gone from the VPC (``"deleted": false`` restores it)."""
    cluster = _cluster(world, fields)
    subnet_id = _subnet(cluster, fields)
    deleted = fields.get("deleted", "boolean", default=True)
    fields.done()
    _toggle(cluster.deleted_subnets, subnet_id, deleted)
    return cluster.dump()


def fill_subnet(world, fields):
    """fill-subnet: the subnet has no free addresses (``"full": false`` frees it)."""
    cluster = _cluster(world, fields)
    subnet_id = _subnet(cluster, fields)
    full = fields.get("full", "boolean", default=True)
    fields.done()
    _toggle(cluster.full_subnets, subnet_id, full)
    return cluster.dump()


def set_xks_proxy(world, fields):
    """xks-proxy: register, change or (``"state": "absent"``) remove the proxy at an endpoint."""
    endpoint = fields.get("uri_endpoint", "string", required=True)
    state = fields.get("state", "string", default="present", choices=("present", "absent"))
    values = xks.read_fields(fields, xks.PROXY_FIELDS)
    fields.done()
    if state == "absent":
        world.proxies.pop(endpoint, None)
        return {"uri_endpoint": endpoint, "state": "absent"}
    return xks.set_proxy(world, endpoint, values).dump()


def set_store_state(world, fields):
    """set-store-state: force a connection state (CONNECTING/DISCONNECTING run their normal timers)
    and/or the number of KMS keys the store holds."""
    store = _store(world, fields)
    state = fields.get("state", "string", choices=CONNECTION_STATES)
    code = fields.get("connection_error_code", "string", choices=connection_error_codes())
    key_count = fields.get("kms_key_count", "integer")
    transition_seconds = _transition_seconds(fields, state)
    fields.done()
    if state is None and key_count is None:
        raise ControlError('set-store-state needs "state" or "kms_key_count".')
    if code is not None and state != FAILED:
        raise ControlError('"connection_error_code" is only meaningful with "state": "FAILED".')
    if key_count is not None and key_count < 0:
        raise ControlError('"kms_key_count" must be zero or more.')
    if state is not None:
        world.set_state(store, state, code, transition_seconds)
    if key_count is not None:
        store.kms_key_count = key_count
    return store.dump(world.clock.monotonic())


def delete_store(world, fields):
    """delete-store: the store vanishes in whatever state it is (another operator deleted it); its timer ends."""
    store = _store(world, fields)
    fields.done()
    del world.stores[store.store_id]
    return {"deleted": store.store_id}


def queue_race(world, fields):
    """race: just before the store's next call of `operation`, another client moves it to `state`."""
    store = _store(world, fields)
    operation = fields.get("operation", "string", required=True, choices=sorted(RACEABLE_OPERATIONS))
    state = fields.get("state", "string", required=True, choices=CONNECTION_STATES)
    fields.done()
    store.races.append((operation, state))
    return {"custom_key_store_id": store.store_id, "races": [list(race) for race in store.races]}


def set_hsm_state(world, fields):
    """set-hsm-state: force an HSM state (it then stays there; DELETED removes the HSM)."""
    cluster = _cluster(world, fields)
    hsm_id = fields.get("hsm_id", "string", required=True)
    state = fields.get("state", "string", required=True, choices=hsm_states())
    fields.done()
    hsm = cluster.hsms.get(hsm_id)
    if hsm is None:
        raise ControlError("Cluster %s has no HSM %s." % (cluster.cluster_id, hsm_id))
    if state == "DELETED":
        del cluster.hsms[hsm_id]
    else:
        hsm.state = state
        hsm.pending = None
    return cluster.dump()


def queue_connection_errors(world, fields):
    """connection-errors: one-shot outcomes for the store's next connections, consumed in order."""
    store = _store(world, fields)
    codes = fields.get("codes", "list", required=True)
    fields.done()
    valid = connection_error_codes()
    wrong = [code for code in codes if code not in valid]
    if not codes or wrong:
        raise ControlError('"codes" must be a non-empty list of ConnectionErrorCode values (%s).' % ", ".join(valid))
    store.injected.extend(codes)
    return {"custom_key_store_id": store.store_id, "queued_connection_errors": list(store.injected)}


def set_stale_reads(world, fields):
    """stale-reads: for `seconds` after each mutating call of a store, Describe shows the store as it was before
    (0 turns it off). An emulator test feature for KMS's eventual consistency, not an AWS rule."""
    seconds = fields.get("seconds", "number", required=True)
    fields.done()
    if seconds < 0:
        raise ControlError('"seconds" must be zero or more.')
    world.stale_read_seconds = float(seconds)
    if not seconds:
        world.stale_views = {}
    return {"region": world.region, "stale_read_seconds": world.stale_read_seconds}


def start_network_blip(world, fields):
    """network-blip: for `seconds` from now, the server reads each AWS request of the Region and hangs up without
    an answer (0 ends a blip). An emulator test feature, not an AWS rule."""
    seconds = fields.get("seconds", "number", required=True)
    fields.done()
    if seconds < 0:
        raise ControlError('"seconds" must be zero or more.')
    world.blip_until = world.clock.monotonic() + seconds if seconds else None
    return {"region": world.region, "blip_seconds": seconds}


def in_network_blip(world):
    """True while a network blip of the Region lasts."""
    return world.blip_until is not None and world.clock.monotonic() < world.blip_until


ACTIONS = {
    "kmsuser": set_kmsuser,
    "delete-cluster": delete_cluster,
    "set-cluster-state": set_cluster_state,
    "delete-subnet": delete_subnet,
    "fill-subnet": fill_subnet,
    "xks-proxy": set_xks_proxy,
    "vpc-endpoint-service": xks.set_vpc_endpoint_service,
    "serve-xks-proxy": xks.serve_proxy,
    "set-store-state": set_store_state,
    "delete-store": delete_store,
    "set-hsm-state": set_hsm_state,
    "connection-errors": queue_connection_errors,
    "race": queue_race,
    "stale-reads": set_stale_reads,
    "network-blip": start_network_blip,
}


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


def seed(world, fields):
    """Add the clusters, proxies and stores of one seed document; return their ids by name."""
    cluster_items = fields.get("clusters", "list", default=[])
    proxy_items = fields.get("xks_proxies", "list", default=[])
    service_items = fields.get("vpc_endpoint_services", "list", default=[])
    store_items = fields.get("custom_key_stores", "list", default=[])
    fields.done()
    result = {"region": world.region, "clusters": {}, "hsms": {}, "xks_proxies": [], "custom_key_stores": {}}
    if service_items:
        result["vpc_endpoint_services"] = [
            xks.seed_service(world, Fields(item, "vpc_endpoint_services[%d]" % index))
            for index, item in enumerate(service_items)
        ]
    for index, item in enumerate(cluster_items):
        cluster = _seed_cluster(world, Fields(item, "clusters[%d]" % index))
        result["clusters"][cluster.name] = cluster.cluster_id
        result["hsms"][cluster.name] = list(cluster.hsms)
    for index, item in enumerate(proxy_items):
        result["xks_proxies"].append(_seed_proxy(world, Fields(item, "xks_proxies[%d]" % index)))
    for index, item in enumerate(store_items):
        store = _seed_store(world, Fields(item, "custom_key_stores[%d]" % index))
        result["custom_key_stores"][store.name] = store.store_id
    return result


def _seed_cluster(world, fields):
    name = fields.get("name", "string", required=True)
    cluster_id = fields.get("id", "string") or new_id("cluster-", BASE32, 11)
    state = fields.get("state", "string", default="ACTIVE", choices=[s for s in cluster_states() if s != "DELETED"])
    subnets = fields.get("subnets", "object") or {
        world.region + "a": new_id("subnet-", HEX, 17),
        world.region + "b": new_id("subnet-", HEX, 17),
    }
    spec = dict(
        (key, fields.get(key, kind))
        for key, kind in (
            ("vpc_id", "string"),
            ("hsm_type", "string"),
            ("lineage", "string"),
            ("trust_anchor_certificate", "string"),
            ("invalid_configuration", "boolean"),
            ("kmsuser", "object"),
            ("hsms", "list"),
            ("deleted_subnets", "list"),
            ("full_subnets", "list"),
        )
    )
    fields.done()
    if not CLUSTER_ID_RE.match(cluster_id) or cluster_id in world.clusters:
        raise ControlError(
            '%s: "id" must be a new id like cluster-abcdefghij2 (cluster- and 11 to 16 of a-z, 2-7).' % fields.what
        )
    if any(cluster.name == name for cluster in world.clusters.values()):
        raise ControlError("%s: a cluster named %r already exists in %s." % (fields.what, name, world.region))
    if not subnets or not all(isinstance(value, str) and value for value in subnets.values()):
        raise ControlError('%s: "subnets" must map Availability Zones to subnet ids.' % fields.what)
    cluster = Cluster(cluster_id, name, subnets, world.clock.wall(), world.next_seq())
    cluster.state = state
    cluster.vpc_id = spec["vpc_id"] or cluster.vpc_id
    cluster.hsm_type = spec["hsm_type"] or cluster.hsm_type
    cluster.lineage = spec["lineage"] or cluster_id
    cluster.trust_anchor = spec["trust_anchor_certificate"] or fake_pem(
        "trust anchor of backup lineage %s" % cluster.lineage
    )
    cluster.invalid_configuration = bool(spec["invalid_configuration"])
    cluster.deleted_subnets = _seed_subnet_set(cluster, spec["deleted_subnets"], "deleted_subnets", fields.what)
    cluster.full_subnets = _seed_subnet_set(cluster, spec["full_subnets"], "full_subnets", fields.what)
    cluster.kmsuser = _seed_kmsuser(Fields(spec["kmsuser"] or {}, "%s.kmsuser" % fields.what))
    for index, item in enumerate(spec["hsms"] or []):
        _seed_hsm(world, cluster, Fields(item, "%s.hsms[%d]" % (fields.what, index)))
    world.clusters[cluster_id] = cluster
    return cluster


def _seed_subnet_set(cluster, values, key, what):
    values = values or []
    unknown = [value for value in values if value not in cluster.subnets.values()]
    if unknown:
        raise ControlError(
            '%s: "%s" names subnets the cluster does not have: %s.' % (what, key, ", ".join(map(str, unknown)))
        )
    return set(values)


def _seed_kmsuser(fields):
    state = fields.get("state", "string", default="present", choices=KMSUSER_STATES)
    password = fields.get("password", "string", default=DEFAULT_KMSUSER_PASSWORD)
    fields.done()
    return KmsUser("present" if state == "logged_out" else state, password)


def _seed_hsm(world, cluster, fields):
    zone = fields.get("availability_zone", "string", required=True, choices=sorted(cluster.subnets))
    state = fields.get("state", "string", default="ACTIVE", choices=[s for s in hsm_states() if s != "DELETED"])
    hsm_id = fields.get("id", "string")
    ip_address = fields.get("ip_address", "string")
    fields.done()
    if hsm_id is not None and not HSM_ID_RE.match(hsm_id):
        raise ControlError('%s: "id" must look like hsm-abcdefghij2 (hsm- and 11 to 16 of a-z, 2-7).' % fields.what)
    try:
        ip_address = hsm_ip(cluster, cluster.subnets[zone], ip_address)
    except AwsError as exc:
        raise ControlError("%s: %s" % (fields.what, exc.message))
    hsm = Hsm(cluster, zone, ip_address, state, hsm_id)
    world.start_hsm_timer(hsm)
    cluster.hsms[hsm.hsm_id] = hsm


def _seed_proxy(world, fields):
    endpoint = fields.get("uri_endpoint", "string", required=True)
    values = xks.read_fields(fields, xks.PROXY_FIELDS)
    fields.done()
    xks.set_proxy(world, endpoint, values, replace=True)
    return endpoint


def _seed_store(world, fields):
    name = fields.get("name", "string", required=True)
    store_type = fields.get("type", "string", default=AWS_CLOUDHSM, choices=STORE_TYPES)
    store_id = fields.get("id", "string")
    state = fields.get("connection_state", "string", default=DISCONNECTED, choices=CONNECTION_STATES)
    code = fields.get("connection_error_code", "string", choices=connection_error_codes())
    key_count = fields.get("kms_key_count", "integer", default=0)
    transition_seconds = _transition_seconds(fields, state)
    if store_id is not None and (not STORE_ID_RE.match(store_id) or store_id in world.stores):
        raise ControlError(
            '%s: "id" must be a new id like cks-0123456789abcdef0 (cks- and 17 hex digits).' % fields.what
        )
    if world.store_named(name) is not None:
        raise ControlError("%s: a custom key store named %r already exists in %s." % (fields.what, name, world.region))
    if code is not None and state != FAILED:
        raise ControlError('%s: "connection_error_code" needs "connection_state": "FAILED".' % fields.what)
    if key_count < 0:
        raise ControlError('%s: "kms_key_count" must be zero or more.' % fields.what)
    store = world.new_store(name, store_type, store_id)
    if store_type == AWS_CLOUDHSM:
        _seed_cloudhsm_store(world, store, fields)
    else:
        _seed_xks_store(world, store, fields)
    store.kms_key_count = key_count
    world.add_store(store, state, code, transition_seconds)
    return store


def _seed_cloudhsm_store(world, store, fields):
    key = fields.get("cluster", "string", required=True)
    password = fields.get("key_store_password", "string", default=DEFAULT_KMSUSER_PASSWORD)
    trust_anchor = fields.get("trust_anchor_certificate", "string")
    fields.done()
    cluster = world.find_cluster(key)
    if cluster is None:
        raise ControlError("%s: no cluster with id or name %r exists in %s." % (fields.what, key, world.region))
    if not _PASSWORD_RE.match(password):
        raise ControlError('%s: "key_store_password" must be 7 to 32 characters.' % fields.what)
    store.cluster_id = cluster.cluster_id
    store.cluster_lineage = cluster.lineage
    store.trust_anchor = trust_anchor or cluster.trust_anchor
    store.password = password


def _seed_xks_store(world, store, fields):
    endpoint = fields.get("xks_proxy_uri_endpoint", "string", required=True)
    proxy = world.proxies.get(endpoint)
    config = {
        "uri_endpoint": endpoint,
        "uri_path": fields.get("xks_proxy_uri_path", "string", default=DEFAULT_XKS_URI_PATH),
        "connectivity": fields.get(
            "xks_proxy_connectivity", "string", default=PUBLIC_ENDPOINT, choices=XKS_CONNECTIVITY
        ),
        "vpc_service_name": fields.get("xks_proxy_vpc_endpoint_service_name", "string"),
        "vpc_service_owner": fields.get("xks_proxy_vpc_endpoint_service_owner", "string"),
        "access_key_id": fields.get("access_key_id", "string", default=proxy.access_key_id if proxy else None),
        "secret": fields.get("secret_access_key", "string", default=proxy.secret_access_key if proxy else None),
    }
    fields.done()
    if not config["access_key_id"] or not config["secret"]:
        raise ControlError(
            '%s: needs "access_key_id" and "secret_access_key" (no proxy with credentials is registered at %s).'
            % (fields.what, endpoint)
        )
    if config["connectivity"] == VPC_ENDPOINT_SERVICE and not config["vpc_service_name"]:
        raise ControlError(
            '%s: VPC_ENDPOINT_SERVICE connectivity needs "xks_proxy_vpc_endpoint_service_name".' % fields.what
        )
    if config["connectivity"] == VPC_ENDPOINT_SERVICE and not config["vpc_service_owner"]:
        config["vpc_service_owner"] = world.account_id
    xks.seeded_store(world, config)
    store.xks = config
