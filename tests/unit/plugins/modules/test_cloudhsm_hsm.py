# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""cloudhsm_hsm as Ansible runs it: arguments in, one JSON result out, CloudHSM behind botocore's Stubber."""

import functools
import json

import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils import hsm as hsm_utils
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import CustomKeyStoreModule
from ansible_collections.awskms.custom_key_store.plugins.modules import cloudhsm_hsm
from ansible_collections.awskms.custom_key_store.tests.unit.plugins import stubs
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import HSM_CLUSTER_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import aws_client
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import cluster_entry
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import hsm_entry
from botocore.stub import Stubber

BY_ID = {"Filters": {"clusterIds": [HSM_CLUSTER_ID]}}
NEW_HSM = "hsm-newnewnew22"


@pytest.fixture(autouse=True)
def waits_on_the_fake_clock(monkeypatch, fake_clock):
    monkeypatch.setattr(
        cloudhsm_hsm,
        "HsmRunner",
        functools.partial(hsm_utils.HsmRunner, sleep=fake_clock.sleep, clock=fake_clock.clock),
    )


def expect_key_stores(kms_stubber, *stores):
    kms_stubber.add_response("describe_custom_key_stores", {"CustomKeyStores": list(stores), "Truncated": False}, {})


def connected_store(cluster_id=HSM_CLUSTER_ID, state="CONNECTED"):
    return {
        "CustomKeyStoreId": "cks-1234567890abcdef0",
        "CustomKeyStoreName": "payments-hsm",
        "CustomKeyStoreType": "AWS_CLOUDHSM",
        "CloudHsmClusterId": cluster_id,
        "ConnectionState": state,
    }


def run_module(capsys, **args):
    return stubs.run_module(cloudhsm_hsm.main, capsys, **dict({"cluster_id": HSM_CLUSTER_ID}, **args))


def expect_describe(cloudhsm_stubber, *hsms, clusters=None):
    cloudhsm_stubber.add_response(
        "describe_clusters", {"Clusters": [cluster_entry(hsms)] if clusters is None else clusters}, BY_ID
    )


def expect_create(cloudhsm_stubber, zone="us-east-1a", **extra):
    created = hsm_entry(zone, "CREATE_IN_PROGRESS", NEW_HSM, eni_ip=extra.get("IpAddress"))
    cloudhsm_stubber.add_response(
        "create_hsm", {"Hsm": created}, dict({"ClusterId": HSM_CLUSTER_ID, "AvailabilityZone": zone}, **extra)
    )


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("state", ["ACTIVE", "CREATE_IN_PROGRESS"])
def test_an_hsm_already_serving_the_zone_costs_exactly_one_call(cloudhsm_stubber, capsys, check_mode, state):
    expect_describe(cloudhsm_stubber, hsm_entry("us-east-1a", state))

    result = run_module(capsys, availability_zone="us-east-1a", _ansible_check_mode=check_mode)

    assert result["changed"] is False
    assert result["actions"] == []
    assert result["hsm"]["hsm_id"] == "hsm-abcdefghij2"
    assert result["hsm"]["state"] == state


def test_create_and_wait_until_active(cloudhsm_stubber, capsys, fake_clock):
    expect_describe(cloudhsm_stubber, hsm_entry("us-east-1b", "ACTIVE", "hsm-bbbbbbbbbb2"))
    expect_create(cloudhsm_stubber)
    expect_describe(
        cloudhsm_stubber,
        hsm_entry("us-east-1b", "ACTIVE", "hsm-bbbbbbbbbb2"),
        hsm_entry("us-east-1a", "CREATE_IN_PROGRESS", NEW_HSM),
    )
    expect_describe(
        cloudhsm_stubber,
        hsm_entry("us-east-1b", "ACTIVE", "hsm-bbbbbbbbbb2"),
        hsm_entry("us-east-1a", "ACTIVE", NEW_HSM),
    )

    result = run_module(capsys, availability_zone="us-east-1a", wait=True, _ansible_diff=True)

    assert result["changed"] is True
    assert result["actions"] == ["CreateHsm"]
    assert result["cluster_id"] == HSM_CLUSTER_ID
    assert (result["hsm"]["hsm_id"], result["hsm"]["state"]) == (NEW_HSM, "ACTIVE")
    assert result["diff"]["before"] == {"state": "absent"}
    assert result["diff"]["after"]["state"] == "ACTIVE"
    assert fake_clock.sleeps == [1.0, 2.0]


def test_create_without_wait_returns_create_in_progress(cloudhsm_stubber, capsys):
    expect_describe(cloudhsm_stubber)
    expect_create(cloudhsm_stubber, "us-east-1b", IpAddress="10.0.2.50")

    result = run_module(capsys, subnet_id="subnet-0bbb2222", ip_address="10.0.2.50")

    assert result["changed"] is True
    assert (result["hsm"]["state"], result["hsm"]["availability_zone"], result["hsm"]["eni_ip"]) == (
        "CREATE_IN_PROGRESS",
        "us-east-1b",
        "10.0.2.50",
    )


def test_check_mode_describes_once_and_shows_the_would_be_hsm(cloudhsm_stubber, capsys):
    expect_describe(cloudhsm_stubber)

    result = run_module(capsys, availability_zone="us-east-1c", _ansible_check_mode=True, _ansible_diff=True)

    assert result["changed"] is True
    assert result["actions"] == ["CreateHsm"]
    assert result["hsm"] == {
        "cluster_id": HSM_CLUSTER_ID,
        "availability_zone": "us-east-1c",
        "subnet_id": "subnet-0ccc3333",
        "state": "CREATE_IN_PROGRESS",
    }
    assert result["diff"] == {
        "before": {"state": "absent"},
        "after": {"availability_zone": "us-east-1c", "subnet_id": "subnet-0ccc3333", "state": "CREATE_IN_PROGRESS"},
    }


@pytest.mark.parametrize(
    "selector", [{"hsm_id": "hsm-abcdefghij2"}, {"eni_ip": "10.0.1.4"}, {"eni_id": "eni-0123456789abcdef1"}]
)
def test_delete_and_wait_until_gone(both_stubbers, capsys, selector):
    cloudhsm_stubber, kms_stubber = both_stubbers
    expect_describe(cloudhsm_stubber, hsm_entry("us-east-1a", "ACTIVE"))
    # the last HSM, of a cluster that backs no key store (the one store is another cluster's)
    expect_key_stores(kms_stubber, connected_store(cluster_id="cluster-otherotherot"))
    cloudhsm_stubber.add_response(
        "delete_hsm", {"HsmId": "hsm-abcdefghij2"}, {"ClusterId": HSM_CLUSTER_ID, "HsmId": "hsm-abcdefghij2"}
    )
    expect_describe(cloudhsm_stubber)

    result = run_module(capsys, state="absent", wait=True, **selector)

    assert result["changed"] is True
    assert result["actions"] == ["DeleteHsm"]
    assert result["hsm"] == {}
    assert result["custom_key_stores"] == []
    assert result["diff"] == {
        "before": {
            "hsm_id": "hsm-abcdefghij2",
            "availability_zone": "us-east-1a",
            "subnet_id": "subnet-0aaa1111",
            "eni_ip": "10.0.1.4",
            "state": "ACTIVE",
        },
        "after": {"state": "absent"},
    }


@pytest.mark.parametrize("check_mode", [False, True])
def test_deleting_an_hsm_that_is_not_there_costs_one_call(cloudhsm_stubber, capsys, check_mode):
    expect_describe(cloudhsm_stubber, hsm_entry("us-east-1a", "ACTIVE"))

    result = run_module(capsys, state="absent", hsm_id="hsm-notthere222", wait=True, _ansible_check_mode=check_mode)

    assert result["changed"] is False
    assert result["hsm"] == {}


@pytest.mark.parametrize(
    "args", [{"availability_zone": "us-east-1a"}, {"state": "absent", "hsm_id": "hsm-abcdefghij2"}]
)
def test_unknown_cluster_fails_with_one_sentence(cloudhsm_stubber, capsys, args):
    expect_describe(cloudhsm_stubber, clusters=[])

    result = run_module(capsys, **args)

    assert result["msg"] == f"CloudHSM cluster {HSM_CLUSTER_ID} not found in us-east-1."
    assert result["changed"] is False
    assert "exception" not in result


def test_unknown_zone_lists_the_clusters_zones(cloudhsm_stubber, capsys):
    expect_describe(cloudhsm_stubber)

    result = run_module(capsys, availability_zone="us-east-1d")

    assert result["msg"] == (
        f"availability_zone us-east-1d is not an Availability Zone of CloudHSM cluster {HSM_CLUSTER_ID}; "
        "set it to one of the cluster's: us-east-1a, us-east-1b, us-east-1c."
    )
    assert result["actions"] == []


def test_aws_refusal_is_one_sentence_without_traceback(cloudhsm_stubber, capsys):
    expect_describe(cloudhsm_stubber)
    cloudhsm_stubber.add_client_error(
        "create_hsm",
        "CloudHsmInvalidRequestException",
        "Cannot add an HSM to cluster while it is CREATE_IN_PROGRESS.",
        400,
    )

    result = run_module(capsys, availability_zone="us-east-1a")

    assert result["msg"] == (
        f"Failed to create an HSM in us-east-1a of CloudHSM cluster {HSM_CLUSTER_ID}: CloudHsmInvalidRequestException: "
        "Cannot add an HSM to cluster while it is CREATE_IN_PROGRESS."
    )
    assert result["changed"] is False
    assert result["actions"] == []
    assert "exception" not in result


def test_ip_address_mismatch_is_a_warning(cloudhsm_stubber, capsys):
    expect_describe(cloudhsm_stubber, hsm_entry("us-east-1a", "ACTIVE"))

    result = run_module(capsys, availability_zone="us-east-1a", ip_address="10.0.1.99")

    assert result["changed"] is False
    # ansible-core 2.19 wraps each warning in an event; earlier versions give the string.
    assert len(result["warnings"]) == 1
    assert (
        f"HSM hsm-abcdefghij2 already serves us-east-1a of CloudHSM cluster {HSM_CLUSTER_ID} at 10.0.1.4, so ip_address 10.0.1.99 was not used."
    ) in json.dumps(result["warnings"])


def test_timeout_fails_with_the_last_state(cloudhsm_stubber, capsys, fake_clock):
    expect_describe(cloudhsm_stubber)
    expect_create(cloudhsm_stubber)
    for _poll in range(3):  # at 1, 3 and 5 s
        expect_describe(cloudhsm_stubber, hsm_entry("us-east-1a", "CREATE_IN_PROGRESS", NEW_HSM))

    result = run_module(capsys, availability_zone="us-east-1a", wait=True, wait_timeout=5)

    assert result["msg"].startswith(
        f"Timed out after 5 s waiting for HSM {NEW_HSM} in us-east-1a of CloudHSM cluster {HSM_CLUSTER_ID} to become ACTIVE"
    )
    assert (
        "(last observed state: CREATE_IN_PROGRESS). AWS carries on with the operation: run the task again to resume waiting"
        in result["msg"]
    )
    assert result["changed"] is True
    assert result["actions"] == ["CreateHsm"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({}, "state is present but any of the following are missing: availability_zone, subnet_id"),
        ({"state": "absent"}, "state is absent but any of the following are missing: hsm_id, eni_id, eni_ip"),
        (
            {"availability_zone": "us-east-1a", "subnet_id": "subnet-0aaa1111"},
            "mutually exclusive: availability_zone|subnet_id",
        ),
        (
            {"state": "absent", "hsm_id": "hsm-abcdefghij2", "eni_ip": "10.0.1.4"},
            "mutually exclusive: hsm_id|eni_id|eni_ip",
        ),
        ({"availability_zone": "us-east-1a", "wait_timeout": 0}, "wait_timeout must be greater than 0 seconds, got 0."),
        (
            {"availability_zone": "us-east-1a", "wait_timeout": -1},
            "wait_timeout must be greater than 0 seconds, got -1.",
        ),
        (
            {"availability_zone": "us-east-1a", "hsm_id": "hsm-abcdefghij2"},
            "hsm_id is used only with state=absent; remove it, or set state=absent.",
        ),
        (
            {"state": "absent", "eni_ip": "10.0.1.4", "ip_address": "10.0.1.4"},
            "ip_address is used only with state=present; remove it, or set state=present.",
        ),
        ({"availability_zone": " "}, "availability_zone must not be empty."),
        ({"cluster_id": "", "availability_zone": "us-east-1a"}, "cluster_id must not be empty."),
        ({"availability_zone": "us-east-1a", "state": "gone"}, "value of state must be one of: present, absent"),
    ],
)
def test_bad_options_fail_before_any_api_call(cloudhsm_stubber, capsys, args, message):
    result = run_module(capsys, **args)

    assert result["failed"] is True
    assert message in result["msg"]


def test_the_create_is_sent_once_by_botocore(cloudhsm_stubber, capsys, monkeypatch):
    """CreateHsm goes through the module's single-attempt client: a retry after a 5xx could bill a second HSM."""
    create_client = aws_client("cloudhsmv2")
    monkeypatch.setattr(CustomKeyStoreModule, "single_attempt_client", lambda self, service: create_client)
    expect_describe(cloudhsm_stubber)
    with Stubber(create_client) as create_stubber:
        create_stubber.add_response("create_hsm", {"Hsm": hsm_entry("us-east-1b", "CREATE_IN_PROGRESS", NEW_HSM)})

        result = run_module(capsys, availability_zone="us-east-1b")

        create_stubber.assert_no_pending_responses()
    assert result["actions"] == ["CreateHsm"]


@pytest.mark.parametrize("check_mode", [False, True])
def test_the_last_hsm_of_a_connected_store_is_refused_and_not_deleted(both_stubbers, capsys, check_mode):
    cloudhsm_stubber, kms_stubber = both_stubbers
    expect_describe(cloudhsm_stubber, hsm_entry("us-east-1a", "ACTIVE"))
    expect_key_stores(kms_stubber, connected_store())

    result = run_module(
        capsys, state="absent", hsm_id="hsm-abcdefghij2", _ansible_check_mode=check_mode, _ansible_diff=True
    )

    assert result["failed"] is True
    assert result["msg"] == (
        f"Refusing to delete HSM hsm-abcdefghij2: it is the last ACTIVE HSM of CloudHSM cluster {HSM_CLUSTER_ID}, whose "
        "custom key store payments-hsm (cks-1234567890abcdef0) is CONNECTED, and without an ACTIVE HSM every KMS key in "
        "it is unusable; add an HSM first (state=present), disconnect the store, or set allow_last_hsm_deletion: true."
    )
    assert result["changed"] is False
    assert result["actions"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert "exception" not in result


def test_the_override_deletes_the_last_hsm_without_asking_kms(cloudhsm_stubber, capsys):
    """cloudhsm_stubber gives a CloudHSM client only (and checks no other service was asked for)."""
    expect_describe(cloudhsm_stubber, hsm_entry("us-east-1a", "ACTIVE"))
    cloudhsm_stubber.add_response(
        "delete_hsm", {"HsmId": "hsm-abcdefghij2"}, {"ClusterId": HSM_CLUSTER_ID, "HsmId": "hsm-abcdefghij2"}
    )

    result = run_module(capsys, state="absent", hsm_id="hsm-abcdefghij2", allow_last_hsm_deletion=True)

    assert result["changed"] is True
    assert result["actions"] == ["DeleteHsm"]
    assert "custom_key_stores" not in result


def test_losing_the_second_zone_is_a_warning(both_stubbers, capsys):
    cloudhsm_stubber, kms_stubber = both_stubbers
    expect_describe(
        cloudhsm_stubber, hsm_entry("us-east-1a", "ACTIVE"), hsm_entry("us-east-1b", "ACTIVE", "hsm-bbbbbbbbbb2")
    )
    expect_key_stores(kms_stubber, connected_store())
    cloudhsm_stubber.add_response(
        "delete_hsm", {"HsmId": "hsm-abcdefghij2"}, {"ClusterId": HSM_CLUSTER_ID, "HsmId": "hsm-abcdefghij2"}
    )

    result = run_module(capsys, state="absent", hsm_id="hsm-abcdefghij2")

    assert result["changed"] is True
    assert len(result["warnings"]) == 1
    assert (
        f"After deleting HSM hsm-abcdefghij2, CloudHSM cluster {HSM_CLUSTER_ID} has ACTIVE HSMs only in us-east-1b, so KMS "
        "refuses CreateKey in custom key store payments-hsm (cks-1234567890abcdef0)"
    ) in json.dumps(result["warnings"])


def test_access_denied_on_the_look_up_fails_before_any_delete(both_stubbers, capsys):
    cloudhsm_stubber, kms_stubber = both_stubbers
    expect_describe(cloudhsm_stubber, hsm_entry("us-east-1a", "ACTIVE"))
    kms_stubber.add_client_error("describe_custom_key_stores", "AccessDeniedException", "User is not authorized", 400)

    result = run_module(capsys, state="absent", hsm_id="hsm-abcdefghij2")

    assert result["failed"] is True
    assert "not allowed kms:DescribeCustomKeyStores (AccessDeniedException)" in result["msg"]
    assert "set allow_last_hsm_deletion: true" in result["msg"]
    assert result["actions"] == []
    assert "exception" not in result


def test_another_kms_error_on_the_look_up_is_one_sentence(both_stubbers, capsys):
    cloudhsm_stubber, kms_stubber = both_stubbers
    expect_describe(cloudhsm_stubber, hsm_entry("us-east-1a", "ACTIVE"))
    kms_stubber.add_client_error("describe_custom_key_stores", "UnrecognizedClientException", "bad token", 400)

    result = run_module(capsys, state="absent", hsm_id="hsm-abcdefghij2")

    assert result["msg"] == "Failed to list custom key stores: UnrecognizedClientException: bad token."
    assert result["actions"] == []
    assert "exception" not in result


def test_allow_last_hsm_deletion_is_only_for_state_absent(cloudhsm_stubber, capsys):
    result = run_module(capsys, availability_zone="us-east-1a", allow_last_hsm_deletion=True)

    assert result["msg"] == "allow_last_hsm_deletion is used only with state=absent; remove it, or set state=absent."
