# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's world: one ``World`` per region, ``Regions`` holding them, the durations they
share (``Settings``) and the clock; no HTTP here.

A ``World`` holds one region's clusters, XKS proxies and custom key stores and runs the rules of
``kms``, ``cloudhsm`` and ``control`` over them. Timers are lazy: an operation that takes time
stores a monotonic deadline, and every read or change of the world first applies the
transitions that are due, oldest first. A connection's outcome is therefore computed from the
world as it is when the connection finishes, which is what lets a test break or fix the world
while a connection is in progress. No background threads; callers serialise access (the server
holds one lock around all regions).
"""

import copy
import functools
import re
import time

from . import cloudhsm
from . import control
from . import ec2
from . import kms
from . import xks
from .entities import CONNECTED
from .entities import CONNECTING
from .entities import DISCONNECTED
from .entities import DISCONNECTING
from .entities import FAILED
from .entities import HEX
from .entities import CustomKeyStore
from .entities import new_id
from .errors import ControlError
from .errors import CustomKeyStoreNotFoundError
from .errors import UnknownOperationError
from .wire import CLOUDHSM
from .wire import DEFAULT_REGION
from .wire import KMS

DEFAULT_SETTINGS = {
    "connect_seconds": 2.0,
    "disconnect_seconds": 1.0,
    "hsm_create_seconds": 3.0,
    "hsm_delete_seconds": 1.0,
    # How long KMS's probe waits for an XKS proxy. AWS waits 250 ms (XKS spec, GetHealthStatus); the
    # emulator's choice is 2 s, so a loaded test machine does not turn a healthy proxy into a timeout.
    "xks_probe_timeout_seconds": 2.0,
}
# Quotas (README.md, Rules: Quotas); a setting may raise or lower them like a duration.
DEFAULT_QUOTAS = {
    "custom_key_stores_quota": 10,
    "hsms_per_cluster_quota": 28,
    "hsms_quota": 6,
    # Requests per second per custom key store operation and Region (quota.py); 0 turns the quota off.
    "custom_key_store_request_rate_quota": 0,
}
# The AWS account every region of the emulator belongs to (the caller's account).
ACCOUNT_ID = "111122223333"
# The code of a store put in FAILED by seed, operator or race without one.
DEFAULT_FAILED_CODE = "INTERNAL_ERROR"

AWS_OPERATIONS = {KMS: kms.OPERATIONS, CLOUDHSM: cloudhsm.OPERATIONS, ec2.EC2: ec2.OPERATIONS}

_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")

# The calls after which a stale-read window (control action `stale-reads`) shows a store as it was before them.
STORE_MUTATIONS = (
    "CreateCustomKeyStore",
    "ConnectCustomKeyStore",
    "DisconnectCustomKeyStore",
    "UpdateCustomKeyStore",
    "DeleteCustomKeyStore",
)


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
    """Durations and quotas shared by every region. A change applies to operations started afterwards."""

    def __init__(self, **values):
        self._values = dict(DEFAULT_SETTINGS, **DEFAULT_QUOTAS)
        self.update(values)

    def update(self, values):
        """Validate and apply new durations (seconds) and quotas (counts), all or nothing."""
        self._values.update(self.check(values))

    @staticmethod
    def check(values):
        """The durations (as floats) and quotas of ``values``, validated, else ControlError."""
        if not isinstance(values, dict):
            raise ControlError("Settings must be a JSON object of durations in seconds and quotas.")
        checked = {}
        for name, value in values.items():
            if name in DEFAULT_QUOTAS:
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ControlError('Setting "%s" must be a whole number, zero or more.' % name)
                checked[name] = value
                continue
            if name not in DEFAULT_SETTINGS:
                raise ControlError(
                    'Unknown setting "%s"; known settings are %s.'
                    % (name, ", ".join(sorted(list(DEFAULT_SETTINGS) + list(DEFAULT_QUOTAS))))
                )
            if not _is_number(value) or value < 0:
                raise ControlError('Setting "%s" must be a number of seconds, zero or more.' % name)
            checked[name] = float(value)
        return checked

    def __getitem__(self, name):
        return self._values[name]

    def as_dict(self):
        """The current durations and quotas."""
        return dict(self._values)


class World:
    """One region's clusters, XKS proxies and custom key stores, and the AWS rules over them."""

    def __init__(self, region, settings, clock, proxy_servers=None):
        self.region = region
        self.account_id = ACCOUNT_ID
        self.settings = settings
        self.durations = {}
        self.clock = clock
        self.proxy_servers = proxy_servers if proxy_servers is not None else xks.ProxyServers()
        self.clusters = {}
        self.proxies = {}
        self.vpc_endpoint_services = {}
        self.stores = {}
        self._seq = 0
        # Emulator test features, not AWS rules (control actions `stale-reads` and `network-blip`).
        self.stale_read_seconds = 0.0
        self.stale_views = {}  # store id -> (monotonic end of the window, Describe entry before the call or None)
        self.blip_until = None  # monotonic time until which the server hangs up on this Region's requests

    # -- dispatch -------------------------------------------------------------

    def handle(self, service, operation, params):
        """Run one validated AWS operation and return its response body."""
        rule = AWS_OPERATIONS.get(service, {}).get(operation)
        if rule is None:
            raise UnknownOperationError(
                "%s is a real AWS operation, but the emulator does not implement it." % operation
            )
        self.advance()
        if operation == "DescribeCustomKeyStores" and self.stale_views:
            return self._stale_describe(rule, params)
        if operation not in STORE_MUTATIONS or not self.stale_read_seconds:
            return rule(self, params)
        before = dict((store_id, store.describe()) for store_id, store in self.stores.items())
        result = rule(self, params)
        until = self.clock.monotonic() + self.stale_read_seconds
        for store_id in set(before) | set(self.stores):
            now = self.stores[store_id].describe() if store_id in self.stores else None
            if now != before.get(store_id):
                self.stale_views[store_id] = (until, before.get(store_id))
        return result

    def _stale_describe(self, rule, params):
        """DescribeCustomKeyStores as it was before the mutating calls whose stale-read window is still open."""
        now = self.clock.monotonic()
        self.stale_views = dict((key, view) for key, view in self.stale_views.items() if view[0] > now)
        views = dict((key, view[1]) for key, view in self.stale_views.items())
        key = params.get("CustomKeyStoreId") or params.get("CustomKeyStoreName")
        if key is not None:
            for store_id, view in views.items():
                current = self.stores.get(store_id)
                if key in (store_id, (view or {}).get("CustomKeyStoreName"), current.name if current else None):
                    if view is None:
                        raise CustomKeyStoreNotFoundError("No custom key store %s exists in %s." % (key, self.region))
                    return {"CustomKeyStores": [view], "Truncated": False}
            return rule(self, params)
        result = rule(self, params)
        shown = [views.get(entry["CustomKeyStoreId"], entry) for entry in result["CustomKeyStores"]]
        result["CustomKeyStores"] = [entry for entry in shown if entry is not None]
        return result

    def control(self, action, body):
        """Run one operator action (see ``control.ACTIONS``) and return its JSON result."""
        run = control.ACTIONS.get(action)
        if run is None:
            raise ControlError("Unknown action %r." % action)
        self.advance()
        return run(self, control.Fields(body, action))

    def dump(self):
        """Readable control-API view of the region (no secrets)."""
        now = self.clock.monotonic()
        return {
            "region": self.region,
            "time": self.clock.wall(),
            "clusters": [cluster.dump() for cluster in self.clusters.values()],
            "xks_proxies": [proxy.dump() for proxy in self.proxies.values()],
            "vpc_endpoint_services": [service.dump() for service in self.vpc_endpoint_services.values()],
            "custom_key_stores": [store.dump(now) for store in self.stores.values()],
        }

    # -- entities ---------------------------------------------------------------

    def next_seq(self):
        """The next creation sequence number (the order Describe lists things in)."""
        self._seq += 1
        return self._seq

    def new_store(self, name, store_type, store_id=None):
        """A store not yet added to the world."""
        return CustomKeyStore(store_id or new_id("cks-", HEX, 17), name, store_type, self.clock.wall(), self.next_seq())

    def add_store(self, store, state, error_code=None, transition_seconds=None):
        """Add a store in ``state`` (see ``set_state``)."""
        self.stores[store.store_id] = store
        self.set_state(store, state, error_code, transition_seconds)

    def store_named(self, name, exclude=None):
        """The store with this name, or None."""
        for store in self.stores.values():
            if store.name == name and store is not exclude:
                return store
        return None

    def hsm_count(self):
        """HSMs of every cluster in the region, whatever their state (the CloudHSM HSM quota counts them all)."""
        return sum(len(cluster.hsms) for cluster in self.clusters.values())

    def find_cluster(self, key):
        """The cluster with this id or (seed) name, or None."""
        return self.clusters.get(key) or next(
            (cluster for cluster in self.clusters.values() if cluster.name == key), None
        )

    # -- time ---------------------------------------------------------------

    def deadline(self, setting, seconds=None):
        """The monotonic time a transition of duration ``setting`` (or ``seconds``) started now ends."""
        return self.clock.monotonic() + (self.duration(setting) if seconds is None else seconds)

    def duration(self, name):
        """The duration setting ``name`` in this region: its own (set_durations), else the shared one."""
        return self.durations.get(name, self.settings[name])

    def set_durations(self, values):
        """Durations for this region alone (until it is reset), so that tests running side by side in their own
        regions do not change each other's; quotas stay shared."""
        checked = Settings.check(values)
        quotas = sorted(set(checked) & set(DEFAULT_QUOTAS))
        if quotas:
            raise ControlError(
                "Settings for one region take only durations; %s apply to every region." % ", ".join(quotas)
            )
        self.durations.update(checked)

    def duration_settings(self):
        """This region's durations: its own, else the shared ones."""
        return {name: self.duration(name) for name in DEFAULT_SETTINGS}

    def set_state(self, store, state, error_code=None, seconds=None):
        """Move a store to ``state`` now, ending any transition in progress. CONNECTING and
        DISCONNECTING end after their duration (or ``seconds``); FAILED without a code is INTERNAL_ERROR."""
        if state == FAILED and not error_code:
            error_code = DEFAULT_FAILED_CODE
        store.pending = None
        self._record(store, state, error_code=error_code)
        if state == CONNECTING:
            store.pending = (self.deadline("connect_seconds", seconds), "connect")
        elif state == DISCONNECTING:
            store.pending = (self.deadline("disconnect_seconds", seconds), "disconnect")

    def start_hsm_timer(self, hsm):
        """An HSM CREATE_IN_PROGRESS becomes ACTIVE, one DELETE_IN_PROGRESS disappears, after their duration."""
        if hsm.state == "CREATE_IN_PROGRESS":
            hsm.pending = (self.deadline("hsm_create_seconds"), "ACTIVE")
        elif hsm.state == "DELETE_IN_PROGRESS":
            hsm.pending = (self.deadline("hsm_delete_seconds"), None)

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
        if transition == "disconnect":
            self._record(store, DISCONNECTED, deadline)
            return
        code = kms.connection_outcome(self, store)
        self._record(store, FAILED if code else CONNECTED, deadline, code)

    @staticmethod
    def _finish_hsm(cluster, hsm, deadline):
        next_state = hsm.pending[1]
        hsm.pending = None
        if next_state is None:
            cluster.hsms.pop(hsm.hsm_id, None)
        else:
            hsm.state = next_state

    def _wall_at(self, deadline):
        """The wall-clock time of a monotonic deadline (transitions are applied late, timed right)."""
        return self.clock.wall() - (self.clock.monotonic() - deadline)

    def _record(self, store, state, deadline=None, error_code=None):
        """Set a store's connection state and append it to the store's history."""
        store.state = state
        store.error_code = error_code if state == FAILED else None
        when = self.clock.wall() if deadline is None else self._wall_at(deadline)
        entry = {"state": state, "time": when}
        if state == FAILED:
            entry["connection_error_code"] = error_code
        store.history.append(entry)


class Regions:
    """One World per region, created on first use, sharing one Settings and one Clock."""

    def __init__(self, settings=None, clock=None):
        self.settings = settings if settings is not None else Settings()
        self.clock = clock if clock is not None else Clock()
        self.proxy_servers = xks.ProxyServers()
        self._worlds = {}

    def world(self, region=DEFAULT_REGION):
        """The world of a region (an empty one the first time)."""
        if region not in self._worlds:
            self._worlds[region] = World(region, self.settings, self.clock, self.proxy_servers)
        return self._worlds[region]

    def close(self):
        """Stop the XKS proxies the worlds started."""
        self.proxy_servers.stop()

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
            raise ControlError("The seed must be a JSON object or a non-empty list of them.")
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
        what = "seed document %d" % index
        if not isinstance(document, dict):
            raise ControlError("%s must be a JSON object." % what)
        body = dict(document)
        region = _pop_region(body, what)
        world = self.world(region)
        world.advance()
        return control.seed(world, control.Fields(body, what))

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
    if not isinstance(region, str) or not is_region_name(region):
        raise ControlError('%s: "region" must be a region name such as us-east-1, not %r.' % (what, region))
    return region


def _pop_region(body, what):
    if not isinstance(body, dict):
        raise ControlError("%s must be a JSON object." % what)
    return check_region(body.pop("region", None), what)
