# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared test data: AWS-shaped custom key store entries and a fake clock."""

import datetime


STORE_ID = "cks-1234567890abcdef0"
STORE_NAME = "payments-hsm"
CLUSTER_ID = "cluster-1234567abcd"


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
