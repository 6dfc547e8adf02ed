# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CloudHSM v2 API calls, error handling and normalisation."""

try:
    import botocore  # pylint: disable=unused-import  # noqa: F401
except ImportError:
    pass  # AnsibleAWSModule reports a missing SDK.

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

# botocore's CloudHSM v2 model: ClusterState and HsmState (a unit test keeps these equal to the model).
CLUSTER_STATES = (
    "CREATE_IN_PROGRESS",
    "UNINITIALIZED",
    "INITIALIZE_IN_PROGRESS",
    "INITIALIZED",
    "ACTIVE",
    "UPDATE_IN_PROGRESS",
    "MODIFY_IN_PROGRESS",
    "ROLLBACK_IN_PROGRESS",
    "DELETE_IN_PROGRESS",
    "DELETED",
    "DEGRADED",
)
HSM_STATES = ("CREATE_IN_PROGRESS", "ACTIVE", "DEGRADED", "DELETE_IN_PROGRESS", "DELETED")

# CloudHSM answers ThrottlingException when a request exceeds its quota, and
# CloudHsmInternalFailureException for transient faults on its side; amazon.aws's AWSRetry knows neither.
RETRIED_ERROR_CODES = ["ThrottlingException", "CloudHsmInternalFailureException"]

cloudhsm_retry = AWSRetry.jittered_backoff(
    retries=8, delay=1, max_delay=20, catch_extra_error_codes=RETRIED_ERROR_CODES
)
# CreateHsm is retried when throttled (AWS refused it before acting) but not after an internal failure:
# the HSM may have been created all the same, and a second call would add, and bill, a second HSM.
cloudhsm_create_retry = AWSRetry.jittered_backoff(
    retries=8, delay=1, max_delay=20, catch_extra_error_codes=["ThrottlingException"]
)


class AnsibleCloudHSMError(AnsibleAWSError):
    pass


class CloudHSMErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleCloudHSMError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("CloudHsmResourceNotFoundException")


# -- API calls ------------------------------------------------------------------------------


def _describe_clusters(client, filters=None):
    """Every cluster matching the DescribeClusters filters (boto3 form), following NextToken paging to the end.

    AWS answers an empty list for ids it does not know; CloudHsmResourceNotFoundException is taken to mean the same.
    """
    paginator = client.get_paginator("describe_clusters")
    kwargs = {"Filters": filters} if filters else {}
    return paginator.paginate(**kwargs).build_full_result().get("Clusters", [])


describe_clusters = CloudHSMErrorHandler.list_error_handler("describe CloudHSM clusters", [])(
    cloudhsm_retry(_describe_clusters)
)
# A wait's polls are not retried here (polling.Polls skips a throttled poll; see kms.poll_custom_key_store).
_poll_clusters = CloudHSMErrorHandler.list_error_handler("describe CloudHSM clusters", [])(_describe_clusters)


def _one_cluster(clusters, cluster_id):
    return next((cluster for cluster in clusters if cluster.get("ClusterId") == cluster_id), None)


def describe_cluster(client, cluster_id):
    """One cluster (boto3 form), or None when AWS does not know it in the client's Region."""
    return _one_cluster(describe_clusters(client, {"clusterIds": [cluster_id]}), cluster_id)


def poll_cluster(client, cluster_id):
    """describe_cluster for a wait's polls: a throttled call fails at once, for polling.Polls to skip."""
    return _one_cluster(_poll_clusters(client, {"clusterIds": [cluster_id]}), cluster_id)


@CloudHSMErrorHandler.common_error_handler("create an HSM in {availability_zone} of CloudHSM cluster {cluster_id}")
@cloudhsm_create_retry
def create_hsm(client, cluster_id, availability_zone, ip_address=None):
    """CreateHsm; returns the new HSM (boto3 form), CREATE_IN_PROGRESS."""
    params = {"ClusterId": cluster_id, "AvailabilityZone": availability_zone}
    if ip_address:
        params["IpAddress"] = ip_address
    return client.create_hsm(**params)["Hsm"]


@CloudHSMErrorHandler.deletion_error_handler("delete an HSM of CloudHSM cluster {cluster_id}")
@cloudhsm_retry
def delete_hsm(client, cluster_id, hsm_id=None, eni_id=None, eni_ip=None):
    """DeleteHsm by one of hsm_id, eni_id, eni_ip; returns the HSM id, or False when AWS no longer knows the HSM."""
    params = {"ClusterId": cluster_id}
    for name, value in (("HsmId", hsm_id), ("EniId", eni_id), ("EniIp", eni_ip)):
        if value:
            params[name] = value
    return client.delete_hsm(**params)["HsmId"]


# -- normalisation --------------------------------------------------------------------------


def normalize_hsm(hsm):
    """snake_case keys, as the modules return an HSM: hsm_id, availability_zone, subnet_id, eni_id, eni_ip, state, ..."""
    return boto3_resource_to_ansible_dict(hsm, transform_tags=False, force_tags=False)


def active_hsms(cluster):
    """The cluster's HSMs (boto3 form) in state ACTIVE."""
    return [hsm for hsm in cluster.get("Hsms") or [] if hsm.get("State") == "ACTIVE"]


def normalize_cluster(cluster):
    """A cluster as the modules return it: snake_case, ISO 8601 dates, HSMs normalised, tags as a dict,
    plus active_hsm_count and active_hsm_availability_zones (sorted, unique).

    subnet_mapping keeps AWS's keys (Availability Zone names) exactly as AWS gives them. The default
    password of the cluster's pre-crypto officer (PreCoPassword) is a secret and is left out.
    """
    cluster = dict(cluster)
    cluster.pop("PreCoPassword", None)
    tag_list = cluster.pop("TagList", None) or []
    hsms = cluster.pop("Hsms", None) or []
    result = boto3_resource_to_ansible_dict(
        cluster, transform_tags=False, force_tags=False, ignore_list=["SubnetMapping"]
    )
    result["hsms"] = [normalize_hsm(hsm) for hsm in hsms]
    result["tags"] = boto3_tag_list_to_ansible_dict(tag_list)
    active = active_hsms({"Hsms": hsms})
    result["active_hsm_count"] = len(active)
    result["active_hsm_availability_zones"] = sorted(
        set(hsm["AvailabilityZone"] for hsm in active if hsm.get("AvailabilityZone"))
    )
    return result


def cluster_filters(cluster_ids=None, states=None, vpc_ids=None):
    """DescribeClusters Filters for the options given (an omitted or empty list does not filter)."""
    filters = {}
    for name, values in (("clusterIds", cluster_ids), ("states", states), ("vpcIds", vpc_ids)):
        if values:
            filters[name] = list(values)
    return filters
