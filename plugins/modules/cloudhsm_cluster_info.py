#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: cloudhsm_cluster_info
version_added: 0.1.0
short_description: Describe AWS CloudHSM clusters with their HSMs, active HSM count and Availability Zone spread
description:
  - Describes the AWS CloudHSM (v2) clusters of a Region, optionally filtered by cluster id, cluster state and VPC,
    following C(DescribeClusters) paging to the end.
  - Each cluster comes with its HSMs, the number of C(ACTIVE) HSMs and the Availability Zones they are in, which is
    what an AWS CloudHSM key store depends on (KMS wants two C(ACTIVE) HSMs in different Availability Zones to
    create a key store, and at least one C(ACTIVE) HSM to connect it).
  - Cluster ids that AWS does not know are not an error; they match nothing.
  - Makes no change; runs in check mode too.
author:
  - awskms.custom_key_store contributors (@awskms)
options:
  cluster_ids:
    description:
      - Only the clusters with these ids, for example V(cluster-jxhlf7644ne).
      - Omitted or empty, clusters are not filtered by id.
    type: list
    elements: str
  states:
    description:
      - Only the clusters in these states.
      - Omitted or empty, clusters are not filtered by state.
    type: list
    elements: str
    choices:
      - CREATE_IN_PROGRESS
      - UNINITIALIZED
      - INITIALIZE_IN_PROGRESS
      - INITIALIZED
      - ACTIVE
      - UPDATE_IN_PROGRESS
      - MODIFY_IN_PROGRESS
      - ROLLBACK_IN_PROGRESS
      - DELETE_IN_PROGRESS
      - DELETED
      - DEGRADED
  vpc_ids:
    description:
      - Only the clusters in these VPCs, for example V(vpc-0a1b2c3d4e5f60718).
      - Omitted or empty, clusters are not filtered by VPC.
    type: list
    elements: str
notes:
  - The filters combine as AWS combines them in C(DescribeClusters); a cluster must match every option given.
  - The default password of a cluster's pre-crypto officer (C(PreCoPassword)), which C(DescribeClusters) returns for
    uninitialized clusters, is left out of the result.
  - "IAM actions used: C(cloudhsm:DescribeClusters)."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Describe every CloudHSM cluster of the Region
  awskms.custom_key_store.cloudhsm_cluster_info:
  register: all_clusters

- name: Describe one cluster
  awskms.custom_key_store.cloudhsm_cluster_info:
    cluster_ids:
      - cluster-jxhlf7644ne
  register: payments

- name: Check that it can back a custom key store
  ansible.builtin.assert:
    that:
      - payments.clusters | length == 1
      - payments.clusters[0].state == 'ACTIVE'
      - payments.clusters[0].active_hsm_count >= 2
      - payments.clusters[0].active_hsm_availability_zones | length >= 2

- name: Describe the ACTIVE and DEGRADED clusters of one VPC
  awskms.custom_key_store.cloudhsm_cluster_info:
    states: [ACTIVE, DEGRADED]
    vpc_ids:
      - vpc-0a1b2c3d4e5f60718
"""

RETURN = r"""
clusters:
  description:
    - The clusters that match, as C(DescribeClusters) describes them, in snake_case, each with its HSMs and
      its active HSM count and Availability Zones. Empty when nothing matches.
  returned: always
  type: list
  elements: dict
  contains:
    cluster_id:
      description: The id of the cluster.
      type: str
      sample: cluster-jxhlf7644ne
    state:
      description: The state of the cluster.
      type: str
      sample: ACTIVE
    state_message:
      description: A description of the cluster's state.
      type: str
      returned: when AWS gives it
    hsm_type:
      description: The type of HSM the cluster contains.
      type: str
      sample: hsm1.medium
    vpc_id:
      description: The VPC that contains the cluster.
      type: str
      sample: vpc-0a1b2c3d4e5f60718
    security_group:
      description: The security group associated with the cluster.
      type: str
      returned: when AWS gives it
    subnet_mapping:
      description:
        - The cluster's subnet in each Availability Zone, keyed by Availability Zone name exactly as AWS gives it.
      type: dict
      sample: {"eu-west-1a": "subnet-0a1b2c3d", "eu-west-1b": "subnet-0e5f6a7b"}
    hsms:
      description: The HSMs of the cluster.
      type: list
      elements: dict
      contains:
        hsm_id:
          description: The id of the HSM.
          type: str
          sample: hsm-abcdefghij2
        cluster_id:
          description: The id of the cluster that contains the HSM.
          type: str
          returned: when AWS gives it
          sample: cluster-jxhlf7644ne
        hsm_type:
          description: The type of the HSM.
          type: str
          returned: when AWS gives it
          sample: hsm1.medium
        availability_zone:
          description: The Availability Zone the HSM is in.
          type: str
          sample: eu-west-1a
        subnet_id:
          description: The subnet the HSM's network interface is in.
          type: str
        eni_id:
          description: The id of the HSM's elastic network interface.
          type: str
          returned: when AWS gives it
        eni_ip:
          description: The IP address of the HSM's elastic network interface.
          type: str
          returned: when AWS gives it
        eni_ip_v6:
          description: The IPv6 address of the HSM's elastic network interface.
          type: str
          returned: when AWS gives it (clusters with network type C(DUALSTACK))
        state:
          description: The state of the HSM.
          type: str
          sample: ACTIVE
        state_message:
          description: A description of the HSM's state.
          type: str
          returned: when AWS gives it
    active_hsm_count:
      description: How many of the cluster's HSMs are C(ACTIVE).
      type: int
      sample: 2
    active_hsm_availability_zones:
      description: The Availability Zones that hold an C(ACTIVE) HSM, sorted, each once.
      type: list
      elements: str
      sample: [eu-west-1a, eu-west-1b]
    backup_policy:
      description: The cluster's backup policy.
      type: str
      returned: when AWS gives it
      sample: DEFAULT
    backup_retention_policy:
      description: How the service retains the cluster's backups.
      type: dict
      returned: when AWS gives it
      sample: {"type": "DAYS", "value": "90"}
      contains:
        type:
          description: The type of backup retention policy; for C(DAYS), RV(clusters[].backup_retention_policy.value) is a number of days.
          type: str
          sample: DAYS
        value:
          description: How many days backups are kept (7 to 379).
          type: str
          sample: "90"
    mode:
      description: The mode of the cluster.
      type: str
      returned: when AWS gives it
      sample: FIPS
    network_type:
      description: The cluster's network type, C(IPV4) or C(DUALSTACK).
      type: str
      returned: when AWS gives it
      sample: IPV4
    source_backup_id:
      description: The backup the cluster was created from.
      type: str
      returned: when the cluster was created from a backup
    hsm_type_rollback_expiration:
      description: Until when the cluster can be rolled back to its original HSM type, in ISO 8601.
      type: str
      returned: when AWS gives it
    create_timestamp:
      description: When the cluster was created, in ISO 8601.
      type: str
      returned: when AWS gives it
      sample: "2026-11-28T09:00:00+00:00"
    certificates:
      description: The cluster's certificates (the CSR and the cluster, HSM and hardware certificates AWS gives).
      type: dict
      returned: when AWS gives them
    tags:
      description: The cluster's tags, as a dict.
      type: dict
      sample: {"Name": "payments"}
"""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import CLUSTER_STATES
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import AnsibleCloudHSMError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import cluster_filters
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import describe_clusters
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import normalize_cluster
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import CustomKeyStoreModule
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import empty_values_problem


def main():
    argument_spec = dict(
        cluster_ids=dict(type="list", elements="str"),
        states=dict(type="list", elements="str", choices=list(CLUSTER_STATES)),
        vpc_ids=dict(type="list", elements="str"),
    )
    module = CustomKeyStoreModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    module.fail_on_problem(empty_values_problem(params, ("cluster_ids", "vpc_ids")))

    filters = cluster_filters(params["cluster_ids"], params["states"], params["vpc_ids"])
    try:
        clusters = describe_clusters(module.client("cloudhsmv2"), filters)
    except AnsibleCloudHSMError as error:
        module.fail_aws_error(error)
    module.exit_json(changed=False, clusters=[normalize_cluster(cluster) for cluster in clusters])


if __name__ == "__main__":
    main()
