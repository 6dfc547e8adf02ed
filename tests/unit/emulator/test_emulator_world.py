# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's World: timers in deadline order, settings, regions and dispatch (stepped clock, no HTTP)."""

import pytest
from ansible_collections.awskms.custom_key_store.tests.emulator import world as world_module
from ansible_collections.awskms.custom_key_store.tests.emulator.errors import ControlError
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import call
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import error_of
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import force
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import state_of

# ---------------------------------------------------------------------------
# Timers
# ---------------------------------------------------------------------------


def test_connect_finishes_after_the_duration_not_before(world, clock, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    call(world, "ConnectCustomKeyStore", CustomKeyStoreId=store_id)
    clock.advance(1.99)
    assert state_of(world, store_id)["ConnectionState"] == "CONNECTING"
    clock.advance(0.02)
    assert state_of(world, store_id)["ConnectionState"] == "CONNECTED"


def test_disconnect_finishes_after_the_duration_not_before(world, clock, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    force(world, store_id, "FAILED", "NETWORK_ERRORS")
    call(world, "DisconnectCustomKeyStore", CustomKeyStoreId=store_id)
    clock.advance(0.99)
    assert state_of(world, store_id)["ConnectionState"] == "DISCONNECTING"
    clock.advance(0.02)
    entry = state_of(world, store_id)
    assert entry["ConnectionState"] == "DISCONNECTED" and "ConnectionErrorCode" not in entry


def test_history_records_when_transitions_happened_even_if_observed_late(world, clock, ids, regions):
    store_id = ids["custom_key_stores"]["hsm-store"]
    started = clock.wall()
    call(world, "ConnectCustomKeyStore", CustomKeyStoreId=store_id)
    clock.advance(30)
    history = [
        entry for entry in regions.dump("us-east-1")["custom_key_stores"] if entry["custom_key_store_id"] == store_id
    ][0]["history"]
    assert [entry["state"] for entry in history] == ["DISCONNECTED", "CONNECTING", "CONNECTED"]
    assert history[1]["time"] == pytest.approx(started)
    assert history[2]["time"] == pytest.approx(started + 2)


def test_disconnect_while_connecting_cancels_the_connection(world, clock, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    call(world, "ConnectCustomKeyStore", CustomKeyStoreId=store_id)
    clock.advance(0.5)
    call(world, "DisconnectCustomKeyStore", CustomKeyStoreId=store_id)
    clock.advance(10)
    assert state_of(world, store_id)["ConnectionState"] == "DISCONNECTED"
    states = [entry["state"] for entry in world.stores[store_id].history]
    assert "CONNECTED" not in states


def test_transitions_apply_in_deadline_order(world, clock, ids, regions):
    cluster_id = ids["clusters"]["demo"]
    store_id = ids["custom_key_stores"]["hsm-store"]
    for hsm_id in ids["hsms"]["demo"]:
        world.control("set-hsm-state", {"cluster_id": cluster_id, "hsm_id": hsm_id, "state": "DELETED"})
    call(world, "CreateHsm", ClusterId=cluster_id, AvailabilityZone="us-east-1a")  # ACTIVE at +3
    call(world, "ConnectCustomKeyStore", CustomKeyStoreId=store_id)  # outcome at +2, before the HSM
    clock.advance(10)
    assert state_of(world, store_id)["ConnectionErrorCode"] == "INSUFFICIENT_CLOUDHSM_HSMS"
    call(world, "DisconnectCustomKeyStore", CustomKeyStoreId=store_id)
    clock.advance(1)
    regions.settings.update({"connect_seconds": 5})
    call(world, "CreateHsm", ClusterId=cluster_id, AvailabilityZone="us-east-1b")
    call(world, "DeleteHsm", ClusterId=cluster_id, HsmId=list(world.clusters[cluster_id].hsms)[0])
    call(world, "ConnectCustomKeyStore", CustomKeyStoreId=store_id)  # the new HSM is ACTIVE at +3, outcome at +5
    clock.advance(10)
    assert state_of(world, store_id)["ConnectionState"] == "CONNECTED"


def test_hsm_create_and_delete_timers(world, clock, ids):
    cluster_id = ids["clusters"]["free"]
    hsm = call(world, "CreateHsm", ClusterId=cluster_id, AvailabilityZone="us-east-1a")["Hsm"]
    assert hsm["State"] == "CREATE_IN_PROGRESS" and hsm["HsmId"].startswith("hsm-") and hsm["EniIp"].startswith("10.0.")

    def hsm_state():
        clusters = call(world, "DescribeClusters", Filters={"clusterIds": [cluster_id]})["Clusters"]
        return dict((h["HsmId"], h["State"]) for h in clusters[0]["Hsms"]).get(hsm["HsmId"])

    clock.advance(2.99)
    assert hsm_state() == "CREATE_IN_PROGRESS"
    clock.advance(0.02)
    assert hsm_state() == "ACTIVE"
    assert call(world, "DeleteHsm", ClusterId=cluster_id, EniIp=hsm["EniIp"]) == {"HsmId": hsm["HsmId"]}
    assert hsm_state() == "DELETE_IN_PROGRESS"
    clock.advance(0.99)
    assert hsm_state() == "DELETE_IN_PROGRESS"
    clock.advance(0.02)
    assert hsm_state() is None


def test_unimplemented_operation_is_a_clear_error(world):
    assert error_of(world, "CreateKey") == "UnknownOperationException"


def test_settings_are_validated():
    settings = world_module.Settings()
    assert settings.as_dict() == dict(world_module.DEFAULT_SETTINGS, **world_module.DEFAULT_QUOTAS)
    settings.update({"connect_seconds": 0.25})
    assert settings["connect_seconds"] == 0.25
    for bad in ({"connect_seconds": -1}, {"connect_seconds": "fast"}, {"warp_seconds": 1}):
        with pytest.raises(ControlError):
            settings.update(bad)
    assert settings["connect_seconds"] == 0.25


def test_reset_one_region_or_all(regions, ids):
    regions.seed({"region": "eu-west-1", "clusters": [{"name": "eu"}]})
    regions.reset("us-east-1")
    assert regions.world("us-east-1").clusters == {}
    assert len(regions.world("eu-west-1").clusters) == 1
    regions.reset()
    assert regions.regions() == []


def test_a_regions_own_durations_apply_to_it_alone_until_it_is_reset(world, regions, clock, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    regions.world("eu-west-1").set_durations({"connect_seconds": 0.5})
    world.set_durations({"connect_seconds": 5})
    call(world, "ConnectCustomKeyStore", CustomKeyStoreId=store_id)
    clock.advance(4.99)
    assert state_of(world, store_id)["ConnectionState"] == "CONNECTING"
    clock.advance(0.02)
    assert state_of(world, store_id)["ConnectionState"] == "CONNECTED"
    assert regions.world("eu-west-1").duration_settings()["connect_seconds"] == 0.5
    assert regions.settings["connect_seconds"] == 2.0
    with pytest.raises(ControlError, match="only durations"):
        world.set_durations({"hsms_quota": 8})
    with pytest.raises(ControlError):
        world.set_durations({"connect_seconds": -1})
    assert world.duration("connect_seconds") == 5.0
    regions.reset("eu-west-1")
    assert regions.world("eu-west-1").duration("connect_seconds") == 2.0
