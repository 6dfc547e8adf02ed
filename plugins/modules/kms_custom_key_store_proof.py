#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: kms_custom_key_store_proof
version_added: 0.1.0
short_description: Prove that a CONNECTED AWS KMS custom key store can do cryptography
description:
  - A C(CONNECTED) custom key store means that KMS reached its backing key store, not that cryptography works. This
    module proves it, and changes nothing.
  - For a CloudHSM key store it calls C(GenerateRandom) with the store's C(CustomKeyStoreId), so that the HSMs of its
    cluster generate the bytes (KMS API Reference, GenerateRandom). The bytes are never returned, only their count.
  - For an external key store it makes an C(Encrypt)/C(Decrypt) round trip of random bytes with the KMS key of the
    store named by O(key_id), after C(DescribeKey) shows that the key is in that store. C(GenerateRandom) does not
    take external key stores. Without O(key_id) the store is reported as not checked, with the reason.
  - The module first reads the store with one C(DescribeCustomKeyStores) call. A store that is not C(CONNECTED) is
    reported as not proven, with no cryptographic call.
  - RV(proven) is V(true) when the proof succeeded, V(false) when KMS refused it or the store is not C(CONNECTED),
    and V(null) when it could not be checked (the caller lacks an IAM action, named in RV(missing_iam_action); no
    O(key_id) for an external key store; KMS throttled or did not answer). RV(reason) says which, in one sentence.
  - By default an outcome other than V(true) does not fail the task, so that a run that only reports is never
    stopped by a missing permission; O(required=true) makes it fail.
author:
  - awskms.custom_key_store contributors (@awskms)
options:
  custom_key_store_id:
    description:
      - The ID of the custom key store to prove, for example V(cks-1234567890abcdef0).
      - Mutually exclusive with O(custom_key_store_name); one of them is required.
    type: str
  custom_key_store_name:
    description:
      - The friendly name of the custom key store to prove.
      - Mutually exclusive with O(custom_key_store_id); one of them is required.
    type: str
  key_id:
    description:
      - For an external key store, a KMS key of that store (key ID, key ARN, alias name or alias ARN) to make the
        C(Encrypt)/C(Decrypt) round trip with. The task fails when the key is not in the store.
      - Not used for a CloudHSM key store (a warning says so).
    type: str
  required:
    description:
      - Fail the task unless the store is proven (RV(proven=true)). The result keys are returned with the failure.
    type: bool
    default: false
notes:
  - Supports check mode, and runs the proof in check mode too. C(GenerateRandom), C(DescribeKey), C(Encrypt) and
    C(Decrypt) change no AWS resource, so check mode gives the same answer as a real run; C(changed) is always
    false. The calls appear in CloudTrail and count against the KMS request quotas, and an external key store's proxy
    and key manager see the round trip.
  - "IAM actions used: C(kms:DescribeCustomKeyStores); C(kms:GenerateRandom) for a CloudHSM key store;
    C(kms:DescribeKey), C(kms:Encrypt) and C(kms:Decrypt) on the O(key_id) key for an external key store. A missing
    one gives RV(proven=null) and RV(missing_iam_action) (a failure with O(required=true))."
  - The round trip uses an encryption context with the key C(awskms.custom_key_store) and the value C(proof-of-use),
    so that CloudTrail shows what the calls were for.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Prove that a CloudHSM key store works (its HSMs generate random bytes)
  awskms.custom_key_store.kms_custom_key_store_proof:
    custom_key_store_name: payments-hsm
  register: proof

- name: Show the outcome
  ansible.builtin.debug:
    msg: "{{ proof.reason }}"

- name: Prove an external key store with one of its KMS keys, and fail unless it works
  awskms.custom_key_store.kms_custom_key_store_proof:
    custom_key_store_id: cks-1234567890abcdef0
    key_id: alias/xks-payments
    required: true
"""

RETURN = r"""
proven:
  description:
    - V(true) when the store proved that it can do cryptography, V(false) when it did not (KMS refused the call, or
      the store is not C(CONNECTED)), V(null) when the proof could not be made (see RV(reason)).
  returned: always
  type: bool
  sample: true
proof:
  description: How the store is proved, by its type - V(GenerateRandom) or V(Encrypt/Decrypt) (null when the store
    could not be read).
  returned: always
  type: str
  sample: GenerateRandom
reason:
  description: One sentence saying what was proved, or why not and what to do.
  returned: always
  type: str
  sample: "Proven: the CloudHSM cluster of custom key store payments-hsm (cks-1234567890abcdef0) generated 32 random
    bytes (GenerateRandom)."
missing_iam_action:
  description: The IAM action the caller lacks, when AWS answered C(AccessDeniedException).
  returned: when a call was denied
  type: str
  sample: kms:GenerateRandom
random_byte_count:
  description: How many random bytes C(GenerateRandom) returned (the bytes themselves are not returned).
  returned: when GenerateRandom answered
  type: int
  sample: 32
key_id:
  description: The ARN of the KMS key of the round trip.
  returned: when an external key store's key was described
  type: str
  sample: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
custom_key_store_id:
  description: The ID of the store.
  returned: when the store was read
  type: str
  sample: cks-1234567890abcdef0
custom_key_store_name:
  description: The name of the store.
  returned: when the store was read
  type: str
  sample: payments-hsm
custom_key_store_type:
  description: The type of the store.
  returned: when the store was read
  type: str
  sample: AWS_CLOUDHSM
connection_state:
  description: The store's connection state, as C(DescribeCustomKeyStores) gave it.
  returned: when the store was read
  type: str
  sample: CONNECTED
actions:
  description: The KMS API actions the run called, in order.
  returned: always
  type: list
  elements: str
  sample: [DescribeCustomKeyStores, GenerateRandom]
"""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import CustomKeyStoreModule
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import empty_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import format_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.proof import ProofRunner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure

SELECTORS = ("custom_key_store_id", "custom_key_store_name")

# Two attempts per call: a proof that gets no answer is reported (proven=null), not retried for minutes.
PROOF_CLIENT_CONFIG = {"retries": {"total_max_attempts": 2}}


def main():
    argument_spec = dict(
        custom_key_store_id=dict(type="str"),
        custom_key_store_name=dict(type="str"),
        key_id=dict(type="str"),
        required=dict(type="bool", default=False),
    )
    module = CustomKeyStoreModule(
        argument_spec=argument_spec,
        mutually_exclusive=[SELECTORS],
        required_one_of=[SELECTORS],
        supports_check_mode=True,
    )
    params = module.params
    problem = empty_problem(params, SELECTORS + ("key_id",)) or format_problem(params, ("custom_key_store_id",))
    module.fail_on_problem(problem)

    runner = ProofRunner(module.client("kms", config=PROOF_CLIENT_CONFIG), module.region)
    try:
        result = runner.prove(params["custom_key_store_id"], params["custom_key_store_name"], params["key_id"])
    except RunFailure as failure:
        module.fail_json(msg=failure.message, **failure.result)
    except AnsibleKMSError as error:
        module.fail_aws_error(error, changed=False, actions=runner.actions)
    for warning in runner.warnings:
        module.warn(warning)
    if params["required"] and result["proven"] is not True:
        module.fail_json(msg=result["reason"], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
