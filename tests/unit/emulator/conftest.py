# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the emulator tests: a stepped clock, the regions and a seeded healthy world; and, for the tests over
HTTP, one emulator server per test module, started with the module's SERVER_SETTINGS."""

import pytest
from ansible_collections.awskms.custom_key_store.tests.emulator import client
from ansible_collections.awskms.custom_key_store.tests.emulator import server
from ansible_collections.awskms.custom_key_store.tests.emulator import world as world_module
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import ACCESS_KEY
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import SECRET
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import XKS_ENDPOINT
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import FakeClock


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def regions(clock):
    # The seeded worlds hold more HSMs than CloudHSM's default quota of 6 per Region allows; a setting raises it.
    settings = world_module.Settings(
        connect_seconds=2, disconnect_seconds=1, hsm_create_seconds=3, hsm_delete_seconds=1, hsms_quota=20
    )
    regions = world_module.Regions(settings, clock)
    yield regions
    regions.close()


@pytest.fixture
def world(regions):
    return regions.world("us-east-1")


@pytest.fixture
def ids(regions):
    """A healthy world: an ACTIVE cluster with two ACTIVE HSMs in two AZs, a matching kmsuser, a proxy and two stores."""
    return regions.seed(
        {
            "clusters": [
                {
                    "name": "demo",
                    "lineage": "family-a",
                    "hsms": [{"availability_zone": "us-east-1a"}, {"availability_zone": "us-east-1b"}],
                },
                {
                    "name": "restored",
                    "lineage": "family-a",
                    "hsms": [{"availability_zone": "us-east-1a"}, {"availability_zone": "us-east-1b"}],
                },
                {"name": "stranger", "hsms": [{"availability_zone": "us-east-1a"}]},
                {"name": "free", "hsms": [{"availability_zone": "us-east-1a"}, {"availability_zone": "us-east-1b"}]},
            ],
            "xks_proxies": [{"uri_endpoint": XKS_ENDPOINT, "access_key_id": ACCESS_KEY, "secret_access_key": SECRET}],
            "custom_key_stores": [
                {"name": "hsm-store", "cluster": "demo"},
                {"name": "xks-store", "type": "EXTERNAL_KEY_STORE", "xks_proxy_uri_endpoint": XKS_ENDPOINT},
            ],
        }
    )


@pytest.fixture(scope="module")
def running(request):
    """An emulator server for the test module, with its SERVER_SETTINGS (durations, quotas)."""
    handle = server.start(**request.module.SERVER_SETTINGS)
    yield handle
    handle.stop()


@pytest.fixture
def emu(running, request):
    """A client of the module's server, its world reset and its SERVER_SETTINGS applied again."""
    control = client.EmulatorClient(running.url)
    control.reset()
    control.settings(**request.module.SERVER_SETTINGS)
    return control
