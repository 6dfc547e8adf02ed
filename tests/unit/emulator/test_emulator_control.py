# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's control API rules and seeding, driven directly on the regions (no HTTP)."""

import pytest
from ansible_collections.awskms.custom_key_store.tests.emulator.errors import ControlError
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import SECRET
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import XKS_ENDPOINT
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import call
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import connect_and_settle
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import error_of
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import state_of

# ---------------------------------------------------------------------------
# Seeding and the control API rules
# ---------------------------------------------------------------------------


def test_seed_list_covers_several_regions_and_returns_ids(regions):
    result = regions.seed(
        [
            {"region": "us-east-1", "clusters": [{"name": "a"}]},
            {"region": "eu-west-1", "clusters": [{"name": "a"}], "custom_key_stores": [{"name": "s", "cluster": "a"}]},
        ]
    )
    assert [r["region"] for r in result] == ["us-east-1", "eu-west-1"]
    assert result[1]["custom_key_stores"]["s"].startswith("cks-")
    assert list(regions.world("us-east-1").clusters) == [result[0]["clusters"]["a"]]
    assert list(regions.world("eu-west-1").clusters) == [result[1]["clusters"]["a"]]


@pytest.mark.parametrize(
    "document, fragment",
    [
        ({"clusters": [{"name": "x", "colour": "red"}]}, "colour"),
        ({"clusters": [{}]}, '"name"'),
        ({"clusters": [{"name": "x", "hsms": [{"availability_zone": "mars-1a"}]}]}, "availability_zone"),
        ({"custom_key_stores": [{"name": "s", "cluster": "nowhere"}]}, "nowhere"),
        (
            {
                "custom_key_stores": [
                    {"name": "s", "type": "EXTERNAL_KEY_STORE", "xks_proxy_uri_endpoint": "https://none.example.com"}
                ]
            },
            "access_key_id",
        ),
        ({"custom_key_stores": [{"name": "s", "cluster": "ok", "connection_error_code": "INTERNAL_ERROR"}]}, "FAILED"),
        ({"region": "Mars", "clusters": []}, "region"),
        ({"clusters": "nope"}, "list"),
    ],
)
def test_bad_seed_is_refused_with_a_clear_sentence_and_changes_nothing(regions, world, document, fragment):
    regions.seed({"clusters": [{"name": "ok"}]})
    before = _without_time(regions.dump("us-east-1"))
    # A valid first document proves the rollback also covers what was already applied.
    with pytest.raises(ControlError) as caught:
        regions.seed([{"clusters": [{"name": "applied-then-rolled-back"}]}, {"region": "eu-west-1"}, document])
    assert fragment in str(caught.value)
    assert _without_time(regions.dump("us-east-1")) == before
    assert regions.world("us-east-1") is world and [c.name for c in world.clusters.values()] == ["ok"]
    assert regions.regions() == ["us-east-1"]


def _without_time(dump):
    dump.pop("time")
    return dump


def test_seeded_states_including_failed_and_in_progress(regions, clock):
    result = regions.seed(
        {
            "clusters": [{"name": "c", "hsms": [{"availability_zone": "us-east-1a", "state": "CREATE_IN_PROGRESS"}]}],
            "custom_key_stores": [
                {
                    "name": "failed",
                    "cluster": "c",
                    "connection_state": "FAILED",
                    "connection_error_code": "USER_LOCKED_OUT",
                },
                {"name": "connecting", "cluster": "c", "connection_state": "CONNECTING", "id": "cks-0123456789abcdef0"},
                {"name": "leaving", "cluster": "c", "connection_state": "DISCONNECTING"},
            ],
        }
    )
    world = regions.world("us-east-1")
    assert state_of(world, result["custom_key_stores"]["failed"])["ConnectionErrorCode"] == "USER_LOCKED_OUT"
    assert result["custom_key_stores"]["connecting"] == "cks-0123456789abcdef0"
    clock.advance(5)
    # The seeded connection ended at +2, before the seeded HSM became ACTIVE at +3.
    assert state_of(world, "cks-0123456789abcdef0")["ConnectionErrorCode"] == "INSUFFICIENT_CLOUDHSM_HSMS"
    assert state_of(world, result["custom_key_stores"]["leaving"])["ConnectionState"] == "DISCONNECTED"


def test_world_dump_has_history_and_no_secrets(regions, ids, clock):
    world = regions.world("us-east-1")
    connect_and_settle(world, clock, ids["custom_key_stores"]["hsm-store"])
    text = repr(regions.dump("us-east-1"))
    assert SECRET not in text and "kmsPassw0rd" not in text
    stores = dict((s["name"], s) for s in regions.dump("us-east-1")["custom_key_stores"])
    assert [h["state"] for h in stores["hsm-store"]["history"]] == ["DISCONNECTED", "CONNECTING", "CONNECTED"]


@pytest.mark.parametrize(
    "action, body, fragment",
    [
        ("kmsuser", {"cluster_id": "demo", "state": "sleepy"}, "state"),
        ("kmsuser", {"state": "absent"}, "cluster_id"),
        ("delete-cluster", {"cluster_id": "nope"}, "nope"),
        ("delete-subnet", {"cluster_id": "demo", "subnet_id": "subnet-nope"}, "subnet-nope"),
        ("set-cluster-state", {"cluster_id": "demo"}, "state"),
        (
            "set-store-state",
            {"custom_key_store_id": "hsm-store", "state": "CONNECTED", "connection_error_code": "INTERNAL_ERROR"},
            "FAILED",
        ),
        ("set-hsm-state", {"cluster_id": "demo", "hsm_id": "hsm-nope", "state": "ACTIVE"}, "hsm-nope"),
        ("delete-store", {"custom_key_store_id": "no-such-store"}, "no-such-store"),
        ("delete-store", {"custom_key_store_id": "hsm-store", "force": True}, "force"),
        ("xks-proxy", {"uri_endpoint": XKS_ENDPOINT, "reachable": "yes"}, "true or false"),
        ("teleport", {}, "teleport"),
    ],
)
def test_bad_control_actions_are_refused(regions, ids, action, body, fragment):
    with pytest.raises(ControlError) as caught:
        regions.control(action, body)
    assert fragment in str(caught.value)


def test_control_actions_address_regions(regions, ids):
    with pytest.raises(ControlError):
        regions.control("kmsuser", {"region": "eu-west-1", "cluster_id": "demo", "state": "absent"})
    result = regions.control(
        "kmsuser", {"region": "us-east-1", "cluster_id": "demo", "state": "locked", "password": "newPassw0rd"}
    )
    assert result["kmsuser"] == {"state": "locked"}


def test_seeded_transition_lasts_transition_seconds(regions, clock):
    result = regions.seed(
        {
            "clusters": [{"name": "c", "hsms": [{"availability_zone": "us-east-1a"}]}],
            "custom_key_stores": [
                {"name": "slow", "cluster": "c", "connection_state": "DISCONNECTING", "transition_seconds": 4}
            ],
        }
    )
    world = regions.world("us-east-1")
    store_id = result["custom_key_stores"]["slow"]
    clock.advance(3.9)
    assert state_of(world, store_id)["ConnectionState"] == "DISCONNECTING"
    clock.advance(0.2)
    assert state_of(world, store_id)["ConnectionState"] == "DISCONNECTED"


def test_transition_seconds_needs_a_transitional_state(regions):
    with pytest.raises(ControlError, match="transition_seconds"):
        regions.seed(
            {
                "clusters": [{"name": "c"}],
                "custom_key_stores": [
                    {"name": "s", "cluster": "c", "connection_state": "CONNECTED", "transition_seconds": 4}
                ],
            }
        )


@pytest.mark.parametrize("key", ["id", "name"])
def test_delete_store_removes_a_store_in_any_state_and_ends_its_timer(world, ids, clock, key):
    store_id = ids["custom_key_stores"]["hsm-store"]
    call(world, "ConnectCustomKeyStore", CustomKeyStoreId=store_id)
    assert world.control("delete-store", {"custom_key_store_id": store_id if key == "id" else "hsm-store"}) == {
        "deleted": store_id
    }
    assert error_of(world, "DescribeCustomKeyStores", CustomKeyStoreId=store_id) == "CustomKeyStoreNotFoundException"
    assert (
        error_of(world, "DescribeCustomKeyStores", CustomKeyStoreName="hsm-store") == "CustomKeyStoreNotFoundException"
    )
    clock.advance(5)  # the connection timer it had does not bring it back
    names = [entry["CustomKeyStoreName"] for entry in call(world, "DescribeCustomKeyStores")["CustomKeyStores"]]
    assert names == ["xks-store"]


def test_race_moves_the_store_just_before_the_next_matching_call(regions, ids, clock):
    world = regions.world("us-east-1")
    store_id = ids["custom_key_stores"]["hsm-store"]
    connect_and_settle(world, clock, store_id)
    regions.control(
        "race", {"custom_key_store_id": "hsm-store", "operation": "DisconnectCustomKeyStore", "state": "DISCONNECTING"}
    )
    assert (
        error_of(world, "DisconnectCustomKeyStore", CustomKeyStoreId=store_id) == "CustomKeyStoreInvalidStateException"
    )
    assert state_of(world, store_id)["ConnectionState"] == "DISCONNECTING"
    clock.advance(1)
    # consumed: the next disconnect of a store that is connected again is an ordinary one
    connect_and_settle(world, clock, store_id)
    assert call(world, "DisconnectCustomKeyStore", CustomKeyStoreId=store_id) == {}
