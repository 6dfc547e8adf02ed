#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: kms_custom_key_store
version_added: 0.1.0
short_description: Create, update or delete an AWS KMS custom key store (CloudHSM or external key store)
description:
  - Creates, updates or deletes an AWS KMS custom key store backed by an AWS CloudHSM cluster
    (O(custom_key_store_type=AWS_CLOUDHSM)) or by an external key store proxy (O(custom_key_store_type=EXTERNAL_KEY_STORE)).
  - Reads the store with C(DescribeCustomKeyStores) first and sends C(UpdateCustomKeyStore) only with the fields that
    differ, so a store that is already as requested costs a single call and reports no change.
  - A new store is C(DISCONNECTED). This module does not connect it; use
    M(awskms.custom_key_store.kms_custom_key_store_connection) for that (see the examples).
  - AWS accepts some changes only while the store is C(DISCONNECTED) - for a CloudHSM store the kmsuser password and
    the cluster ID, for an external key store the proxy endpoint, the connectivity and the VPC endpoint service name
    and owner. The name, and for an external key store the proxy credential and URI path, may change while it is
    connected. When a change needs a C(DISCONNECTED) store and the store is not, the task fails naming the fields,
    unless O(allow_disconnect=true); then the module disconnects the store, waits until it is C(DISCONNECTED),
    updates it, and connects it again if it was C(CONNECTED), C(CONNECTING) or C(FAILED) before.
  - AWS updates a store only while it is C(CONNECTED) or C(DISCONNECTED). A change to a C(CONNECTING) or
    C(DISCONNECTING) store waits until the store leaves that state (bounded by O(wait_timeout)); a C(CONNECTING) store
    whose change needs a C(DISCONNECTED) store is disconnected at once instead (with O(allow_disconnect=true)). Any
    change to a C(FAILED) store needs O(allow_disconnect=true), with which the module disconnects it, updates it and connects it
    again; without it the task fails before any change, naming the state.
  - AWS deletes only a C(DISCONNECTED) store that holds no KMS keys. With O(allow_disconnect=true) the module
    disconnects the store first. If the update or the deletion then fails, a store that was C(CONNECTED), C(CONNECTING)
    or C(FAILED) before is connected again.
  - AWS never returns the kmsuser password or the external key store proxy's secret access key, so they cannot be
    compared. They are sent when the store is created, and on every run with O(update_password=always).
    They never appear in the results, the diff or the logs.
author:
  - awskms.custom_key_store contributors (@awskms)
options:
  custom_key_store_name:
    description:
      - The friendly name of the custom key store, unique in the Region.
      - Without O(custom_key_store_id), the store is looked up by this name, and created under it when absent.
      - With O(custom_key_store_id), a name that differs from the store's renames the store.
    type: str
    required: true
  custom_key_store_id:
    description:
      - The ID of an existing custom key store, for example V(cks-1234567890abcdef0).
      - When set, it identifies the store, and O(custom_key_store_name) is the name the store should have.
      - KMS chooses the ID of a new store, so with O(state=present) an unknown ID fails; with O(state=absent)
        it reports no change.
    type: str
  state:
    description:
      - V(present) creates the store or updates it to match the options; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  custom_key_store_type:
    description:
      - The type of the store. The type of an existing store cannot change.
    type: str
    choices: [AWS_CLOUDHSM, EXTERNAL_KEY_STORE]
    default: AWS_CLOUDHSM
  cloud_hsm_cluster_id:
    description:
      - The ID of the CloudHSM cluster behind the store (AWS_CLOUDHSM only). Required to create such a store.
      - On an existing store it can only be changed to a cluster created from a backup of the original cluster,
        and only while the store is C(DISCONNECTED) (see O(allow_disconnect)).
    type: str
  trust_anchor_certificate:
    description:
      - The content of the C(customerCA.crt) trust anchor certificate that initialized the cluster (AWS_CLOUDHSM only).
        Required to create such a store.
      - Used only on create; ignored for an existing store.
    type: str
  key_store_password:
    description:
      - The password of the C(kmsuser) crypto user of the cluster (AWS_CLOUDHSM only), 7 to 32 characters.
        Required to create such a store.
      - Sent to an existing store only with O(update_password=always), and only while the store is C(DISCONNECTED)
        (see O(allow_disconnect)). It does not change the kmsuser password in the cluster; it tells KMS the current one.
    type: str
  xks_proxy_uri_endpoint:
    description:
      - The protocol (always V(https)) and DNS name of the external key store proxy, for example V(https://xks.example.com)
        (EXTERNAL_KEY_STORE only). Required to create such a store.
      - Changes only while the store is C(DISCONNECTED) (see O(allow_disconnect)).
    type: str
  xks_proxy_uri_path:
    description:
      - The base path of the proxy's APIs, for example V(/kms/xks/v1) (EXTERNAL_KEY_STORE only). Required to create
        such a store. Can change while the store is connected.
    type: str
  xks_proxy_connectivity:
    description:
      - How KMS reaches the proxy (EXTERNAL_KEY_STORE only). Required to create such a store.
      - Changes only while the store is C(DISCONNECTED) (see O(allow_disconnect)). Switching to V(PUBLIC_ENDPOINT)
        removes the VPC endpoint service from the store.
      - AWS requires a new O(xks_proxy_uri_endpoint) with a new connectivity (and, with V(VPC_ENDPOINT_SERVICE),
        O(xks_proxy_vpc_endpoint_service_name)); the task fails before any change without them.
    type: str
    choices: [PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE]
  xks_proxy_vpc_endpoint_service_name:
    description:
      - The name of the Amazon VPC endpoint service of the proxy (EXTERNAL_KEY_STORE with
        O(xks_proxy_connectivity=VPC_ENDPOINT_SERVICE) only; required then when creating the store).
      - Changes only while the store is C(DISCONNECTED) (see O(allow_disconnect)).
    type: str
  xks_proxy_vpc_endpoint_service_owner:
    description:
      - The AWS account that owns the VPC endpoint service, when it is not the account of the store
        (EXTERNAL_KEY_STORE with O(xks_proxy_connectivity=VPC_ENDPOINT_SERVICE) only). Without it, AWS uses the
        account that creates the store, and Describe shows that account.
      - Changes only while the store is C(DISCONNECTED) (see O(allow_disconnect)).
      - Needs botocore 1.40.63 or later, the first whose KMS model has this parameter; with an older botocore
        the task fails before any call when this option is set.
    type: str
  xks_proxy_authentication_credential:
    description:
      - The credential KMS signs its requests to the proxy with (EXTERNAL_KEY_STORE only). Required to create such a store.
      - The whole option is kept out of logs, so the access key ID is masked in the output of a task that sets it.
      - Sent to an existing store when its access key ID differs from the store's, or on every run with
        O(update_password=always). Can change while the store is connected.
    type: dict
    suboptions:
      access_key_id:
        description:
          - The access key ID, 20 to 30 characters of A-Z and 2-7.
        type: str
        required: true
      raw_secret_access_key:
        description:
          - The secret access key, 43 to 64 characters of A-Z, a-z, 0-9, /, + and =.
        type: str
        required: true
  update_password:
    description:
      - V(on_create) sends O(key_store_password) and the secret of O(xks_proxy_authentication_credential) only when
        the store is created (and the credential also when its access key ID changes).
      - V(always) sends them on every run, which then reports a change. A kmsuser password is accepted only by a
        C(DISCONNECTED) store (see O(allow_disconnect)).
    type: str
    choices: [on_create, always]
    default: on_create
  allow_disconnect:
    description:
      - Allow the module to disconnect the store when a change (or the deletion) needs a C(DISCONNECTED) store, and
        before any change to a C(FAILED) store. Disconnecting interrupts all cryptographic use of the store's KMS keys until it is connected again.
      - The module waits until the store is C(DISCONNECTED) before it updates or deletes it (bounded by O(wait_timeout)).
      - After an update it connects the store again when it was C(CONNECTED), C(CONNECTING) or C(FAILED) before,
        and with O(wait) waits until it is C(CONNECTED).
      - Without it, such a change fails with a message naming the fields and the store's state, and changes nothing.
    type: bool
    default: false
notes:
  - Supports check mode and diff mode. Check mode makes one C(DescribeCustomKeyStores) call and no other, and
    reports the actions and the store the run would produce.
  - The diff shows the store's name, type, connection state, cluster ID or proxy configuration before and after,
    and lists the secret options sent as C(secrets_updated), never their values.
  - "IAM actions used: C(kms:DescribeCustomKeyStores), C(kms:CreateCustomKeyStore), C(kms:UpdateCustomKeyStore),
    C(kms:DeleteCustomKeyStore), and with O(allow_disconnect) C(kms:DisconnectCustomKeyStore) and C(kms:ConnectCustomKeyStore).
    The KMS Developer Guide (Control access to your AWS CloudHSM key store) also lists C(cloudhsm:DescribeClusters)
    for principals that create and manage CloudHSM key stores."
extends_documentation_fragment:
  - awskms.custom_key_store.wait
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create a CloudHSM key store, then connect it with the connection module
  block:
    - name: Create the store (it is DISCONNECTED)
      awskms.custom_key_store.kms_custom_key_store:
        custom_key_store_name: production-hsm-store
        cloud_hsm_cluster_id: cluster-jxhlf7644ne
        trust_anchor_certificate: "{{ lookup('ansible.builtin.file', 'customerCA.crt') }}"
        key_store_password: "{{ kmsuser_password }}"
      register: hsm_store

    - name: Connect it and wait
      awskms.custom_key_store.kms_custom_key_store_connection:
        custom_key_store_id: "{{ hsm_store.custom_key_store.custom_key_store_id }}"
        wait: true

- name: Create an external key store reached over the internet
  awskms.custom_key_store.kms_custom_key_store:
    custom_key_store_name: production-xks-store
    custom_key_store_type: EXTERNAL_KEY_STORE
    xks_proxy_uri_endpoint: https://xks.example.com
    xks_proxy_uri_path: /kms/xks/v1
    xks_proxy_connectivity: PUBLIC_ENDPOINT
    xks_proxy_authentication_credential:
      access_key_id: "{{ xks_access_key_id }}"
      raw_secret_access_key: "{{ xks_secret_access_key }}"

- name: Rename a store
  awskms.custom_key_store.kms_custom_key_store:
    custom_key_store_id: cks-1234567890abcdef0
    custom_key_store_name: payments-hsm-store

- name: Tell KMS the new kmsuser password of a connected store (disconnects, updates, reconnects and waits)
  awskms.custom_key_store.kms_custom_key_store:
    custom_key_store_name: production-hsm-store
    key_store_password: "{{ new_kmsuser_password }}"
    update_password: always
    allow_disconnect: true
    wait: true

- name: Move a disconnected store to a cluster restored from a backup of its cluster
  awskms.custom_key_store.kms_custom_key_store:
    custom_key_store_name: production-hsm-store
    cloud_hsm_cluster_id: cluster-2b34c5defgh

- name: Change the proxy's URI path while the external key store stays connected
  awskms.custom_key_store.kms_custom_key_store:
    custom_key_store_name: production-xks-store
    custom_key_store_type: EXTERNAL_KEY_STORE
    xks_proxy_uri_path: /kms/xks/v2

- name: Delete a store, disconnecting it first (its KMS keys must have been deleted)
  awskms.custom_key_store.kms_custom_key_store:
    custom_key_store_name: old-hsm-store
    state: absent
    allow_disconnect: true
"""

RETURN = r"""
custom_key_store:
  description:
    - The custom key store after the run, as C(DescribeCustomKeyStores) describes it, in snake_case.
    - An empty dict when the store does not exist after the run (O(state=absent)).
    - In check mode, the store the run would produce; a store that would be created has no C(custom_key_store_id)
      or C(creation_date) yet.
  returned: always
  type: dict
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
      description: The connection state of the store. A new store is C(DISCONNECTED).
      type: str
      sample: DISCONNECTED
    connection_error_code:
      description: Why the connection failed.
      type: str
      returned: when connection_state is FAILED
      sample: USER_LOGGED_IN
    creation_date:
      description: When the store was created, in ISO 8601.
      type: str
      sample: "2026-11-28T09:00:00+00:00"
    trust_anchor_certificate:
      description: The trust anchor certificate of the CloudHSM cluster.
      type: str
      returned: for AWS_CLOUDHSM stores
    xks_proxy_configuration:
      description:
        - The external key store proxy configuration (C(connectivity), C(access_key_id), C(uri_endpoint), C(uri_path),
          and C(vpc_endpoint_service_name) and C(vpc_endpoint_service_owner) when set); never the secret access key.
      type: dict
      returned: for EXTERNAL_KEY_STORE stores
actions:
  description:
    - The KMS API actions the run called (or, in check mode, would call), in order.
  returned: always
  type: list
  elements: str
  sample: [DisconnectCustomKeyStore, UpdateCustomKeyStore, ConnectCustomKeyStore]
"""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store import KeyStoreRunner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store import argument_spec
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import CustomKeyStoreModule
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import explain_aws_error
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import botocore_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure


def main():
    module = CustomKeyStoreModule(argument_spec=argument_spec(), supports_check_mode=True)
    client = module.wait_client("kms")
    module.fail_on_problem(botocore_problem(module.params, client))

    runner = KeyStoreRunner(
        client,
        module.region,
        check_mode=module.check_mode,
        create_client=lambda: module.single_attempt_client("kms"),
    )
    try:
        result = runner.run(module.params)
    except RunFailure as failure:
        module.fail_json(
            msg=failure.message, **dict(dict(changed=bool(runner.actions), actions=runner.actions), **failure.result)
        )
    except AnsibleKMSError as error:
        module.fail_json(msg=explain_aws_error(error), changed=bool(runner.actions), actions=runner.actions)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
