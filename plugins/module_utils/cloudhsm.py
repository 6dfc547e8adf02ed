# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CloudHSM v2 API calls, error handling, normalisation, and making sure an HSM exists (or not) in a cluster."""

import copy
import time

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

from ansible_collections.awskms.custom_key_store.plugins.module_utils.waiter import polls

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

cloudhsm_retry = AWSRetry.jittered_backoff(retries=8, delay=1, max_delay=20, catch_extra_error_codes=RETRIED_ERROR_CODES)
# CreateHsm is retried when throttled (AWS refused it before acting) but not after an internal failure:
# the HSM may have been created all the same, and a second call would add, and bill, a second HSM.
cloudhsm_create_retry = AWSRetry.jittered_backoff(retries=8, delay=1, max_delay=20, catch_extra_error_codes=["ThrottlingException"])


class AnsibleCloudHSMError(AnsibleAWSError):
    pass


class CloudHSMErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleCloudHSMError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("CloudHsmResourceNotFoundException")


# -- API calls ------------------------------------------------------------------------------


@CloudHSMErrorHandler.list_error_handler("describe CloudHSM clusters", [])
@cloudhsm_retry
def describe_clusters(client, filters=None):
    """Every cluster matching the DescribeClusters filters (boto3 form), following NextToken paging to the end.

    AWS answers an empty list for ids it does not know; CloudHsmResourceNotFoundException is taken to mean the same.
    """
    paginator = client.get_paginator("describe_clusters")
    kwargs = {"Filters": filters} if filters else {}
    return paginator.paginate(**kwargs).build_full_result().get("Clusters", [])


def describe_cluster(client, cluster_id):
    """One cluster (boto3 form), or None when AWS does not know it in the client's Region."""
    for cluster in describe_clusters(client, {"clusterIds": [cluster_id]}):
        if cluster.get("ClusterId") == cluster_id:
            return cluster
    return None


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
    result = boto3_resource_to_ansible_dict(cluster, transform_tags=False, force_tags=False, ignore_list=["SubnetMapping"])
    result["hsms"] = [normalize_hsm(hsm) for hsm in hsms]
    result["tags"] = boto3_tag_list_to_ansible_dict(tag_list)
    active = active_hsms({"Hsms": hsms})
    result["active_hsm_count"] = len(active)
    result["active_hsm_availability_zones"] = sorted(set(hsm["AvailabilityZone"] for hsm in active if hsm.get("AvailabilityZone")))
    return result


def cluster_filters(cluster_ids=None, states=None, vpc_ids=None):
    """DescribeClusters Filters for the options given (an omitted or empty list does not filter)."""
    filters = {}
    for name, values in (("clusterIds", cluster_ids), ("states", states), ("vpcIds", vpc_ids)):
        if values:
            filters[name] = list(values)
    return filters


# -- the HSM decision -----------------------------------------------------------------------

CREATE = "create"
DELETE = "delete"
WAIT = "wait"

API_ACTIONS = {CREATE: "CreateHsm", DELETE: "DeleteHsm"}

# HSMs that make an Availability Zone "served": nothing to create there.
SERVING_STATES = ("ACTIVE", "CREATE_IN_PROGRESS")


class HsmFailure(Exception):
    """A failure to report to the user: one sentence, plus what the run observed and did."""

    def __init__(self, message, **result):
        super().__init__(message)
        self.message = message
        self.result = result


def resolve_placement(cluster, availability_zone=None, subnet_id=None):
    """(Availability Zone, subnet id) for an HSM, from one of them and the cluster's subnet mapping.

    Raises ValueError with one sentence naming the option when the cluster has no subnet there.
    """
    mapping = cluster.get("SubnetMapping") or {}
    cluster_id = cluster.get("ClusterId")
    if availability_zone is not None:
        if availability_zone not in mapping:
            raise ValueError(
                f"availability_zone {availability_zone} is not an Availability Zone of CloudHSM cluster {cluster_id}; "
                f"set it to one of the cluster's: {', '.join(sorted(mapping)) or 'none'}."
            )
        return availability_zone, mapping[availability_zone]
    for zone, subnet in mapping.items():
        if subnet == subnet_id:
            return zone, subnet
    raise ValueError(
        f"subnet_id {subnet_id} is not a subnet of CloudHSM cluster {cluster_id}; "
        f"set it to one of the cluster's: {', '.join(sorted(mapping.values())) or 'none'}."
    )


def hsm_serving_zone(cluster, availability_zone):
    """The HSM that already serves an Availability Zone (ACTIVE first, then CREATE_IN_PROGRESS), or None."""
    hsms = [hsm for hsm in cluster.get("Hsms") or [] if hsm.get("AvailabilityZone") == availability_zone]
    for state in SERVING_STATES:
        for hsm in hsms:
            if hsm.get("State") == state:
                return hsm
    return None


def find_hsm(cluster, hsm_id=None, eni_id=None, eni_ip=None):
    """The cluster's HSM with the given id, ENI id or ENI IP address (not a DELETED one), or None."""
    for hsm in cluster.get("Hsms") or []:
        if hsm.get("State") == "DELETED":
            continue
        if (hsm_id and hsm.get("HsmId") == hsm_id) or (eni_id and hsm.get("EniId") == eni_id) or (eni_ip and hsm.get("EniIp") == eni_ip):
            return hsm
    return None


def decide_present(hsm, wait=False):
    """Steps that make an Availability Zone served, given the HSM already serving it (or None)."""
    if hsm is None:
        return (CREATE, WAIT) if wait else (CREATE,)
    if hsm.get("State") == "CREATE_IN_PROGRESS" and wait:
        return (WAIT,)
    return ()


def decide_absent(hsm, wait=False):
    """Steps that make the selected HSM gone, given the HSM found (or None)."""
    if hsm is None or hsm.get("State") == "DELETED":
        return ()
    if hsm.get("State") == "DELETE_IN_PROGRESS":
        return (WAIT,) if wait else ()
    return (DELETE, WAIT) if wait else (DELETE,)


def with_state(hsm, state):
    hsm = copy.deepcopy(hsm)
    hsm["State"] = state
    return hsm


def diff_view(hsm):
    """What diff shows of an HSM: {"state": "absent"} when there is none."""
    if not hsm or hsm.get("State") == "DELETED":
        return {"state": "absent"}
    keys = (("HsmId", "hsm_id"), ("AvailabilityZone", "availability_zone"), ("SubnetId", "subnet_id"), ("EniIp", "eni_ip"), ("State", "state"))
    return dict((name, hsm[key]) for key, name in keys if hsm.get(key))


def selector_label(hsm_id=None, eni_id=None, eni_ip=None):
    if hsm_id:
        return f"HSM {hsm_id}"
    if eni_id:
        return f"the HSM with ENI {eni_id}"
    return f"the HSM with ENI IP address {eni_ip}"


class HsmRunner:
    """Makes sure an HSM serves an Availability Zone of a cluster (present), or that an HSM is deleted (absent).

    One DescribeClusters call decides; CreateHsm or DeleteHsm only when needed; with wait, DescribeClusters
    polls (the poller's delays) until the HSM is ACTIVE or gone. sleep and clock are injectable for tests.
    """

    def __init__(self, client, cluster_id, region, check_mode=False, sleep=time.sleep, clock=time.monotonic, create_client=None):
        self.client = client
        # CreateHsm goes through a client that sends it once (CustomKeyStoreModule.single_attempt_client).
        self.create_client = create_client or (lambda: client)
        self.cluster_id = cluster_id
        self.region = region
        self.check_mode = check_mode
        self.sleep = sleep
        self.clock = clock
        self.actions = []
        self.warnings = []
        self._before = None
        self._decided = False
        self._deadline = None
        self._start = None

    # -- entry points -------------------------------------------------------------------

    def present(self, availability_zone=None, subnet_id=None, ip_address=None, wait=False, wait_timeout=1800):
        """An HSM ACTIVE (or, without wait, at least CREATE_IN_PROGRESS) in the Availability Zone or subnet given."""
        self._begin(wait_timeout)
        cluster = self._describe_cluster()
        try:
            zone, subnet = resolve_placement(cluster, availability_zone, subnet_id)
        except ValueError as error:
            raise HsmFailure(str(error), **self._result(None)) from None
        hsm = self._decide(hsm_serving_zone(cluster, zone))
        if hsm is not None and ip_address and hsm.get("EniIp") != ip_address:
            self.warnings.append(
                f"HSM {hsm['HsmId']} already serves {zone} of CloudHSM cluster {self.cluster_id} at {hsm.get('EniIp')}, "
                f"so ip_address {ip_address} was not used."
            )
        steps = decide_present(hsm, wait)
        if self.check_mode:
            self.actions = [API_ACTIONS[step] for step in steps if step in API_ACTIONS]
            if CREATE in steps:
                hsm = {"ClusterId": self.cluster_id, "AvailabilityZone": zone, "SubnetId": subnet, "State": "CREATE_IN_PROGRESS"}
                if ip_address:
                    hsm["EniIp"] = ip_address
            return self._result(with_state(hsm, "ACTIVE") if WAIT in steps else hsm)
        for step in steps:
            if step == CREATE:
                hsm = create_hsm(self.create_client(), self.cluster_id, zone, ip_address)
                self.actions.append(API_ACTIONS[CREATE])
            else:
                hsm = self._wait_until_active(hsm)
        return self._result(hsm)

    def absent(self, hsm_id=None, eni_id=None, eni_ip=None, wait=False, wait_timeout=1800):
        """The HSM selected by hsm_id, eni_id or eni_ip deleted (or, without wait, at least DELETE_IN_PROGRESS)."""
        self._begin(wait_timeout)
        label = selector_label(hsm_id, eni_id, eni_ip)
        cluster = self._describe_cluster()
        hsm = self._decide(find_hsm(cluster, hsm_id, eni_id, eni_ip))
        steps = decide_absent(hsm, wait)
        if self.check_mode:
            self.actions = [API_ACTIONS[step] for step in steps if step in API_ACTIONS]
            if WAIT in steps:
                hsm = None
            elif DELETE in steps:
                hsm = with_state(hsm, "DELETE_IN_PROGRESS")
            return self._result(hsm)
        for step in steps:
            if step == DELETE:
                # By the id Describe gave, whichever option selected the HSM.
                if delete_hsm(self.client, self.cluster_id, hsm_id=hsm["HsmId"]) is False:
                    return self._result(None)  # deleted by another client since our Describe
                self.actions.append(API_ACTIONS[DELETE])
                hsm = with_state(hsm, "DELETE_IN_PROGRESS")
            else:
                self._wait_until_gone(hsm, label)
                hsm = None
        return self._result(hsm)

    # -- internals ----------------------------------------------------------------------

    def _begin(self, wait_timeout):
        self._start = self.clock()
        self._deadline = self._start + wait_timeout
        self.actions = []
        self.warnings = []
        self._before = None
        self._decided = False

    def _decide(self, hsm):
        """Remember the HSM the decision is made on: it is the diff's before."""
        self._before = hsm
        self._decided = True
        return hsm

    def _elapsed(self):
        return self.clock() - self._start

    def _describe_cluster(self):
        cluster = describe_cluster(self.client, self.cluster_id)
        if cluster is None:
            raise HsmFailure(f"CloudHSM cluster {self.cluster_id} not found in {self.region}.", **self._result(None))
        return cluster

    def _polls(self):
        """Describe the cluster at the poller's delays until the deadline; yields the cluster (None once it is gone).

        Throttling that outlasts the retries skips a poll and never ends the wait.
        """
        return polls(lambda: describe_cluster(self.client, self.cluster_id), self._deadline, self.sleep, self.clock)

    def _wait_until_active(self, hsm):
        hsm_id = hsm["HsmId"]
        where = f"HSM {hsm_id} in {hsm.get('AvailabilityZone')} of CloudHSM cluster {self.cluster_id}"
        for cluster in self._polls():
            if cluster is None:
                raise HsmFailure(
                    f"CloudHSM cluster {self.cluster_id} was deleted in {self.region} while this task waited for HSM {hsm_id} to become ACTIVE.",
                    **self._result(None),
                )
            current = find_hsm(cluster, hsm_id=hsm_id)
            if current is None or current.get("State") == "DELETE_IN_PROGRESS":
                raise HsmFailure(
                    f"{where} was deleted while this task waited for it to become ACTIVE (another client deleted it, "
                    f"or AWS could not create it); run the task again to create another.",
                    **self._result(current),
                )
            hsm = current
            if hsm.get("State") == "ACTIVE":
                return hsm
            if hsm.get("State") == "DEGRADED":
                raise HsmFailure(
                    f"{where} became DEGRADED instead of ACTIVE; delete it (state=absent, hsm_id={hsm_id}) "
                    f"and run the task again to create another.",
                    **self._result(hsm),
                )
        raise HsmFailure(
            f"Timed out after {self._elapsed():.0f} s waiting for {where} to become ACTIVE "
            f"(last observed state: {hsm.get('State')}). AWS carries on with the operation: "
            f"run the task again to resume waiting, or raise wait_timeout.",
            **self._result(hsm),
        )

    def _wait_until_gone(self, hsm, label):
        for cluster in self._polls():
            current = None if cluster is None else find_hsm(cluster, hsm_id=hsm["HsmId"])
            if current is None:
                return
            hsm = current
        named = label if label == f"HSM {hsm['HsmId']}" else f"{label} ({hsm['HsmId']})"
        raise HsmFailure(
            f"Timed out after {self._elapsed():.0f} s waiting for {named} of CloudHSM cluster {self.cluster_id} "
            f"to be deleted (last observed state: {hsm.get('State')}). AWS carries on with the operation: "
            f"run the task again to resume waiting, or raise wait_timeout.",
            **self._result(hsm),
        )

    def _result(self, hsm):
        """The module result for the HSM after the run (None: no HSM); diff once a decision was made."""
        result = {
            "changed": bool(self.actions),
            "cluster_id": self.cluster_id,
            "actions": list(self.actions),
            "hsm": normalize_hsm(hsm) if hsm else {},
        }
        if self._decided:
            result["diff"] = {"before": diff_view(self._before), "after": diff_view(hsm)}
        return result
