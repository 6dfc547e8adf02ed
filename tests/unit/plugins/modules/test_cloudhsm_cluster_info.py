# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""cloudhsm_cluster_info as Ansible runs it, with CloudHSM behind botocore's Stubber."""

import json

import pytest
from ansible_collections.awskms.custom_key_store.plugins.modules import cloudhsm_cluster_info
from ansible_collections.awskms.custom_key_store.tests.unit.plugins import stubs
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import HSM_CLUSTER_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import cluster_entry
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import hsm_entry

OTHER_ID = "cluster-3vuvwtm86vt"


def run_module(capsys, **args):
    return stubs.run_module(cloudhsm_cluster_info.main, capsys, **args)


@pytest.mark.parametrize("check_mode", [False, True])
def test_every_cluster_across_pages_with_active_counts(cloudhsm_stubber, capsys, check_mode):
    first = cluster_entry(
        [
            hsm_entry("us-east-1b"),
            hsm_entry("us-east-1a", hsm_id="hsm-aaaaaaaaaa2"),
            hsm_entry("us-east-1a", "DEGRADED", "hsm-aaaaaaaaaa3"),
        ]
    )
    second = cluster_entry(
        [hsm_entry("us-east-1c", "CREATE_IN_PROGRESS", cluster_id=OTHER_ID)], state="UNINITIALIZED", cluster_id=OTHER_ID
    )
    cloudhsm_stubber.add_response("describe_clusters", {"Clusters": [first], "NextToken": "t2"}, {})
    cloudhsm_stubber.add_response("describe_clusters", {"Clusters": [second]}, {"NextToken": "t2"})

    result = run_module(capsys, _ansible_check_mode=check_mode)

    assert result["changed"] is False
    active, uninitialized = result["clusters"]
    assert (active["cluster_id"], active["active_hsm_count"], active["active_hsm_availability_zones"]) == (
        HSM_CLUSTER_ID,
        2,
        ["us-east-1a", "us-east-1b"],
    )
    assert [hsm["state"] for hsm in active["hsms"]] == ["ACTIVE", "ACTIVE", "DEGRADED"]
    assert active["subnet_mapping"] == {
        "us-east-1a": "subnet-0aaa1111",
        "us-east-1b": "subnet-0bbb2222",
        "us-east-1c": "subnet-0ccc3333",
    }
    assert (
        uninitialized["state"],
        uninitialized["active_hsm_count"],
        uninitialized["active_hsm_availability_zones"],
    ) == ("UNINITIALIZED", 0, [])


@pytest.mark.parametrize(
    "args, filters",
    [
        ({"cluster_ids": [HSM_CLUSTER_ID]}, {"clusterIds": [HSM_CLUSTER_ID]}),
        ({"states": ["ACTIVE", "DEGRADED"]}, {"states": ["ACTIVE", "DEGRADED"]}),
        ({"vpc_ids": ["vpc-0a1b2c3d"], "states": ["ACTIVE"]}, {"vpcIds": ["vpc-0a1b2c3d"], "states": ["ACTIVE"]}),
        ({"cluster_ids": [], "vpc_ids": []}, None),
    ],
)
def test_options_become_filters_in_exactly_one_call(cloudhsm_stubber, capsys, args, filters):
    cloudhsm_stubber.add_response(
        "describe_clusters", {"Clusters": [cluster_entry()]}, {"Filters": filters} if filters else {}
    )

    result = run_module(capsys, **args)

    assert [cluster["cluster_id"] for cluster in result["clusters"]] == [HSM_CLUSTER_ID]


def test_unknown_ids_are_an_empty_list(cloudhsm_stubber, capsys):
    cloudhsm_stubber.add_response(
        "describe_clusters", {"Clusters": []}, {"Filters": {"clusterIds": ["cluster-unknownunkn"]}}
    )

    result = run_module(capsys, cluster_ids=["cluster-unknownunkn"])

    assert result["clusters"] == []
    assert result["changed"] is False


def test_unknown_resource_error_is_an_empty_list_too(cloudhsm_stubber, capsys):
    cloudhsm_stubber.add_client_error("describe_clusters", "CloudHsmResourceNotFoundException", "no such cluster", 400)

    result = run_module(capsys, cluster_ids=["cluster-unknownunkn"])

    assert result["clusters"] == []


def test_aws_refusal_is_one_sentence_without_traceback(cloudhsm_stubber, capsys):
    cloudhsm_stubber.add_client_error(
        "describe_clusters",
        "CloudHsmAccessDeniedException",
        "User is not authorized to perform cloudhsm:DescribeClusters",
        400,
    )

    result = run_module(capsys)

    assert result["msg"] == (
        "Failed to describe CloudHSM clusters: CloudHsmAccessDeniedException: User is not authorized to perform cloudhsm:DescribeClusters."
    )
    assert "exception" not in result


@pytest.mark.parametrize(
    "args, message",
    [
        ({"states": ["RUNNING"]}, "value of states must be one or more of: CREATE_IN_PROGRESS, UNINITIALIZED"),
        ({"cluster_ids": [" "]}, "cluster_ids must not contain empty values."),
        ({"vpc_ids": ["vpc-1", ""]}, "vpc_ids must not contain empty values."),
    ],
)
def test_bad_options_fail_before_any_api_call(cloudhsm_stubber, capsys, args, message):
    result = run_module(capsys, **args)

    assert result["failed"] is True
    assert message in result["msg"]


def test_preco_password_never_reaches_the_result(cloudhsm_stubber, capsys):
    cluster = dict(cluster_entry(state="UNINITIALIZED"), PreCoPassword="preco-default-pw")
    cloudhsm_stubber.add_response("describe_clusters", {"Clusters": [cluster]}, {})

    result = run_module(capsys)

    assert "preco-default-pw" not in json.dumps(result)
    assert "pre_co_password" not in result["clusters"][0]
