# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client for the emulator's control API (standard library only).

Tests and benchmarks use it to seed the world, act as an operator (lock ``kmsuser``, delete a
subnet...), inject faults and count the AWS calls a module made.
"""

import json
import os
import subprocess
import sys
import time
from urllib.error import HTTPError
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import Request
from urllib.request import build_opener

DEFAULT_REGION = "us-east-1"


def start_process(*options, python=sys.executable, env=None):
    """Run the emulator in a child process on a free port (``options`` as on its command line).

    Returns ``(process, url)`` once it listens; stop it with ``process.terminate()``. Exits with the
    emulator's own line when it does not start.
    """
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(path for path in (tests, env.get("PYTHONPATH")) if path)
    process = subprocess.Popen(
        [python, "-m", "emulator", "--port", "0"] + list(options), env=env, stdout=subprocess.PIPE, text=True
    )
    line = process.stdout.readline().strip()
    if not line.startswith("emulator listening on "):
        process.kill()
        raise SystemExit("the emulator did not start (it said %r)" % line)
    return process, line.rsplit(" ", 1)[1]


class EmulatorError(Exception):
    """The control API refused a request (``status`` is the HTTP status, 0 if unreachable)."""

    def __init__(self, status, message):
        super().__init__(
            "emulator control API: %s (HTTP %s)" % (message, status) if status else "emulator control API: %s" % message
        )
        self.status = status
        self.message = message


class EmulatorClient:
    """Calls ``/_emulator/...`` on a running emulator, e.g. ``EmulatorClient('http://127.0.0.1:4599')``."""

    def __init__(self, url, timeout=10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._opener = build_opener()

    def _call(self, method, name, body=None, query=None):
        url = "%s/_emulator/%s" % (self.url, name)
        if query:
            url += "?" + urlencode(query)
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except HTTPError as exc:
            raise EmulatorError(exc.code, _error_message(exc))
        except (URLError, OSError) as exc:
            raise EmulatorError(0, "cannot reach %s: %s" % (self.url, getattr(exc, "reason", exc)))

    @staticmethod
    def _with_region(region, **fields):
        body = dict((key, value) for key, value in fields.items() if value is not None)
        body["region"] = region
        return body

    # -- lifecycle ------------------------------------------------------------------

    def health(self):
        """``{"ok": true}`` when the emulator answers."""
        return self._call("GET", "health")

    def wait_until_healthy(self, timeout=10.0, interval=0.05):
        """Poll ``health`` until it answers or ``timeout`` seconds pass (then raise EmulatorError)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.health()
            except EmulatorError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(interval)

    def reset(self, region=None):
        """Empty one region, or everything (all regions, faults, request log) when ``region`` is None."""
        return self._call("POST", "reset", {} if region is None else {"region": region})

    def seed(self, document):
        """Add a seed document (or a list of them); returns the ids by name."""
        return self._call("POST", "seed", document)

    def world(self, region=DEFAULT_REGION):
        """Readable dump of one region, including each store's transition history."""
        return self._call("GET", "world", query={"region": region})

    def settings(self, region=None, **durations):
        """Read the durations, or change some (``connect_seconds=0.1``) and return them all; with ``region``,
        that region's own durations (until it is reset)."""
        if durations:
            return self._call("POST", "settings", dict(durations, **({"region": region} if region else {})))
        return self._call("GET", "settings", query={"region": region} if region else None)

    # -- operator actions -------------------------------------------------------------

    def kmsuser(self, cluster_id, state, password=None, region=DEFAULT_REGION):
        """Set the cluster's kmsuser to present / absent / locked / logged_in / logged_out."""
        return self._call(
            "POST", "kmsuser", self._with_region(region, cluster_id=cluster_id, state=state, password=password)
        )

    def delete_cluster(self, cluster_id, region=DEFAULT_REGION):
        """Delete a cluster and its HSMs."""
        return self._call("POST", "delete-cluster", self._with_region(region, cluster_id=cluster_id))

    def set_cluster_state(self, cluster_id, state=None, invalid_configuration=None, region=DEFAULT_REGION):
        """Force a cluster state and/or flag its configuration invalid."""
        return self._call(
            "POST",
            "set-cluster-state",
            self._with_region(region, cluster_id=cluster_id, state=state, invalid_configuration=invalid_configuration),
        )

    def delete_subnet(self, cluster_id, subnet_id, deleted=True, region=DEFAULT_REGION):
        """Delete (or restore, ``deleted=False``) one of the cluster's subnets."""
        return self._call(
            "POST",
            "delete-subnet",
            self._with_region(region, cluster_id=cluster_id, subnet_id=subnet_id, deleted=deleted),
        )

    def fill_subnet(self, cluster_id, subnet_id, full=True, region=DEFAULT_REGION):
        """Mark a subnet as out of free addresses (or not, ``full=False``)."""
        return self._call(
            "POST", "fill-subnet", self._with_region(region, cluster_id=cluster_id, subnet_id=subnet_id, full=full)
        )

    def xks_proxy(self, uri_endpoint, region=DEFAULT_REGION, **fields):
        """Register or change the XKS proxy at an endpoint: access_key_id, secret_access_key and its conditions
        (reachable, invalid_configuration, uri_path, delay_seconds, answer, deny_access, certificate,
        ekm_health), or state='absent'."""
        return self._call("POST", "xks-proxy", self._with_region(region, uri_endpoint=uri_endpoint, **fields))

    def vpc_endpoint_service(self, service_name, region=DEFAULT_REGION, **fields):
        """Register or change a VPC endpoint service (kms_principal_allowed, acceptance_required, private_dns_name,
        private_dns_verified, load_balancer_type, availability_zones), or state='absent'."""
        return self._call(
            "POST", "vpc-endpoint-service", self._with_region(region, service_name=service_name, **fields)
        )

    def serve_xks_proxy(self, uri_endpoint, region=DEFAULT_REGION, uri_path=None):
        """Run the proxy at an endpoint as the world says now: {"uri_endpoint", "address" (host:port), "ca_bundle"}."""
        fields = {"uri_path": uri_path} if uri_path else {}
        return self._call("POST", "serve-xks-proxy", self._with_region(region, uri_endpoint=uri_endpoint, **fields))

    def set_store_state(
        self,
        custom_key_store_id,
        state=None,
        connection_error_code=None,
        kms_key_count=None,
        transition_seconds=None,
        region=DEFAULT_REGION,
    ):
        """Force a store's connection state (a transitional one lasting transition_seconds) and/or its KMS key count."""
        return self._call(
            "POST",
            "set-store-state",
            self._with_region(
                region,
                custom_key_store_id=custom_key_store_id,
                state=state,
                connection_error_code=connection_error_code,
                kms_key_count=kms_key_count,
                transition_seconds=transition_seconds,
            ),
        )

    def delete_store(self, custom_key_store_id, region=DEFAULT_REGION):
        """Delete a custom key store in any state, as if another operator had deleted it."""
        return self._call("POST", "delete-store", self._with_region(region, custom_key_store_id=custom_key_store_id))

    def set_hsm_state(self, cluster_id, hsm_id, state, region=DEFAULT_REGION):
        """Force an HSM state (DELETED removes it)."""
        return self._call(
            "POST", "set-hsm-state", self._with_region(region, cluster_id=cluster_id, hsm_id=hsm_id, state=state)
        )

    # -- faults -------------------------------------------------------------------------

    def faults(self, **spec):
        """Set faults (throttle_ratio, error_ratio, latency_seconds, operations, regions, seed, throttle_code);
        no arguments clears them."""
        return self._call("POST", "faults", spec)

    def clear_faults(self):
        """Remove every fault."""
        return self._call("POST", "faults", {})

    def request_quota(self, region=None, requests_per_second=None):
        """With a Region: set its custom key store request rate (None: back to the setting). Returns the quota and its counts."""
        if region is None:
            return self._call("GET", "request-quota")
        return self._call("POST", "request-quota", {"region": region, "requests_per_second": requests_per_second})

    def connection_errors(self, custom_key_store_id, codes, region=DEFAULT_REGION):
        """Queue one-shot ConnectionErrorCodes for the store's next connections."""
        return self._call(
            "POST",
            "connection-errors",
            self._with_region(region, custom_key_store_id=custom_key_store_id, codes=list(codes)),
        )

    def race(self, custom_key_store_id, operation, state, region=DEFAULT_REGION):
        """Just before the store's next call of ``operation``, move it to ``state`` (another client acting)."""
        return self._call(
            "POST",
            "race",
            self._with_region(region, custom_key_store_id=custom_key_store_id, operation=operation, state=state),
        )

    def stale_reads(self, seconds, region=DEFAULT_REGION):
        """For ``seconds`` after each mutating call of a store, Describe shows the store as it was before (0: off)."""
        return self._call("POST", "stale-reads", self._with_region(region, seconds=seconds))

    def network_blip(self, seconds, region=DEFAULT_REGION):
        """For ``seconds`` from now, the Region's AWS requests get no answer: the server hangs up (0 ends it)."""
        return self._call("POST", "network-blip", self._with_region(region, seconds=seconds))

    # -- request log ------------------------------------------------------------------------

    def requests(self, since=0):
        """``{"requests": [...], "last_seq": N}``: AWS requests numbered after ``since``."""
        return self._call("GET", "requests", query={"since": since})

    def clear_requests(self):
        """Forget logged requests (numbering continues)."""
        return self._call("DELETE", "requests")

    def last_seq(self):
        """The number of the latest logged request, to pass as ``since`` later."""
        return self.requests(since=2**62)["last_seq"]

    def calls(self, operation=None, since=0):
        """Logged AWS requests after ``since``, optionally of one operation only."""
        entries = self.requests(since)["requests"]
        return [entry for entry in entries if operation is None or entry["operation"] == operation]

    def mutating_calls(self, since=0):
        """Logged requests that could change AWS state (not Describe*, List*, Get*)."""
        return [entry for entry in self.calls(since=since) if entry["mutating"]]


def _error_message(error):
    try:
        payload = json.loads(error.read().decode("utf-8"))
        return payload.get("error") or str(payload)
    except (ValueError, AttributeError, OSError):
        return error.reason if hasattr(error, "reason") else str(error)
