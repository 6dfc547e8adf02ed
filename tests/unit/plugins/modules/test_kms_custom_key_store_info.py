# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kms_custom_key_store_info as Ansible runs it, with KMS behind botocore's Stubber."""

import pytest
from ansible_collections.awskms.custom_key_store.plugins.modules import kms_custom_key_store_info
from ansible_collections.awskms.custom_key_store.tests.unit.plugins import stubs
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import CLUSTER_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_NAME
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import cluster_entry
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import hsm_entry
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import store_entry

OTHER_ID = "cks-0000000000000000b"


def run_module(capsys, **args):
    return stubs.run_module(kms_custom_key_store_info.main, capsys, **args)


@pytest.mark.parametrize("check_mode", [False, True])
def test_every_store_is_listed_across_pages_with_a_remedy_for_each_failed_one(kms_stubber, capsys, check_mode):
    failed_xks = dict(
        store_entry("FAILED", "INVALID_CREDENTIALS", store_type="EXTERNAL_KEY_STORE"), CustomKeyStoreId=OTHER_ID
    )
    kms_stubber.add_response(
        "describe_custom_key_stores",
        {"CustomKeyStores": [store_entry("CONNECTED")], "Truncated": True, "NextMarker": "m1"},
        {},
    )
    kms_stubber.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [failed_xks], "Truncated": False}, {"Marker": "m1"}
    )

    result = run_module(capsys, _ansible_check_mode=check_mode)

    assert result["changed"] is False
    connected, failed = result["custom_key_stores"]
    assert (connected["custom_key_store_id"], connected["connection_state"]) == (STORE_ID, "CONNECTED")
    assert not [key for key in connected if key.startswith("connection_error")]
    assert (failed["custom_key_store_id"], failed["connection_error_code"]) == (OTHER_ID, "INVALID_CREDENTIALS")
    assert failed["connection_error_class"] == "xks_configuration"
    assert failed["connection_error_meaning"].startswith("The store's XKS proxy authentication credential is not valid")
    # INVALID_CREDENTIALS has an XKS-specific remedy: the proxy credential, not kmsuser's password.
    assert "proxy" in failed["connection_error_remedy"] and "kmsuser" not in failed["connection_error_remedy"]


@pytest.mark.parametrize(
    "args, selector",
    [
        ({"custom_key_store_id": STORE_ID}, {"CustomKeyStoreId": STORE_ID}),
        ({"custom_key_store_name": STORE_NAME}, {"CustomKeyStoreName": STORE_NAME}),
    ],
)
def test_one_store_by_id_or_name_costs_one_call(kms_stubber, capsys, args, selector):
    kms_stubber.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [store_entry("FAILED", "USER_LOGGED_IN")]}, selector
    )

    result = run_module(capsys, **args)

    [store] = result["custom_key_stores"]
    assert store["custom_key_store_name"] == STORE_NAME
    assert "kmsuser" in store["connection_error_remedy"]
    assert store["connection_error_class"] == "operator_action"


@pytest.mark.parametrize("args", [{"custom_key_store_id": STORE_ID}, {"custom_key_store_name": "no-such-store"}])
def test_an_unknown_store_is_an_empty_list_not_an_error(kms_stubber, capsys, args):
    kms_stubber.add_client_error("describe_custom_key_stores", "CustomKeyStoreNotFoundException", "not found", 400)

    result = run_module(capsys, **args)

    assert result == {
        "changed": False,
        "custom_key_stores": [],
        "region": "us-east-1",
        "invocation": result["invocation"],
    }


def test_an_aws_refusal_is_one_sentence_without_a_traceback(kms_stubber, capsys):
    kms_stubber.add_client_error(
        "describe_custom_key_stores",
        "AccessDeniedException",
        "not authorized to perform kms:DescribeCustomKeyStores",
        400,
    )

    result = run_module(capsys)

    assert (
        result["msg"]
        == "Failed to list custom key stores: AccessDeniedException: not authorized to perform kms:DescribeCustomKeyStores."
    )
    assert "exception" not in result


@pytest.mark.parametrize(
    "args, message",
    [
        (
            {"custom_key_store_id": STORE_ID, "custom_key_store_name": STORE_NAME},
            "parameters are mutually exclusive: custom_key_store_id|custom_key_store_name",
        ),
        ({"custom_key_store_name": ""}, "custom_key_store_name must not be empty."),
        ({"custom_key_store_id": " "}, "custom_key_store_id must not be empty."),
    ],
)
def test_bad_selectors_fail_before_any_call(kms_stubber, capsys, args, message):
    result = run_module(capsys, **args)

    assert result["msg"] == message


def test_cloud_hsm_cluster_reads_every_cluster_with_one_call(both_stubbers, capsys):
    cloudhsm_stubber, kms_stubber = both_stubbers
    xks = dict(store_entry("CONNECTED", store_type="EXTERNAL_KEY_STORE"), CustomKeyStoreId=OTHER_ID)
    gone = dict(store_entry("FAILED", "CLUSTER_NOT_FOUND"), CustomKeyStoreId="cks-0000000000000000c")
    gone["CloudHsmClusterId"] = "cluster-deletedgone2"
    kms_stubber.add_response(
        "describe_custom_key_stores",
        {"CustomKeyStores": [store_entry("CONNECTED"), xks, gone], "Truncated": False},
        {},
    )
    cloudhsm_stubber.add_response(
        "describe_clusters",
        {
            "Clusters": [
                cluster_entry(
                    [
                        hsm_entry("us-east-1a", cluster_id=CLUSTER_ID),
                        hsm_entry("us-east-1b", hsm_id="hsm-abcdefghij3", cluster_id=CLUSTER_ID),
                    ],
                    cluster_id=CLUSTER_ID,
                )
            ]
        },
        {"Filters": {"clusterIds": sorted([CLUSTER_ID, "cluster-deletedgone2"])}},
    )

    result = run_module(capsys, cloud_hsm_cluster=True)

    connected, external, failed = result["custom_key_stores"]
    assert connected["cloud_hsm_cluster"]["cluster_id"] == CLUSTER_ID
    assert connected["cloud_hsm_cluster"]["active_hsm_count"] == 2
    assert connected["cloud_hsm_cluster"]["active_hsm_availability_zones"] == ["us-east-1a", "us-east-1b"]
    assert "cloud_hsm_cluster" not in external
    # A cluster AWS does not know (deleted) is null, not an error.
    assert failed["cloud_hsm_cluster"] is None


def test_cloud_hsm_cluster_without_a_cloudhsm_store_asks_cloudhsm_nothing(kms_stubber, capsys):
    kms_stubber.add_response(
        "describe_custom_key_stores",
        {"CustomKeyStores": [store_entry("CONNECTED", store_type="EXTERNAL_KEY_STORE")]},
        {"CustomKeyStoreId": STORE_ID},
    )

    result = run_module(capsys, custom_key_store_id=STORE_ID, cloud_hsm_cluster=True)

    assert "cloud_hsm_cluster" not in result["custom_key_stores"][0]


def test_cloud_hsm_cluster_refused_is_one_sentence(both_stubbers, capsys):
    cloudhsm_stubber, kms_stubber = both_stubbers
    kms_stubber.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [store_entry("CONNECTED")]}, {"CustomKeyStoreId": STORE_ID}
    )
    cloudhsm_stubber.add_client_error(
        "describe_clusters", "AccessDeniedException", "User is not authorized to perform cloudhsm:DescribeClusters", 400
    )

    result = run_module(capsys, custom_key_store_id=STORE_ID, cloud_hsm_cluster=True)

    assert result["failed"] is True
    assert result["msg"].startswith("Failed to describe CloudHSM clusters: AccessDeniedException:")
    assert "cloudhsm:DescribeClusters" in result["msg"]
    assert "exception" not in result
