# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GenerateRandom's rules (kms_crypto.py), on a World and over real HTTP with boto3."""

import base64

import pytest
from ansible_collections.awskms.custom_key_store.tests.emulator import server
from ansible_collections.awskms.custom_key_store.tests.emulator import wire
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import call
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import error_of

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402  pylint: disable=wrong-import-position
from botocore.exceptions import ClientError  # noqa: E402  pylint: disable=wrong-import-position


def random_bytes(result):
    return base64.b64decode(result["Plaintext"])


@pytest.mark.parametrize("count", [1, 32, 1024])
def test_generate_random_in_kms_gives_the_bytes_asked_for(world, count):
    assert len(random_bytes(call(world, "GenerateRandom", NumberOfBytes=count))) == count


def test_generate_random_needs_number_of_bytes(world):
    # botocore's model does not mark NumberOfBytes required; the API text says "This parameter is required."
    assert error_of(world, "GenerateRandom") == "ValidationException"


@pytest.mark.parametrize("count", [0, 1025])
def test_number_of_bytes_outside_1_to_1024_is_refused_by_the_model(count):
    with pytest.raises(Exception) as caught:
        wire.validate_input(wire.service_model("kms").operation_model("GenerateRandom"), {"NumberOfBytes": count})
    assert caught.value.code == "ValidationException"


def test_generate_random_in_a_connected_cloudhsm_key_store(world, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    world.set_state(world.stores[store_id], "CONNECTED")

    result = call(world, "GenerateRandom", NumberOfBytes=32, CustomKeyStoreId=store_id)

    assert len(random_bytes(result)) == 32
    assert set(result) == {"Plaintext"}


@pytest.mark.parametrize("state", ["DISCONNECTED", "CONNECTING", "DISCONNECTING", "FAILED"])
def test_generate_random_needs_the_cloudhsm_key_store_connected(world, ids, state):
    store_id = ids["custom_key_stores"]["hsm-store"]
    world.set_state(world.stores[store_id], state, "NETWORK_ERRORS" if state == "FAILED" else None)

    code = error_of(world, "GenerateRandom", NumberOfBytes=32, CustomKeyStoreId=store_id)

    assert code == "CustomKeyStoreInvalidStateException"


def test_generate_random_with_an_unknown_store_is_not_found(world, ids):
    code = error_of(world, "GenerateRandom", NumberOfBytes=32, CustomKeyStoreId="cks-00000000000000000")

    assert code == "CustomKeyStoreNotFoundException"


@pytest.mark.parametrize("state", ["CONNECTED", "DISCONNECTED"])
def test_generate_random_with_an_external_key_store_is_unsupported(world, ids, state):
    store_id = ids["custom_key_stores"]["xks-store"]
    world.set_state(world.stores[store_id], state)

    code = error_of(world, "GenerateRandom", NumberOfBytes=32, CustomKeyStoreId=store_id)

    assert code == "UnsupportedOperationException"


def test_a_connected_store_whose_cluster_lost_its_active_hsms_cannot_generate(world, ids):
    """Emulator's choice (docs silent): no ACTIVE HSM, no bytes; the store itself stays CONNECTED."""
    store_id = ids["custom_key_stores"]["hsm-store"]
    store = world.stores[store_id]
    world.set_state(store, "CONNECTED")
    for hsm in world.clusters[store.cluster_id].hsms.values():
        hsm.state = "DEGRADED"

    code = error_of(world, "GenerateRandom", NumberOfBytes=32, CustomKeyStoreId=store_id)

    assert code == "DependencyTimeoutException"
    assert store.state == "CONNECTED"


def test_generate_random_changes_nothing_and_is_not_a_mutating_call(world, ids):
    store_id = ids["custom_key_stores"]["hsm-store"]
    world.set_state(world.stores[store_id], "CONNECTED")
    before = world.dump()

    call(world, "GenerateRandom", NumberOfBytes=8, CustomKeyStoreId=store_id)

    assert world.dump()["custom_key_stores"] == before["custom_key_stores"]
    assert wire.is_mutating("GenerateRandom") is False


def test_generate_random_over_http_with_boto3():
    seed = {
        "clusters": [{"name": "c", "hsms": [{"availability_zone": "us-east-1a"}]}],
        "custom_key_stores": [
            {"name": "up", "cluster": "c", "connection_state": "CONNECTED"},
            {"name": "down", "cluster": "c"},
        ],
    }
    with server.start(port=0, seed=seed) as emu:
        stores = {store.name: store.store_id for store in emu.emulator.regions.world("us-east-1").stores.values()}
        kms = boto3.client(
            "kms",
            endpoint_url=emu.url,
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="not-a-secret",
            config=Config(retries={"total_max_attempts": 1}),
        )

        plain = kms.generate_random(NumberOfBytes=16)["Plaintext"]
        in_hsm = kms.generate_random(NumberOfBytes=24, CustomKeyStoreId=stores["up"])["Plaintext"]
        with pytest.raises(ClientError) as refused:
            kms.generate_random(NumberOfBytes=24, CustomKeyStoreId=stores["down"])
        with pytest.raises(ClientError) as too_many:
            kms.generate_random(NumberOfBytes=1025)
        log = emu.emulator.requests.since(0)

    assert (len(plain), len(in_hsm)) == (16, 24)
    assert isinstance(refused.value, kms.exceptions.CustomKeyStoreInvalidStateException)
    assert too_many.value.response["Error"]["Code"] == "ValidationException"
    assert [(entry["operation"], entry["mutating"]) for entry in log] == [("GenerateRandom", False)] * 4
