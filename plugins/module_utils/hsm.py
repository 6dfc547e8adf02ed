# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Making sure an HSM serves an Availability Zone of a CloudHSM cluster, or that an HSM is deleted: the decision and the run."""

import time

from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import error_code
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import active_hsms
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import create_hsm
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import delete_hsm
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import describe_cluster
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import normalize_hsm
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import poll_cluster
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import list_custom_key_stores
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import Runner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import with_state

CREATE = "create"
DELETE = "delete"
WAIT = "wait"

API_ACTIONS = {CREATE: "CreateHsm", DELETE: "DeleteHsm"}

# HSMs that make an Availability Zone "served": nothing to create there.
SERVING_STATES = ("ACTIVE", "CREATE_IN_PROGRESS")


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
        wanted = (("HsmId", hsm_id), ("EniId", eni_id), ("EniIp", eni_ip))
        if any(value and hsm.get(key) == value for key, value in wanted):
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


# What deleting an ACTIVE HSM can do to the custom key stores of its cluster (KMS API Reference,
# "CloudHsmClusterInvalidConfigurationException"): "For the CreateCustomKeyStore, UpdateCustomKeyStore, and
# CreateKey operations, the CloudHSM cluster must have at least two active HSMs, each in a different Availability
# Zone. For the ConnectCustomKeyStore operation, the CloudHSM must contain at least one active HSM."
LAST_ACTIVE_HSM = "last_active_hsm"
SECOND_ZONE = "second_zone"


def zones_of(hsms):
    """The sorted, unique Availability Zones of some HSMs."""
    return sorted(set(hsm["AvailabilityZone"] for hsm in hsms if hsm.get("AvailabilityZone")))


def deletion_risk(cluster, hsm):
    """What deleting the HSM takes from the cluster's key stores, as (risk, ACTIVE HSMs left).

    risk is LAST_ACTIVE_HSM when no ACTIVE HSM would be left, SECOND_ZONE when the ACTIVE HSMs would
    no longer span two Availability Zones (they did before), else None. Deleting an HSM that is not
    ACTIVE changes neither, so it is never a risk.
    """
    active = active_hsms(cluster)
    if hsm is None or hsm.get("State") != "ACTIVE":
        return None, active
    left = [other for other in active if other.get("HsmId") != hsm.get("HsmId")]
    if not left:
        return LAST_ACTIVE_HSM, left
    if len(zones_of(active)) >= 2 and len(zones_of(left)) < 2:
        return SECOND_ZONE, left
    return None, left


def stores_of_cluster(stores, cluster_id):
    """The CloudHSM key stores (DescribeCustomKeyStores entries) whose cluster is cluster_id."""

    def uses_cluster(store):
        is_cloudhsm = store.get("CustomKeyStoreType", "AWS_CLOUDHSM") == "AWS_CLOUDHSM"
        return is_cloudhsm and store.get("CloudHsmClusterId") == cluster_id

    return [store for store in stores if uses_cluster(store)]


def store_label(store):
    return f"{store.get('CustomKeyStoreName')} ({store.get('CustomKeyStoreId')})"


def store_labels(stores):
    return " and ".join(store_label(store) for store in stores)


def guard_decision(risk, stores, hsm_id, cluster_id, left):
    """(refusal sentence or None, warnings) for deleting HSM hsm_id, given the stores of its cluster."""
    if risk is None or not stores:
        return None, []
    connected = [store for store in stores if store.get("ConnectionState") == "CONNECTED"]
    others = [store for store in stores if store.get("ConnectionState") != "CONNECTED"]
    if risk == LAST_ACTIVE_HSM:
        if connected:
            plural = "s" if len(connected) > 1 else ""
            verb = "are" if len(connected) > 1 else "is"
            return (
                f"Refusing to delete HSM {hsm_id}: it is the last ACTIVE HSM of CloudHSM cluster {cluster_id}, whose custom "
                f"key store{plural} {store_labels(connected)} {verb} CONNECTED, and without an ACTIVE HSM every KMS key in it "
                f"is unusable; add an HSM first (state=present), disconnect the store, or set allow_last_hsm_deletion: true.",
                [],
            )
        return None, [
            f"After deleting HSM {hsm_id}, CloudHSM cluster {cluster_id} has no ACTIVE HSM, so custom key store "
            f"{store_label(store)} ({store.get('ConnectionState')}) cannot connect until an HSM is ACTIVE again "
            "(ConnectCustomKeyStore needs one)."
            for store in others
        ]
    zones = ", ".join(zones_of(left))
    return None, [
        f"After deleting HSM {hsm_id}, CloudHSM cluster {cluster_id} has ACTIVE HSMs only in {zones}, so KMS refuses "
        f"CreateKey in custom key store {store_label(store)} until an HSM in a second Availability Zone is ACTIVE "
        '(KMS API Reference, CloudHsmClusterInvalidConfigurationException: "the CloudHSM cluster must have at least two '
        'active HSMs, each in a different Availability Zone").'
        for store in stores
    ]


def access_denied_sentence(hsm_id, cluster_id):
    return (
        f"Cannot tell whether deleting HSM {hsm_id} leaves a custom key store of CloudHSM cluster {cluster_id} without "
        "the ACTIVE HSMs it needs: the caller is not allowed kms:DescribeCustomKeyStores (AccessDeniedException); "
        "allow that IAM action, or set allow_last_hsm_deletion: true to delete without this check."
    )


def store_view(store):
    """What the module returns of a key store that uses the cluster."""
    return {
        "custom_key_store_id": store.get("CustomKeyStoreId"),
        "custom_key_store_name": store.get("CustomKeyStoreName"),
        "connection_state": store.get("ConnectionState"),
    }


def diff_view(hsm):
    """What diff shows of an HSM: {"state": "absent"} when there is none."""
    if not hsm or hsm.get("State") == "DELETED":
        return {"state": "absent"}
    keys = (
        ("HsmId", "hsm_id"),
        ("AvailabilityZone", "availability_zone"),
        ("SubnetId", "subnet_id"),
        ("EniIp", "eni_ip"),
        ("State", "state"),
    )
    return dict((name, hsm[key]) for key, name in keys if hsm.get(key))


def selector_label(hsm_id=None, eni_id=None, eni_ip=None):
    if hsm_id:
        return f"HSM {hsm_id}"
    if eni_id:
        return f"the HSM with ENI {eni_id}"
    return f"the HSM with ENI IP address {eni_ip}"


class HsmRunner(Runner):
    """Makes sure an HSM serves an Availability Zone of a cluster (present), or that an HSM is deleted (absent).

    One DescribeClusters call decides; CreateHsm or DeleteHsm only when needed; with wait, DescribeClusters
    polls (the poll schedule's delays) until the HSM is ACTIVE or gone. sleep and clock are injectable for tests.
    """

    def __init__(
        self,
        client,
        cluster_id,
        region,
        check_mode=False,
        sleep=time.sleep,
        clock=time.monotonic,
        create_client=None,
        kms_client=None,
    ):
        super().__init__(client, region, check_mode, sleep, clock, create_client)
        self.cluster_id = cluster_id
        # A callable giving a KMS client: made only when a deletion needs the key stores looked up.
        self.kms_client = kms_client
        self.warnings = []
        self.key_stores = None
        self._before = None
        self._decided = False

    # -- entry points -------------------------------------------------------------------

    def present(self, availability_zone=None, subnet_id=None, ip_address=None, wait=False, wait_timeout=1800):
        """An HSM ACTIVE (or, without wait, at least CREATE_IN_PROGRESS) in the Availability Zone or subnet given."""
        self._begin(wait_timeout)
        cluster = self._describe_cluster()
        try:
            zone, subnet = resolve_placement(cluster, availability_zone, subnet_id)
        except ValueError as error:
            raise RunFailure(str(error), **self._result(None)) from None
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
                hsm = {
                    "ClusterId": self.cluster_id,
                    "AvailabilityZone": zone,
                    "SubnetId": subnet,
                    "State": "CREATE_IN_PROGRESS",
                }
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

    def absent(
        self, hsm_id=None, eni_id=None, eni_ip=None, wait=False, wait_timeout=1800, allow_last_hsm_deletion=False
    ):
        """The HSM selected by hsm_id, eni_id or eni_ip deleted (or, without wait, at least DELETE_IN_PROGRESS).

        Unless allow_last_hsm_deletion, a deletion that would take the cluster's last ACTIVE HSM, or its second
        Availability Zone with one, first looks up the custom key stores of the cluster: it is refused while one is
        CONNECTED and would be left with no ACTIVE HSM, and warned about otherwise. Check mode decides the same.
        """
        self._begin(wait_timeout)
        label = selector_label(hsm_id, eni_id, eni_ip)
        cluster = self._describe_cluster()
        hsm = self._decide(find_hsm(cluster, hsm_id, eni_id, eni_ip))
        steps = decide_absent(hsm, wait)
        if DELETE in steps and not allow_last_hsm_deletion:
            self._guard_deletion(cluster, hsm)
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

    def _guard_deletion(self, cluster, hsm):
        """Raise RunFailure when deleting the HSM would leave a CONNECTED key store with no ACTIVE HSM; else warn."""
        risk, left = deletion_risk(cluster, hsm)
        if risk is None:
            return
        try:
            stores = stores_of_cluster(list_custom_key_stores(self.kms_client()), self.cluster_id)
        except AnsibleKMSError as error:
            if error_code(error) == "AccessDeniedException":
                raise RunFailure(access_denied_sentence(hsm["HsmId"], self.cluster_id), **self._result(hsm)) from None
            raise
        self.key_stores = [store_view(store) for store in stores]
        refusal, warnings = guard_decision(risk, stores, hsm["HsmId"], self.cluster_id, left)
        if refusal:
            raise RunFailure(refusal, **self._result(hsm))
        self.warnings.extend(warnings)

    def _begin(self, wait_timeout):
        self._start_clock(wait_timeout)
        self.actions = []
        self.warnings = []
        self.key_stores = None
        self._before = None
        self._decided = False

    def _decide(self, hsm):
        """Remember the HSM the decision is made on: it is the diff's before."""
        self._before = hsm
        self._decided = True
        return hsm

    def _describe_cluster(self):
        cluster = describe_cluster(self.client, self.cluster_id)
        if cluster is None:
            raise RunFailure(f"CloudHSM cluster {self.cluster_id} not found in {self.region}.", **self._result(None))
        return cluster

    def _cluster_polls(self):
        """The cluster at each poll until the deadline (None once it is gone); throttling never ends the wait."""
        return self._polls(lambda: poll_cluster(self.client, self.cluster_id))

    def _wait_until_active(self, hsm):
        hsm_id = hsm["HsmId"]
        where = f"HSM {hsm_id} in {hsm.get('AvailabilityZone')} of CloudHSM cluster {self.cluster_id}"
        for cluster in self._cluster_polls():
            if cluster is None:
                raise RunFailure(
                    f"CloudHSM cluster {self.cluster_id} was deleted in {self.region} while this task waited for HSM {hsm_id} to become ACTIVE.",
                    **self._result(None),
                )
            current = find_hsm(cluster, hsm_id=hsm_id)
            if current is None or current.get("State") == "DELETE_IN_PROGRESS":
                raise RunFailure(
                    f"{where} was deleted while this task waited for it to become ACTIVE (another client deleted it, "
                    f"or AWS could not create it); run the task again to create another.",
                    **self._result(current),
                )
            hsm = current
            if hsm.get("State") == "ACTIVE":
                return hsm
            if hsm.get("State") == "DEGRADED":
                raise RunFailure(
                    f"{where} became DEGRADED instead of ACTIVE; delete it (state=absent, hsm_id={hsm_id}) "
                    f"and run the task again to create another.",
                    **self._result(hsm),
                )
        raise RunFailure(self._timeout_sentence(f"{where} to become ACTIVE", hsm.get("State")), **self._result(hsm))

    def _wait_until_gone(self, hsm, label):
        for cluster in self._cluster_polls():
            current = None if cluster is None else find_hsm(cluster, hsm_id=hsm["HsmId"])
            if current is None:
                return
            hsm = current
        named = label if label == f"HSM {hsm['HsmId']}" else f"{label} ({hsm['HsmId']})"
        waited_for = f"{named} of CloudHSM cluster {self.cluster_id} to be deleted"
        raise RunFailure(self._timeout_sentence(waited_for, hsm.get("State")), **self._result(hsm))

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
        if self.key_stores is not None:
            result["custom_key_stores"] = list(self.key_stores)
            result["key_store_warnings"] = list(self.warnings)
        return result
