# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CloudHSM helpers: describe with paging, create and delete with their retries, normalisation; Stubber-checked clients."""

import botocore.session
import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils import cloudhsm as hsm_utils
from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import error_code
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import aws_error_sentence
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import HSM_CLUSTER_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import cluster_entry
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import hsm_entry

BY_ID = {"Filters": {"clusterIds": [HSM_CLUSTER_ID]}}


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch):
    """AWSRetry's jittered backoff sleeps for real; these tests only count its attempts."""
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", lambda seconds: None)


# -- the model ------------------------------------------------------------------------------


def test_states_match_the_botocore_model():
    model = botocore.session.get_session().get_service_model("cloudhsmv2")
    assert list(hsm_utils.CLUSTER_STATES) == model.shape_for("ClusterState").enum
    assert list(hsm_utils.HSM_STATES) == model.shape_for("HsmState").enum


# -- describe ---------------------------------------------------------------------------------


def test_describe_clusters_follows_paging_to_the_end(cloudhsm):
    client, stubber = cloudhsm
    filters = {"states": ["ACTIVE"]}
    first, second = cluster_entry(), cluster_entry(cluster_id="cluster-3vuvwtm86vt")
    stubber.add_response("describe_clusters", {"Clusters": [first], "NextToken": "page-2"}, {"Filters": filters})
    stubber.add_response("describe_clusters", {"Clusters": [second]}, {"Filters": filters, "NextToken": "page-2"})

    clusters = hsm_utils.describe_clusters(client, filters)

    assert [cluster["ClusterId"] for cluster in clusters] == [HSM_CLUSTER_ID, "cluster-3vuvwtm86vt"]


def test_describe_clusters_without_filters_sends_none(cloudhsm):
    client, stubber = cloudhsm
    stubber.add_response("describe_clusters", {"Clusters": []}, {})
    assert hsm_utils.describe_clusters(client) == []


def test_describe_clusters_unknown_resource_is_an_empty_list(cloudhsm):
    client, stubber = cloudhsm
    stubber.add_client_error("describe_clusters", "CloudHsmResourceNotFoundException", "no such cluster", 400)
    assert hsm_utils.describe_clusters(client, {"clusterIds": [HSM_CLUSTER_ID]}) == []


def test_describe_clusters_other_errors_are_one_sentence(cloudhsm):
    client, stubber = cloudhsm
    stubber.add_client_error("describe_clusters", "CloudHsmAccessDeniedException", "not allowed", 400)
    with pytest.raises(hsm_utils.AnsibleCloudHSMError) as error:
        hsm_utils.describe_clusters(client)
    assert error_code(error.value) == "CloudHsmAccessDeniedException"
    assert (
        aws_error_sentence(error.value)
        == "Failed to describe CloudHSM clusters: CloudHsmAccessDeniedException: not allowed."
    )


def test_describe_clusters_retries_internal_failures(cloudhsm):
    client, stubber = cloudhsm
    stubber.add_client_error("describe_clusters", "CloudHsmInternalFailureException", "try again", 500)
    stubber.add_response("describe_clusters", {"Clusters": [cluster_entry()]}, {})
    assert len(hsm_utils.describe_clusters(client)) == 1


def test_create_hsm_is_not_retried_after_an_internal_failure(cloudhsm):
    """The HSM may exist all the same; a second CreateHsm would add (and bill) a second one."""
    client, stubber = cloudhsm
    stubber.add_client_error("create_hsm", "CloudHsmInternalFailureException", "failed", 500)
    with pytest.raises(hsm_utils.AnsibleCloudHSMError, match="create an HSM in us-east-1a"):
        hsm_utils.create_hsm(client, HSM_CLUSTER_ID, "us-east-1a")


def test_create_hsm_is_retried_when_throttled(cloudhsm):
    client, stubber = cloudhsm
    params = {"ClusterId": HSM_CLUSTER_ID, "AvailabilityZone": "us-east-1a", "IpAddress": "10.0.1.9"}
    stubber.add_client_error("create_hsm", "ThrottlingException", "slow down", 400, expected_params=params)
    stubber.add_response("create_hsm", {"Hsm": hsm_entry("us-east-1a", "CREATE_IN_PROGRESS")}, params)
    assert hsm_utils.create_hsm(client, HSM_CLUSTER_ID, "us-east-1a", "10.0.1.9")["State"] == "CREATE_IN_PROGRESS"


@pytest.mark.parametrize(
    "selector, params",
    [
        ({"hsm_id": "hsm-abcdefghij2"}, {"HsmId": "hsm-abcdefghij2"}),
        ({"eni_id": "eni-0123456789abcdef1"}, {"EniId": "eni-0123456789abcdef1"}),
        ({"eni_ip": "10.0.1.4"}, {"EniIp": "10.0.1.4"}),
    ],
)
def test_delete_hsm_sends_exactly_one_selector(cloudhsm, selector, params):
    client, stubber = cloudhsm
    stubber.add_response("delete_hsm", {"HsmId": "hsm-abcdefghij2"}, dict(params, ClusterId=HSM_CLUSTER_ID))
    assert hsm_utils.delete_hsm(client, HSM_CLUSTER_ID, **selector) == "hsm-abcdefghij2"


def test_delete_unknown_hsm_returns_false(cloudhsm):
    client, stubber = cloudhsm
    stubber.add_client_error("delete_hsm", "CloudHsmResourceNotFoundException", "no such HSM", 400)
    assert hsm_utils.delete_hsm(client, HSM_CLUSTER_ID, hsm_id="hsm-abcdefghij2") is False


# -- normalisation ----------------------------------------------------------------------------


def test_normalize_cluster_counts_active_hsms_and_their_zones():
    hsms = [
        hsm_entry("us-east-1b", "ACTIVE", "hsm-bbbbbbbbbb2"),
        hsm_entry("us-east-1a", "ACTIVE", "hsm-aaaaaaaaaa2"),
        hsm_entry("us-east-1a", "ACTIVE", "hsm-aaaaaaaaaa3", eni_ip="10.0.1.5"),
        hsm_entry("us-east-1c", "DEGRADED", "hsm-cccccccccc2"),
        hsm_entry("us-east-1c", "CREATE_IN_PROGRESS", "hsm-cccccccccc3", eni_ip="10.0.3.5"),
    ]
    cluster = dict(cluster_entry(hsms), PreCoPassword="default-preco-password")

    result = hsm_utils.normalize_cluster(cluster)

    assert result["active_hsm_count"] == 3
    assert result["active_hsm_availability_zones"] == ["us-east-1a", "us-east-1b"]
    assert result["hsms"][0] == {
        "hsm_id": "hsm-bbbbbbbbbb2",
        "availability_zone": "us-east-1b",
        "cluster_id": HSM_CLUSTER_ID,
        "subnet_id": "subnet-0bbb2222",
        "eni_id": "eni-0123456789abcdef2",
        "eni_ip": "10.0.2.4",
        "hsm_type": "hsm1.medium",
        "state": "ACTIVE",
        "state_message": "HSM is active.",
    }
    assert result["create_timestamp"] == "2026-11-02T09:30:00+00:00"
    assert result["tags"] == {"Name": "payments"}
    assert "tag_list" not in result
    assert "pre_co_password" not in result
    assert "default-preco-password" not in repr(result)
    assert cluster["PreCoPassword"] == "default-preco-password"  # the input is not changed


def test_normalize_cluster_keeps_subnet_mapping_keys_as_aws_gives_them():
    # Keys are Availability Zone names: snake-casing must not touch them, whatever their spelling.
    subnets = {"us-east-1a": "subnet-0aaa1111", "us-west-2-lax-1a": "subnet-0bbb2222", "SomeZone1A": "subnet-0ccc3333"}
    result = hsm_utils.normalize_cluster(cluster_entry(subnets=subnets))
    assert result["subnet_mapping"] == subnets
    assert result["active_hsm_count"] == 0
    assert result["active_hsm_availability_zones"] == []
    assert result["hsms"] == []


@pytest.mark.parametrize(
    "options, filters",
    [
        ({}, {}),
        ({"cluster_ids": [], "states": None, "vpc_ids": []}, {}),
        ({"cluster_ids": [HSM_CLUSTER_ID]}, {"clusterIds": [HSM_CLUSTER_ID]}),
        (
            {"states": ["ACTIVE", "DEGRADED"], "vpc_ids": ["vpc-1"]},
            {"states": ["ACTIVE", "DEGRADED"], "vpcIds": ["vpc-1"]},
        ),
    ],
)
def test_cluster_filters(options, filters):
    assert hsm_utils.cluster_filters(**options) == filters
