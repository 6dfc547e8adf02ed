# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP server of the emulator: the AWS JSON 1.1 endpoint and the control API.

``Emulator`` holds what every request shares (the regional worlds, faults, the request log and
one lock) and turns raw requests into responses, so it can be tested without sockets.
``start()`` runs it on a real port in a background thread; ``python -m emulator`` runs it in
the foreground.
"""

import json
import logging
import random
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from . import control
from . import ec2
from . import wire
from .errors import AwsError
from .errors import ControlError
from .errors import ThrottlingError
from .errors import internal_error
from .quota import RequestQuota
from .world import Regions
from .world import Settings
from .world import check_region
from .world import is_region_name

CONTROL_PREFIX = "/_emulator/"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4599
MAX_LOGGED_REQUESTS = 10000
MAX_LATENCY_SECONDS = 600
JSON_CONTENT_TYPE = "application/json"

LOG = logging.getLogger(__name__)


class Faults:
    """Injected transport faults: latency, throttling and internal errors, for all or some operations and Regions.

    Each matching request waits ``latency_seconds``, is then throttled with probability
    ``throttle_ratio``, and otherwise fails with HTTP 500 with probability ``error_ratio``.
    Faults never change the world. A ``seed`` makes the random draws reproducible: each operation in each
    Region draws from its own seeded sequence, so that the calls of clients running side by side, whose
    order varies from run to run, do not change the draws of one another's operations.
    """

    def __init__(self):
        self.spec = {}
        self._randoms = {}
        self.configure({})

    def configure(self, spec):
        """Replace the fault configuration (``{}`` clears it); all or nothing."""
        fields = control.Fields(spec, "faults")
        config = {
            "throttle_ratio": fields.get("throttle_ratio", "number", default=0.0),
            "error_ratio": fields.get("error_ratio", "number", default=0.0),
            "latency_seconds": fields.get("latency_seconds", "number", default=0.0),
            "throttle_code": fields.get(
                "throttle_code", "string", default=wire.DEFAULT_THROTTLING_CODE, choices=wire.THROTTLING_CODES
            ),
            "operations": fields.get("operations", "list"),
            "regions": fields.get("regions", "list"),
            "seed": fields.get("seed", "integer"),
        }
        fields.done()
        for name in ("throttle_ratio", "error_ratio"):
            if not 0 <= config[name] <= 1:
                raise ControlError('"%s" must be between 0 and 1.' % name)
        if not 0 <= config["latency_seconds"] <= MAX_LATENCY_SECONDS:
            raise ControlError('"latency_seconds" must be between 0 and %d.' % MAX_LATENCY_SECONDS)
        if config["operations"] is not None:
            known = set(wire.operation_names(wire.KMS)) | set(wire.operation_names(wire.CLOUDHSM))
            unknown = [name for name in config["operations"] if name not in known]
            if unknown:
                raise ControlError(
                    '"operations" names operations neither KMS nor CloudHSM v2 has: %s.' % ", ".join(map(str, unknown))
                )
        wrong = [region for region in config["regions"] or () if not is_region_name(region)]
        if wrong:
            raise ControlError(
                '"regions" must list Region names such as us-east-1, not %s.' % ", ".join(map(repr, wrong))
            )
        self.spec = config
        self._randoms = {}

    def as_dict(self):
        """The current configuration."""
        return dict(self.spec)

    def draw(self, service, operation, region=None):
        """(latency in seconds, an ``errors.AwsError`` or None) for one request in ``region`` (called under the
        server's lock)."""
        operations = self.spec["operations"]
        if operations is not None and operation not in operations:
            return 0.0, None
        regions = self.spec["regions"]
        if regions is not None and region not in regions:
            return 0.0, None
        error = None
        draws = self._draws(service, operation, region)
        if self.spec["throttle_ratio"] and draws.random() < self.spec["throttle_ratio"]:
            error = ThrottlingError(self.spec["throttle_code"], "Rate exceeded (injected by the emulator).")
        elif self.spec["error_ratio"] and draws.random() < self.spec["error_ratio"]:
            error = internal_error(service, "Internal failure (injected by the emulator).")
        return self.spec["latency_seconds"], error

    def _draws(self, service, operation, region):
        """The random sequence of one operation in one Region (a string seed is hashed the same in every run)."""
        key = (service, operation, region)
        if key not in self._randoms:
            seed = self.spec["seed"]
            self._randoms[key] = random.Random(None if seed is None else "%d %s %s %s" % ((seed,) + key))
        return self._randoms[key]


class RequestLog:
    """Every AWS request with its outcome, numbered; tests count calls with it."""

    def __init__(self):
        self._entries = deque(maxlen=MAX_LOGGED_REQUESTS)
        self.last_seq = 0

    def add(self, entry):
        """Number and keep one entry."""
        self.last_seq += 1
        numbered = {"seq": self.last_seq}
        numbered.update(entry)
        self._entries.append(numbered)

    def since(self, seq):
        """Entries numbered after ``seq``."""
        return [dict(entry) for entry in self._entries if entry["seq"] > seq]

    def clear(self):
        """Forget the entries; numbering continues so earlier ``since`` values stay meaningful."""
        self._entries.clear()


class Emulator:
    """The state every request shares, and the request handling that does not need sockets."""

    def __init__(self, clock=None, **settings):
        self.lock = threading.RLock()
        self.regions = Regions(Settings(**settings), clock)
        self.faults = Faults()
        self.quota = RequestQuota(self.regions.settings, self.regions.clock)
        self.requests = RequestLog()
        self._routes = self._control_routes()

    # -- AWS ---------------------------------------------------------------------

    def aws_request(self, target, authorization, raw_body):
        """Answer one AWS JSON 1.1 request: (HTTP status, body bytes). Never raises."""
        received = time.time()
        arrived = self.regions.clock.monotonic()  # the same moment, for the request quota
        region = wire.region_from_authorization(authorization)
        service = operation = params = None
        try:
            service, operation_model = wire.parse_target(target)
            operation = operation_model.name
            params = wire.parse_body(raw_body)
            self._inject_faults(service, operation, region)
            with self.lock:
                self.quota.check(region, operation, arrived)
            wire.validate_input(operation_model, params)
            with self.lock:
                result = self.regions.handle(region, service, operation, params)
            status, body, code = 200, wire.render_result(result), None
        except AwsError as error:
            (status, body), code = wire.render_error(error), error.code
        except Exception:  # a bug must cost one request, not the server
            LOG.exception("internal error while handling %s", operation)
            error = internal_error(service, "The emulator failed internally.")
            (status, body), code = wire.render_error(error), error.code
        self._log(received, service, operation, region, params, status, code)
        return status, body

    def query_request(self, authorization, raw_body):
        """Answer one EC2 Query request (``ec2.py``): (HTTP status, XML body). Never raises."""
        received = time.time()
        region = wire.region_from_authorization(authorization)
        operation = params = None
        try:
            operation, params = ec2.parse(raw_body)
            with self.lock:
                result = self.regions.handle(region, ec2.EC2, operation, params)
            status, body, code = 200, ec2.render(operation, result), None
        except AwsError as error:
            status, body, code = error.status, ec2.render_error(error), error.code
        except Exception:  # a bug must cost one request, not the server
            LOG.exception("internal error while handling %s", operation)
            error = ec2.Ec2Error("The emulator failed internally.")
            error.code, error.status = "InternalError", 500
            status, body, code = 500, ec2.render_error(error), error.code
        self._log(received, ec2.EC2, operation, region, params, status, code)
        return status, body

    def hangs_up(self, target, authorization):
        """True when a network blip of the request's Region is on: the request is logged, and gets no answer."""
        region = wire.region_from_authorization(authorization)
        with self.lock:
            if not control.in_network_blip(self.regions.world(region)):
                return False
        service = operation = None
        try:
            service, operation_model = wire.parse_target(target)
            operation = operation_model.name
        except AwsError:
            pass
        self._log(time.time(), service, operation, region, None, None, "ConnectionClosedByEmulator")
        return True

    def _inject_faults(self, service, operation, region):
        with self.lock:
            latency, error = self.faults.draw(service, operation, region)
        if latency:
            time.sleep(latency)
        if error is not None:
            raise error

    def _log(self, received, service, operation, region, params, status, code):
        entry = {
            "time": received,
            "service": service,
            "operation": operation,
            "region": region,
            "params": wire.redact(params) if params is not None else None,
            "status": status,
            "error_code": code,
            "mutating": bool(operation) and wire.is_mutating(operation),
        }
        with self.lock:
            self.requests.add(entry)
        LOG.info("%s %s.%s -> %s %s", region, service, operation, status, code or "")

    # -- control API -----------------------------------------------------------------

    def _control_routes(self):
        routes = {
            ("GET", "health"): lambda query, body: {"ok": True},
            ("POST", "reset"): self._reset,
            ("POST", "seed"): lambda query, body: self.regions.seed(body),
            ("GET", "world"): lambda query, body: self.regions.dump(_query_region(query)),
            ("GET", "settings"): self._read_settings,
            ("POST", "settings"): self._update_settings,
            ("GET", "faults"): lambda query, body: self.faults.as_dict(),
            ("POST", "faults"): self._configure_faults,
            ("GET", "request-quota"): lambda query, body: self.quota.as_dict(),
            ("POST", "request-quota"): lambda query, body: self.quota.configure(control.Fields(body, "request-quota")),
            ("GET", "requests"): self._list_requests,
            ("DELETE", "requests"): self._clear_requests,
        }
        for action in control.ACTIONS:
            routes[("POST", action)] = _action_route(self.regions, action)
        return routes

    def control_request(self, method, path, raw_body):
        """Answer one control-API request: (HTTP status, JSON-able payload). Never raises."""
        parts = urlsplit(path)
        name = parts.path[len(CONTROL_PREFIX) :].strip("/")
        handler = self._routes.get((method, name))
        if handler is None:
            methods = sorted(m for m, n in self._routes if n == name)
            if methods:
                return 405, {"error": "%s %s is not supported; use %s." % (method, parts.path, " or ".join(methods))}
            return 404, {"error": "Unknown control path %s; see the emulator README for the control API." % parts.path}
        try:
            body = _control_body(raw_body)
            with self.lock:
                return 200, handler(parse_qs(parts.query), body)
        except ControlError as exc:
            return 400, {"error": str(exc)}
        except Exception:  # a bug must cost one request, not the server
            LOG.exception("internal error in control request %s %s", method, path)
            return 500, {"error": "The emulator failed internally; see its standard error."}

    def _reset(self, query, body):
        fields = control.Fields(body, "reset")
        region = fields.get("region", "string")
        fields.done()
        if region is not None:
            check_region(region, "reset")
        self.regions.reset(region)
        self.quota.reset(region)
        if region is None:
            self.faults.configure({})
            self.requests.clear()
        return {"reset": region or "all"}

    def _read_settings(self, query, body):
        """Every shared setting, or with ?region= that region's durations."""
        region = query.get("region", [None])[0]
        if region is None:
            return self.regions.settings.as_dict()
        return self.regions.world(check_region(region, "settings")).duration_settings()

    def _update_settings(self, query, body):
        """Shared settings, or with "region" in the body durations for that region alone (until it is reset)."""
        if isinstance(body, dict) and "region" in body:
            values = dict(body)
            world = self.regions.world(check_region(values.pop("region"), "settings"))
            world.set_durations(values)
            return world.duration_settings()
        self.regions.settings.update(body)
        return self.regions.settings.as_dict()

    def _configure_faults(self, query, body):
        self.faults.configure(body)
        return self.faults.as_dict()

    def _list_requests(self, query, body):
        since = query.get("since", ["0"])[-1]
        if not since.lstrip("-").isdigit():
            raise ControlError('"since" must be a request sequence number.')
        return {"requests": self.requests.since(int(since)), "last_seq": self.requests.last_seq}

    def _clear_requests(self, query, body):
        self.requests.clear()
        return {"last_seq": self.requests.last_seq}


def _action_route(regions, action):
    """A control route running one operator action of ``control.ACTIONS``."""

    def run(query, body):
        return regions.control(action, body)

    return run


def _control_body(raw_body):
    if not raw_body or not raw_body.strip():
        return {}
    try:
        return json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ControlError("The request body is not valid JSON: %s." % exc)


def _query_region(query):
    return check_region(query.get("region", [None])[-1], "world")


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------


class EmulatorHandler(BaseHTTPRequestHandler):
    """Routes ``/_emulator/...`` to the control API and everything else to the AWS endpoint."""

    protocol_version = "HTTP/1.1"  # keep-alive, as boto3 expects
    server_version = "awskms-emulator"
    sys_version = ""
    timeout = 300  # idle keep-alive connections end eventually
    # One write per response and no Nagle delay: otherwise delayed ACKs add ~40 ms to every call.
    wbufsize = -1
    disable_nagle_algorithm = True

    def do_POST(self):
        """AWS requests and control actions."""
        self._dispatch("POST")

    def do_GET(self):
        """Control reads."""
        self._dispatch("GET")

    def do_DELETE(self):
        """Control deletions."""
        self._dispatch("DELETE")

    def log_message(self, format, *args):
        """Quiet: no per-request lines on standard error (``--verbose`` logs AWS requests instead)."""

    def _dispatch(self, method):
        raw_body = self._read_body()
        emulator = self.server.emulator
        if self.path.startswith(CONTROL_PREFIX):
            status, payload = emulator.control_request(method, self.path, raw_body)
            self._send(status, json.dumps(payload, indent=1).encode("utf-8") + b"\n", JSON_CONTENT_TYPE)
        elif emulator.hangs_up(self.headers.get("X-Amz-Target"), self.headers.get("Authorization")):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)  # a network blip: the request read, no answer written
        elif ec2.is_query_request(self.headers.get("Content-Type"), self.headers.get("X-Amz-Target")):
            status, body = emulator.query_request(self.headers.get("Authorization"), raw_body)
            self._send(status, body, ec2.XML_CONTENT_TYPE)
        else:
            status, body = emulator.aws_request(
                self.headers.get("X-Amz-Target"), self.headers.get("Authorization"), raw_body
            )
            self._send(status, body, wire.JSON_CONTENT_TYPE)

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        return self.rfile.read(int(length)) if length and length.isdigit() else b""

    def _read_chunked(self):
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", _request_id())
        self.end_headers()
        self.wfile.write(body)


def _request_id():
    return "%08x-%04x-4%03x-%04x-%012x" % tuple(random.getrandbits(bits) for bits in (32, 16, 12, 16, 48))


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that also closes idle keep-alive connections when it stops."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address, emulator):
        self.emulator = emulator
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, EmulatorHandler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        """Hang up on every open client connection."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ServerHandle:
    """A running emulator: ``url``, ``emulator`` (its state) and ``stop()``."""

    def __init__(self, httpd, thread):
        self.httpd = httpd
        self.thread = thread
        self.emulator = httpd.emulator
        self.host, self.port = httpd.server_address[:2]
        self.url = "http://%s:%d" % (self.host, self.port)

    def stop(self):
        """Stop serving, close the listening socket and every open connection."""
        self.httpd.shutdown()
        self.httpd.close_connections()
        self.httpd.server_close()
        self.thread.join(5)
        self.emulator.regions.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def make_server(host=DEFAULT_HOST, port=DEFAULT_PORT, seed=None, clock=None, **settings):
    """Bind an emulator server (not yet serving); ``seed`` is a seed document or a list of them."""
    emulator = Emulator(clock=clock, **settings)
    wire.sensitive_member_names()  # load both botocore models now, not during the first request
    if seed is not None:
        emulator.regions.seed(seed)
    return EmulatorHTTPServer((host, port), emulator)


def start(host=DEFAULT_HOST, port=0, seed=None, clock=None, **settings):
    """Run an emulator in a background thread (a free port by default) and return its handle."""
    httpd = make_server(host, port, seed, clock, **settings)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="awskms-emulator", daemon=True
    )
    thread.start()
    return ServerHandle(httpd, thread)
