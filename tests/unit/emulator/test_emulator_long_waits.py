# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's test features for long waits, over real HTTP: a stale-read window after mutating calls, and a
network blip (connections closed with no answer), each per Region."""

import time

import pytest

boto3 = pytest.importorskip("boto3")
from ansible_collections.awskms.custom_key_store.tests.emulator import (  # noqa: E402  pylint: disable=wrong-import-position
    client,
)
from botocore.config import Config  # noqa: E402  pylint: disable=wrong-import-position
from botocore.exceptions import ConnectionClosedError  # noqa: E402  pylint: disable=wrong-import-position

SERVER_SETTINGS = {
    "connect_seconds": 0.2,
    "disconnect_seconds": 0.1,
    "hsm_create_seconds": 0.2,
    "hsm_delete_seconds": 0.1,
}
PASSWORD = "Sup3rSecretPw"


def aws(running, region="us-east-1"):
    return boto3.client(
        "kms",
        endpoint_url=running.url,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def store_id(emu):
    seeded = emu.seed(
        {
            "clusters": [
                {"name": "demo", "hsms": [{"availability_zone": "us-east-1a"}], "kmsuser": {"password": PASSWORD}}
            ],
            "custom_key_stores": [{"name": "hsm-store", "cluster": "demo", "key_store_password": PASSWORD}],
        }
    )
    return seeded["custom_key_stores"]["hsm-store"]


def state(kms, **selector):
    return kms.describe_custom_key_stores(**selector)["CustomKeyStores"][0]["ConnectionState"]


def test_within_the_stale_window_describe_shows_the_store_as_it_was_before_the_call(emu, running, store_id):
    kms = aws(running)
    assert emu.stale_reads(0.5) == {"region": "us-east-1", "stale_read_seconds": 0.5}

    kms.connect_custom_key_store(CustomKeyStoreId=store_id)

    assert state(kms, CustomKeyStoreId=store_id) == "DISCONNECTED"
    assert state(kms, CustomKeyStoreName="hsm-store") == "DISCONNECTED"
    assert [entry["ConnectionState"] for entry in kms.describe_custom_key_stores()["CustomKeyStores"]] == [
        "DISCONNECTED"
    ]
    time.sleep(0.6)
    assert state(kms, CustomKeyStoreId=store_id) == "CONNECTED"  # the 0.2 s connection ended meanwhile


def test_the_stale_window_covers_update_create_and_delete(emu, running, store_id):
    kms = aws(running)
    emu.stale_reads(0.5)

    kms.update_custom_key_store(CustomKeyStoreId=store_id, NewCustomKeyStoreName="renamed-store")
    assert (
        kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]["CustomKeyStoreName"]
        == "hsm-store"
    )
    kms.delete_custom_key_store(CustomKeyStoreId=store_id)
    assert state(kms, CustomKeyStoreId=store_id) == "DISCONNECTED"
    time.sleep(0.6)
    with pytest.raises(kms.exceptions.CustomKeyStoreNotFoundException):
        kms.describe_custom_key_stores(CustomKeyStoreId=store_id)


def test_stale_reads_are_per_region_and_off_at_zero(emu, running, store_id):
    kms = aws(running)
    emu.stale_reads(5, region="eu-west-1")
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert state(kms, CustomKeyStoreId=store_id) == "CONNECTING"

    emu.stale_reads(5)
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    assert state(kms, CustomKeyStoreId=store_id) == "CONNECTING"
    emu.stale_reads(0)
    assert state(kms, CustomKeyStoreId=store_id) in ("DISCONNECTING", "DISCONNECTED")


def test_during_a_blip_requests_of_the_region_get_no_answer_and_change_nothing(emu, running, store_id):
    kms = aws(running)
    since = emu.last_seq()
    assert emu.network_blip(0.5) == {"region": "us-east-1", "blip_seconds": 0.5}

    with pytest.raises(ConnectionClosedError):
        kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    time.sleep(0.6)

    assert state(kms, CustomKeyStoreId=store_id) == "DISCONNECTED"
    logged = emu.calls(since=since)
    assert [(entry["operation"], entry["status"], entry["error_code"]) for entry in logged] == [
        ("ConnectCustomKeyStore", None, "ConnectionClosedByEmulator"),
        ("DescribeCustomKeyStores", 200, None),
    ]


def test_a_blip_is_per_region_and_ends_at_zero(emu, running, store_id):
    emu.network_blip(30, region="eu-west-1")
    assert state(aws(running), CustomKeyStoreId=store_id) == "DISCONNECTED"
    with pytest.raises(ConnectionClosedError):
        aws(running, "eu-west-1").describe_custom_key_stores()

    emu.network_blip(0, region="eu-west-1")
    assert aws(running, "eu-west-1").describe_custom_key_stores()["CustomKeyStores"] == []


@pytest.mark.parametrize("action", ["stale-reads", "network-blip"])
@pytest.mark.parametrize(
    "body, message", [({}, 'needs "seconds"'), ({"seconds": -1}, "zero or more"), ({"seconds": "x"}, "a number")]
)
def test_bad_values_are_refused(emu, action, body, message):
    with pytest.raises(client.EmulatorError) as caught:
        emu._call("POST", action, body)  # pylint: disable=protected-access
    assert caught.value.status == 400 and message in caught.value.message


def test_settings_for_one_region_over_http_leave_the_others_alone(emu):
    shared = emu.settings()
    own = emu.settings(region="eu-west-1", connect_seconds=7)
    assert own == {**{name: shared[name] for name in own}, "connect_seconds": 7.0}
    assert emu.settings(region="eu-west-1")["connect_seconds"] == 7.0
    assert emu.settings() == shared
    with pytest.raises(client.EmulatorError, match="only durations"):
        emu.settings(region="eu-west-1", hsms_quota=8)
    with pytest.raises(client.EmulatorError, match="region name"):
        emu.settings(region="eu_west_1", connect_seconds=1)
