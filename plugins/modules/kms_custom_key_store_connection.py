#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: kms_custom_key_store_connection
version_added: 0.1.0
short_description: Connect or disconnect an AWS KMS custom key store, and wait for the outcome
description:
  - Makes an AWS KMS custom key store (backed by an AWS CloudHSM cluster or by an external key store proxy)
    C(CONNECTED) or C(DISCONNECTED).
  - Reads the store's C(ConnectionState) first and calls C(ConnectCustomKeyStore) or C(DisconnectCustomKeyStore)
    only when the state requires it, so a store that is already as requested costs a single
    C(DescribeCustomKeyStores) call and reports no change.
  - A store that is C(DISCONNECTING) is waited for until C(DISCONNECTED), then connected (bounded by O(wait_timeout)).
  - A store that is C(FAILED) is not touched unless O(reconnect_failed=true); otherwise the task fails with the
    connection error code, what it means and the next step.
  - If the state moves between the read and the call (another client acting at the same time), the store is read
    again and the decision is made again, a bounded number of times.
  - Connecting is asynchronous and can take up to 20 minutes for a CloudHSM key store. With O(wait=true) the module
    polls, 1 second after the call and then every quarter of the time since the call (at least 2, at most 30 seconds
    apart), until the store is C(CONNECTED) (or C(DISCONNECTED)), C(FAILED), or O(wait_timeout) has passed. Once the
    store has been read, polls that are throttled, get no answer (a network blip) or an HTTP 5xx answer are skipped;
    only another AWS error (access denied, not found) or O(wait_timeout) ends the wait.
  - Right after its own C(ConnectCustomKeyStore) or C(DisconnectCustomKeyStore), the module takes a read that still
    shows the state from before the call as stale (KMS's reads are eventually consistent) for 10 seconds, so one
    connection costs one C(ConnectCustomKeyStore).
author:
  - awskms.custom_key_store contributors (@awskms)
options:
  custom_key_store_id:
    description:
      - The ID of the custom key store, for example V(cks-1234567890abcdef0).
      - Mutually exclusive with O(custom_key_store_name); one of them is required.
    type: str
  custom_key_store_name:
    description:
      - The friendly name of the custom key store.
      - Mutually exclusive with O(custom_key_store_id); one of them is required.
    type: str
  state:
    description:
      - The desired connection state.
    type: str
    choices: [connected, disconnected]
    default: connected
  reconnect_failed:
    description:
      - When the store is C(FAILED) and O(state=connected), disconnect it, wait until it is C(DISCONNECTED),
        and connect it again. AWS accepts no C(ConnectCustomKeyStore) call on a C(FAILED) store.
      - Only a store found C(FAILED) is reconnected; if the new connection attempt fails too, the task fails
        with its error code.
      - Use it for transient error codes (C(INTERNAL_ERROR), C(NETWORK_ERRORS)) or after fixing the cause.
        Disconnecting interrupts all cryptographic use of the store's KMS keys.
    type: bool
    default: false
  prove:
    description:
      - With O(state=connected), prove that a CloudHSM key store the run leaves C(CONNECTED) can do cryptography,
        as M(awskms.custom_key_store.kms_custom_key_store_proof) does, in the same module run - C(GenerateRandom) in
        its cluster, one more call; the outcome is RV(proof). C(CONNECTED) means only that KMS reached the cluster.
      - A proof that cannot be made (the caller lacks C(kms:GenerateRandom), KMS refused or did not answer) is said in
        RV(proof), never a failure of the task.
      - An external key store is proved only by M(awskms.custom_key_store.kms_custom_key_store_proof), with one of its
        KMS keys; a store that is not C(CONNECTED) (O(wait=false), or C(FAILED)) and check mode's predicted
        C(CONNECTED) are not proved either.
    type: bool
    default: false
notes:
  - Supports check mode and diff mode. Check mode makes one C(DescribeCustomKeyStores) call and no other (and,
    with O(prove=true) on a store that was C(CONNECTED) when read, C(GenerateRandom)).
  - "IAM actions used: C(kms:DescribeCustomKeyStores), C(kms:ConnectCustomKeyStore), C(kms:DisconnectCustomKeyStore);
    with O(prove=true), C(kms:GenerateRandom)."
extends_documentation_fragment:
  - awskms.custom_key_store.wait
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Connect a custom key store and wait until it is CONNECTED
  awskms.custom_key_store.kms_custom_key_store_connection:
    custom_key_store_name: production-hsm-store
    wait: true
    wait_timeout: 1800

- name: Start connecting without waiting
  awskms.custom_key_store.kms_custom_key_store_connection:
    custom_key_store_id: cks-1234567890abcdef0

- name: Connect a CloudHSM key store, wait, and prove that it can do cryptography
  awskms.custom_key_store.kms_custom_key_store_connection:
    custom_key_store_name: production-hsm-store
    wait: true
    prove: true
  register: connection

- name: Say what the proof found
  ansible.builtin.debug:
    msg: "{{ connection.proof.reason }}"

- name: Reconnect a store that failed with a transient error
  awskms.custom_key_store.kms_custom_key_store_connection:
    custom_key_store_id: cks-1234567890abcdef0
    reconnect_failed: true
    wait: true

- name: Disconnect a store (its KMS keys become unusable until it is connected again)
  awskms.custom_key_store.kms_custom_key_store_connection:
    custom_key_store_name: production-hsm-store
    state: disconnected
    wait: true

- name: Set the AWS connection once for every module of this collection and of amazon.aws
  module_defaults:
    group/awskms.custom_key_store.aws:
      region: eu-west-1
      profile: kms-admin
  block:
    - name: Connect
      awskms.custom_key_store.kms_custom_key_store_connection:
        custom_key_store_name: production-hsm-store
        wait: true
"""

RETURN = r"""
custom_key_store:
  description: The custom key store after the run, as C(DescribeCustomKeyStores) describes it, in snake_case.
  returned: when the store exists
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
      description: The CloudHSM cluster that backs the store (CloudHSM key stores only).
      type: str
      returned: for AWS_CLOUDHSM stores
      sample: cluster-jxhlf7644ne
    connection_state:
      description: The connection state of the store.
      type: str
      sample: CONNECTED
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
      description: The external key store proxy configuration (never the secret access key).
      type: dict
      returned: for EXTERNAL_KEY_STORE stores
connection_state:
  description:
    - The connection state after the run. Without O(wait) it is the state the last call left the store in
      (C(CONNECTING) or C(DISCONNECTING)); in check mode, the state the run would have left it in.
  returned: when the store exists
  type: str
  sample: CONNECTED
connection_error_code:
  description: The connection error code when the store is C(FAILED).
  returned: when connection_state is FAILED
  type: str
  sample: INSUFFICIENT_CLOUDHSM_HSMS
connection_error_class:
  description:
    - What kind of problem RV(connection_error_code) is, which says what can repair it (the C(connect) role acts on it).
    - V(transient), V(hsm_capacity), V(credentials), V(operator_action), V(cluster_network), V(xks_configuration),
      or V(unknown) for a code this collection does not know yet.
  returned: when connection_state is FAILED
  type: str
  sample: hsm_capacity
connection_error_meaning:
  description: What AWS documents RV(connection_error_code) to mean.
  returned: when connection_state is FAILED
  type: str
  sample: The CloudHSM cluster has no ACTIVE HSM.
connection_error_remedy:
  description: What the operator should do about RV(connection_error_code).
  returned: when connection_state is FAILED
  type: str
  sample: Add an HSM to the cluster ..., wait until it is ACTIVE, then disconnect and connect the store again.
actions:
  description:
    - The KMS API actions the run called (or, in check mode, would call), in order.
  returned: when the store exists
  type: list
  elements: str
  sample: [DisconnectCustomKeyStore, ConnectCustomKeyStore]
state_history:
  description: Each connection state the run saw, with the seconds since the task started.
  returned: when the run waited
  type: list
  elements: dict
  contains:
    connection_state:
      description: The state.
      type: str
    seconds:
      description: Seconds since the start of the task when the state was first seen.
      type: float
  sample: [{"connection_state": "DISCONNECTED", "seconds": 0.0}, {"connection_state": "CONNECTING", "seconds": 0.1},
           {"connection_state": "CONNECTED", "seconds": 2.2}]
proof:
  description:
    - The proof of use (O(prove=true)), as M(awskms.custom_key_store.kms_custom_key_store_proof) returns it.
  returned: when O(prove=true) and the run ended without failing
  type: dict
  contains:
    proven:
      description:
        - V(true) when the store proved that it can do cryptography, V(false) when KMS refused the call, V(null) when
          the proof was not made or could not be made (see RV(proof.reason)).
      type: bool
      sample: true
    proof:
      description: V(GenerateRandom), or null when the proof was not made.
      type: str
      sample: GenerateRandom
    reason:
      description: One sentence saying what was proved, or why not and what to do.
      type: str
      sample: "Proven: the CloudHSM cluster of custom key store production-hsm-store (cks-1234567890abcdef0) generated
        32 random bytes (GenerateRandom)."
    actions:
      description: The KMS API actions the proof called (they change nothing, so they are not in RV(actions)).
      type: list
      elements: str
      sample: [GenerateRandom]
    missing_iam_action:
      description: The IAM action the caller lacks, when AWS answered C(AccessDeniedException).
      type: str
      returned: when the proof's call was denied
      sample: kms:GenerateRandom
    random_byte_count:
      description: How many random bytes C(GenerateRandom) returned (the bytes themselves are not returned).
      type: int
      returned: when GenerateRandom answered
      sample: 32
"""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection import ConnectionRunner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import store_selector
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import CustomKeyStoreModule
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import empty_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import wait_timeout_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.proof import prove_connected_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure


def main():
    argument_spec = dict(
        custom_key_store_id=dict(type="str"),
        custom_key_store_name=dict(type="str"),
        state=dict(type="str", default="connected", choices=["connected", "disconnected"]),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1200),
        reconnect_failed=dict(type="bool", default=False),
        prove=dict(type="bool", default=False),
    )
    module = CustomKeyStoreModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["custom_key_store_id", "custom_key_store_name"]],
        required_one_of=[["custom_key_store_id", "custom_key_store_name"]],
        supports_check_mode=True,
    )
    params = module.params
    problem = empty_problem(params, ("custom_key_store_id", "custom_key_store_name")) or wait_timeout_problem(params)
    if not problem and params["prove"] and params["state"] != "connected":
        problem = "prove=true proves a store this task leaves CONNECTED: use it with state=connected."
    module.fail_on_problem(problem)

    selector, label = store_selector(params["custom_key_store_id"], params["custom_key_store_name"])
    client = module.wait_client("kms")
    runner = ConnectionRunner(client, selector, label, module.region, check_mode=module.check_mode)
    try:
        result = runner.run(
            params["state"],
            wait=params["wait"],
            wait_timeout=params["wait_timeout"],
            reconnect_failed=params["reconnect_failed"],
        )
    except RunFailure as failure:
        module.fail_json(msg=failure.message, **failure.result)
    except AnsibleKMSError as error:
        module.fail_aws_error(error, actions=runner.actions)
    if params["prove"]:
        # The wait client's 2 attempts: a proof that gets no answer is reported (proven null), not retried for minutes.
        # Check mode proves only a store that was CONNECTED when read: any other CONNECTED is its prediction.
        predicted = module.check_mode and runner.history[0]["connection_state"] != "CONNECTED"
        result["proof"] = prove_connected_store(client, module.region, runner.entry, predicted=predicted)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
