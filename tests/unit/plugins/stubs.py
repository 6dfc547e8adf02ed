# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared test data: AWS-shaped custom key store entries and a fake clock, and a module runner."""

import datetime
import json

import boto3
import pytest

from ansible.module_utils.testing import patch_module_args

# The AWS options every module run gets (the client itself is replaced by a Stubber-backed one).
AWS = {"region": "us-east-1", "access_key": "AKIDEXAMPLE", "secret_key": "not-a-secret"}

STORE_ID = "cks-1234567890abcdef0"
STORE_NAME = "payments-hsm"
CLUSTER_ID = "cluster-2345672abcd"


def store_entry(state, code=None, store_type="AWS_CLOUDHSM"):
    """A DescribeCustomKeyStores entry as AWS returns it."""
    entry = {
        "CustomKeyStoreId": STORE_ID,
        "CustomKeyStoreName": STORE_NAME,
        "ConnectionState": state,
        "CustomKeyStoreType": store_type,
        "CreationDate": datetime.datetime(2026, 11, 2, 9, 30, tzinfo=datetime.timezone.utc),
    }
    if store_type == "AWS_CLOUDHSM":
        entry.update(CloudHsmClusterId=CLUSTER_ID, TrustAnchorCertificate="-----BEGIN CERTIFICATE-----")
    else:
        entry["XksProxyConfiguration"] = {
            "Connectivity": "PUBLIC_ENDPOINT",
            "AccessKeyId": "ABCDEFGHIJKLMNOPQRST",
            "UriEndpoint": "https://xks.example.com",
            "UriPath": "/kms/xks/v1",
        }
    if code:
        entry["ConnectionErrorCode"] = code
    return entry


def aws_client(service):
    """A real boto3 client of the service with test credentials (it reaches no endpoint unless a test lets it)."""
    return boto3.client(
        service, region_name=AWS["region"], aws_access_key_id=AWS["access_key"], aws_secret_access_key=AWS["secret_key"]
    )


def run_module(main, capsys, **args):
    """Run a module's main() as Ansible does: the arguments in, its one JSON result out (which must match its exit code)."""
    with patch_module_args(dict(AWS, **args)), pytest.raises(SystemExit) as exit_info:
        main()
    result = json.loads(capsys.readouterr().out)
    assert (exit_info.value.code == 0) is not result.get("failed", False)
    return result


class FakeClock:
    """monotonic() and sleep() that move time only when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


# CloudHSM v2: a cluster with subnets in three Availability Zones, and HSMs as AWS describes them.
HSM_CLUSTER_ID = "cluster-2utuvsl75us"
HSM_SUBNETS = {"us-east-1a": "subnet-0aaa1111", "us-east-1b": "subnet-0bbb2222", "us-east-1c": "subnet-0ccc3333"}


def hsm_entry(availability_zone, state="ACTIVE", hsm_id="hsm-abcdefghij2", eni_ip=None, cluster_id=HSM_CLUSTER_ID):
    """A DescribeClusters Hsm as AWS returns it."""
    index = sorted(HSM_SUBNETS).index(availability_zone) + 1 if availability_zone in HSM_SUBNETS else 9
    return {
        "HsmId": hsm_id,
        "AvailabilityZone": availability_zone,
        "ClusterId": cluster_id,
        "SubnetId": HSM_SUBNETS.get(availability_zone, "subnet-0fff9999"),
        "EniId": "eni-0123456789abcdef" + str(index),
        "EniIp": eni_ip or f"10.0.{index}.4",
        "HsmType": "hsm1.medium",
        "State": state,
        "StateMessage": f"HSM is {state.lower()}.",
    }


def cluster_entry(hsms=(), state="ACTIVE", cluster_id=HSM_CLUSTER_ID, vpc_id="vpc-0a1b2c3d", subnets=None):
    """A DescribeClusters Cluster as AWS returns it."""
    return {
        "ClusterId": cluster_id,
        "State": state,
        "StateMessage": f"Cluster is {state.lower()}.",
        "HsmType": "hsm1.medium",
        "SubnetMapping": dict(HSM_SUBNETS if subnets is None else subnets),
        "VpcId": vpc_id,
        "SecurityGroup": "sg-0123456789abcdef0",
        "Hsms": list(hsms),
        "CreateTimestamp": datetime.datetime(2026, 11, 2, 9, 30, tzinfo=datetime.timezone.utc),
        "BackupPolicy": "DEFAULT",
        "TagList": [{"Key": "Name", "Value": "payments"}],
    }


# Custom key store definitions (kms_custom_key_store): secrets the tests look for in every result.
KMSUSER_PASSWORD = "kmsuser-Passw0rd-1"
XKS_ACCESS_KEY_ID = "ABCDEFGHIJKLMNOPQRST"
XKS_SECRET = "Sup3rSecretXksKeyMaterial0123456789abcdefghij"
_XKS_CONFIG_KEYS = (
    "Connectivity",
    "AccessKeyId",
    "UriEndpoint",
    "UriPath",
    "VpcEndpointServiceName",
    "VpcEndpointServiceOwner",
)


def entry_with(entry, **members):
    """A copy of a Describe entry with some members replaced; XKS proxy settings go into XksProxyConfiguration."""
    entry = dict(entry)
    if "XksProxyConfiguration" in entry:
        entry["XksProxyConfiguration"] = dict(entry["XksProxyConfiguration"])
    for key, value in members.items():
        target = entry["XksProxyConfiguration"] if key in _XKS_CONFIG_KEYS else entry
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return entry
