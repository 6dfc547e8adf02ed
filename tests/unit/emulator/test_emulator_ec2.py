# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's EC2 side (tests/emulator/ec2.py) and the proxy it serves for the XKS preflight, over real
HTTP with boto3: the two Describe calls show the world's VPC endpoint services, and serve-xks-proxy says where a
proxy listens and which CA file to trust."""

import os

import pytest

boto3 = pytest.importorskip("boto3")
from ansible_collections.awskms.custom_key_store.plugins.module_utils import (  # noqa: E402  pylint: disable=wrong-import-position
    xks_probe,
)
from ansible_collections.awskms.custom_key_store.tests.emulator import client  # noqa: E402
from ansible_collections.awskms.custom_key_store.tests.emulator import server  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402  pylint: disable=wrong-import-position

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRST"
SECRET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SERVICE = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
VPC = "https://vpc.xks.example.com"
PUBLIC = "https://public.xks.example.com"
REGION = "eu-west-1"

# The emulator server of this module (conftest.py: running).
SERVER_SETTINGS = {"connect_seconds": 0.05, "disconnect_seconds": 0.05}


@pytest.fixture
def emu(running):
    control = client.EmulatorClient(running.url)
    control.reset()
    control.seed(
        {
            "region": REGION,
            "xks_proxies": [
                {"uri_endpoint": endpoint, "access_key_id": ACCESS_KEY, "secret_access_key": SECRET}
                for endpoint in (PUBLIC, VPC)
            ],
            "vpc_endpoint_services": [{"service_name": SERVICE}],
            "custom_key_stores": [
                {"name": "public", "type": "EXTERNAL_KEY_STORE", "xks_proxy_uri_endpoint": PUBLIC},
                {
                    "name": "vpc",
                    "type": "EXTERNAL_KEY_STORE",
                    "xks_proxy_uri_endpoint": VPC,
                    "xks_proxy_connectivity": "VPC_ENDPOINT_SERVICE",
                    "xks_proxy_vpc_endpoint_service_name": SERVICE,
                },
            ],
        }
    )
    return control


@pytest.fixture
def ec2(running):
    return boto3.client(
        "ec2", endpoint_url=running.url, region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x"
    )


def configuration(ec2):
    return ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"][0]


def test_a_conforming_service_is_described_as_ec2_does_and_passes_the_preflight(emu, ec2):
    entry = configuration(ec2)
    assert entry["ServiceId"] == "vpce-svc-0123456789abcdef0" and entry["ServiceName"] == SERVICE
    assert entry["ServiceState"] == "Available" and entry["ServiceType"] == [{"ServiceType": "Interface"}]
    assert entry["AvailabilityZones"] == ["eu-west-1a", "eu-west-1b"] and entry["AcceptanceRequired"] is False
    assert entry["NetworkLoadBalancerArns"] and "GatewayLoadBalancerArns" not in entry
    # No private DNS name set: the host of the endpoint of the store that uses the service.
    assert entry["PrivateDnsName"] == "vpc.xks.example.com"
    assert entry["PrivateDnsNameConfiguration"]["State"] == "verified"
    permissions = ec2.describe_vpc_endpoint_service_permissions(ServiceId=entry["ServiceId"])["AllowedPrincipals"]
    assert [item["Principal"] for item in permissions] == ["cks.kms.eu-west-1.amazonaws.com"]
    checks = xks_probe.endpoint_service_checks(ec2, SERVICE, REGION, VPC)
    assert [item["name"] for item in checks if not item["passed"]] == []
    calls = [(entry["service"], entry["operation"], entry["mutating"]) for entry in emu.requests()["requests"]]
    assert calls[-2:] == [
        ("ec2", "DescribeVpcEndpointServiceConfigurations", False),
        ("ec2", "DescribeVpcEndpointServicePermissions", False),
    ]


# (vpc-endpoint-service settings, the preflight check that fails)
SETTINGS = [
    ({"acceptance_required": True}, "acceptance_not_required"),
    ({"kms_principal_allowed": False}, "kms_principal_allowed"),
    ({"private_dns_verified": False}, "private_dns_name_verified"),
    ({"private_dns_name": "other.xks.example.com"}, "private_dns_name_matches_endpoint"),
    ({"availability_zones": 1}, "availability_zones"),
    ({"load_balancer_type": "gateway"}, "network_load_balancer"),
]


@pytest.mark.parametrize("settings, failing", SETTINGS)
def test_each_service_setting_shows_in_ec2s_answers(emu, ec2, settings, failing):
    emu.vpc_endpoint_service(SERVICE, region=REGION, **settings)
    failed = [
        item["name"] for item in xks_probe.endpoint_service_checks(ec2, SERVICE, REGION, VPC) if not item["passed"]
    ]
    assert failing in failed


def test_filters_and_unknown_ids(emu, ec2):
    found = ec2.describe_vpc_endpoint_service_configurations(Filters=[{"Name": "service-name", "Values": [SERVICE]}])
    assert len(found["ServiceConfigurations"]) == 1
    none = ec2.describe_vpc_endpoint_service_configurations(Filters=[{"Name": "service-name", "Values": ["x"]}])
    assert none["ServiceConfigurations"] == []
    with pytest.raises(ClientError) as caught:
        ec2.describe_vpc_endpoint_service_permissions(ServiceId="vpce-svc-00000000000000000")
    assert caught.value.response["Error"]["Code"] == "InvalidVpcEndpointServiceId.NotFound"
    with pytest.raises(ClientError) as caught:
        ec2.describe_vpc_endpoint_service_configurations(Filters=[{"Name": "tag:x", "Values": ["y"]}])
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as caught:
        ec2.describe_instances()
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_serve_xks_proxy_gives_the_address_and_the_ca_file_the_preflight_trusts(emu, running):
    served = emu.serve_xks_proxy(PUBLIC, region=REGION)
    assert served["uri_endpoint"] == PUBLIC and os.path.isfile(served["ca_bundle"])
    credential = {"access_key_id": ACCESS_KEY, "raw_secret_access_key": SECRET}
    address = xks_probe.parse_address(served["address"])
    checks, _facts = xks_probe.probe_proxy(PUBLIC, "/kms/xks/v1", REGION, credential, served["ca_bundle"], address)
    assert all(item["passed"] for item in checks)
    # The world's conditions apply from the next serve-xks-proxy on.
    emu.xks_proxy(PUBLIC, region=REGION, certificate="wrong_host")
    emu.serve_xks_proxy(PUBLIC, region=REGION)
    checks, _facts = xks_probe.probe_proxy(PUBLIC, "/kms/xks/v1", REGION, credential, served["ca_bundle"], address)
    assert [item["passed"] for item in checks][:2] == [True, False]
    with pytest.raises(client.EmulatorError) as caught:
        emu.serve_xks_proxy("https://nobody.example.com", region=REGION)
    assert caught.value.status == 400 and "No XKS proxy is registered" in caught.value.message


def test_the_ca_file_is_removed_when_the_emulator_stops():
    with server.start() as handle:
        ca_file = handle.emulator.regions.proxy_servers.ca_file
        assert open(ca_file).read().startswith("-----BEGIN CERTIFICATE-----")
    assert not os.path.exists(ca_file)
