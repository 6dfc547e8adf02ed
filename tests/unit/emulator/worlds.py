# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the rule tests share: a stepped clock and calls straight into a World (no HTTP)."""

import pytest
from ansible_collections.awskms.custom_key_store.tests.emulator.errors import AwsError

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRST"
SECRET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OTHER_SECRET = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
XKS_ENDPOINT = "https://xks.example.com"


class FakeClock:
    """A clock tests step by hand, so timer rules are checked exactly and instantly."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def wall(self):
        return 1700000000.0 + self.now

    def advance(self, seconds):
        self.now += seconds


def call(world, operation, **params):
    service = "cloudhsmv2" if operation in ("DescribeClusters", "CreateHsm", "DeleteHsm") else "kms"
    return world.handle(service, operation, params)


def error_of(world, operation, **params):
    with pytest.raises(AwsError) as caught:
        call(world, operation, **params)
    return caught.value.code


def state_of(world, store_id):
    return call(world, "DescribeCustomKeyStores", CustomKeyStoreId=store_id)["CustomKeyStores"][0]


def force(world, store_id, state, code=None):
    body = {"custom_key_store_id": store_id, "state": state}
    if code:
        body["connection_error_code"] = code
    world.control("set-store-state", body)


def connect_and_settle(world, clock, store_id):
    call(world, "ConnectCustomKeyStore", CustomKeyStoreId=store_id)
    clock.advance(2.5)
    return state_of(world, store_id)
