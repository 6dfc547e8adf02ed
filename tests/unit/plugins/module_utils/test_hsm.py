# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The HSM decision (placement, serving HSM, steps) and the HSM runner carried out against Stubber-checked clients."""

import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils import hsm as hsm_utils
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import AnsibleCloudHSMError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.hsm import CREATE
from ansible_collections.awskms.custom_key_store.plugins.module_utils.hsm import DELETE
from ansible_collections.awskms.custom_key_store.plugins.module_utils.hsm import WAIT
from ansible_collections.awskms.custom_key_store.plugins.module_utils.hsm import HsmRunner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import aws_error_sentence
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import HSM_CLUSTER_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import cluster_entry
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import hsm_entry

BY_ID = {"Filters": {"clusterIds": [HSM_CLUSTER_ID]}}
NEW_HSM = "hsm-newnewnew22"


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch):
    """AWSRetry's jittered backoff sleeps for real; these tests only count its attempts."""
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", lambda seconds: None)


def expect_describe(stubber, *hsms, clusters=None):
    """One DescribeClusters call for the cluster, answering it with these HSMs (clusters=[] : the cluster is unknown)."""
    response = {"Clusters": [cluster_entry(hsms)] if clusters is None else clusters}
    stubber.add_response("describe_clusters", response, BY_ID)


def runner(client, clock, check_mode=False, kms_client=None):
    return HsmRunner(
        client,
        HSM_CLUSTER_ID,
        "us-east-1",
        check_mode=check_mode,
        sleep=clock.sleep,
        clock=clock.clock,
        kms_client=(lambda: kms_client) if kms_client is not None else None,
    )


# -- placement and decisions ------------------------------------------------------------------


def test_resolve_placement_by_zone_or_subnet():
    cluster = cluster_entry()
    assert hsm_utils.resolve_placement(cluster, availability_zone="us-east-1b") == ("us-east-1b", "subnet-0bbb2222")
    assert hsm_utils.resolve_placement(cluster, subnet_id="subnet-0ccc3333") == ("us-east-1c", "subnet-0ccc3333")


@pytest.mark.parametrize(
    "option, value, message",
    [
        (
            "availability_zone",
            "us-east-1f",
            f"availability_zone us-east-1f is not an Availability Zone of CloudHSM cluster {HSM_CLUSTER_ID}; "
            "set it to one of the cluster's: us-east-1a, us-east-1b, us-east-1c.",
        ),
        (
            "subnet_id",
            "subnet-0ddd4444",
            f"subnet_id subnet-0ddd4444 is not a subnet of CloudHSM cluster {HSM_CLUSTER_ID}; "
            "set it to one of the cluster's: subnet-0aaa1111, subnet-0bbb2222, subnet-0ccc3333.",
        ),
    ],
)
def test_resolve_placement_names_the_option_and_the_choices(option, value, message):
    with pytest.raises(ValueError) as error:
        hsm_utils.resolve_placement(cluster_entry(), **{option: value})
    assert str(error.value) == message


@pytest.mark.parametrize(
    "states, serving",
    [
        ([], None),
        (["DEGRADED", "DELETE_IN_PROGRESS"], None),
        (["CREATE_IN_PROGRESS"], "CREATE_IN_PROGRESS"),
        (["CREATE_IN_PROGRESS", "ACTIVE"], "ACTIVE"),
        (["DEGRADED", "ACTIVE"], "ACTIVE"),
    ],
)
def test_hsm_serving_zone_prefers_active(states, serving):
    hsms = [hsm_entry("us-east-1a", state, f"hsm-aaaaaaaaaa{index + 2}") for index, state in enumerate(states)]
    hsms.append(hsm_entry("us-east-1b", "ACTIVE", "hsm-bbbbbbbbbb2"))  # another zone never counts
    found = hsm_utils.hsm_serving_zone(cluster_entry(hsms), "us-east-1a")
    assert (found and found["State"]) == serving


# (HSM state found, wait) -> steps
PRESENT_TABLE = {
    (None, False): (CREATE,),
    (None, True): (CREATE, WAIT),
    ("CREATE_IN_PROGRESS", False): (),
    ("CREATE_IN_PROGRESS", True): (WAIT,),
    ("ACTIVE", False): (),
    ("ACTIVE", True): (),
}
ABSENT_TABLE = {
    (None, False): (),
    (None, True): (),
    ("ACTIVE", False): (DELETE,),
    ("ACTIVE", True): (DELETE, WAIT),
    ("CREATE_IN_PROGRESS", True): (DELETE, WAIT),
    ("DEGRADED", False): (DELETE,),
    ("DELETE_IN_PROGRESS", False): (),
    ("DELETE_IN_PROGRESS", True): (WAIT,),
    ("DELETED", True): (),
}


@pytest.mark.parametrize("cell", list(PRESENT_TABLE), ids=str)
def test_decide_present(cell):
    state, wait = cell
    hsm = None if state is None else hsm_entry("us-east-1a", state)
    assert hsm_utils.decide_present(hsm, wait) == PRESENT_TABLE[cell]


@pytest.mark.parametrize("cell", list(ABSENT_TABLE), ids=str)
def test_decide_absent(cell):
    state, wait = cell
    hsm = None if state is None else hsm_entry("us-east-1a", state)
    assert hsm_utils.decide_absent(hsm, wait) == ABSENT_TABLE[cell]


# -- present, against Stubber ------------------------------------------------------------------


@pytest.mark.parametrize(
    "found, wait, polls, final, actions",
    [
        ("ACTIVE", True, [], "ACTIVE", []),
        ("ACTIVE", False, [], "ACTIVE", []),
        ("CREATE_IN_PROGRESS", False, [], "CREATE_IN_PROGRESS", []),
        ("CREATE_IN_PROGRESS", True, ["CREATE_IN_PROGRESS", "ACTIVE"], "ACTIVE", []),
        (None, False, [], "CREATE_IN_PROGRESS", ["CreateHsm"]),
        (None, True, ["CREATE_IN_PROGRESS", "ACTIVE"], "ACTIVE", ["CreateHsm"]),
        ("DEGRADED", False, [], "CREATE_IN_PROGRESS", ["CreateHsm"]),
    ],
)
def test_present_makes_exactly_the_planned_calls(cloudhsm, fake_clock, found, wait, polls, final, actions):
    client, stubber = cloudhsm
    other = hsm_entry("us-east-1b", "ACTIVE", "hsm-bbbbbbbbbb2")
    existing = [] if found is None else [hsm_entry("us-east-1a", found, "hsm-oldoldold22")]
    expect_describe(stubber, *existing, other)
    hsm_id = "hsm-oldoldold22"
    if actions:
        hsm_id = NEW_HSM
        created = hsm_entry("us-east-1a", "CREATE_IN_PROGRESS", NEW_HSM, eni_ip="10.0.1.7")
        stubber.add_response(
            "create_hsm", {"Hsm": created}, {"ClusterId": HSM_CLUSTER_ID, "AvailabilityZone": "us-east-1a"}
        )
    for state in polls:
        expect_describe(stubber, other, hsm_entry("us-east-1a", state, hsm_id, eni_ip="10.0.1.7"))

    result = runner(client, fake_clock).present(availability_zone="us-east-1a", wait=wait)

    assert result["actions"] == actions
    assert result["changed"] is bool(actions)
    assert result["cluster_id"] == HSM_CLUSTER_ID
    assert result["hsm"]["hsm_id"] == hsm_id
    assert result["hsm"]["state"] == final
    assert result["diff"]["after"]["state"] == final
    assert result["diff"]["before"] == ({"state": "absent"} if actions else hsm_utils.diff_view(existing[0]))
    assert len(fake_clock.sleeps) == len(polls)


def test_present_by_subnet_with_ip_address(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    expect_describe(stubber)
    params = {"ClusterId": HSM_CLUSTER_ID, "AvailabilityZone": "us-east-1c", "IpAddress": "10.0.3.77"}
    stubber.add_response(
        "create_hsm", {"Hsm": hsm_entry("us-east-1c", "CREATE_IN_PROGRESS", NEW_HSM, "10.0.3.77")}, params
    )

    result = runner(client, fake_clock).present(subnet_id="subnet-0ccc3333", ip_address="10.0.3.77")

    assert result["hsm"]["eni_ip"] == "10.0.3.77"
    assert result["hsm"]["subnet_id"] == "subnet-0ccc3333"
    assert result["diff"] == {
        "before": {"state": "absent"},
        "after": {
            "hsm_id": NEW_HSM,
            "availability_zone": "us-east-1c",
            "subnet_id": "subnet-0ccc3333",
            "eni_ip": "10.0.3.77",
            "state": "CREATE_IN_PROGRESS",
        },
    }


def test_present_warns_when_the_serving_hsm_has_another_address(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    expect_describe(stubber, hsm_entry("us-east-1a", "ACTIVE", eni_ip="10.0.1.4"))

    run = runner(client, fake_clock)
    result = run.present(availability_zone="us-east-1a", ip_address="10.0.1.99")

    assert result["changed"] is False
    assert run.warnings == [
        f"HSM hsm-abcdefghij2 already serves us-east-1a of CloudHSM cluster {HSM_CLUSTER_ID} at 10.0.1.4, so ip_address 10.0.1.99 was not used."
    ]


@pytest.mark.parametrize("wait", [False, True])
def test_present_in_check_mode_describes_once_and_predicts(cloudhsm, fake_clock, wait):
    client, stubber = cloudhsm
    expect_describe(stubber, hsm_entry("us-east-1a", "ACTIVE"))

    result = runner(client, fake_clock, check_mode=True).present(
        subnet_id="subnet-0bbb2222", ip_address="10.0.2.9", wait=wait
    )

    final = "ACTIVE" if wait else "CREATE_IN_PROGRESS"
    assert result["changed"] is True
    assert result["actions"] == ["CreateHsm"]
    assert result["hsm"] == {
        "cluster_id": HSM_CLUSTER_ID,
        "availability_zone": "us-east-1b",
        "subnet_id": "subnet-0bbb2222",
        "eni_ip": "10.0.2.9",
        "state": final,
    }
    assert result["diff"] == {
        "before": {"state": "absent"},
        "after": {
            "availability_zone": "us-east-1b",
            "subnet_id": "subnet-0bbb2222",
            "eni_ip": "10.0.2.9",
            "state": final,
        },
    }
    assert fake_clock.sleeps == []


def test_present_check_mode_with_a_creating_hsm_and_wait_changes_nothing(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    expect_describe(stubber, hsm_entry("us-east-1a", "CREATE_IN_PROGRESS"))

    result = runner(client, fake_clock, check_mode=True).present(availability_zone="us-east-1a", wait=True)

    assert result["changed"] is False
    assert result["hsm"]["state"] == "ACTIVE"
    assert result["diff"]["before"]["state"] == "CREATE_IN_PROGRESS"


@pytest.mark.parametrize("state", ["present", "absent"])
def test_unknown_cluster_is_one_sentence(cloudhsm, fake_clock, state):
    client, stubber = cloudhsm
    expect_describe(stubber, clusters=[])

    run = runner(client, fake_clock)
    with pytest.raises(RunFailure) as failure:
        run.present(availability_zone="us-east-1a") if state == "present" else run.absent(hsm_id="hsm-abcdefghij2")

    assert failure.value.message == f"CloudHSM cluster {HSM_CLUSTER_ID} not found in us-east-1."
    assert failure.value.result == {"changed": False, "cluster_id": HSM_CLUSTER_ID, "actions": [], "hsm": {}}


def test_unknown_zone_fails_before_any_mutating_call(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    expect_describe(stubber)

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).present(availability_zone="us-east-1z")

    assert failure.value.message.startswith(
        "availability_zone us-east-1z is not an Availability Zone of CloudHSM cluster"
    )
    assert failure.value.result["actions"] == []


def test_aws_refusing_create_raises_its_error(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    expect_describe(stubber)
    stubber.add_client_error(
        "create_hsm",
        "CloudHsmInvalidRequestException",
        "Cannot add an HSM to the cluster while it is CREATE_IN_PROGRESS.",
        400,
    )

    run = runner(client, fake_clock)
    with pytest.raises(AnsibleCloudHSMError) as error:
        run.present(availability_zone="us-east-1a")

    assert aws_error_sentence(error.value) == (
        f"Failed to create an HSM in us-east-1a of CloudHSM cluster {HSM_CLUSTER_ID}: CloudHsmInvalidRequestException: "
        "Cannot add an HSM to the cluster while it is CREATE_IN_PROGRESS."
    )
    assert run.actions == []


# -- waiting ------------------------------------------------------------------------------------


def creating(stubber):
    """The first Describe (nothing in us-east-1a) and a CreateHsm answered with NEW_HSM."""
    expect_describe(stubber)
    created = hsm_entry("us-east-1a", "CREATE_IN_PROGRESS", NEW_HSM)
    stubber.add_response(
        "create_hsm", {"Hsm": created}, {"ClusterId": HSM_CLUSTER_ID, "AvailabilityZone": "us-east-1a"}
    )


def test_wait_for_active_times_out_naming_the_last_state(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    creating(stubber)
    for _poll in range(
        14
    ):  # the polls of a 60 s wait: at 1, 3, 5, 7, 9, 11.3, 14.1, 17.6, 22.0, 27.5, 34.3, 42.9, 53.6 and 60 s
        expect_describe(stubber, hsm_entry("us-east-1a", "CREATE_IN_PROGRESS", NEW_HSM))

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).present(availability_zone="us-east-1a", wait=True, wait_timeout=60)

    assert failure.value.message == (
        f"Timed out after 60 s waiting for HSM {NEW_HSM} in us-east-1a of CloudHSM cluster {HSM_CLUSTER_ID} to become ACTIVE "
        "(last observed state: CREATE_IN_PROGRESS). AWS carries on with the operation: run the task again to resume waiting, "
        "or raise wait_timeout."
    )
    assert fake_clock.now == 60
    assert fake_clock.sleeps[:6] == [1.0, 2.0, 2.0, 2.0, 2.0, 2.25]
    assert len(fake_clock.sleeps) == 14
    assert failure.value.result["changed"] is True
    assert failure.value.result["actions"] == ["CreateHsm"]
    assert failure.value.result["hsm"]["state"] == "CREATE_IN_PROGRESS"


def test_wait_for_active_fails_when_the_hsm_is_degraded(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    creating(stubber)
    expect_describe(stubber, hsm_entry("us-east-1a", "DEGRADED", NEW_HSM))

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).present(availability_zone="us-east-1a", wait=True)

    assert failure.value.message == (
        f"HSM {NEW_HSM} in us-east-1a of CloudHSM cluster {HSM_CLUSTER_ID} became DEGRADED instead of ACTIVE; "
        f"delete it (state=absent, hsm_id={NEW_HSM}) and run the task again to create another."
    )
    assert failure.value.result["hsm"]["state"] == "DEGRADED"


@pytest.mark.parametrize(
    "after", [[], [hsm_entry("us-east-1a", "DELETE_IN_PROGRESS", NEW_HSM)]], ids=["gone", "deleting"]
)
def test_wait_for_active_fails_when_the_hsm_disappears(cloudhsm, fake_clock, after):
    client, stubber = cloudhsm
    creating(stubber)
    expect_describe(stubber, *after)

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).present(availability_zone="us-east-1a", wait=True)

    assert failure.value.message.startswith(
        f"HSM {NEW_HSM} in us-east-1a of CloudHSM cluster {HSM_CLUSTER_ID} was deleted while this task waited"
    )
    assert failure.value.result["actions"] == ["CreateHsm"]


def test_wait_for_active_fails_when_the_cluster_is_deleted(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    creating(stubber)
    expect_describe(stubber, clusters=[])

    with pytest.raises(
        RunFailure, match=f"CloudHSM cluster {HSM_CLUSTER_ID} was deleted in us-east-1 while this task waited"
    ):
        runner(client, fake_clock).present(availability_zone="us-east-1a", wait=True)


def test_a_throttled_poll_is_skipped_not_retried(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    creating(stubber)
    # The first poll is throttled. It is not retried by AWSRetry's backoff (which would sleep for real and could
    # hold the poll past wait_timeout): the poll is skipped and the next one, on the schedule, sees ACTIVE.
    stubber.add_client_error("describe_clusters", "ThrottlingException", "Rate exceeded", 400, expected_params=BY_ID)
    expect_describe(stubber, hsm_entry("us-east-1a", "ACTIVE", NEW_HSM))

    result = runner(client, fake_clock).present(availability_zone="us-east-1a", wait=True)

    assert result["hsm"]["state"] == "ACTIVE"
    assert fake_clock.sleeps == [1.0, 2.0]
    stubber.assert_no_pending_responses()


# -- absent, against Stubber ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "found, wait, polls, actions, final",
    [
        (None, False, [], [], None),
        (None, True, [], [], None),
        ("ACTIVE", False, [], ["DeleteHsm"], "DELETE_IN_PROGRESS"),
        ("ACTIVE", True, ["DELETE_IN_PROGRESS", None], ["DeleteHsm"], None),
        ("DEGRADED", True, [None], ["DeleteHsm"], None),
        ("DELETE_IN_PROGRESS", False, [], [], "DELETE_IN_PROGRESS"),
        ("DELETE_IN_PROGRESS", True, ["DELETE_IN_PROGRESS", "DELETED"], [], None),
    ],
)
@pytest.mark.parametrize(
    "selector",
    [{"hsm_id": "hsm-oldoldold22"}, {"eni_id": "eni-0123456789abcdef1"}, {"eni_ip": "10.0.1.4"}],
    ids=["hsm_id", "eni_id", "eni_ip"],
)
def test_absent_makes_exactly_the_planned_calls(cloudhsm, fake_clock, found, wait, polls, actions, final, selector):
    client, stubber = cloudhsm
    # ACTIVE HSMs in two other zones: the deletion leaves what CreateKey needs, so no key store look-up
    others = [
        hsm_entry("us-east-1b", "ACTIVE", "hsm-bbbbbbbbbb2"),
        hsm_entry("us-east-1c", "ACTIVE", "hsm-cccccccccc2"),
    ]
    existing = others + ([] if found is None else [hsm_entry("us-east-1a", found, "hsm-oldoldold22")])
    expect_describe(stubber, *existing)
    if actions:
        stubber.add_response(
            "delete_hsm", {"HsmId": "hsm-oldoldold22"}, {"ClusterId": HSM_CLUSTER_ID, "HsmId": "hsm-oldoldold22"}
        )
    for state in polls:
        expect_describe(
            stubber, *others, *([] if state is None else [hsm_entry("us-east-1a", state, "hsm-oldoldold22")])
        )

    result = runner(client, fake_clock).absent(wait=wait, **selector)

    assert result["actions"] == actions
    assert result["changed"] is bool(actions)
    assert result["hsm"].get("state") == final
    assert result["diff"]["before"]["state"] == (found or "absent")
    assert result["diff"]["after"]["state"] == (final or "absent")
    assert len(fake_clock.sleeps) == len(polls)


def test_absent_check_mode_describes_once(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    two_zones_left = [
        hsm_entry("us-east-1b", "ACTIVE", "hsm-bbbbbbbbbb2"),
        hsm_entry("us-east-1c", "ACTIVE", "hsm-cccccccccc2"),
    ]
    expect_describe(stubber, hsm_entry("us-east-1a", "ACTIVE"), *two_zones_left)
    # one zone before and after: the deletion takes no second zone away
    expect_describe(
        stubber, hsm_entry("us-east-1a", "ACTIVE"), hsm_entry("us-east-1a", "ACTIVE", "hsm-aaaaaaaaaa2", "10.0.1.5")
    )

    results = [runner(client, fake_clock, check_mode=True).absent(eni_ip="10.0.1.4", wait=True) for _run in range(2)]

    # neither deletion takes the last ACTIVE HSM or the second zone: no key store look-up (no KMS client)
    for result in results:
        assert result["changed"] is True
        assert result["actions"] == ["DeleteHsm"]
        assert result["hsm"] == {}
        assert result["diff"]["after"] == {"state": "absent"}
        assert "custom_key_stores" not in result


def test_absent_race_with_another_deleter_is_no_change(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    expect_describe(
        stubber, hsm_entry("us-east-1a", "ACTIVE"), hsm_entry("us-east-1a", "ACTIVE", "hsm-aaaaaaaaaa2", "10.0.1.5")
    )
    stubber.add_client_error("delete_hsm", "CloudHsmResourceNotFoundException", "no such HSM", 400)

    result = runner(client, fake_clock).absent(hsm_id="hsm-abcdefghij2", wait=True)

    assert result["changed"] is False
    assert result["actions"] == []
    assert result["hsm"] == {}


def test_wait_for_gone_times_out(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    expect_describe(stubber, hsm_entry("us-east-1a", "DELETE_IN_PROGRESS"))
    for _poll in range(3):  # the polls of a 5 s wait: at 1, 3 and 5 s
        expect_describe(stubber, hsm_entry("us-east-1a", "DELETE_IN_PROGRESS"))

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock).absent(eni_ip="10.0.1.4", wait=True, wait_timeout=5)

    assert failure.value.message == (
        f"Timed out after 5 s waiting for the HSM with ENI IP address 10.0.1.4 (hsm-abcdefghij2) of CloudHSM cluster {HSM_CLUSTER_ID} "
        "to be deleted (last observed state: DELETE_IN_PROGRESS). AWS carries on with the operation: run the task again to "
        "resume waiting, or raise wait_timeout."
    )
    assert failure.value.result["changed"] is False


# -- the guard on the last HSMs -------------------------------------------------------------------

STORE_A = "cks-0000000000000000a"
STORE_B = "cks-0000000000000000b"


def key_store(state, store_id=STORE_A, name="payments-hsm", cluster_id=HSM_CLUSTER_ID, store_type="AWS_CLOUDHSM"):
    """A DescribeCustomKeyStores entry of a store (CloudHSM unless store_type says otherwise)."""
    entry = {
        "CustomKeyStoreId": store_id,
        "CustomKeyStoreName": name,
        "ConnectionState": state,
        "CustomKeyStoreType": store_type,
    }
    if store_type == "AWS_CLOUDHSM":
        entry["CloudHsmClusterId"] = cluster_id
    return entry


def expect_key_stores(kms_stubber, *pages):
    """DescribeCustomKeyStores, one call per page (each page a list of entries), following NextMarker."""
    for index, page in enumerate(pages):
        response = {"CustomKeyStores": list(page), "Truncated": index < len(pages) - 1}
        if index < len(pages) - 1:
            response["NextMarker"] = f"page-{index + 1}"
        kms_stubber.add_response("describe_custom_key_stores", response, {"Marker": f"page-{index}"} if index else {})


@pytest.mark.parametrize(
    "hsms, deleted, risk",
    [
        # (zone, state) of each HSM; the first one is the one deleted
        ([("us-east-1a", "ACTIVE")], 0, hsm_utils.LAST_ACTIVE_HSM),
        ([("us-east-1a", "ACTIVE"), ("us-east-1b", "CREATE_IN_PROGRESS")], 0, hsm_utils.LAST_ACTIVE_HSM),
        ([("us-east-1a", "ACTIVE"), ("us-east-1b", "DEGRADED")], 0, hsm_utils.LAST_ACTIVE_HSM),
        ([("us-east-1a", "ACTIVE"), ("us-east-1b", "ACTIVE")], 0, hsm_utils.SECOND_ZONE),
        ([("us-east-1a", "ACTIVE"), ("us-east-1b", "ACTIVE"), ("us-east-1b", "ACTIVE")], 0, hsm_utils.SECOND_ZONE),
        ([("us-east-1a", "ACTIVE"), ("us-east-1b", "ACTIVE"), ("us-east-1c", "ACTIVE")], 0, None),
        ([("us-east-1a", "ACTIVE"), ("us-east-1a", "ACTIVE"), ("us-east-1b", "ACTIVE")], 0, None),
        # one zone before: nothing to lose but the last HSM
        ([("us-east-1a", "ACTIVE"), ("us-east-1a", "ACTIVE")], 0, None),
        # an HSM that is not ACTIVE takes nothing away
        ([("us-east-1a", "DEGRADED")], 0, None),
        ([("us-east-1a", "CREATE_IN_PROGRESS"), ("us-east-1b", "ACTIVE")], 0, None),
    ],
)
def test_deletion_risk(hsms, deleted, risk):
    entries = [hsm_entry(zone, state, f"hsm-{index}abcdefghij") for index, (zone, state) in enumerate(hsms)]

    assert hsm_utils.deletion_risk(cluster_entry(entries), entries[deleted])[0] == risk


def test_stores_of_cluster_are_the_cloudhsm_stores_with_its_id():
    stores = [
        key_store("CONNECTED"),
        key_store("CONNECTED", STORE_B, "other", cluster_id="cluster-otherotherot"),
        key_store("CONNECTED", "cks-0000000000000000c", "xks", store_type="EXTERNAL_KEY_STORE"),
    ]

    assert hsm_utils.stores_of_cluster(stores, HSM_CLUSTER_ID) == [stores[0]]


def test_the_last_active_hsm_of_a_connected_store_is_refused_in_one_sentence_naming_the_store():
    refusal, warnings = hsm_utils.guard_decision(
        hsm_utils.LAST_ACTIVE_HSM, [key_store("CONNECTED")], "hsm-abcdefghij2", HSM_CLUSTER_ID, []
    )

    assert refusal == (
        f"Refusing to delete HSM hsm-abcdefghij2: it is the last ACTIVE HSM of CloudHSM cluster {HSM_CLUSTER_ID}, whose "
        f"custom key store payments-hsm ({STORE_A}) is CONNECTED, and without an ACTIVE HSM every KMS key in it is unusable; "
        "add an HSM first (state=present), disconnect the store, or set allow_last_hsm_deletion: true."
    )
    assert warnings == []


@pytest.mark.parametrize("state", ["DISCONNECTED", "CONNECTING", "FAILED", "DISCONNECTING"])
def test_the_last_active_hsm_of_a_store_that_is_not_connected_is_a_warning(state):
    refusal, warnings = hsm_utils.guard_decision(
        hsm_utils.LAST_ACTIVE_HSM, [key_store(state)], "hsm-abcdefghij2", HSM_CLUSTER_ID, []
    )

    assert refusal is None
    assert warnings == [
        f"After deleting HSM hsm-abcdefghij2, CloudHSM cluster {HSM_CLUSTER_ID} has no ACTIVE HSM, so custom key store "
        f"payments-hsm ({STORE_A}) ({state}) cannot connect until an HSM is ACTIVE again (ConnectCustomKeyStore needs one)."
    ]


@pytest.mark.parametrize("state", ["CONNECTED", "DISCONNECTED"])
def test_losing_the_second_zone_is_a_warning_citing_createkeys_rule(state):
    left = [hsm_entry("us-east-1b", "ACTIVE")]

    refusal, warnings = hsm_utils.guard_decision(
        hsm_utils.SECOND_ZONE, [key_store(state)], "hsm-aaaaaaaaaa2", HSM_CLUSTER_ID, left
    )

    assert refusal is None
    assert warnings == [
        f"After deleting HSM hsm-aaaaaaaaaa2, CloudHSM cluster {HSM_CLUSTER_ID} has ACTIVE HSMs only in us-east-1b, so KMS "
        f"refuses CreateKey in custom key store payments-hsm ({STORE_A}) until an HSM in a second Availability Zone is "
        'ACTIVE (KMS API Reference, CloudHsmClusterInvalidConfigurationException: "the CloudHSM cluster must have at '
        'least two active HSMs, each in a different Availability Zone").'
    ]


def test_no_store_on_the_cluster_means_no_refusal_and_no_warning():
    assert hsm_utils.guard_decision(hsm_utils.LAST_ACTIVE_HSM, [], "hsm-abcdefghij2", HSM_CLUSTER_ID, []) == (None, [])


@pytest.mark.parametrize("check_mode", [False, True])
def test_refusal_looks_up_every_page_and_makes_no_delete(cloudhsm, kms, fake_clock, check_mode):
    client, stubber = cloudhsm
    kms_client, kms_stubber = kms
    expect_describe(stubber, hsm_entry("us-east-1a", "ACTIVE"))
    # the store of the cluster is on the second page; an XKS store and another cluster's store are not it
    expect_key_stores(
        kms_stubber,
        [key_store("CONNECTED", "cks-0000000000000000c", "xks", store_type="EXTERNAL_KEY_STORE")],
        [key_store("CONNECTED", STORE_B, "other", cluster_id="cluster-otherotherot"), key_store("CONNECTED")],
    )

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock, check_mode=check_mode, kms_client=kms_client).absent(hsm_id="hsm-abcdefghij2")

    assert failure.value.message.startswith("Refusing to delete HSM hsm-abcdefghij2: it is the last ACTIVE HSM")
    assert f"payments-hsm ({STORE_A}) is CONNECTED" in failure.value.message
    assert failure.value.result["changed"] is False
    assert failure.value.result["actions"] == []
    assert failure.value.result["diff"]["before"] == failure.value.result["diff"]["after"]
    assert failure.value.result["diff"]["after"]["state"] == "ACTIVE"
    assert failure.value.result["custom_key_stores"] == [
        {"custom_key_store_id": STORE_A, "custom_key_store_name": "payments-hsm", "connection_state": "CONNECTED"}
    ]


@pytest.mark.parametrize("check_mode", [False, True])
def test_losing_the_second_zone_deletes_with_a_warning(cloudhsm, kms, fake_clock, check_mode):
    client, stubber = cloudhsm
    kms_client, kms_stubber = kms
    expect_describe(stubber, hsm_entry("us-east-1a", "ACTIVE"), hsm_entry("us-east-1b", "ACTIVE", "hsm-bbbbbbbbbb2"))
    expect_key_stores(kms_stubber, [key_store("CONNECTED")])
    if not check_mode:
        stubber.add_response(
            "delete_hsm", {"HsmId": "hsm-abcdefghij2"}, {"ClusterId": HSM_CLUSTER_ID, "HsmId": "hsm-abcdefghij2"}
        )
    hsm_runner = runner(client, fake_clock, check_mode=check_mode, kms_client=kms_client)

    result = hsm_runner.absent(hsm_id="hsm-abcdefghij2")

    assert result["changed"] is True
    assert result["actions"] == ["DeleteHsm"]
    assert result["hsm"]["state"] == "DELETE_IN_PROGRESS"
    assert len(hsm_runner.warnings) == 1
    assert "has ACTIVE HSMs only in us-east-1b, so KMS refuses CreateKey" in hsm_runner.warnings[0]
    assert result["key_store_warnings"] == hsm_runner.warnings
    assert result["custom_key_stores"][0]["connection_state"] == "CONNECTED"


def test_allow_last_hsm_deletion_skips_the_look_up(cloudhsm, fake_clock):
    client, stubber = cloudhsm
    expect_describe(stubber, hsm_entry("us-east-1a", "ACTIVE"))
    stubber.add_response(
        "delete_hsm", {"HsmId": "hsm-abcdefghij2"}, {"ClusterId": HSM_CLUSTER_ID, "HsmId": "hsm-abcdefghij2"}
    )
    hsm_runner = runner(client, fake_clock)  # no KMS client at all: a look-up would fail

    result = hsm_runner.absent(hsm_id="hsm-abcdefghij2", allow_last_hsm_deletion=True)

    assert result["actions"] == ["DeleteHsm"]
    assert "custom_key_stores" not in result
    assert hsm_runner.warnings == []


def test_a_cluster_without_key_stores_deletes_its_last_hsm_without_a_warning(cloudhsm, kms, fake_clock):
    client, stubber = cloudhsm
    kms_client, kms_stubber = kms
    expect_describe(stubber, hsm_entry("us-east-1a", "ACTIVE"))
    expect_key_stores(kms_stubber, [key_store("CONNECTED", cluster_id="cluster-otherotherot")])
    stubber.add_response(
        "delete_hsm", {"HsmId": "hsm-abcdefghij2"}, {"ClusterId": HSM_CLUSTER_ID, "HsmId": "hsm-abcdefghij2"}
    )
    hsm_runner = runner(client, fake_clock, kms_client=kms_client)

    result = hsm_runner.absent(hsm_id="hsm-abcdefghij2")

    assert result["actions"] == ["DeleteHsm"]
    assert result["custom_key_stores"] == []
    assert result["key_store_warnings"] == hsm_runner.warnings == []


def test_access_denied_names_the_iam_action_and_the_override(cloudhsm, kms, fake_clock):
    client, stubber = cloudhsm
    kms_client, kms_stubber = kms
    expect_describe(stubber, hsm_entry("us-east-1a", "ACTIVE"))
    kms_stubber.add_client_error("describe_custom_key_stores", "AccessDeniedException", "not authorized", 400)

    with pytest.raises(RunFailure) as failure:
        runner(client, fake_clock, kms_client=kms_client).absent(hsm_id="hsm-abcdefghij2")

    assert failure.value.message == (
        f"Cannot tell whether deleting HSM hsm-abcdefghij2 leaves a custom key store of CloudHSM cluster {HSM_CLUSTER_ID} "
        "without the ACTIVE HSMs it needs: the caller is not allowed kms:DescribeCustomKeyStores (AccessDeniedException); "
        "allow that IAM action, or set allow_last_hsm_deletion: true to delete without this check."
    )
    assert failure.value.result["actions"] == []
