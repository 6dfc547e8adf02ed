# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The XKS preflight's checks: the proxy over real HTTPS (the emulator's XKS proxy, SigV4 and a test CA), and
the VPC endpoint service requirements from EC2's Describe answers (botocore Stubber)."""

import socket

import boto3
import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils import xks_probe
from ansible_collections.awskms.custom_key_store.tests.emulator import xks_proxy
from botocore.stub import Stubber

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRST"
SECRET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OTHER_SECRET = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
ENDPOINT = "https://xks.example.com"
PATH = "/kms/xks/v1"
CREDENTIAL = {"access_key_id": ACCESS_KEY, "raw_secret_access_key": SECRET}


@pytest.fixture(scope="module")
def proxy():
    handle = xks_proxy.start(PATH, ACCESS_KEY, SECRET, "us-east-1", host_name="xks.example.com")
    yield handle
    handle.stop()


@pytest.fixture
def ca_file(proxy, tmp_path):
    path = tmp_path / "ca.pem"
    path.write_text(proxy.ca_pem)
    return str(path)


@pytest.fixture(autouse=True)
def healthy(proxy):
    proxy.state.update(
        uri_path=PATH,
        secret=SECRET,
        reachable=True,
        delay_seconds=0,
        answer="health",
        deny_access=False,
        certificate="valid",
        ekm_health="ACTIVE",
    )


def run(proxy, ca_file, **overrides):
    options = dict(credential=CREDENTIAL, ca_bundle=ca_file, address=proxy.address, timeout=2.0)
    options.update(overrides)
    checks, facts = xks_probe.probe_proxy(ENDPOINT, PATH, "us-east-1", **options)
    assert [item["name"] for item in checks] == list(xks_probe.PROXY_CHECKS)
    assert SECRET not in repr((checks, facts))
    return dict((item["name"], item) for item in checks), facts


def outcomes(checks):
    return [checks[name]["passed"] for name in xks_probe.PROXY_CHECKS]


def test_a_healthy_proxy_passes_every_check_and_reports_its_certificate_and_health(proxy, ca_file):
    checks, facts = run(proxy, ca_file)
    assert outcomes(checks) == [True] * 6
    assert all(item["remedy"] is None for item in checks.values())
    assert 28 <= facts["certificate_days_left"] <= 30 and facts["certificate_not_after"].endswith("+00:00")
    assert facts["proxy_health"]["ekm_fleet_details"] == [
        {"id": "ekm-1", "model": "awskms emulator EKM 1.0", "health_status": "ACTIVE"}
    ]
    assert proxy.requests()[-1]["path"] == PATH + "/health"


# (proxy state, the check that fails, words of its detail, words of its remedy)
FAILURES = [
    (
        {"secret": OTHER_SECRET},
        "proxy_signature",
        "AuthenticationFailedException",
        "xks_proxy_authentication_credential",
    ),
    ({"certificate": "expired"}, "tls_certificate", "expired", "not expired"),
    ({"certificate": "wrong_host"}, "tls_certificate", "Hostname mismatch", "names the host"),
    ({"certificate": "unknown_ca"}, "tls_certificate", "does not verify", "Trusted Certificate Authorities"),
    ({"reachable": False}, "proxy_reachable", "connecting to 127.0.0.1", "port 443"),
    ({"uri_path": "/tenant/kms/xks/v1"}, "proxy_uri_path", "InvalidUriPathException", "xks_proxy_uri_path"),
    ({"deny_access": True}, "proxy_authorization", "AccessDeniedException", "authorization rules"),
    ({"answer": "garbage"}, "proxy_health", "HTTP 200", "XKS Proxy API specifies"),
    ({"answer": "incomplete"}, "proxy_health", "not a GetHealthStatus response", "XKS Proxy API specifies"),
    ({"ekm_health": "UNAVAILABLE"}, "proxy_health", "UNAVAILABLE", "not UNAVAILABLE"),
    ({"delay_seconds": 3}, "proxy_health", "did not answer", "250 ms"),
]


@pytest.mark.parametrize("state, failing, detail, remedy", FAILURES)
def test_each_problem_fails_its_check_with_its_remedy_and_stops_the_checks_after_it(
    proxy, ca_file, state, failing, detail, remedy
):
    proxy.state.update(**state)
    checks, _facts = run(proxy, ca_file)
    failed = [name for name in xks_probe.PROXY_CHECKS if checks[name]["passed"] is False]
    assert failed == [failing]
    assert detail in checks[failing]["detail"] and remedy in checks[failing]["remedy"]
    after = xks_probe.PROXY_CHECKS[xks_probe.PROXY_CHECKS.index(failing) + 1 :]
    assert all(checks[name]["passed"] is None for name in after)


def test_an_expired_certificate_reports_when_it_expired(proxy, ca_file):
    proxy.state.update(certificate="expired")
    _checks, facts = run(proxy, ca_file)
    assert -31 <= facts["certificate_days_left"] <= -29


def test_the_system_cas_do_not_trust_the_test_ca(proxy):
    checks, _facts = run(proxy, None)
    assert checks["tls_certificate"]["passed"] is False


def test_nothing_listening_is_not_reachable(proxy, ca_file):
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed = spare.getsockname()
    checks, facts = run(proxy, ca_file, address=closed)
    assert outcomes(checks) == [False, None, None, None, None, None] and facts == {}
    assert (
        "No connection to xks.example.com (connecting to 127.0.0.1:%d)" % closed[1]
        in checks["proxy_reachable"]["detail"]
    )


def test_without_the_secret_reachability_and_tls_are_checked_and_the_rest_is_said_to_be_unchecked(proxy, ca_file):
    before = len(proxy.requests())
    checks, facts = run(proxy, ca_file, credential=None)
    assert outcomes(checks) == [True, True, None, None, None, None]
    assert "AWS never returns the secret access key" in checks["proxy_signature"]["detail"]
    assert "Pass xks_proxy_authentication_credential" in checks["proxy_health"]["remedy"]
    assert "certificate_not_after" in facts and len(proxy.requests()) == before  # no request was sent


def test_parse_address():
    assert xks_probe.parse_address("10.0.1.4:443") == ("10.0.1.4", 443)
    assert xks_probe.parse_address("[::1]:8443") == ("::1", 8443)
    assert xks_probe.parse_address("10.0.1.4") is None and xks_probe.parse_address("h:0") is None


# ---------------------------------------------------------------------------
# The VPC endpoint service
# ---------------------------------------------------------------------------

SERVICE_NAME = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
VPC_ENDPOINT = "https://vpc.xks.example.com"


def service(**overrides):
    entry = {
        "ServiceType": [{"ServiceType": "Interface"}],
        "ServiceId": "vpce-svc-0123456789abcdef0",
        "ServiceName": SERVICE_NAME,
        "ServiceState": "Available",
        "AvailabilityZones": ["us-east-1a", "us-east-1b"],
        "AcceptanceRequired": False,
        "NetworkLoadBalancerArns": ["arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/net/xks/1"],
        "PrivateDnsName": "vpc.xks.example.com",
        "PrivateDnsNameConfiguration": {"State": "verified", "Type": "TXT", "Value": "v", "Name": "_n"},
    }
    entry.update(overrides)
    return dict((key, value) for key, value in entry.items() if value is not None)


KMS = [{"PrincipalType": "Service", "Principal": "cks.kms.us-east-1.amazonaws.com"}]


def evaluate(entry, permissions=None, others=()):
    permissions = KMS if permissions is None else permissions
    checks = xks_probe.evaluate_endpoint_service(
        SERVICE_NAME, entry, permissions, list(others), "us-east-1", VPC_ENDPOINT
    )
    assert [item["name"] for item in checks] == list(xks_probe.SERVICE_CHECKS)
    return [item["name"] for item in checks if item["passed"] is False], dict((item["name"], item) for item in checks)


def test_a_conforming_endpoint_service_passes_every_requirement():
    assert evaluate(service())[0] == []


@pytest.mark.parametrize(
    "overrides, permissions, failing",
    [
        ({"ServiceState": "Pending"}, KMS, ["vpc_endpoint_service_available"]),
        ({"ServiceType": [{"ServiceType": "GatewayLoadBalancer"}]}, KMS, ["vpc_endpoint_service_interface"]),
        (
            {"NetworkLoadBalancerArns": None, "GatewayLoadBalancerArns": ["arn:gwy"]},
            KMS,
            ["network_load_balancer"],
        ),
        ({"AvailabilityZones": ["us-east-1a"]}, KMS, ["availability_zones"]),
        ({"AcceptanceRequired": True}, KMS, ["acceptance_not_required"]),
        ({}, [], ["kms_principal_allowed"]),
        ({}, [{"PrincipalType": "Service", "Principal": "cks.kms.eu-west-1.amazonaws.com"}], ["kms_principal_allowed"]),
        ({"PrivateDnsName": "other.xks.example.com"}, KMS, ["private_dns_name_matches_endpoint"]),
        (
            {"PrivateDnsNameConfiguration": {"State": "pendingVerification"}},
            KMS,
            ["private_dns_name_verified"],
        ),
        (
            {"PrivateDnsName": None, "PrivateDnsNameConfiguration": None},
            KMS,
            ["private_dns_name_matches_endpoint", "private_dns_name_verified", "private_dns_name_unique"],
        ),
    ],
)
def test_each_requirement_fails_its_own_check_with_a_remedy(overrides, permissions, failing):
    failed, checks = evaluate(service(**overrides), permissions)
    assert failed == failing
    assert all(checks[name]["remedy"] and checks[name]["remedy"].endswith(".") for name in failing)


def test_remedies_name_the_regions_principal_and_the_endpoints_host():
    _failed, checks = evaluate(service(PrivateDnsName="other.example.com"), [])
    assert "cks.kms.us-east-1.amazonaws.com" in checks["kms_principal_allowed"]["remedy"]
    assert "vpc.xks.example.com" in checks["private_dns_name_matches_endpoint"]["remedy"]


def test_a_private_dns_name_another_service_has_is_not_unique():
    other = service(ServiceName=SERVICE_NAME.replace("abcdef0", "abcdef1"))
    failed, checks = evaluate(service(), others=[other])
    assert failed == ["private_dns_name_unique"] and other["ServiceName"] in checks["private_dns_name_unique"]["detail"]


def test_a_missing_service_fails_the_first_check_and_leaves_the_others_unchecked():
    failed, checks = evaluate(None, [])
    assert failed == ["vpc_endpoint_service_available"]
    assert all(checks[name]["passed"] is None for name in xks_probe.SERVICE_CHECKS[1:])


def test_the_ec2_calls_are_the_two_describes_the_model_accepts():
    client = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    stubber = Stubber(client)
    stubber.add_response("describe_vpc_endpoint_service_configurations", {"ServiceConfigurations": [service()]}, {})
    stubber.add_response(
        "describe_vpc_endpoint_service_permissions",
        {"AllowedPrincipals": KMS},
        {"ServiceId": "vpce-svc-0123456789abcdef0"},
    )
    with stubber:
        checks = xks_probe.endpoint_service_checks(client, SERVICE_NAME, "us-east-1", VPC_ENDPOINT)
    stubber.assert_no_pending_responses()
    assert all(item["passed"] for item in checks)


def test_preflight_of_a_vpc_store_without_proxy_address_does_not_probe_the_proxy():
    client = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    stubber = Stubber(client)
    stubber.add_response("describe_vpc_endpoint_service_configurations", {"ServiceConfigurations": []}, {})
    config = {
        "xks_proxy_uri_endpoint": VPC_ENDPOINT,
        "xks_proxy_uri_path": PATH,
        "xks_proxy_connectivity": "VPC_ENDPOINT_SERVICE",
        "xks_proxy_vpc_endpoint_service_name": SERVICE_NAME,
        "access_key_id": "QRSTUVWXYZABCDEFGHIJ",
    }
    with stubber:
        result = xks_probe.preflight(config, "us-east-1", ec2_client=client, credential=CREDENTIAL)
    assert result["failed_checks"] == ["credential_matches_store", "vpc_endpoint_service_available"]
    assert result["passed"] is False and set(xks_probe.PROXY_CHECKS) <= set(result["not_checked"])
    assert result["msg"].startswith("2 of 2 checks failed (credential_matches_store, vpc_endpoint_service_available)")
    assert SECRET not in repr(result)
