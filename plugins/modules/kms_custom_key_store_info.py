#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: kms_custom_key_store_info
version_added: 0.1.0
short_description: Describe AWS KMS custom key stores, with the remedy for each failed connection
description:
  - Describes one AWS KMS custom key store, by ID or by name, or every custom key store in the Region.
  - Listing every store follows C(DescribeCustomKeyStores) paging to the end.
  - Each store whose C(ConnectionState) is C(FAILED) carries RV(custom_key_stores[].connection_error_remedy),
    the operator's next step for its C(ConnectionErrorCode).
  - An ID or name that AWS does not know returns an empty list, not an error.
  - With O(cloud_hsm_cluster), each CloudHSM key store also carries its cluster, read with one C(DescribeClusters)
    call for all the stores, so that a check of a store's HSMs takes one module run.
author:
  - awskms.custom_key_store contributors (@awskms)
options:
  custom_key_store_id:
    description:
      - The ID of one custom key store to describe, for example V(cks-1234567890abcdef0).
      - Mutually exclusive with O(custom_key_store_name). Without either, every store in the Region is described.
    type: str
  custom_key_store_name:
    description:
      - The friendly name of one custom key store to describe.
      - Mutually exclusive with O(custom_key_store_id).
    type: str
  cloud_hsm_cluster:
    description:
      - Also describe the CloudHSM cluster of each AWS_CLOUDHSM store, returned as
        RV(custom_key_stores[].cloud_hsm_cluster), with one C(DescribeClusters) call for all the stores.
    type: bool
    default: false
notes:
  - Supports check mode; the module never changes anything.
  - "IAM actions used: C(kms:DescribeCustomKeyStores), and C(cloudhsm:DescribeClusters) with O(cloud_hsm_cluster)."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Describe every custom key store in the Region
  awskms.custom_key_store.kms_custom_key_store_info:
    region: eu-west-1
  register: stores

- name: List the stores whose connection failed, with what to do about each
  ansible.builtin.debug:
    msg: "{{ item.custom_key_store_name }}: {{ item.connection_error_code }}. {{ item.connection_error_remedy }}"
  loop: "{{ stores.custom_key_stores | selectattr('connection_state', 'equalto', 'FAILED') }}"
  loop_control:
    label: "{{ item.custom_key_store_id }}"

- name: Describe one store by name
  awskms.custom_key_store.kms_custom_key_store_info:
    custom_key_store_name: production-hsm-store
  register: store

- name: Fail when it does not exist
  ansible.builtin.assert:
    that: store.custom_key_stores | length == 1
    fail_msg: The custom key store production-hsm-store does not exist.

- name: Describe one store with its CloudHSM cluster
  awskms.custom_key_store.kms_custom_key_store_info:
    custom_key_store_name: production-hsm-store
    cloud_hsm_cluster: true
  register: store

- name: Say how many ACTIVE HSMs the store's cluster has
  ansible.builtin.debug:
    msg: "{{ store.custom_key_stores[0].cloud_hsm_cluster.active_hsm_count | default('no cluster:') }} ACTIVE HSM(s)"
"""

RETURN = r"""
custom_key_stores:
  description:
    - The custom key stores, as C(DescribeCustomKeyStores) describes them, in snake_case, in the order AWS lists them.
    - Empty when the ID or name given is unknown, or when the Region has no custom key store.
  returned: always
  type: list
  elements: dict
  contains:
    custom_key_store_id:
      description: The ID of the custom key store.
      type: str
      sample: cks-1234567890abcdef0
    custom_key_store_name:
      description: The friendly name of the custom key store.
      type: str
      sample: production-hsm-store
    custom_key_store_type:
      description: The type of the custom key store.
      type: str
      sample: AWS_CLOUDHSM
    cloud_hsm_cluster_id:
      description: The CloudHSM cluster that backs the store.
      type: str
      returned: for AWS_CLOUDHSM stores
      sample: cluster-jxhlf7644ne
    connection_state:
      description: The connection state of the store.
      type: str
      sample: FAILED
    connection_error_code:
      description: Why the connection failed.
      type: str
      returned: when connection_state is FAILED
      sample: USER_LOGGED_IN
    connection_error_remedy:
      description: What the operator should do about RV(custom_key_stores[].connection_error_code).
      type: str
      returned: when connection_state is FAILED
      sample: Log kmsuser out of every CloudHSM client ..., then connect the store again.
    connection_error_class:
      description:
        - What kind of problem RV(custom_key_stores[].connection_error_code) is, which says what can repair it
          (the C(connect) role acts on it).
        - V(transient), V(hsm_capacity), V(credentials), V(operator_action), V(cluster_network), V(xks_configuration),
          or V(unknown) for a code this collection does not know yet.
      type: str
      returned: when connection_state is FAILED
      sample: operator_action
    connection_error_meaning:
      description: What AWS documents RV(custom_key_stores[].connection_error_code) to mean.
      type: str
      returned: when connection_state is FAILED
      sample: The kmsuser crypto user is logged in to the cluster, which stops KMS from rotating its password and logging in.
    creation_date:
      description: When the store was created, in ISO 8601.
      type: str
      sample: "2026-11-28T09:00:00+00:00"
    trust_anchor_certificate:
      description: The trust anchor certificate of the CloudHSM cluster.
      type: str
      returned: for AWS_CLOUDHSM stores
    xks_proxy_configuration:
      description: The external key store proxy configuration (never the secret access key).
      type: dict
      returned: for EXTERNAL_KEY_STORE stores
    cloud_hsm_cluster:
      description:
        - The store's CloudHSM cluster, as M(awskms.custom_key_store.cloudhsm_cluster_info) returns a cluster (with
          C(active_hsm_count) and C(active_hsm_availability_zones)).
        - V(null) when AWS does not know the cluster in the Region (it was deleted).
      type: dict
      returned: for AWS_CLOUDHSM stores, with O(cloud_hsm_cluster)
      sample: {cluster_id: cluster-jxhlf7644ne, state: ACTIVE, active_hsm_count: 2,
               active_hsm_availability_zones: [eu-west-1a, eu-west-1b]}
region:
  description: The AWS Region the stores were described in.
  returned: always
  type: str
  sample: eu-west-1
"""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import AnsibleCloudHSMError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import describe_clusters
from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import normalize_cluster
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection_errors import error_fields
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import describe_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import list_custom_key_stores
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import normalize_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import store_selector
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import CustomKeyStoreModule
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import empty_problem


def describe_stores(client, custom_key_store_id=None, custom_key_store_name=None):
    """The boto3 entries of the store named by id or name ([] when unknown), or of every store."""
    if custom_key_store_id or custom_key_store_name:
        entry = describe_custom_key_store(client, *store_selector(custom_key_store_id, custom_key_store_name))
        return [entry] if entry else []
    return list_custom_key_stores(client)


def info_entry(entry):
    store = normalize_custom_key_store(entry)
    if store["connection_state"] == "FAILED":
        store.update(error_fields(store.get("connection_error_code"), store["custom_key_store_type"]))
    return store


def add_clusters(client, cloudhsm_stores):
    """Give each CloudHSM key store its cluster (cloud_hsm_cluster; None when AWS does not know it), read with one
    DescribeClusters call for all of them."""
    cluster_ids = sorted(set(store["cloud_hsm_cluster_id"] for store in cloudhsm_stores))
    clusters = {cluster["ClusterId"]: cluster for cluster in describe_clusters(client, {"clusterIds": cluster_ids})}
    for store in cloudhsm_stores:
        cluster = clusters.get(store["cloud_hsm_cluster_id"])
        store["cloud_hsm_cluster"] = normalize_cluster(cluster) if cluster else None


def main():
    argument_spec = dict(
        custom_key_store_id=dict(type="str"),
        custom_key_store_name=dict(type="str"),
        cloud_hsm_cluster=dict(type="bool", default=False),
    )
    module = CustomKeyStoreModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["custom_key_store_id", "custom_key_store_name"]],
        supports_check_mode=True,
    )
    module.fail_on_problem(empty_problem(module.params, ("custom_key_store_id", "custom_key_store_name")))
    try:
        entries = describe_stores(
            module.client("kms"), module.params["custom_key_store_id"], module.params["custom_key_store_name"]
        )
        stores = [info_entry(entry) for entry in entries]
        cloudhsm_stores = [store for store in stores if store["custom_key_store_type"] == "AWS_CLOUDHSM"]
        # No CloudHSM client, and no call, when no store is a CloudHSM key store.
        if module.params["cloud_hsm_cluster"] and cloudhsm_stores:
            add_clusters(module.client("cloudhsmv2"), cloudhsm_stores)
    except (AnsibleKMSError, AnsibleCloudHSMError) as error:
        module.fail_aws_error(error)
    module.exit_json(changed=False, custom_key_stores=stores, region=module.region)


if __name__ == "__main__":
    main()
