# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An external key store proxy for the emulator, and the health probe KMS sends to it.

``start()`` runs one proxy on 127.0.0.1 (a free port, a thread, HTTPS with a certificate from a test
CA made at start). It serves GetHealthStatus of the XKS Proxy API
(aws/aws-kms-xksproxy-api-spec: ``POST <uri path>/health``, SigV4 with service ``kms-xks-proxy``)
and answers the way its ``ProxyState`` says: reachable or not, slow, malformed, denying, or with a
certificate for the wrong host name, expired, or from an unknown CA.

``probe()`` is the KMS side: it sends a SigV4-signed GetHealthStatus the way KMS does at
ConnectCustomKeyStore and returns ``None`` or the ConnectionErrorCode that KMS documents for what
went wrong (CustomKeyStoresListEntry, KMS API Reference). Nothing here is reached from outside the
machine: the proxy listens on loopback only.
"""

import datetime
import hmac
import http.client
import ipaddress
import json
import os
import socket
import ssl
import struct
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"
SERVICE = "kms-xks-proxy"
HEALTH = "/health"
SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"
SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
# XKS spec, GetHealthStatus: "If KMS does not receive a response from the XKS proxy for any API call
# within 250ms, KMS will time out"; the emulator may pass more on a loaded machine.
KMS_TIMEOUT_SECONDS = 0.25
# XKS spec, Appendix A: "Any requests more than 5 minutes in the past (or future ...) SHOULD fail authentication."
MAX_CLOCK_SKEW_SECONDS = 300
DEFAULT_HOST_NAME = "xks.example.com"

# What a proxy's certificate is: issued by the test CA for its host name, or wrong in one way.
CERTIFICATES = ("valid", "wrong_host", "expired", "unknown_ca")
# What a proxy answers to an authenticated, authorized GetHealthStatus.
ANSWERS = ("health", "garbage", "incomplete")
EKM_HEALTH = ("ACTIVE", "DEGRADED", "UNAVAILABLE")

# ConnectionErrorCode values (KMS API Reference, CustomKeyStoresListEntry).
NOT_REACHABLE = "XKS_PROXY_NOT_REACHABLE"
INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
TIMED_OUT = "XKS_PROXY_TIMED_OUT"
INVALID_RESPONSE = "XKS_PROXY_INVALID_RESPONSE"
ACCESS_DENIED = "XKS_PROXY_ACCESS_DENIED"
INVALID_TLS = "XKS_PROXY_INVALID_TLS_CONFIGURATION"
INVALID_CONFIGURATION = "XKS_PROXY_INVALID_CONFIGURATION"

# The proxy's errorName (XKS spec, Error codes) -> the ConnectionErrorCode KMS reports. ThrottlingException
# has no documented connection code (Create/Update fail with XksProxyUriUnreachableException): the
# emulator's choice is NOT_REACHABLE. Any other or missing errorName is a response KMS cannot interpret.
ERROR_CODES = {
    "AuthenticationFailedException": INVALID_CREDENTIALS,
    "AccessDeniedException": ACCESS_DENIED,
    "InvalidUriPathException": INVALID_CONFIGURATION,
    "DependencyTimeoutException": TIMED_OUT,
    "ThrottlingException": NOT_REACHABLE,
}

# The exception CreateCustomKeyStore / UpdateCustomKeyStore raise instead of a connection code
# (XKS spec, "KMS Considerations" under Error codes). ACCESS_DENIED has none: a conforming proxy never
# authorizes GetHealthStatus ("This API MUST be excluded from secondary authorization").
CREATE_EXCEPTIONS = {
    NOT_REACHABLE: "XksProxyUriUnreachableException",
    TIMED_OUT: "XksProxyUriUnreachableException",
    INVALID_TLS: "XksProxyUriUnreachableException",
    INVALID_CREDENTIALS: "XksProxyIncorrectAuthenticationCredentialException",
    INVALID_CONFIGURATION: "XksProxyInvalidConfigurationException",
    INVALID_RESPONSE: "XksProxyInvalidResponseException",
}


class ProxyState:
    """How one proxy behaves; every field can change while it runs (thread-safe).

    ``uri_path``, ``access_key_id``, ``secret`` and ``region`` are what the proxy accepts; the rest
    are its faults: ``reachable`` (False: connections are reset before any byte), ``delay_seconds``
    (wait before answering), ``answer`` (one of ANSWERS), ``deny_access`` (403 AccessDeniedException),
    ``certificate`` (one of CERTIFICATES, used from the next connection on) and ``ekm_health``.
    """

    FIELDS = {
        "uri_path": str,
        "access_key_id": str,
        "secret": str,
        "region": str,
        "reachable": bool,
        "delay_seconds": (int, float),
        "answer": str,
        "deny_access": bool,
        "certificate": str,
        "ekm_health": str,
    }
    CHOICES = {"answer": ANSWERS, "certificate": CERTIFICATES, "ekm_health": EKM_HEALTH}

    def __init__(self, uri_path, access_key_id, secret, region, **faults):
        self._lock = threading.Lock()
        self._values = {
            "reachable": True,
            "delay_seconds": 0,
            "answer": "health",
            "deny_access": False,
            "certificate": "valid",
            "ekm_health": "ACTIVE",
        }
        self.update(uri_path=uri_path, access_key_id=access_key_id, secret=secret, region=region, **faults)

    def update(self, **changes):
        """Change some fields at once; a wrong name or value changes nothing and raises ValueError."""
        for name, value in changes.items():
            kind = self.FIELDS.get(name)
            if kind is None:
                raise ValueError("A proxy has no setting %r." % name)
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise ValueError("Proxy setting %r has the wrong type: %r." % (name, value))
            if name in self.CHOICES and value not in self.CHOICES[name]:
                raise ValueError("Proxy setting %r must be one of %s." % (name, ", ".join(self.CHOICES[name])))
            if name == "delay_seconds" and not 0 <= value <= 600:
                raise ValueError('Proxy setting "delay_seconds" must be between 0 and 600.')
        with self._lock:
            self._values.update(changes)

    def snapshot(self):
        """A consistent copy of every field, for one request."""
        with self._lock:
            return dict(self._values)

    def __repr__(self):
        shown = {name: value for name, value in self.snapshot().items() if name != "secret"}
        return "ProxyState(%r)" % shown


class TestCA:
    """A certificate authority made for one proxy run, and the certificates it (or a stranger) issues."""

    def __init__(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        self._key, self.certificate = _self_signed("awskms emulator test CA", now)
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def issue(self, host_name, kind="valid"):
        """PEM (certificate chain, key) for ``host_name``, made wrong as ``kind`` says."""
        now = datetime.datetime.now(datetime.timezone.utc)
        issuer_key, issuer = self._key, self.certificate
        if kind == "unknown_ca":
            issuer_key, issuer = _self_signed("a CA no one trusts", now)
        names = ["wrong-host.invalid"] if kind == "wrong_host" else [host_name]
        not_before, not_after = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
        if kind == "expired":
            not_before, not_after = now - datetime.timedelta(days=60), now - datetime.timedelta(days=30)
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(issuer.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([_general_name(name) for name in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256())
        )
        chain = certificate.public_bytes(serialization.Encoding.PEM) + issuer.public_bytes(serialization.Encoding.PEM)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return chain, key_pem


def _self_signed(common_name, now):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _general_name(name):
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _server_context(chain_pem, key_pem):
    """A TLS 1.2+ server context (XKS spec: "TLS 1.2 or later") for one certificate chain."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # load_cert_chain reads files only: write both to a private temporary directory and delete them at once.
    with tempfile.TemporaryDirectory() as directory:
        cert_file, key_file = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
        for path, data in ((cert_file, chain_pem), (key_file, key_pem)):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as handle:
                handle.write(data)
        context.load_cert_chain(cert_file, key_file)
    return context


def verify_signature(method, path, headers, body, access_key_id, secret, region, now=None):
    """True when the request's SigV4 signature is the one ``access_key_id``/``secret`` make for ``region``.

    The signature is recomputed with botocore's SigV4Auth over an AWSRequest rebuilt from the
    received method, path, signed headers and body (XKS spec, Appendix A), and compared in constant time.
    """
    headers = {name.lower(): value for name, value in headers.items()}
    fields = _authorization_fields(headers.get("authorization", ""))
    if fields is None:
        return False
    scope = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    amz_date = headers.get("x-amz-date", "")
    if len(scope) != 5 or "host" not in signed or "x-amz-date" not in signed:
        return False
    key_id, date, scope_region, service, terminator = scope
    if not hmac.compare_digest(key_id.encode(), access_key_id.encode()):
        return False
    if (scope_region, service, terminator) != (region, SERVICE, "aws4_request") or date != amz_date[:8]:
        return False
    try:
        sent = datetime.datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return False
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if abs((now - sent).total_seconds()) > MAX_CLOCK_SKEW_SECONDS:
        return False
    rebuilt_headers = {}
    for name in signed:
        value = headers.get(name)
        if value is None:
            return False
        rebuilt_headers[name] = value
    request = AWSRequest(
        method=method, url="https://%s%s" % (headers["host"], path), data=body, headers=rebuilt_headers
    )
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(access_key_id, secret), SERVICE, region)
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    return hmac.compare_digest(expected.encode(), fields["Signature"].encode())


def _authorization_fields(value):
    algorithm, rest = (value.split(" ", 1) + [""])[:2]
    if algorithm != SIGV4_ALGORITHM:
        return None
    fields = {}
    for part in rest.split(","):
        name, field = (part.strip().split("=", 1) + [""])[:2]
        fields[name] = field
    if not all(fields.get(name) for name in ("Credential", "SignedHeaders", "Signature")):
        return None
    return fields


class ProxyHandler(BaseHTTPRequestHandler):
    """GetHealthStatus at ``<uri path>/health``; every other URI under the path is unsupported."""

    protocol_version = "HTTP/1.1"
    server_version = "awskms-emulator-xks-proxy"
    sys_version = ""
    timeout = 30

    def setup(self):
        """Finish the TLS handshake first, in this request's thread."""
        self.request.settimeout(self.timeout)
        self.request.do_handshake()
        super().setup()

    def do_POST(self):
        """Every XKS Proxy API call is a POST."""
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state = self.server.state.snapshot()
        if state["delay_seconds"] and self.server.stopping.wait(state["delay_seconds"]):
            return
        status, payload = self._answer(state, body)
        self.server.record(self.path, status, body)
        self._send(status, payload)

    def do_GET(self):
        """XKS spec: a GET at an API URI "MUST" be rejected with 405 Method Not Allowed."""
        self._send(405, b"")

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: the proxy keeps its own request record instead."""

    def _answer(self, state, body):
        if state["answer"] == "garbage":
            return 200, b"<html>not the XKS Proxy API</html>"
        if not verify_signature(
            "POST", self.path, self.headers, body, state["access_key_id"], state["secret"], state["region"]
        ):
            return _error(
                401, "AuthenticationFailedException", "The request was rejected due to invalid AWS SigV4 signature."
            )
        if self.path != state["uri_path"] + HEALTH:
            if self.path.startswith(state["uri_path"] + "/keys/"):
                return _error(501, "UnsupportedOperationException", "This proxy implements GetHealthStatus only.")
            return _error(
                404, "InvalidUriPathException", "The request was rejected because the specified URI path is not valid."
            )
        if state["deny_access"]:
            return _error(
                403, "AccessDeniedException", "The request was rejected because the operation is not authorized."
            )
        try:
            metadata = json.loads(body.decode("utf-8"))["requestMetadata"]
            valid = all(
                isinstance(metadata.get(name), str) and metadata[name] for name in ("kmsRequestId", "kmsOperation")
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            valid = False
        if not valid:
            return _error(400, "ValidationException", "requestMetadata with kmsRequestId and kmsOperation is required.")
        if state["answer"] == "incomplete":
            return 200, b'{"xksProxyVendor": "awskms emulator"}'
        return 200, json.dumps(
            {
                "xksProxyFleetSize": 1,
                "xksProxyVendor": "awskms emulator",
                "xksProxyModel": "awskms emulator XKS proxy 1.0",
                "ekmVendor": "awskms emulator",
                "ekmFleetDetails": [
                    {"id": "ekm-1", "model": "awskms emulator EKM 1.0", "healthStatus": state["ekm_health"]}
                ],
            }
        ).encode("utf-8")

    def _send(self, status, payload):
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _error(status, name, message):
    return status, json.dumps({"errorName": name, "errorMessage": message}).encode("utf-8")


class ProxyHTTPServer(ThreadingHTTPServer):
    """Chooses the TLS certificate per connection, so a change of ``certificate`` applies to the next one."""

    daemon_threads = True

    def __init__(self, state, host_name, ca=None):
        super().__init__((LOOPBACK, 0), ProxyHandler)
        self.state = state
        self.ca = ca or TestCA()
        self.contexts = {kind: _server_context(*self.ca.issue(host_name, kind)) for kind in CERTIFICATES}
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections = set()
        self._requests = []

    def get_request(self):
        sock, address = self.socket.accept()
        state = self.state.snapshot()
        if not state["reachable"]:
            # Reset at once, before any byte: what KMS sees from a proxy that is down or filtered.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            raise OSError("proxy unreachable")
        # The handshake runs in the request's thread (first read), not in the accept loop.
        tls = self.contexts[state["certificate"]].wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._lock:
            self._connections.add(tls)
        return tls, address

    def shutdown_request(self, request):
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        """TLS failures and resets are outcomes under test, not server errors: stay quiet."""

    def record(self, path, status, body):
        """Note one answered request (never its headers: they carry the signature)."""
        try:
            operation = json.loads(body.decode("utf-8"))["requestMetadata"]["kmsOperation"]
        except (ValueError, TypeError, KeyError):
            operation = None
        with self._lock:
            self._requests.append({"path": path, "status": status, "kms_operation": operation})

    def requests(self):
        """The requests answered so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def close_connections(self):
        """Close every open connection (stop() must not wait for idle keep-alive clients)."""
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ProxyHandle:
    """A running proxy: ``state``, ``address`` (host, port), ``url``, ``host_name``, ``ca_pem``, ``requests()``, ``stop()``."""

    def __init__(self, httpd, thread, host_name):
        self.httpd = httpd
        self.thread = thread
        self.state = httpd.state
        self.host_name = host_name
        self.address = httpd.server_address[:2]
        self.url = "https://%s:%d" % (host_name, self.address[1])
        self.ca_pem = httpd.ca.pem

    def requests(self):
        """What the proxy answered: path, HTTP status and the kmsOperation of each request."""
        return self.httpd.requests()

    def stop(self):
        """Stop serving, end slow answers and open connections, close the listening socket."""
        self.httpd.stopping.set()
        self.httpd.shutdown()
        self.httpd.close_connections()
        self.httpd.server_close()
        self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def start(uri_path, access_key_id, secret, region, host_name=DEFAULT_HOST_NAME, ca=None, **faults):
    """Run a proxy on 127.0.0.1 (free port) whose certificate names ``host_name``; return its handle.

    ``ca``: the TestCA that issues its certificates (None: a CA of its own). ``faults`` are initial
    ProxyState fields; change them later with ``handle.state.update(...)``.
    """
    state = ProxyState(uri_path, access_key_id, secret, region, **faults)
    httpd = ProxyHTTPServer(state, host_name, ca)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="awskms-xks-proxy", daemon=True
    )
    thread.start()
    return ProxyHandle(httpd, thread, host_name)


def probe(
    uri_endpoint,
    uri_path,
    access_key_id,
    secret,
    region,
    ca_bundle=None,
    timeout=KMS_TIMEOUT_SECONDS,
    address=None,
    kms_operation="ConnectCustomKeyStore",
):
    """Send GetHealthStatus as KMS does; return None when the proxy is healthy, else the ConnectionErrorCode.

    ``uri_endpoint`` is the store's XksProxyUriEndpoint (``https://host`` with an optional port);
    the certificate must name its host and chain to ``ca_bundle`` (PEM text or a file; None: the
    system's CAs). ``address`` (host, port), when given, is where to connect instead of resolving
    the host, as a VPC endpoint or DNS would route it. ``timeout`` bounds the connection and the answer.
    """
    parts = urlsplit(uri_endpoint)
    if parts.scheme != "https" or not parts.hostname:
        return INVALID_CONFIGURATION
    host = parts.hostname
    port = parts.port or 443
    netloc = host if port == 443 else "%s:%d" % (host, port)
    body = json.dumps({"requestMetadata": {"kmsRequestId": str(uuid.uuid4()), "kmsOperation": kms_operation}})
    request = AWSRequest(
        method="POST",
        url="https://%s%s%s" % (netloc, uri_path, HEALTH),
        data=body,
        headers={"Content-Type": "application/json", "Host": netloc},
    )
    SigV4Auth(Credentials(access_key_id, secret), SERVICE, region).add_auth(request)
    context = _client_context(ca_bundle)
    deadline = time.monotonic() + timeout
    try:
        raw = socket.create_connection(address or (host, port), timeout=timeout)
    except OSError:
        return NOT_REACHABLE  # refused, unresolvable, unroutable, or no connection in time
    try:
        raw.settimeout(max(deadline - time.monotonic(), 0.001))
        tls = context.wrap_socket(raw, server_hostname=host)
    except ssl.SSLCertVerificationError:
        raw.close()
        return INVALID_TLS
    except (socket.timeout, TimeoutError):
        raw.close()
        return TIMED_OUT
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
        raw.close()
        return NOT_REACHABLE  # closed before the handshake ended
    except ssl.SSLError:
        raw.close()
        return INVALID_TLS  # no common protocol version or cipher suite
    except OSError:
        raw.close()
        return NOT_REACHABLE  # reset or closed before the handshake ended
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.sock = tls
    try:
        tls.settimeout(max(deadline - time.monotonic(), 0.001))
        connection.request("POST", uri_path + HEALTH, body=body.encode("utf-8"), headers=dict(request.headers))
        response = connection.getresponse()
        status, payload = response.status, response.read()
    except (socket.timeout, TimeoutError):
        return TIMED_OUT
    except (http.client.HTTPException, OSError):
        return INVALID_RESPONSE  # the connection held but the answer was not HTTP
    finally:
        connection.close()
    return _outcome(status, payload)


def _client_context(ca_bundle):
    """Certificate and host name verification, TLS 1.2 or later, as KMS requires of a proxy."""
    if ca_bundle is None:
        context = ssl.create_default_context()
    elif "-----BEGIN" in ca_bundle:
        context = ssl.create_default_context(cadata=ca_bundle)
    else:
        context = ssl.create_default_context(cafile=ca_bundle)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _outcome(status, payload):
    """The ConnectionErrorCode for a GetHealthStatus answer (XKS spec, GetHealthStatus and Error codes)."""
    try:
        document = json.loads(payload.decode("utf-8"))
    except ValueError:
        return INVALID_RESPONSE
    if not isinstance(document, dict):
        return INVALID_RESPONSE
    if status != 200:
        return ERROR_CODES.get(document.get("errorName"), INVALID_RESPONSE)
    if not _is_health_answer(document):
        return INVALID_RESPONSE
    if all(entry["healthStatus"] == "UNAVAILABLE" for entry in document["ekmFleetDetails"]):
        return NOT_REACHABLE  # "if the proxy reports that all external key manager instances are unavailable"
    return None


def _is_health_answer(document):
    size = document.get("xksProxyFleetSize")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        return False
    if not all(isinstance(document.get(name), str) for name in ("xksProxyVendor", "xksProxyModel", "ekmVendor")):
        return False
    details = document.get("ekmFleetDetails")
    if not isinstance(details, list) or not 1 <= len(details) <= 10:
        return False
    return all(
        isinstance(entry, dict)
        and isinstance(entry.get("id"), str)
        and isinstance(entry.get("model"), str)
        and entry.get("healthStatus") in EKM_HEALTH
        for entry in details
    )
