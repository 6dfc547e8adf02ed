# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's CloudHSM v2 rules, driven directly on a World (no HTTP)."""

from ansible_collections.awskms.custom_key_store.tests.emulator import entities
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import call
from ansible_collections.awskms.custom_key_store.tests.unit.emulator.worlds import error_of


def test_cloudhsm_paging_filters_and_errors(world, ids):
    names, token = [], None
    while True:
        params = {"MaxResults": 3}
        if token:
            params["NextToken"] = token
        page = call(world, "DescribeClusters", **params)
        names.extend(cluster["TagList"][0]["Value"] for cluster in page["Clusters"])
        token = page.get("NextToken")
        if not token:
            break
    assert names == ["demo", "restored", "stranger", "free"]
    assert error_of(world, "DescribeClusters", NextToken="bogus") == "CloudHsmInvalidRequestException"
    assert error_of(world, "DescribeClusters", Filters={"color": ["red"]}) == "CloudHsmInvalidRequestException"
    world.control("set-cluster-state", {"cluster_id": "free", "state": "DEGRADED"})
    degraded = call(world, "DescribeClusters", Filters={"states": ["DEGRADED"]})["Clusters"]
    assert [c["ClusterId"] for c in degraded] == [ids["clusters"]["free"]]
    vpc = world.clusters[ids["clusters"]["demo"]].vpc_id
    assert [c["ClusterId"] for c in call(world, "DescribeClusters", Filters={"vpcIds": [vpc]})["Clusters"]] == [
        ids["clusters"]["demo"]
    ]
    world.control("delete-cluster", {"cluster_id": "free"})
    assert ids["clusters"]["free"] not in [c["ClusterId"] for c in call(world, "DescribeClusters")["Clusters"]]


def test_cluster_description_has_the_botocore_fields(world, ids):
    cluster = call(world, "DescribeClusters", Filters={"clusterIds": [ids["clusters"]["demo"]]})["Clusters"][0]
    assert entities.CLUSTER_ID_RE.match(cluster["ClusterId"])
    assert sorted(cluster["SubnetMapping"]) == ["us-east-1a", "us-east-1b"]
    assert len(cluster["Hsms"]) == 2
    for hsm in cluster["Hsms"]:
        assert entities.HSM_ID_RE.match(hsm["HsmId"]) and hsm["EniId"].startswith("eni-") and len(hsm["EniId"]) == 21
        assert hsm["SubnetId"] == cluster["SubnetMapping"][hsm["AvailabilityZone"]]
    assert set(cluster) >= {
        "ClusterId",
        "State",
        "HsmType",
        "SubnetMapping",
        "VpcId",
        "SecurityGroup",
        "Hsms",
        "CreateTimestamp",
        "Certificates",
    }


def test_create_hsm_and_delete_hsm_errors(world, ids):
    cluster_id = ids["clusters"]["demo"]
    assert (
        error_of(world, "CreateHsm", ClusterId="cluster-aaaaaaaaaaa", AvailabilityZone="us-east-1a")
        == "CloudHsmResourceNotFoundException"
    )
    assert (
        error_of(world, "CreateHsm", ClusterId=cluster_id, AvailabilityZone="us-east-1c")
        == "CloudHsmInvalidRequestException"
    )
    assert error_of(
        world, "CreateHsm", ClusterId=cluster_id, AvailabilityZone="us-east-1a", IpAddress="192.168.0.9"
    ) == ("CloudHsmInvalidRequestException")
    taken = world.clusters[cluster_id].hsms[ids["hsms"]["demo"][0]].eni_ip
    assert (
        error_of(world, "CreateHsm", ClusterId=cluster_id, AvailabilityZone="us-east-1a", IpAddress=taken)
        == "CloudHsmInvalidRequestException"
    )
    assert error_of(world, "DeleteHsm", ClusterId=cluster_id) == "CloudHsmInvalidRequestException"
    assert (
        error_of(world, "DeleteHsm", ClusterId=cluster_id, HsmId=ids["hsms"]["demo"][0], EniIp=taken)
        == "CloudHsmInvalidRequestException"
    )
    assert (
        error_of(world, "DeleteHsm", ClusterId=cluster_id, HsmId="hsm-aaaaaaaaaaa")
        == "CloudHsmResourceNotFoundException"
    )
    assert (
        error_of(world, "DeleteHsm", ClusterId="cluster-aaaaaaaaaaa", HsmId="hsm-aaaaaaaaaaa")
        == "CloudHsmResourceNotFoundException"
    )
    assert len(world.clusters[cluster_id].hsms) == 2


def test_create_hsm_quotas_per_region_and_per_cluster(world, ids):
    # AWS CloudHSM quotas: 6 HSMs per Region (adjustable), 28 per cluster; settings move them.
    assert world.settings["hsms_quota"] == 20 and world.settings["hsms_per_cluster_quota"] == 28
    world.settings.update({"hsms_quota": 7})  # the seeded world holds 7 HSMs
    assert error_of(world, "CreateHsm", ClusterId=ids["clusters"]["stranger"], AvailabilityZone="us-east-1b") == (
        "CloudHsmResourceLimitExceededException"
    )
    world.settings.update({"hsms_quota": 8, "hsms_per_cluster_quota": 2})
    assert error_of(world, "CreateHsm", ClusterId=ids["clusters"]["demo"], AvailabilityZone="us-east-1b") == (
        "CloudHsmResourceLimitExceededException"
    )
    assert call(world, "CreateHsm", ClusterId=ids["clusters"]["stranger"], AvailabilityZone="us-east-1b")["Hsm"][
        "State"
    ] == ("CREATE_IN_PROGRESS")
    assert world.hsm_count() == 8


def test_default_hsm_quota_is_six_per_region(regions):
    world = regions.world("eu-west-1")
    world.settings.update({"hsms_quota": 6})
    regions.seed(
        {"region": "eu-west-1", "clusters": [{"name": "c", "hsms": [{"availability_zone": "eu-west-1a"}] * 5}]}
    )
    cluster_id = next(iter(world.clusters))
    call(world, "CreateHsm", ClusterId=cluster_id, AvailabilityZone="eu-west-1b")
    assert (
        error_of(world, "CreateHsm", ClusterId=cluster_id, AvailabilityZone="eu-west-1b")
        == "CloudHsmResourceLimitExceededException"
    )
