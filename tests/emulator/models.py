# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""World state and AWS rules of the emulator; no HTTP here.

A ``World`` is one region: CloudHSM clusters with their HSMs and ``kmsuser``, registered XKS
proxies, and KMS custom key stores. ``Regions`` holds one world per region plus the settings
(durations) they share.

Timers are lazy: an operation that takes time stores a monotonic deadline, and every read or
change of the world first applies the transitions that are due, oldest first. A connection's
outcome is therefore computed from the world as it is when the connection finishes, which is
what lets a test break or fix the world while a connection is in progress. No background
threads; callers serialise access (the server holds one lock around all regions).
"""

import base64
import binascii
import copy
import functools
import re
import secrets
import time
from collections import deque

from .wire import CLOUDHSM, DEFAULT_REGION, KMS, AwsError, enum_values

CONNECTED = 'CONNECTED'
CONNECTING = 'CONNECTING'
FAILED = 'FAILED'
DISCONNECTED = 'DISCONNECTED'
DISCONNECTING = 'DISCONNECTING'
CONNECTION_STATES = (CONNECTED, CONNECTING, FAILED, DISCONNECTED, DISCONNECTING)

AWS_CLOUDHSM = 'AWS_CLOUDHSM'
EXTERNAL_KEY_STORE = 'EXTERNAL_KEY_STORE'
STORE_TYPES = (AWS_CLOUDHSM, EXTERNAL_KEY_STORE)

PUBLIC_ENDPOINT = 'PUBLIC_ENDPOINT'
VPC_ENDPOINT_SERVICE = 'VPC_ENDPOINT_SERVICE'
XKS_CONNECTIVITY = (PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE)

DEFAULT_SETTINGS = {
    'connect_seconds': 2.0,
    'disconnect_seconds': 1.0,
    'hsm_create_seconds': 3.0,
    'hsm_delete_seconds': 1.0,
}
DEFAULT_KMSUSER_PASSWORD = 'kmsPassw0rd'
DEFAULT_HSM_TYPE = 'hsm1.medium'
DEFAULT_XKS_URI_PATH = '/kms/xks/v1'
DEFAULT_FAILED_CODE = 'INTERNAL_ERROR'
KMSUSER_STATES = ('present', 'absent', 'locked', 'logged_in', 'logged_out')

# Cluster states in which CloudHSM accepts CreateHsm.
HSM_CAPABLE_CLUSTER_STATES = ('UNINITIALIZED', 'INITIALIZED', 'ACTIVE', 'DEGRADED')

# Fields that belong to one store type only, per operation.
CLOUDHSM_FIELDS = ('CloudHsmClusterId', 'TrustAnchorCertificate', 'KeyStorePassword')
XKS_FIELDS = ('XksProxyUriEndpoint', 'XksProxyUriPath', 'XksProxyVpcEndpointServiceName',
              'XksProxyVpcEndpointServiceOwner', 'XksProxyAuthenticationCredential', 'XksProxyConnectivity')

# UpdateCustomKeyStore fields AWS accepts only while the store is DISCONNECTED.
UPDATE_NEEDS_DISCONNECTED = {
    AWS_CLOUDHSM: ('KeyStorePassword', 'CloudHsmClusterId'),
    EXTERNAL_KEY_STORE: ('XksProxyUriEndpoint', 'XksProxyConnectivity',
                         'XksProxyVpcEndpointServiceName', 'XksProxyVpcEndpointServiceOwner'),
}

KMS_DEFAULT_LIMIT = 1000
CLOUDHSM_DEFAULT_MAX_RESULTS = 25
CLUSTER_FILTERS = ('clusterIds', 'states', 'vpcIds')

_HEX = '0123456789abcdef'
_BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'
_HSM_STATE_MESSAGES = {
    'CREATE_IN_PROGRESS': 'Creating HSM.',
    'ACTIVE': 'HSM is active.',
    'DEGRADED': 'HSM is degraded.',
    'DELETE_IN_PROGRESS': 'Deleting HSM.',
}
_PASSWORD_RE = re.compile(r'^.{7,32}$', re.S)
_STORE_ID_RE = re.compile(r'^cks-[0-9a-f]{17}$')
_CLUSTER_ID_RE = re.compile(r'^cluster-[2-7a-z]{11,16}$')
_HSM_ID_RE = re.compile(r'^hsm-[2-7a-z]{11,16}$')
_REGION_RE = re.compile(r'^[a-z]{2}(-[a-z]+)+-\d+$')


def connection_error_codes():
    """Every ConnectionErrorCode the installed botocore KMS model knows."""
    return enum_values(KMS, 'ConnectionErrorCodeType')


def cluster_states():
    """Every CloudHSM cluster state in botocore's model."""
    return enum_values(CLOUDHSM, 'ClusterState')


def hsm_states():
    """Every HSM state in botocore's model."""
    return enum_values(CLOUDHSM, 'HsmState')


class ControlError(ValueError):
    """A control-API request the emulator cannot honour; the message is one clear sentence."""


class Clock:
    """Real time. Tests may substitute an object with the same two methods to step timers."""

    def monotonic(self):
        """Seconds on a clock that never jumps (used for deadlines)."""
        return time.monotonic()

    def wall(self):
        """Seconds since the epoch (used for timestamps and transition history)."""
        return time.time()


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Settings:
    """Durations shared by every region. A change applies to operations started afterwards."""

    def __init__(self, **values):
        self._values = dict(DEFAULT_SETTINGS)
        self.update(values)

    def update(self, values):
        """Validate and apply new durations (all or nothing)."""
        if not isinstance(values, dict):
            raise ControlError('Settings must be a JSON object of durations in seconds.')
        checked = {}
        for name, value in values.items():
            if name not in DEFAULT_SETTINGS:
                raise ControlError('Unknown setting "%s"; known settings are %s.' % (name, ', '.join(sorted(DEFAULT_SETTINGS))))
            if not _is_number(value) or value < 0:
                raise ControlError('Setting "%s" must be a number of seconds, zero or more.' % name)
            checked[name] = float(value)
        self._values.update(checked)

    def __getitem__(self, name):
        return self._values[name]

    def as_dict(self):
        """The current durations."""
        return dict(self._values)


def new_id(prefix, alphabet, length):
    """A random AWS-looking id such as ``cks-`` + 17 hex characters."""
    return prefix + ''.join(secrets.choice(alphabet) for _index in range(length))


def fake_pem(label):
    """A syntactically plausible PEM certificate; it only has to compare equal to itself."""
    body = base64.b64encode(('awskms emulator %s. ' % label).encode('utf-8') * 3).decode('ascii')
    lines = [body[index:index + 64] for index in range(0, len(body), 64)]
    return '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % '\n'.join(lines)


def _same_pem(left, right):
    return ''.join((left or '').split()) == ''.join((right or '').split())


# ---------------------------------------------------------------------------
# Control-API field reading
# ---------------------------------------------------------------------------

_KINDS = {
    'string': ((str,), 'a string'),
    'boolean': ((bool,), 'true or false'),
    'number': ((int, float), 'a number'),
    'integer': ((int,), 'an integer'),
    'list': ((list,), 'a list'),
    'object': ((dict,), 'a JSON object'),
}


class Fields:
    """Reads a control-API JSON object field by field.

    Unknown keys and wrong types are refused with one clear sentence, so a typo in a seed or
    an operator action fails loudly instead of silently doing nothing. Call ``done()`` after
    the last ``get()`` and before changing anything.
    """

    def __init__(self, data, what):
        if not isinstance(data, dict):
            raise ControlError('%s must be a JSON object.' % what)
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
        if not isinstance(value, types) or (isinstance(value, bool) and kind != 'boolean'):
            raise ControlError('"%s" in %s must be %s.' % (name, self.what, description))
        if choices is not None and value not in choices:
            raise ControlError('"%s" in %s must be one of %s, not %r.' % (name, self.what, ', '.join(choices), value))
        return value

    def done(self):
        """Refuse keys nobody asked for."""
        unknown = sorted(set(self.data) - set(self.known))
        if unknown:
            raise ControlError('%s has unknown field(s) %s; known fields are %s.' % (
                self.what, ', '.join(unknown), ', '.join(self.known)))


# ---------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------

class Hsm:
    """One HSM. ``pending`` is (deadline, next state) while it is created or deleted; None as
    the next state means the HSM disappears."""

    def __init__(self, cluster, availability_zone, eni_ip, state, hsm_id=None):
        self.hsm_id = hsm_id or new_id('hsm-', _BASE32, 11)
        self.cluster_id = cluster.cluster_id
        self.hsm_type = cluster.hsm_type
        self.availability_zone = availability_zone
        self.subnet_id = cluster.subnets[availability_zone]
        self.eni_id = new_id('eni-', _HEX, 17)
        self.eni_ip = eni_ip
        self.state = state
        self.pending = None

    def describe(self):
        """The botocore ``Hsm`` shape."""
        return {
            'HsmId': self.hsm_id,
            'AvailabilityZone': self.availability_zone,
            'ClusterId': self.cluster_id,
            'SubnetId': self.subnet_id,
            'EniId': self.eni_id,
            'EniIp': self.eni_ip,
            'HsmType': self.hsm_type,
            'State': self.state,
            'StateMessage': _HSM_STATE_MESSAGES.get(self.state, ''),
        }

    def dump(self):
        """Control-API view."""
        return {'hsm_id': self.hsm_id, 'availability_zone': self.availability_zone, 'subnet_id': self.subnet_id,
                'eni_id': self.eni_id, 'eni_ip': self.eni_ip, 'state': self.state}


class KmsUser:
    """The cluster's ``kmsuser`` crypto user: present, absent, locked or logged in."""

    def __init__(self, state='present', password=DEFAULT_KMSUSER_PASSWORD):
        self.state = state
        self.password = password


class Cluster:
    """A CloudHSM v2 cluster with its subnets, HSMs and kmsuser.

    ``lineage`` stands for the backup history: clusters restored from each other's backups
    share it, which is what UpdateCustomKeyStore calls "related".
    """

    def __init__(self, cluster_id, name, subnets, created, seq):
        self.cluster_id = cluster_id
        self.name = name
        self.subnets = dict(subnets)
        self.created = created
        self.seq = seq
        self.state = 'ACTIVE'
        self.hsm_type = DEFAULT_HSM_TYPE
        self.vpc_id = new_id('vpc-', _HEX, 17)
        self.security_group = new_id('sg-', _HEX, 17)
        self.lineage = cluster_id
        self.trust_anchor = None
        self.certificate = fake_pem('cluster certificate for %s' % cluster_id)
        self.invalid_configuration = False
        self.deleted_subnets = set()
        self.full_subnets = set()
        self.hsms = {}
        self.kmsuser = KmsUser()

    def live_availability_zones(self):
        """AZs whose subnet still exists."""
        return sorted(az for az, subnet in self.subnets.items() if subnet not in self.deleted_subnets)

    def active_hsms(self):
        """HSMs in state ACTIVE."""
        return [hsm for hsm in self.hsms.values() if hsm.state == 'ACTIVE']

    def subnet_prefix(self, subnet_id):
        """The fake /24 each subnet's ENI addresses come from (strings only, never contacted)."""
        index = sorted(self.subnets.values()).index(subnet_id)
        return '10.0.%d.' % (index + 1)

    def free_ip(self, subnet_id):
        """The lowest unused address of a subnet (AWS reserves .0 to .3), or None when full."""
        used = set(hsm.eni_ip for hsm in self.hsms.values())
        prefix = self.subnet_prefix(subnet_id)
        for host in range(4, 255):
            if prefix + str(host) not in used:
                return prefix + str(host)
        return None

    def find_hsm(self, hsm_id=None, eni_id=None, eni_ip=None):
        """The HSM matching whichever selector is given, or None."""
        for hsm in self.hsms.values():
            if (hsm_id and hsm.hsm_id == hsm_id) or (eni_id and hsm.eni_id == eni_id) or (eni_ip and hsm.eni_ip == eni_ip):
                return hsm
        return None

    def describe(self):
        """The botocore ``Cluster`` shape."""
        return {
            'ClusterId': self.cluster_id,
            'State': self.state,
            'StateMessage': 'Cluster is %s.' % self.state.lower().replace('_', ' '),
            'HsmType': self.hsm_type,
            'SubnetMapping': dict(self.subnets),
            'VpcId': self.vpc_id,
            'SecurityGroup': self.security_group,
            'Hsms': [hsm.describe() for hsm in self.hsms.values()],
            'CreateTimestamp': self.created,
            'BackupPolicy': 'DEFAULT',
            'BackupRetentionPolicy': {'Type': 'DAYS', 'Value': '90'},
            'Certificates': {'ClusterCertificate': self.certificate},
            'NetworkType': 'IPV4',
            'Mode': 'FIPS',
            'TagList': [{'Key': 'Name', 'Value': self.name}],
        }

    def dump(self):
        """Control-API view (no passwords)."""
        return {
            'cluster_id': self.cluster_id,
            'name': self.name,
            'state': self.state,
            'lineage': self.lineage,
            'vpc_id': self.vpc_id,
            'invalid_configuration': self.invalid_configuration,
            'subnets': [{'availability_zone': az, 'subnet_id': subnet, 'deleted': subnet in self.deleted_subnets,
                         'full': subnet in self.full_subnets} for az, subnet in sorted(self.subnets.items())],
            'hsms': [hsm.dump() for hsm in self.hsms.values()],
            'active_hsm_count': len(self.active_hsms()),
            'kmsuser': {'state': self.kmsuser.state},
            'trust_anchor_certificate': self.trust_anchor,
        }


class XksProxy:
    """An external key store proxy registered at an endpoint, as the world sees it."""

    def __init__(self, uri_endpoint):
        self.uri_endpoint = uri_endpoint
        self.access_key_id = None
        self.secret_access_key = None
        self.reachable = True
        self.invalid_configuration = False

    def dump(self):
        """Control-API view (no secret)."""
        return {'uri_endpoint': self.uri_endpoint, 'access_key_id': self.access_key_id, 'reachable': self.reachable,
                'invalid_configuration': self.invalid_configuration}


class CustomKeyStore:
    """A KMS custom key store of either type, with its connection state machine.

    ``pending`` is (deadline, 'connect' | 'disconnect') while CONNECTING or DISCONNECTING;
    ``injected`` holds one-shot connection error codes queued through the control API.
    """

    def __init__(self, store_id, name, store_type, created, seq):
        self.store_id = store_id
        self.name = name
        self.store_type = store_type
        self.created = created
        self.seq = seq
        self.state = DISCONNECTED
        self.error_code = None
        self.history = []
        self.pending = None
        self.injected = deque()
        self.races = []
        self.kms_key_count = 0
        # AWS_CLOUDHSM
        self.cluster_id = None
        self.cluster_lineage = None
        self.trust_anchor = None
        self.password = None
        # EXTERNAL_KEY_STORE
        self.xks = {}

    def describe(self):
        """The botocore ``CustomKeyStoresListEntry`` shape (never a secret)."""
        entry = {
            'CustomKeyStoreId': self.store_id,
            'CustomKeyStoreName': self.name,
            'ConnectionState': self.state,
            'CreationDate': self.created,
            'CustomKeyStoreType': self.store_type,
        }
        if self.state == FAILED:
            entry['ConnectionErrorCode'] = self.error_code
        if self.store_type == AWS_CLOUDHSM:
            entry['CloudHsmClusterId'] = self.cluster_id
            entry['TrustAnchorCertificate'] = self.trust_anchor
        else:
            entry['XksProxyConfiguration'] = _xks_describe(self.xks)
        return entry

    def dump(self, now):
        """Control-API view: state, pending transition, history; no secrets."""
        view = {
            'custom_key_store_id': self.store_id,
            'name': self.name,
            'type': self.store_type,
            'connection_state': self.state,
            'connection_error_code': self.error_code,
            'pending': None,
            'history': [dict(entry) for entry in self.history],
            'kms_key_count': self.kms_key_count,
            'queued_connection_errors': list(self.injected),
        }
        if self.pending:
            view['pending'] = {'transition': self.pending[1], 'due_in_seconds': round(max(0.0, self.pending[0] - now), 3)}
        if self.store_type == AWS_CLOUDHSM:
            view['cluster_id'] = self.cluster_id
        else:
            view['xks_proxy_configuration'] = _xks_describe(self.xks)
        return view


def _xks_describe(xks):
    config = {
        'Connectivity': xks['connectivity'],
        'AccessKeyId': xks['access_key_id'],
        'UriEndpoint': xks['uri_endpoint'],
        'UriPath': xks['uri_path'],
    }
    if xks.get('vpc_service_name'):
        config['VpcEndpointServiceName'] = xks['vpc_service_name']
    if xks.get('vpc_service_owner'):
        config['VpcEndpointServiceOwner'] = xks['vpc_service_owner']
    return config


# ---------------------------------------------------------------------------
# Paging tokens
# ---------------------------------------------------------------------------

def _encode_token(kind, seq):
    return base64.urlsafe_b64encode(('%s:%d' % (kind, seq)).encode('ascii')).decode('ascii')


def _decode_token(token, kind, error_code):
    """The creation sequence number a page starts at; AwsError(error_code) when not ours."""
    try:
        text = base64.urlsafe_b64decode(token.encode('ascii')).decode('ascii')
        token_kind, _colon, seq = text.partition(':')
        if token_kind == kind:
            return int(seq)
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise AwsError(error_code, 'The pagination token %r is not valid; pass the token the previous page returned.' % token)


def _paginate(items, token, limit, kind, error_code):
    """One page of ``items`` (in creation order) and the token for the next page, if any."""
    start = _decode_token(token, kind, error_code) if token is not None else 0
    remaining = [item for item in items if item.seq >= start]
    page = remaining[:limit]
    next_token = _encode_token(kind, remaining[limit].seq) if len(remaining) > limit else None
    return page, next_token


def _state_error(store, operation, allowed):
    return AwsError('CustomKeyStoreInvalidStateException', '%s is not valid when custom key store %s is %s; it is valid when the store is %s.' % (
        operation, store.store_id, store.state, ' or '.join(allowed)))


def _require(params, names, store_type):
    missing = [name for name in names if params.get(name) is None]
    if missing:
        raise AwsError('ValidationException', 'A custom key store of type %s needs %s.' % (store_type, ', '.join(missing)))


def _reject_foreign_fields(store_type, params, operation):
    foreign = XKS_FIELDS if store_type == AWS_CLOUDHSM else CLOUDHSM_FIELDS
    present = [name for name in foreign if params.get(name) is not None]
    if present:
        raise AwsError('ValidationException', '%s does not accept %s for a custom key store of type %s.' % (
            operation, ', '.join(present), store_type))


# ---------------------------------------------------------------------------
# One region
# ---------------------------------------------------------------------------

AWS_OPERATIONS = {
    (KMS, 'CreateCustomKeyStore'): 'create_custom_key_store',
    (KMS, 'DescribeCustomKeyStores'): 'describe_custom_key_stores',
    (KMS, 'ConnectCustomKeyStore'): 'connect_custom_key_store',
    (KMS, 'DisconnectCustomKeyStore'): 'disconnect_custom_key_store',
    (KMS, 'UpdateCustomKeyStore'): 'update_custom_key_store',
    (KMS, 'DeleteCustomKeyStore'): 'delete_custom_key_store',
    (CLOUDHSM, 'DescribeClusters'): 'describe_clusters',
    (CLOUDHSM, 'CreateHsm'): 'create_hsm',
    (CLOUDHSM, 'DeleteHsm'): 'delete_hsm',
}

CONTROL_ACTIONS = {
    'kmsuser': 'set_kmsuser',
    'delete-cluster': 'delete_cluster',
    'set-cluster-state': 'set_cluster_state',
    'delete-subnet': 'delete_subnet',
    'fill-subnet': 'fill_subnet',
    'xks-proxy': 'set_xks_proxy',
    'set-store-state': 'set_store_state',
    'delete-store': 'delete_store',
    'set-hsm-state': 'set_hsm_state',
    'connection-errors': 'queue_connection_errors',
    'race': 'queue_race',
}

# Calls before which a queued race moves the store (control action `race`).
_RACEABLE_OPERATIONS = ('ConnectCustomKeyStore', 'DisconnectCustomKeyStore')


def _transition_seconds(fields, state):
    """The optional `transition_seconds` of a seeded or forced CONNECTING / DISCONNECTING state."""
    seconds = fields.get('transition_seconds', 'number')
    if seconds is not None and (state not in (CONNECTING, DISCONNECTING) or seconds < 0):
        raise ControlError('"transition_seconds" (zero or more) goes with a CONNECTING or DISCONNECTING state.')
    return seconds


class World:
    """One region's clusters, XKS proxies and custom key stores, and the AWS rules over them."""

    def __init__(self, region, settings, clock):
        self.region = region
        self.settings = settings
        self.clock = clock
        self.clusters = {}
        self.proxies = {}
        self.stores = {}
        self._seq = 0

    # -- time ---------------------------------------------------------------

    def _next_seq(self):
        self._seq += 1
        return self._seq

    def _wall_at(self, deadline):
        """The wall-clock time of a monotonic deadline (transitions are applied late, timed right)."""
        return self.clock.wall() - (self.clock.monotonic() - deadline)

    def _deadline(self, setting, seconds=None):
        return self.clock.monotonic() + (self.settings[setting] if seconds is None else seconds)

    def advance(self):
        """Apply every transition whose deadline has passed, in deadline order."""
        now = self.clock.monotonic()
        due = []
        for store in self.stores.values():
            if store.pending and store.pending[0] <= now:
                due.append((store.pending[0], functools.partial(self._finish_store, store)))
        for cluster in self.clusters.values():
            for hsm in cluster.hsms.values():
                if hsm.pending and hsm.pending[0] <= now:
                    due.append((hsm.pending[0], functools.partial(self._finish_hsm, cluster, hsm)))
        due.sort(key=lambda item: item[0])
        for deadline, finish in due:
            finish(deadline)

    def _finish_store(self, store, deadline):
        transition = store.pending[1]
        store.pending = None
        if transition == 'disconnect':
            self._record(store, DISCONNECTED, deadline)
            return
        code = self._connection_outcome(store)
        self._record(store, FAILED if code else CONNECTED, deadline, code)

    def _finish_hsm(self, cluster, hsm, deadline):
        next_state = hsm.pending[1]
        hsm.pending = None
        if next_state is None:
            cluster.hsms.pop(hsm.hsm_id, None)
        else:
            hsm.state = next_state

    def _record(self, store, state, deadline=None, error_code=None):
        """Set a store's connection state and append it to the store's history."""
        store.state = state
        store.error_code = error_code if state == FAILED else None
        when = self.clock.wall() if deadline is None else self._wall_at(deadline)
        entry = {'state': state, 'time': when}
        if state == FAILED:
            entry['connection_error_code'] = error_code
        store.history.append(entry)

    # -- connection outcome ---------------------------------------------------

    def _connection_outcome(self, store):
        """None for CONNECTED, else the ConnectionErrorCode the world causes right now."""
        if store.injected:
            return store.injected.popleft()
        if store.store_type == AWS_CLOUDHSM:
            return self._cloudhsm_outcome(store)
        return self._xks_outcome(store)

    def _cloudhsm_outcome(self, store):
        cluster = self.clusters.get(store.cluster_id)
        if cluster is None or cluster.state in ('DELETE_IN_PROGRESS', 'DELETED'):
            return 'CLUSTER_NOT_FOUND'
        if cluster.deleted_subnets:
            return 'SUBNET_NOT_FOUND'
        if cluster.full_subnets:
            return 'INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET'
        if not cluster.active_hsms():
            return 'INSUFFICIENT_CLOUDHSM_HSMS'
        user = cluster.kmsuser
        user_codes = {'absent': 'USER_NOT_FOUND', 'locked': 'USER_LOCKED_OUT', 'logged_in': 'USER_LOGGED_IN'}
        if user.state in user_codes:
            return user_codes[user.state]
        if user.password != store.password:
            return 'INVALID_CREDENTIALS'
        return None

    def _xks_outcome(self, store):
        proxy = self.proxies.get(store.xks['uri_endpoint'])
        if proxy is None or not proxy.reachable:
            return 'XKS_PROXY_NOT_REACHABLE'
        if (proxy.access_key_id, proxy.secret_access_key) != (store.xks['access_key_id'], store.xks['secret']):
            return 'INVALID_CREDENTIALS'
        if proxy.invalid_configuration:
            return 'XKS_PROXY_INVALID_CONFIGURATION'
        return None

    # -- dispatch -------------------------------------------------------------

    def handle(self, service, operation, params):
        """Run one validated AWS operation and return its response body."""
        method = AWS_OPERATIONS.get((service, operation))
        if method is None:
            raise AwsError('UnknownOperationException', '%s is a real AWS operation, but the emulator does not implement it.' % operation)
        self.advance()
        return getattr(self, method)(params)

    # -- lookups --------------------------------------------------------------

    def _store(self, store_id):
        store = self.stores.get(store_id)
        if store is None:
            raise AwsError('CustomKeyStoreNotFoundException', 'Custom key store %s does not exist in %s.' % (store_id, self.region))
        return store

    def _store_named(self, name, exclude=None):
        for store in self.stores.values():
            if store.name == name and store is not exclude:
                return store
        return None

    def _check_name_free(self, name, exclude=None):
        other = self._store_named(name, exclude)
        if other is not None:
            raise AwsError('CustomKeyStoreNameInUseException', 'Custom key store %s already uses the name %r in %s.' % (
                other.store_id, name, self.region))

    def _cluster_of_lineage_in_use(self, cluster):
        for store in self.stores.values():
            if store.store_type == AWS_CLOUDHSM and (store.cluster_id == cluster.cluster_id or store.cluster_lineage == cluster.lineage):
                return store
        return None

    def _check_cluster_configuration(self, cluster):
        if cluster.invalid_configuration:
            raise AwsError('CloudHsmClusterInvalidConfigurationException',
                           'CloudHSM cluster %s does not meet the configuration requirements of a custom key store '
                           '(for example its security group rules).' % cluster.cluster_id)
        if len(cluster.live_availability_zones()) < 2:
            raise AwsError('CloudHsmClusterInvalidConfigurationException',
                           'CloudHSM cluster %s must have private subnets in at least two Availability Zones.' % cluster.cluster_id)

    # -- KMS: create ------------------------------------------------------------

    def create_custom_key_store(self, params):
        """CreateCustomKeyStore: a new DISCONNECTED store of either type."""
        store_type = params.get('CustomKeyStoreType', AWS_CLOUDHSM)
        _reject_foreign_fields(store_type, params, 'CreateCustomKeyStore')
        if store_type == AWS_CLOUDHSM:
            store = self._new_cloudhsm_store(params)
        else:
            store = self._new_xks_store(params)
        self._add_store(store, DISCONNECTED)
        return {'CustomKeyStoreId': store.store_id}

    def _new_cloudhsm_store(self, params):
        _require(params, CLOUDHSM_FIELDS, AWS_CLOUDHSM)
        self._check_name_free(params['CustomKeyStoreName'])
        cluster = self.clusters.get(params['CloudHsmClusterId'])
        if cluster is None:
            raise AwsError('CloudHsmClusterNotFoundException', 'CloudHSM cluster %s does not exist in %s.' % (
                params['CloudHsmClusterId'], self.region))
        user = self._cluster_of_lineage_in_use(cluster)
        if user is not None:
            raise AwsError('CloudHsmClusterInUseException', 'CloudHSM cluster %s, or a cluster with the same backup history, '
                           'already backs custom key store %s.' % (cluster.cluster_id, user.store_id))
        if cluster.state != 'ACTIVE':
            raise AwsError('CloudHsmClusterNotActiveException', 'CloudHSM cluster %s is %s, not ACTIVE.' % (cluster.cluster_id, cluster.state))
        if not _same_pem(params['TrustAnchorCertificate'], cluster.trust_anchor):
            raise AwsError('IncorrectTrustAnchorException', 'The trust anchor certificate does not match the one that '
                           'initialized CloudHSM cluster %s.' % cluster.cluster_id)
        self._check_cluster_configuration(cluster)
        store = self._blank_store(params['CustomKeyStoreName'], AWS_CLOUDHSM)
        store.cluster_id = cluster.cluster_id
        store.cluster_lineage = cluster.lineage
        store.trust_anchor = params['TrustAnchorCertificate']
        store.password = params['KeyStorePassword']
        return store

    def _new_xks_store(self, params):
        _require(params, ('XksProxyUriEndpoint', 'XksProxyUriPath', 'XksProxyAuthenticationCredential', 'XksProxyConnectivity'),
                 EXTERNAL_KEY_STORE)
        self._check_name_free(params['CustomKeyStoreName'])
        config = _merge_xks_config({}, params)
        self._check_xks_config(config)
        store = self._blank_store(params['CustomKeyStoreName'], EXTERNAL_KEY_STORE)
        store.xks = config
        return store

    def _blank_store(self, name, store_type, store_id=None):
        return CustomKeyStore(store_id or new_id('cks-', _HEX, 17), name, store_type, self.clock.wall(), self._next_seq())

    def _add_store(self, store, state, transition_seconds=None):
        self.stores[store.store_id] = store
        self._record(store, state)
        self._start_seeded_transition(store, state, transition_seconds)

    def _start_seeded_transition(self, store, state, transition_seconds):
        """A seeded or forced CONNECTING / DISCONNECTING state ends after its timer (or transition_seconds)."""
        if state == CONNECTING:
            store.pending = (self._deadline('connect_seconds', transition_seconds), 'connect')
        elif state == DISCONNECTING:
            store.pending = (self._deadline('disconnect_seconds', transition_seconds), 'disconnect')

    def _check_xks_config(self, config, store=None):
        """AWS's create/update checks of an XKS configuration: shape, uniqueness, then the proxy itself."""
        vpc = config['connectivity'] == VPC_ENDPOINT_SERVICE
        if vpc and not config.get('vpc_service_name'):
            raise AwsError('ValidationException', 'XksProxyVpcEndpointServiceName is required when XksProxyConnectivity is VPC_ENDPOINT_SERVICE.')
        if not vpc and (config.get('vpc_service_name') or config.get('vpc_service_owner')):
            raise AwsError('ValidationException', 'XksProxyVpcEndpointServiceName and XksProxyVpcEndpointServiceOwner '
                           'are only valid when XksProxyConnectivity is VPC_ENDPOINT_SERVICE.')
        for other in self.stores.values():
            if other is store or other.store_type != EXTERNAL_KEY_STORE:
                continue
            if (other.xks['uri_endpoint'], other.xks['uri_path']) == (config['uri_endpoint'], config['uri_path']):
                raise AwsError('XksProxyUriInUseException', 'Custom key store %s already uses %s%s.' % (
                    other.store_id, config['uri_endpoint'], config['uri_path']))
            if vpc and other.xks['uri_endpoint'] == config['uri_endpoint']:
                raise AwsError('XksProxyUriEndpointInUseException', 'Custom key store %s already uses the endpoint %s.' % (
                    other.store_id, config['uri_endpoint']))
            if vpc and other.xks.get('vpc_service_name') == config['vpc_service_name']:
                raise AwsError('XksProxyVpcEndpointServiceInUseException', 'Custom key store %s already uses VPC endpoint service %s.' % (
                    other.store_id, config['vpc_service_name']))
        proxy = self.proxies.get(config['uri_endpoint'])
        if proxy is None or not proxy.reachable:
            raise AwsError('XksProxyUriUnreachableException', 'KMS cannot reach an XKS proxy at %s%s.' % (config['uri_endpoint'], config['uri_path']))
        if (proxy.access_key_id, proxy.secret_access_key) != (config['access_key_id'], config['secret']):
            raise AwsError('XksProxyIncorrectAuthenticationCredentialException',
                           'The XKS proxy at %s does not accept this authentication credential.' % config['uri_endpoint'])
        if proxy.invalid_configuration:
            raise AwsError('XksProxyInvalidConfigurationException', 'The XKS proxy at %s reports an invalid configuration.' % config['uri_endpoint'])

    # -- KMS: describe ------------------------------------------------------------

    def describe_custom_key_stores(self, params):
        """DescribeCustomKeyStores: one store by id or name, or all in creation order, paged."""
        store_id = params.get('CustomKeyStoreId')
        name = params.get('CustomKeyStoreName')
        if store_id is not None and name is not None:
            raise AwsError('ValidationException', 'Specify CustomKeyStoreId or CustomKeyStoreName, not both.')
        if store_id is not None:
            stores = [self._store(store_id)]
        elif name is not None:
            store = self._store_named(name)
            if store is None:
                raise AwsError('CustomKeyStoreNotFoundException', 'No custom key store is named %r in %s.' % (name, self.region))
            stores = [store]
        else:
            stores = list(self.stores.values())
        page, marker = _paginate(stores, params.get('Marker'), params.get('Limit', KMS_DEFAULT_LIMIT),
                                 'custom-key-stores', 'InvalidMarkerException')
        result = {'CustomKeyStores': [store.describe() for store in page], 'Truncated': marker is not None}
        if marker is not None:
            result['NextMarker'] = marker
        return result

    # -- KMS: connect / disconnect --------------------------------------------------

    def connect_custom_key_store(self, params):
        """ConnectCustomKeyStore: DISCONNECTED -> CONNECTING; the outcome comes when the timer ends."""
        store = self._store(params['CustomKeyStoreId'])
        self._run_race(store, 'ConnectCustomKeyStore')
        if store.state in (DISCONNECTING, FAILED):
            raise _state_error(store, 'ConnectCustomKeyStore', (CONNECTED, CONNECTING, DISCONNECTED))
        if store.state in (CONNECTED, CONNECTING):
            return {}
        if store.store_type == AWS_CLOUDHSM:
            cluster = self.clusters.get(store.cluster_id)
            # These two fail at once in AWS; every other problem shows up as FAILED later.
            if cluster is not None and cluster.state != 'ACTIVE':
                raise AwsError('CloudHsmClusterNotActiveException', 'CloudHSM cluster %s is %s, not ACTIVE.' % (cluster.cluster_id, cluster.state))
            if cluster is not None and cluster.invalid_configuration:
                self._check_cluster_configuration(cluster)
        store.pending = (self._deadline('connect_seconds'), 'connect')
        self._record(store, CONNECTING)
        return {}

    def disconnect_custom_key_store(self, params):
        """DisconnectCustomKeyStore: CONNECTED, CONNECTING or FAILED -> DISCONNECTING -> DISCONNECTED."""
        store = self._store(params['CustomKeyStoreId'])
        self._run_race(store, 'DisconnectCustomKeyStore')
        if store.state in (DISCONNECTING, DISCONNECTED):
            raise _state_error(store, 'DisconnectCustomKeyStore', (CONNECTED, CONNECTING, FAILED))
        # Replacing ``pending`` also cancels a connection still in progress.
        store.pending = (self._deadline('disconnect_seconds'), 'disconnect')
        self._record(store, DISCONNECTING)
        return {}

    # -- KMS: update / delete -----------------------------------------------------

    def update_custom_key_store(self, params):
        """UpdateCustomKeyStore: checks everything first, then applies all changes at once."""
        store = self._store(params['CustomKeyStoreId'])
        changes = dict((key, value) for key, value in params.items() if key != 'CustomKeyStoreId' and value is not None)
        _reject_foreign_fields(store.store_type, changes, 'UpdateCustomKeyStore')
        restricted = [name for name in UPDATE_NEEDS_DISCONNECTED[store.store_type] if name in changes]
        if restricted and store.state != DISCONNECTED:
            raise AwsError('CustomKeyStoreInvalidStateException', 'Custom key store %s is %s; UpdateCustomKeyStore can change %s '
                           'only while it is DISCONNECTED.' % (store.store_id, store.state, ', '.join(restricted)))
        new_name = changes.get('NewCustomKeyStoreName')
        if new_name is not None:
            self._check_name_free(new_name, exclude=store)
        if store.store_type == AWS_CLOUDHSM:
            self._update_cloudhsm_store(store, changes)
        else:
            self._update_xks_store(store, changes)
        if new_name is not None:
            store.name = new_name
        return {}

    def _update_cloudhsm_store(self, store, changes):
        cluster = None
        if 'CloudHsmClusterId' in changes:
            cluster = self.clusters.get(changes['CloudHsmClusterId'])
            if cluster is None:
                raise AwsError('CloudHsmClusterNotFoundException', 'CloudHSM cluster %s does not exist in %s.' % (
                    changes['CloudHsmClusterId'], self.region))
            if cluster.state != 'ACTIVE':
                raise AwsError('CloudHsmClusterNotActiveException', 'CloudHSM cluster %s is %s, not ACTIVE.' % (cluster.cluster_id, cluster.state))
            if cluster.lineage != store.cluster_lineage:
                raise AwsError('CloudHsmClusterNotRelatedException', 'CloudHSM cluster %s does not share a backup history with cluster %s, '
                               'the one custom key store %s was created with.' % (cluster.cluster_id, store.cluster_id, store.store_id))
            self._check_cluster_configuration(cluster)
        if cluster is not None:
            store.cluster_id = cluster.cluster_id
        if 'KeyStorePassword' in changes:
            store.password = changes['KeyStorePassword']

    def _update_xks_store(self, store, changes):
        if any(name in changes for name in XKS_FIELDS):
            config = _merge_xks_config(store.xks, changes)
            self._check_xks_config(config, store)
            store.xks = config

    def delete_custom_key_store(self, params):
        """DeleteCustomKeyStore: only DISCONNECTED stores without KMS keys."""
        store = self._store(params['CustomKeyStoreId'])
        if store.state != DISCONNECTED:
            raise _state_error(store, 'DeleteCustomKeyStore', (DISCONNECTED,))
        if store.kms_key_count > 0:
            raise AwsError('CustomKeyStoreHasCMKsException', 'Custom key store %s still holds %d KMS key(s); delete them first.' % (
                store.store_id, store.kms_key_count))
        del self.stores[store.store_id]
        return {}

    # -- CloudHSM v2 ------------------------------------------------------------

    def describe_clusters(self, params):
        """DescribeClusters: filters clusterIds / states / vpcIds, MaxResults + NextToken paging."""
        filters = params.get('Filters') or {}
        unknown = sorted(set(filters) - set(CLUSTER_FILTERS))
        if unknown:
            raise AwsError('CloudHsmInvalidRequestException', 'Unknown filter(s) %s; valid filters are %s.' % (
                ', '.join(unknown), ', '.join(CLUSTER_FILTERS)))
        clusters = [cluster for cluster in self.clusters.values() if _cluster_matches(cluster, filters)]
        page, token = _paginate(clusters, params.get('NextToken'), params.get('MaxResults', CLOUDHSM_DEFAULT_MAX_RESULTS),
                                'clusters', 'CloudHsmInvalidRequestException')
        result = {'Clusters': [cluster.describe() for cluster in page]}
        if token is not None:
            result['NextToken'] = token
        return result

    def _hsm_cluster(self, cluster_id):
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            raise AwsError('CloudHsmResourceNotFoundException', 'CloudHSM cluster %s does not exist in %s.' % (cluster_id, self.region))
        return cluster

    def create_hsm(self, params):
        """CreateHsm: a CREATE_IN_PROGRESS HSM that becomes ACTIVE after hsm_create_seconds."""
        cluster = self._hsm_cluster(params['ClusterId'])
        zone = params['AvailabilityZone']
        subnet_id = cluster.subnets.get(zone)
        if subnet_id is None:
            raise AwsError('CloudHsmInvalidRequestException', 'Cluster %s has no subnet in %s; its Availability Zones are %s.' % (
                cluster.cluster_id, zone, ', '.join(sorted(cluster.subnets))))
        if cluster.state not in HSM_CAPABLE_CLUSTER_STATES:
            raise AwsError('CloudHsmInvalidRequestException', 'Cannot add an HSM to cluster %s while it is %s.' % (cluster.cluster_id, cluster.state))
        if subnet_id in cluster.deleted_subnets:
            raise AwsError('CloudHsmInvalidRequestException', 'Subnet %s of cluster %s no longer exists.' % (subnet_id, cluster.cluster_id))
        if subnet_id in cluster.full_subnets:
            raise AwsError('CloudHsmInvalidRequestException', 'Subnet %s has no free IP addresses.' % subnet_id)
        ip_address = self._hsm_ip(cluster, subnet_id, params.get('IpAddress'))
        hsm = Hsm(cluster, zone, ip_address, 'CREATE_IN_PROGRESS')
        hsm.pending = (self._deadline('hsm_create_seconds'), 'ACTIVE')
        cluster.hsms[hsm.hsm_id] = hsm
        return {'Hsm': hsm.describe()}

    @staticmethod
    def _hsm_ip(cluster, subnet_id, requested):
        if requested is None:
            ip_address = cluster.free_ip(subnet_id)
            if ip_address is None:
                raise AwsError('CloudHsmInvalidRequestException', 'Subnet %s has no free IP addresses.' % subnet_id)
            return ip_address
        prefix = cluster.subnet_prefix(subnet_id)
        host = requested[len(prefix):] if requested.startswith(prefix) else ''
        if not host.isdigit() or not 4 <= int(host) <= 254:
            raise AwsError('CloudHsmInvalidRequestException', 'IP address %s is not a usable address of subnet %s (%s4 to %s254).' % (
                requested, subnet_id, prefix, prefix))
        if cluster.find_hsm(eni_ip=requested) is not None:
            raise AwsError('CloudHsmInvalidRequestException', 'IP address %s is already in use in subnet %s.' % (requested, subnet_id))
        return requested

    def delete_hsm(self, params):
        """DeleteHsm by exactly one of HsmId, EniId, EniIp: DELETE_IN_PROGRESS, then gone."""
        cluster = self._hsm_cluster(params['ClusterId'])
        selectors = dict((name, params[name]) for name in ('HsmId', 'EniId', 'EniIp') if params.get(name))
        if len(selectors) != 1:
            raise AwsError('CloudHsmInvalidRequestException', 'Specify exactly one of HsmId, EniId or EniIp.')
        hsm = cluster.find_hsm(hsm_id=selectors.get('HsmId'), eni_id=selectors.get('EniId'), eni_ip=selectors.get('EniIp'))
        if hsm is None:
            name, value = list(selectors.items())[0]
            raise AwsError('CloudHsmResourceNotFoundException', 'Cluster %s has no HSM with %s %s.' % (cluster.cluster_id, name, value))
        if hsm.state != 'DELETE_IN_PROGRESS':
            hsm.state = 'DELETE_IN_PROGRESS'
            hsm.pending = (self._deadline('hsm_delete_seconds'), None)
        return {'HsmId': hsm.hsm_id}

    # -- control API: lookups ------------------------------------------------------

    def _control_cluster(self, fields):
        key = fields.get('cluster_id', 'string', required=True)
        cluster = self.clusters.get(key) or next((c for c in self.clusters.values() if c.name == key), None)
        if cluster is None:
            raise ControlError('No cluster with id or name %r exists in %s.' % (key, self.region))
        return cluster

    def _control_store(self, fields):
        key = fields.get('custom_key_store_id', 'string', required=True)
        store = self.stores.get(key) or self._store_named(key)
        if store is None:
            raise ControlError('No custom key store with id or name %r exists in %s.' % (key, self.region))
        return store

    @staticmethod
    def _control_subnet(cluster, fields):
        subnet_id = fields.get('subnet_id', 'string', required=True)
        if subnet_id not in cluster.subnets.values():
            raise ControlError('Cluster %s has no subnet %s; its subnets are %s.' % (
                cluster.cluster_id, subnet_id, ', '.join(sorted(cluster.subnets.values()))))
        return subnet_id

    # -- control API: operator actions -------------------------------------------

    def control(self, action, body):
        """Run one operator action (see CONTROL_ACTIONS) and return its JSON result."""
        method = CONTROL_ACTIONS.get(action)
        if method is None:
            raise ControlError('Unknown action %r.' % action)
        self.advance()
        return getattr(self, method)(Fields(body, action))

    def set_kmsuser(self, fields):
        """kmsuser: create, delete, lock, log in or out the cluster's kmsuser; optionally set its password."""
        cluster = self._control_cluster(fields)
        state = fields.get('state', 'string', required=True, choices=KMSUSER_STATES)
        password = fields.get('password', 'string')
        fields.done()
        cluster.kmsuser.state = 'present' if state == 'logged_out' else state
        if password is not None:
            cluster.kmsuser.password = password
        return {'cluster_id': cluster.cluster_id, 'kmsuser': {'state': cluster.kmsuser.state}}

    def delete_cluster(self, fields):
        """delete-cluster: the cluster and its HSMs vanish; stores keep pointing at its id."""
        cluster = self._control_cluster(fields)
        fields.done()
        del self.clusters[cluster.cluster_id]
        return {'deleted': cluster.cluster_id}

    def set_cluster_state(self, fields):
        """set-cluster-state: force a cluster state and/or flag its configuration invalid."""
        cluster = self._control_cluster(fields)
        state = fields.get('state', 'string', choices=cluster_states())
        invalid = fields.get('invalid_configuration', 'boolean')
        fields.done()
        if state is None and invalid is None:
            raise ControlError('set-cluster-state needs "state" or "invalid_configuration".')
        if state is not None:
            cluster.state = state
        if invalid is not None:
            cluster.invalid_configuration = invalid
        return cluster.dump()

    def delete_subnet(self, fields):
        """delete-subnet: the subnet is gone from the VPC (``"deleted": false`` restores it)."""
        cluster = self._control_cluster(fields)
        subnet_id = self._control_subnet(cluster, fields)
        deleted = fields.get('deleted', 'boolean', default=True)
        fields.done()
        _toggle(cluster.deleted_subnets, subnet_id, deleted)
        return cluster.dump()

    def fill_subnet(self, fields):
        """fill-subnet: the subnet has no free addresses (``"full": false`` frees it)."""
        cluster = self._control_cluster(fields)
        subnet_id = self._control_subnet(cluster, fields)
        full = fields.get('full', 'boolean', default=True)
        fields.done()
        _toggle(cluster.full_subnets, subnet_id, full)
        return cluster.dump()

    def set_xks_proxy(self, fields):
        """xks-proxy: register, change or (``"state": "absent"``) remove the proxy at an endpoint."""
        endpoint = fields.get('uri_endpoint', 'string', required=True)
        state = fields.get('state', 'string', default='present', choices=('present', 'absent'))
        values = dict((name, fields.get(name, kind)) for name, kind in (
            ('reachable', 'boolean'), ('access_key_id', 'string'), ('secret_access_key', 'string'), ('invalid_configuration', 'boolean')))
        fields.done()
        if state == 'absent':
            self.proxies.pop(endpoint, None)
            return {'uri_endpoint': endpoint, 'state': 'absent'}
        proxy = self.proxies.setdefault(endpoint, XksProxy(endpoint))
        for name, value in values.items():
            if value is not None:
                setattr(proxy, name, value)
        return proxy.dump()

    def set_store_state(self, fields):
        """set-store-state: force a connection state (CONNECTING/DISCONNECTING run their normal timers)
        and/or the number of KMS keys the store holds."""
        store = self._control_store(fields)
        state = fields.get('state', 'string', choices=CONNECTION_STATES)
        code = fields.get('connection_error_code', 'string', choices=connection_error_codes())
        key_count = fields.get('kms_key_count', 'integer')
        transition_seconds = _transition_seconds(fields, state)
        fields.done()
        if state is None and key_count is None:
            raise ControlError('set-store-state needs "state" or "kms_key_count".')
        if code is not None and state != FAILED:
            raise ControlError('"connection_error_code" is only meaningful with "state": "FAILED".')
        if key_count is not None and key_count < 0:
            raise ControlError('"kms_key_count" must be zero or more.')
        if state is not None:
            self._force_store_state(store, state, code, transition_seconds)
        if key_count is not None:
            store.kms_key_count = key_count
        return store.dump(self.clock.monotonic())

    def delete_store(self, fields):
        """delete-store: the store vanishes in whatever state it is (another operator deleted it); its timer ends."""
        store = self._control_store(fields)
        fields.done()
        del self.stores[store.store_id]
        return {'deleted': store.store_id}

    def _force_store_state(self, store, state, code, transition_seconds=None):
        store.pending = None
        self._record(store, state, error_code=(code or DEFAULT_FAILED_CODE) if state == FAILED else None)
        self._start_seeded_transition(store, state, transition_seconds)

    def queue_race(self, fields):
        """race: just before the store's next call of `operation`, another client moves it to `state`."""
        store = self._control_store(fields)
        operation = fields.get('operation', 'string', required=True, choices=sorted(_RACEABLE_OPERATIONS))
        state = fields.get('state', 'string', required=True, choices=CONNECTION_STATES)
        fields.done()
        store.races.append((operation, state))
        return {'custom_key_store_id': store.store_id, 'races': [list(race) for race in store.races]}

    def _run_race(self, store, operation):
        """Apply the first race queued for this operation, as if another client acted in between."""
        for race in list(store.races):
            if race[0] == operation:
                store.races.remove(race)
                self._force_store_state(store, race[1], None)
                return

    def set_hsm_state(self, fields):
        """set-hsm-state: force an HSM state (it then stays there; DELETED removes the HSM)."""
        cluster = self._control_cluster(fields)
        hsm_id = fields.get('hsm_id', 'string', required=True)
        state = fields.get('state', 'string', required=True, choices=hsm_states())
        fields.done()
        hsm = cluster.hsms.get(hsm_id)
        if hsm is None:
            raise ControlError('Cluster %s has no HSM %s.' % (cluster.cluster_id, hsm_id))
        if state == 'DELETED':
            del cluster.hsms[hsm_id]
        else:
            hsm.state = state
            hsm.pending = None
        return cluster.dump()

    def queue_connection_errors(self, fields):
        """connection-errors: one-shot outcomes for the store's next connections, consumed in order."""
        store = self._control_store(fields)
        codes = fields.get('codes', 'list', required=True)
        fields.done()
        valid = connection_error_codes()
        wrong = [code for code in codes if code not in valid]
        if not codes or wrong:
            raise ControlError('"codes" must be a non-empty list of ConnectionErrorCode values (%s).' % ', '.join(valid))
        store.injected.extend(codes)
        return {'custom_key_store_id': store.store_id, 'queued_connection_errors': list(store.injected)}

    # -- control API: seed and dump ------------------------------------------------

    def seed(self, fields):
        """Add the clusters, proxies and stores of one seed document; return their ids by name."""
        cluster_items = fields.get('clusters', 'list', default=[])
        proxy_items = fields.get('xks_proxies', 'list', default=[])
        store_items = fields.get('custom_key_stores', 'list', default=[])
        fields.done()
        result = {'region': self.region, 'clusters': {}, 'hsms': {}, 'xks_proxies': [], 'custom_key_stores': {}}
        for index, item in enumerate(cluster_items):
            cluster = self._seed_cluster(Fields(item, 'clusters[%d]' % index))
            result['clusters'][cluster.name] = cluster.cluster_id
            result['hsms'][cluster.name] = list(cluster.hsms)
        for index, item in enumerate(proxy_items):
            result['xks_proxies'].append(self._seed_proxy(Fields(item, 'xks_proxies[%d]' % index)))
        for index, item in enumerate(store_items):
            store = self._seed_store(Fields(item, 'custom_key_stores[%d]' % index))
            result['custom_key_stores'][store.name] = store.store_id
        return result

    def _seed_cluster(self, fields):
        name = fields.get('name', 'string', required=True)
        cluster_id = fields.get('id', 'string') or new_id('cluster-', _BASE32, 11)
        state = fields.get('state', 'string', default='ACTIVE', choices=[s for s in cluster_states() if s != 'DELETED'])
        subnets = fields.get('subnets', 'object') or {self.region + 'a': new_id('subnet-', _HEX, 17), self.region + 'b': new_id('subnet-', _HEX, 17)}
        spec = dict((key, fields.get(key, kind)) for key, kind in (
            ('vpc_id', 'string'), ('hsm_type', 'string'), ('lineage', 'string'), ('trust_anchor_certificate', 'string'),
            ('invalid_configuration', 'boolean'), ('kmsuser', 'object'), ('hsms', 'list'),
            ('deleted_subnets', 'list'), ('full_subnets', 'list')))
        fields.done()
        if not _CLUSTER_ID_RE.match(cluster_id) or cluster_id in self.clusters:
            raise ControlError('%s: "id" must be a new id like cluster-abcdefghij2 (cluster- and 11 to 16 of a-z, 2-7).' % fields.what)
        if any(cluster.name == name for cluster in self.clusters.values()):
            raise ControlError('%s: a cluster named %r already exists in %s.' % (fields.what, name, self.region))
        if not subnets or not all(isinstance(value, str) and value for value in subnets.values()):
            raise ControlError('%s: "subnets" must map Availability Zones to subnet ids.' % fields.what)
        cluster = Cluster(cluster_id, name, subnets, self.clock.wall(), self._next_seq())
        cluster.state = state
        cluster.vpc_id = spec['vpc_id'] or cluster.vpc_id
        cluster.hsm_type = spec['hsm_type'] or cluster.hsm_type
        cluster.lineage = spec['lineage'] or cluster_id
        cluster.trust_anchor = spec['trust_anchor_certificate'] or fake_pem('trust anchor of backup lineage %s' % cluster.lineage)
        cluster.invalid_configuration = bool(spec['invalid_configuration'])
        cluster.deleted_subnets = self._seed_subnet_set(cluster, spec['deleted_subnets'], 'deleted_subnets', fields.what)
        cluster.full_subnets = self._seed_subnet_set(cluster, spec['full_subnets'], 'full_subnets', fields.what)
        cluster.kmsuser = _seed_kmsuser(Fields(spec['kmsuser'] or {}, '%s.kmsuser' % fields.what))
        for index, item in enumerate(spec['hsms'] or []):
            self._seed_hsm(cluster, Fields(item, '%s.hsms[%d]' % (fields.what, index)))
        self.clusters[cluster_id] = cluster
        return cluster

    @staticmethod
    def _seed_subnet_set(cluster, values, key, what):
        values = values or []
        unknown = [value for value in values if value not in cluster.subnets.values()]
        if unknown:
            raise ControlError('%s: "%s" names subnets the cluster does not have: %s.' % (what, key, ', '.join(map(str, unknown))))
        return set(values)

    def _seed_hsm(self, cluster, fields):
        zone = fields.get('availability_zone', 'string', required=True, choices=sorted(cluster.subnets))
        state = fields.get('state', 'string', default='ACTIVE', choices=[s for s in hsm_states() if s != 'DELETED'])
        hsm_id = fields.get('id', 'string')
        ip_address = fields.get('ip_address', 'string')
        fields.done()
        if hsm_id is not None and not _HSM_ID_RE.match(hsm_id):
            raise ControlError('%s: "id" must look like hsm-abcdefghij2 (hsm- and 11 to 16 of a-z, 2-7).' % fields.what)
        try:
            ip_address = self._hsm_ip(cluster, cluster.subnets[zone], ip_address)
        except AwsError as exc:
            raise ControlError('%s: %s' % (fields.what, exc.message))
        hsm = Hsm(cluster, zone, ip_address, state, hsm_id)
        if state == 'CREATE_IN_PROGRESS':
            hsm.pending = (self._deadline('hsm_create_seconds'), 'ACTIVE')
        elif state == 'DELETE_IN_PROGRESS':
            hsm.pending = (self._deadline('hsm_delete_seconds'), None)
        cluster.hsms[hsm.hsm_id] = hsm

    def _seed_proxy(self, fields):
        endpoint = fields.get('uri_endpoint', 'string', required=True)
        proxy = XksProxy(endpoint)
        proxy.access_key_id = fields.get('access_key_id', 'string')
        proxy.secret_access_key = fields.get('secret_access_key', 'string')
        proxy.reachable = fields.get('reachable', 'boolean', default=True)
        proxy.invalid_configuration = fields.get('invalid_configuration', 'boolean', default=False)
        fields.done()
        self.proxies[endpoint] = proxy
        return endpoint

    def _seed_store(self, fields):
        name = fields.get('name', 'string', required=True)
        store_type = fields.get('type', 'string', default=AWS_CLOUDHSM, choices=STORE_TYPES)
        store_id = fields.get('id', 'string')
        state = fields.get('connection_state', 'string', default=DISCONNECTED, choices=CONNECTION_STATES)
        code = fields.get('connection_error_code', 'string', choices=connection_error_codes())
        key_count = fields.get('kms_key_count', 'integer', default=0)
        transition_seconds = _transition_seconds(fields, state)
        if store_id is not None and (not _STORE_ID_RE.match(store_id) or store_id in self.stores):
            raise ControlError('%s: "id" must be a new id like cks-0123456789abcdef0 (cks- and 17 hex digits).' % fields.what)
        if self._store_named(name) is not None:
            raise ControlError('%s: a custom key store named %r already exists in %s.' % (fields.what, name, self.region))
        if code is not None and state != FAILED:
            raise ControlError('%s: "connection_error_code" needs "connection_state": "FAILED".' % fields.what)
        if key_count < 0:
            raise ControlError('%s: "kms_key_count" must be zero or more.' % fields.what)
        store = self._blank_store(name, store_type, store_id)
        if store_type == AWS_CLOUDHSM:
            self._seed_cloudhsm_store(store, fields)
        else:
            self._seed_xks_store(store, fields)
        store.kms_key_count = key_count
        self._add_store(store, state, transition_seconds)
        if state == FAILED:
            store.error_code = code or DEFAULT_FAILED_CODE
            store.history[-1]['connection_error_code'] = store.error_code
        return store

    def _seed_cloudhsm_store(self, store, fields):
        key = fields.get('cluster', 'string', required=True)
        password = fields.get('key_store_password', 'string', default=DEFAULT_KMSUSER_PASSWORD)
        trust_anchor = fields.get('trust_anchor_certificate', 'string')
        fields.done()
        cluster = self.clusters.get(key) or next((c for c in self.clusters.values() if c.name == key), None)
        if cluster is None:
            raise ControlError('%s: no cluster with id or name %r exists in %s.' % (fields.what, key, self.region))
        if not _PASSWORD_RE.match(password):
            raise ControlError('%s: "key_store_password" must be 7 to 32 characters.' % fields.what)
        store.cluster_id = cluster.cluster_id
        store.cluster_lineage = cluster.lineage
        store.trust_anchor = trust_anchor or cluster.trust_anchor
        store.password = password

    def _seed_xks_store(self, store, fields):
        endpoint = fields.get('xks_proxy_uri_endpoint', 'string', required=True)
        proxy = self.proxies.get(endpoint)
        config = {
            'uri_endpoint': endpoint,
            'uri_path': fields.get('xks_proxy_uri_path', 'string', default=DEFAULT_XKS_URI_PATH),
            'connectivity': fields.get('xks_proxy_connectivity', 'string', default=PUBLIC_ENDPOINT, choices=XKS_CONNECTIVITY),
            'vpc_service_name': fields.get('xks_proxy_vpc_endpoint_service_name', 'string'),
            'vpc_service_owner': fields.get('xks_proxy_vpc_endpoint_service_owner', 'string'),
            'access_key_id': fields.get('access_key_id', 'string', default=proxy.access_key_id if proxy else None),
            'secret': fields.get('secret_access_key', 'string', default=proxy.secret_access_key if proxy else None),
        }
        fields.done()
        if not config['access_key_id'] or not config['secret']:
            raise ControlError('%s: needs "access_key_id" and "secret_access_key" (no proxy with credentials is registered at %s).' % (
                fields.what, endpoint))
        if config['connectivity'] == VPC_ENDPOINT_SERVICE and not config['vpc_service_name']:
            raise ControlError('%s: VPC_ENDPOINT_SERVICE connectivity needs "xks_proxy_vpc_endpoint_service_name".' % fields.what)
        store.xks = config

    def dump(self):
        """Readable control-API view of the region (no secrets)."""
        now = self.clock.monotonic()
        return {
            'region': self.region,
            'time': self.clock.wall(),
            'clusters': [cluster.dump() for cluster in self.clusters.values()],
            'xks_proxies': [proxy.dump() for proxy in self.proxies.values()],
            'custom_key_stores': [store.dump(now) for store in self.stores.values()],
        }


def _toggle(values, value, present):
    if present:
        values.add(value)
    else:
        values.discard(value)


def _cluster_matches(cluster, filters):
    wanted = (('clusterIds', cluster.cluster_id), ('states', cluster.state), ('vpcIds', cluster.vpc_id))
    return all(value in filters[name] for name, value in wanted if name in filters)


def _merge_xks_config(current, params):
    """The XKS configuration after applying Create/UpdateCustomKeyStore parameters."""
    config = dict(current)
    mapping = (('XksProxyUriEndpoint', 'uri_endpoint'), ('XksProxyUriPath', 'uri_path'), ('XksProxyConnectivity', 'connectivity'),
               ('XksProxyVpcEndpointServiceName', 'vpc_service_name'), ('XksProxyVpcEndpointServiceOwner', 'vpc_service_owner'))
    for param, key in mapping:
        if params.get(param) is not None:
            config[key] = params[param]
    if params.get('XksProxyConnectivity') == PUBLIC_ENDPOINT and 'XksProxyVpcEndpointServiceName' not in params:
        # Switching to a public endpoint drops the VPC endpoint service it used.
        config.pop('vpc_service_name', None)
        config.pop('vpc_service_owner', None)
    credential = params.get('XksProxyAuthenticationCredential')
    if credential is not None:
        config['access_key_id'] = credential['AccessKeyId']
        config['secret'] = credential['RawSecretAccessKey']
    return config


def _seed_kmsuser(fields):
    state = fields.get('state', 'string', default='present', choices=KMSUSER_STATES)
    password = fields.get('password', 'string', default=DEFAULT_KMSUSER_PASSWORD)
    fields.done()
    return KmsUser('present' if state == 'logged_out' else state, password)


# ---------------------------------------------------------------------------
# All regions
# ---------------------------------------------------------------------------

class Regions:
    """One World per region, created on first use, sharing one Settings and one Clock."""

    def __init__(self, settings=None, clock=None):
        self.settings = settings if settings is not None else Settings()
        self.clock = clock if clock is not None else Clock()
        self._worlds = {}

    def world(self, region=DEFAULT_REGION):
        """The world of a region (an empty one the first time)."""
        if region not in self._worlds:
            self._worlds[region] = World(region, self.settings, self.clock)
        return self._worlds[region]

    def regions(self):
        """Regions that have a world."""
        return sorted(self._worlds)

    def reset(self, region=None):
        """Empty one region, or every region when ``region`` is None."""
        if region is None:
            self._worlds.clear()
        else:
            self._worlds.pop(region, None)

    def handle(self, region, service, operation, params):
        """Run one AWS operation in a region."""
        return self.world(region).handle(service, operation, params)

    def control(self, action, body):
        """Run an operator action; ``body['region']`` picks the world (default us-east-1)."""
        body = dict(body) if isinstance(body, dict) else body
        region = _pop_region(body, action)
        return self.world(region).control(action, body)

    def dump(self, region=DEFAULT_REGION):
        """Readable view of one region."""
        world = self.world(region)
        world.advance()
        return world.dump()

    def seed(self, document):
        """Apply a seed document, or a list of them (several regions), all or nothing."""
        documents = document if isinstance(document, list) else [document]
        if not documents:
            raise ControlError('The seed must be a JSON object or a non-empty list of them.')
        backup = dict((region, self._snapshot(world)) for region, world in self._worlds.items())
        try:
            results = [self._seed_one(item, index) for index, item in enumerate(documents)]
        except ControlError:
            self._restore(backup)
            raise
        return results if isinstance(document, list) else results[0]

    def _restore(self, backup):
        # Restore in place, so World objects others hold stay the live ones.
        for region in list(self._worlds):
            if region in backup:
                self._worlds[region].__dict__.update(backup[region].__dict__)
            else:
                del self._worlds[region]

    def _seed_one(self, document, index):
        what = 'seed document %d' % index
        if not isinstance(document, dict):
            raise ControlError('%s must be a JSON object.' % what)
        body = dict(document)
        region = _pop_region(body, what)
        world = self.world(region)
        world.advance()
        return world.seed(Fields(body, what))

    def _snapshot(self, world):
        # Deep-copy the world's own state but keep sharing the settings and the clock.
        return copy.deepcopy(world, {id(self.settings): self.settings, id(self.clock): self.clock})


def is_region_name(value):
    """True for a region name such as us-east-1."""
    return isinstance(value, str) and bool(_REGION_RE.match(value))


def check_region(region, what):
    """A region name such as us-east-1 (None means the default region), else ControlError."""
    if region is None:
        return DEFAULT_REGION
    if not is_region_name(region):
        raise ControlError('%s: "region" must be a region name such as us-east-1, not %r.' % (what, region))
    return region


def _pop_region(body, what):
    if not isinstance(body, dict):
        raise ControlError('%s must be a JSON object.' % what)
    return check_region(body.pop('region', None), what)
