# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's XKS proxy over real HTTPS, and the probe that turns its answers into ConnectionErrorCodes."""

import datetime
import http.client
import json
import os
import socket
import ssl
import threading
import time

import pytest

pytest.importorskip("botocore")
pytest.importorskip("cryptography")
from ansible_collections.awskms.custom_key_store.tests.emulator import (  # noqa: E402  pylint: disable=wrong-import-position
    xks_proxy,
)
from botocore.auth import SigV4Auth  # noqa: E402  pylint: disable=wrong-import-position
from botocore.awsrequest import AWSRequest  # noqa: E402  pylint: disable=wrong-import-position
from botocore.credentials import Credentials  # noqa: E402  pylint: disable=wrong-import-position

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRST"
SECRET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
REGION = "us-east-1"
PATH = "/example/kms/xks/v1"
ENDPOINT = "https://xks.example.com"
HEALTHY = {
    "reachable": True,
    "delay_seconds": 0,
    "answer": "health",
    "deny_access": False,
    "certificate": "valid",
    "ekm_health": "ACTIVE",
    "access_key_id": ACCESS_KEY,
    "secret": SECRET,
    "uri_path": PATH,
    "region": REGION,
}


@pytest.fixture(scope="module")
def running():
    handle = xks_proxy.start(PATH, ACCESS_KEY, SECRET, REGION)
    yield handle
    handle.stop()


@pytest.fixture
def proxy(running):
    running.state.update(**HEALTHY)
    return running


def probe(proxy, **changes):
    arguments = {
        "uri_endpoint": ENDPOINT,
        "uri_path": PATH,
        "access_key_id": ACCESS_KEY,
        "secret": SECRET,
        "region": REGION,
        "ca_bundle": proxy.ca_pem,
        "timeout": 5,
        "address": proxy.address,
    }
    arguments.update(changes)
    return xks_proxy.probe(**arguments)


def signed_post(proxy, path, body, secret=SECRET):
    """A SigV4-signed POST over HTTPS, as KMS sends it; returns (status, parsed JSON body or None)."""
    host = "%s:%d" % (proxy.host_name, proxy.address[1])
    request = AWSRequest(
        method="POST",
        url="https://%s%s" % (host, path),
        data=body,
        headers={"Content-Type": "application/json", "Host": host},
    )
    SigV4Auth(Credentials(ACCESS_KEY, secret), xks_proxy.SERVICE, REGION).add_auth(request)
    return send(proxy, "POST", path, body, dict(request.headers))


def send(proxy, method, path, body, headers):
    context = ssl.create_default_context(cadata=proxy.ca_pem)
    raw = socket.create_connection(proxy.address, timeout=5)
    connection = http.client.HTTPConnection(proxy.host_name, proxy.address[1], timeout=5)
    connection.sock = context.wrap_socket(raw, server_hostname=proxy.host_name)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    return response.status, json.loads(payload) if payload else None


def health_body(operation="ConnectCustomKeyStore"):
    return json.dumps(
        {"requestMetadata": {"kmsRequestId": "4112f4d6-db54-4af4-ae30-c55a22a8dfae", "kmsOperation": operation}}
    )


def test_a_healthy_proxy_answers_the_spec_health_document(proxy):
    status, document = signed_post(proxy, PATH + "/health", health_body("KmsHealthCheck"))
    assert status == 200
    assert document["xksProxyFleetSize"] == 1
    assert [entry["healthStatus"] for entry in document["ekmFleetDetails"]] == ["ACTIVE"]
    assert {"xksProxyVendor", "xksProxyModel", "ekmVendor"} <= set(document)


def test_probe_of_a_healthy_proxy_is_none_and_names_its_operation(proxy):
    before = len(proxy.requests())
    assert probe(proxy, kms_operation="CreateCustomKeyStore") is None
    assert proxy.requests()[before:] == [
        {"path": PATH + "/health", "status": 200, "kms_operation": "CreateCustomKeyStore"}
    ]


@pytest.mark.parametrize(
    "changes",
    [{"secret": SECRET + "x"}, {"access_key_id": "ZZZZZZZZZZZZZZZZZZZZ"}, {"region": "eu-west-1"}],
    ids=["secret", "access-key-id", "region"],
)
def test_a_wrong_credential_fails_the_signature_check(proxy, changes):
    assert probe(proxy, **changes) == xks_proxy.INVALID_CREDENTIALS
    assert proxy.requests()[-1]["status"] == 401


def test_a_wrong_secret_is_answered_with_the_spec_error_document(proxy):
    status, document = signed_post(proxy, PATH + "/health", health_body(), secret="another secret")
    assert (status, document["errorName"]) == (401, "AuthenticationFailedException")


def test_a_rotated_credential_on_the_proxy_fails_until_kms_has_it_too(proxy):
    proxy.state.update(secret="rotated" + SECRET)
    assert probe(proxy) == xks_proxy.INVALID_CREDENTIALS
    assert probe(proxy, secret="rotated" + SECRET) is None


def test_a_wrong_uri_path_is_an_invalid_configuration(proxy):
    assert probe(proxy, uri_path="/other/kms/xks/v1") == xks_proxy.INVALID_CONFIGURATION
    status, document = signed_post(proxy, "/other/kms/xks/v1/health", health_body())
    assert (status, document["errorName"]) == (404, "InvalidUriPathException")


def test_a_health_request_without_request_metadata_is_refused(proxy):
    for body in ("{}", '{"requestMetadata": {}}', "not json"):
        status, document = signed_post(proxy, PATH + "/health", body)
        assert (status, document["errorName"]) == (400, "ValidationException")


def test_key_operations_are_not_implemented(proxy):
    status, document = signed_post(proxy, PATH + "/keys/key-1/metadata", health_body())
    assert (status, document["errorName"]) == (501, "UnsupportedOperationException")


def test_get_is_method_not_allowed(proxy):
    assert send(proxy, "GET", PATH + "/health", None, {}) == (405, None)


def test_an_unsigned_request_is_not_authenticated(proxy):
    status, document = send(proxy, "POST", PATH + "/health", health_body(), {"Content-Type": "application/json"})
    assert (status, document["errorName"]) == (401, "AuthenticationFailedException")


def test_a_denying_proxy_is_access_denied(proxy):
    proxy.state.update(deny_access=True)
    assert probe(proxy) == xks_proxy.ACCESS_DENIED


@pytest.mark.parametrize("answer", ["garbage", "incomplete"])
def test_an_answer_that_is_not_the_health_document_is_an_invalid_response(proxy, answer):
    proxy.state.update(answer=answer)
    assert probe(proxy) == xks_proxy.INVALID_RESPONSE


def test_all_external_key_managers_unavailable_is_not_reachable_and_degraded_is_healthy(proxy):
    proxy.state.update(ekm_health="UNAVAILABLE")
    assert probe(proxy) == xks_proxy.NOT_REACHABLE
    proxy.state.update(ekm_health="DEGRADED")
    assert probe(proxy) is None


@pytest.mark.parametrize("certificate", ["wrong_host", "expired", "unknown_ca"])
def test_a_bad_certificate_is_an_invalid_tls_configuration(proxy, certificate):
    proxy.state.update(certificate=certificate)
    assert probe(proxy) == xks_proxy.INVALID_TLS
    proxy.state.update(certificate="valid")
    assert probe(proxy) is None


def test_the_test_ca_is_not_trusted_by_default(proxy):
    assert probe(proxy, ca_bundle=None) == xks_proxy.INVALID_TLS


def test_the_ca_bundle_may_be_a_file(proxy, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text(proxy.ca_pem)
    assert probe(proxy, ca_bundle=str(bundle)) is None


def test_an_endpoint_whose_host_the_certificate_does_not_name_is_an_invalid_tls_configuration(proxy):
    assert probe(proxy, uri_endpoint="https://other.example.com") == xks_proxy.INVALID_TLS


def test_an_unreachable_proxy_is_not_reachable_until_it_is_fixed(proxy):
    proxy.state.update(reachable=False)
    assert probe(proxy) == xks_proxy.NOT_REACHABLE
    proxy.state.update(reachable=True)
    assert probe(proxy) is None


def test_a_slow_proxy_times_out_within_the_timeout(proxy):
    proxy.state.update(delay_seconds=2)
    started = time.monotonic()
    assert probe(proxy, timeout=0.3) == xks_proxy.TIMED_OUT
    assert time.monotonic() - started < 1.5


def test_the_kms_timeout_is_the_documented_250_ms():
    assert xks_proxy.KMS_TIMEOUT_SECONDS == 0.25


def test_nothing_listening_is_not_reachable():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert (
        xks_proxy.probe(ENDPOINT, PATH, ACCESS_KEY, SECRET, REGION, timeout=2, address=("127.0.0.1", port))
        == xks_proxy.NOT_REACHABLE
    )


def test_an_endpoint_that_is_not_https_is_an_invalid_configuration():
    assert (
        xks_proxy.probe("http://xks.example.com", PATH, ACCESS_KEY, SECRET, REGION) == xks_proxy.INVALID_CONFIGURATION
    )


def test_stop_ends_a_slow_answer_and_refuses_new_connections():
    handle = xks_proxy.start(PATH, ACCESS_KEY, SECRET, REGION, delay_seconds=60)
    result = {}
    waiter = threading.Thread(target=lambda: result.update(code=probe(handle, timeout=30)))
    waiter.start()
    time.sleep(0.3)
    started = time.monotonic()
    handle.stop()
    waiter.join(10)
    assert time.monotonic() - started < 5
    assert result["code"] in (xks_proxy.INVALID_RESPONSE, xks_proxy.NOT_REACHABLE)
    assert probe(handle) == xks_proxy.NOT_REACHABLE


@pytest.mark.parametrize(
    "status, payload, code",
    [
        (429, {"errorName": "ThrottlingException"}, xks_proxy.NOT_REACHABLE),
        (503, {"errorName": "DependencyTimeoutException"}, xks_proxy.TIMED_OUT),
        (500, {"errorName": "InternalException"}, xks_proxy.INVALID_RESPONSE),
        (400, {"errorName": "ValidationException"}, xks_proxy.INVALID_RESPONSE),
        (403, {"errorName": "AccessDeniedException"}, xks_proxy.ACCESS_DENIED),
        (401, {}, xks_proxy.INVALID_RESPONSE),
        (200, [], xks_proxy.INVALID_RESPONSE),
        (
            200,
            {
                "xksProxyFleetSize": 0,
                "xksProxyVendor": "v",
                "xksProxyModel": "m",
                "ekmVendor": "e",
                "ekmFleetDetails": [{"id": "a", "model": "b", "healthStatus": "ACTIVE"}],
            },
            xks_proxy.INVALID_RESPONSE,
        ),
        (
            200,
            {
                "xksProxyFleetSize": 1,
                "xksProxyVendor": "v",
                "xksProxyModel": "m",
                "ekmVendor": "e",
                "ekmFleetDetails": [],
            },
            xks_proxy.INVALID_RESPONSE,
        ),
        (
            200,
            {
                "xksProxyFleetSize": 2,
                "xksProxyVendor": "v",
                "xksProxyModel": "m",
                "ekmVendor": "e",
                "ekmFleetDetails": [
                    {"id": "a", "model": "b", "healthStatus": "UNAVAILABLE"},
                    {"id": "c", "model": "d", "healthStatus": "ACTIVE"},
                ],
            },
            None,
        ),
    ],
)
def test_each_answer_maps_to_its_connection_error_code(status, payload, code):
    assert xks_proxy._outcome(status, json.dumps(payload).encode()) == code  # pylint: disable=protected-access


def test_an_error_without_a_json_body_is_an_invalid_response():
    assert (
        xks_proxy._outcome(500, b"Internal Server Error") == xks_proxy.INVALID_RESPONSE
    )  # pylint: disable=protected-access


def _signed_headers(body, when):
    request = AWSRequest(
        method="POST", url="https://xks.example.com" + PATH + "/health", data=body, headers={"Host": "xks.example.com"}
    )
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET), xks_proxy.SERVICE, REGION)
    request.context["timestamp"] = when.strftime(xks_proxy.SIGV4_TIMESTAMP)
    request.headers["X-Amz-Date"] = request.context["timestamp"]
    signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    auth._inject_signature_to_request(request, signature)  # pylint: disable=protected-access
    return dict(request.headers)


def test_a_signature_older_than_five_minutes_is_refused():
    now = datetime.datetime.now(datetime.timezone.utc)
    body = health_body()
    fresh = _signed_headers(body, now - datetime.timedelta(seconds=200))
    stale = _signed_headers(body, now - datetime.timedelta(seconds=400))
    assert xks_proxy.verify_signature("POST", PATH + "/health", fresh, body, ACCESS_KEY, SECRET, REGION, now=now)
    assert not xks_proxy.verify_signature("POST", PATH + "/health", stale, body, ACCESS_KEY, SECRET, REGION, now=now)


def test_a_changed_body_or_path_breaks_the_signature():
    body = health_body()
    headers = _signed_headers(body, datetime.datetime.now(datetime.timezone.utc))
    assert xks_proxy.verify_signature("POST", PATH + "/health", headers, body, ACCESS_KEY, SECRET, REGION)
    assert not xks_proxy.verify_signature(
        "POST", PATH + "/health", headers, health_body("Other"), ACCESS_KEY, SECRET, REGION
    )
    assert not xks_proxy.verify_signature("POST", "/kms/xks/v1/health", headers, body, ACCESS_KEY, SECRET, REGION)


def test_a_signature_that_does_not_sign_the_date_is_refused():
    body = health_body()
    headers = _signed_headers(body, datetime.datetime.now(datetime.timezone.utc))
    headers["Authorization"] = headers["Authorization"].replace("SignedHeaders=host;x-amz-date", "SignedHeaders=host")
    assert not xks_proxy.verify_signature("POST", PATH + "/health", headers, body, ACCESS_KEY, SECRET, REGION)


def test_proxy_state_refuses_unknown_or_wrong_settings_and_changes_nothing():
    state = xks_proxy.ProxyState(PATH, ACCESS_KEY, SECRET, REGION)
    for changes in (
        {"colour": "red"},
        {"reachable": "yes"},
        {"certificate": "self_signed"},
        {"delay_seconds": -1},
        {"delay_seconds": True},
        {"reachable": False, "answer": "nonsense"},
    ):
        with pytest.raises(ValueError):
            state.update(**changes)
    assert state.snapshot()["reachable"] is True


def test_proxy_state_never_shows_the_secret():
    assert SECRET not in repr(xks_proxy.ProxyState(PATH, ACCESS_KEY, SECRET, REGION))


def test_the_proxy_listens_on_loopback_only(running):
    assert running.address[0] == "127.0.0.1"
    assert running.url == "https://%s:%d" % (xks_proxy.DEFAULT_HOST_NAME, running.address[1])


def test_no_temporary_key_files_are_left(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(xks_proxy.tempfile, "tempdir", None)
    handle = xks_proxy.start(PATH, ACCESS_KEY, SECRET, REGION)
    handle.stop()
    assert not os.listdir(tmp_path)
