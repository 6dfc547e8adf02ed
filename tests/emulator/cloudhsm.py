# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudHSM v2 rules of the emulator: DescribeClusters, CreateHsm and DeleteHsm.

Each operation is a function of (world, validated parameters) returning the response body;
``OPERATIONS`` maps operation names to them. Clusters themselves are made by seeding.
"""

from .entities import Hsm
from .errors import CloudHsmInvalidRequestError
from .errors import CloudHsmResourceLimitExceededError
from .errors import CloudHsmResourceNotFoundError
from .paging import paginate

DEFAULT_MAX_RESULTS = 25
CLUSTER_FILTERS = ("clusterIds", "states", "vpcIds")

# Cluster states in which CloudHSM accepts CreateHsm.
HSM_CAPABLE_CLUSTER_STATES = ("UNINITIALIZED", "INITIALIZED", "ACTIVE", "DEGRADED")


def _cluster_matches(cluster, filters):
    wanted = (("clusterIds", cluster.cluster_id), ("states", cluster.state), ("vpcIds", cluster.vpc_id))
    return all(value in filters[name] for name, value in wanted if name in filters)


def _cluster(world, cluster_id):
    cluster = world.clusters.get(cluster_id)
    if cluster is None:
        raise CloudHsmResourceNotFoundError("CloudHSM cluster %s does not exist in %s." % (cluster_id, world.region))
    return cluster


def hsm_ip(cluster, subnet_id, requested):
    """The address a new HSM gets in a subnet: ``requested`` if usable, else the lowest free one."""
    if requested is None:
        ip_address = cluster.free_ip(subnet_id)
        if ip_address is None:
            raise CloudHsmInvalidRequestError("Subnet %s has no free IP addresses." % subnet_id)
        return ip_address
    prefix = cluster.subnet_prefix(subnet_id)
    host = requested[len(prefix) :] if requested.startswith(prefix) else ""
    if not host.isdigit() or not 4 <= int(host) <= 254:
        raise CloudHsmInvalidRequestError(
            "IP address %s is not a usable address of subnet %s (%s4 to %s254)."
            % (requested, subnet_id, prefix, prefix)
        )
    if cluster.find_hsm(eni_ip=requested) is not None:
        raise CloudHsmInvalidRequestError("IP address %s is already in use in subnet %s." % (requested, subnet_id))
    return requested


def describe_clusters(world, params):
    """DescribeClusters: filters clusterIds / states / vpcIds, MaxResults + NextToken paging."""
    filters = params.get("Filters") or {}
    unknown = sorted(set(filters) - set(CLUSTER_FILTERS))
    if unknown:
        raise CloudHsmInvalidRequestError(
            "Unknown filter(s) %s; valid filters are %s." % (", ".join(unknown), ", ".join(CLUSTER_FILTERS))
        )
    clusters = [cluster for cluster in world.clusters.values() if _cluster_matches(cluster, filters)]
    page, token = paginate(
        clusters,
        params.get("NextToken"),
        params.get("MaxResults", DEFAULT_MAX_RESULTS),
        "clusters",
        CloudHsmInvalidRequestError,
    )
    result = {"Clusters": [cluster.describe() for cluster in page]}
    if token is not None:
        result["NextToken"] = token
    return result


def _check_hsm_quotas(world, cluster):
    # AWS CloudHSM quotas: "HSMs per cluster" 28, "HSMs" 6 per Region and account. The code is our choice:
    # CreateHsm's error list names no quota error, and this is the one shape that speaks of a limit.
    per_cluster = world.settings["hsms_per_cluster_quota"]
    if len(cluster.hsms) >= per_cluster:
        raise CloudHsmResourceLimitExceededError(
            "Cluster %s already has %d HSMs, the quota of HSMs per cluster (%d)."
            % (cluster.cluster_id, len(cluster.hsms), per_cluster)
        )
    per_region = world.settings["hsms_quota"]
    if world.hsm_count() >= per_region:
        raise CloudHsmResourceLimitExceededError(
            "The account already has %d HSMs in %s, its quota of %d." % (world.hsm_count(), world.region, per_region)
        )


def create_hsm(world, params):
    """CreateHsm: a CREATE_IN_PROGRESS HSM that becomes ACTIVE after hsm_create_seconds."""
    cluster = _cluster(world, params["ClusterId"])
    zone = params["AvailabilityZone"]
    subnet_id = cluster.subnets.get(zone)
    if subnet_id is None:
        raise CloudHsmInvalidRequestError(
            "Cluster %s has no subnet in %s; its Availability Zones are %s."
            % (cluster.cluster_id, zone, ", ".join(sorted(cluster.subnets)))
        )
    if cluster.state not in HSM_CAPABLE_CLUSTER_STATES:
        raise CloudHsmInvalidRequestError(
            "Cannot add an HSM to cluster %s while it is %s." % (cluster.cluster_id, cluster.state)
        )
    if subnet_id in cluster.deleted_subnets:
        raise CloudHsmInvalidRequestError("Subnet %s of cluster %s no longer exists." % (subnet_id, cluster.cluster_id))
    if subnet_id in cluster.full_subnets:
        raise CloudHsmInvalidRequestError("Subnet %s has no free IP addresses." % subnet_id)
    _check_hsm_quotas(world, cluster)
    ip_address = hsm_ip(cluster, subnet_id, params.get("IpAddress"))
    hsm = Hsm(cluster, zone, ip_address, "CREATE_IN_PROGRESS")
    world.start_hsm_timer(hsm)
    cluster.hsms[hsm.hsm_id] = hsm
    return {"Hsm": hsm.describe()}


def delete_hsm(world, params):
    """DeleteHsm by exactly one of HsmId, EniId, EniIp: DELETE_IN_PROGRESS, then gone."""
    cluster = _cluster(world, params["ClusterId"])
    selectors = dict((name, params[name]) for name in ("HsmId", "EniId", "EniIp") if params.get(name))
    if len(selectors) != 1:
        raise CloudHsmInvalidRequestError("Specify exactly one of HsmId, EniId or EniIp.")
    hsm = cluster.find_hsm(hsm_id=selectors.get("HsmId"), eni_id=selectors.get("EniId"), eni_ip=selectors.get("EniIp"))
    if hsm is None:
        name, value = list(selectors.items())[0]
        raise CloudHsmResourceNotFoundError("Cluster %s has no HSM with %s %s." % (cluster.cluster_id, name, value))
    if hsm.state != "DELETE_IN_PROGRESS":
        hsm.state = "DELETE_IN_PROGRESS"
        world.start_hsm_timer(hsm)
    return {"HsmId": hsm.hsm_id}


OPERATIONS = {
    "DescribeClusters": describe_clusters,
    "CreateHsm": create_hsm,
    "DeleteHsm": delete_hsm,
}
