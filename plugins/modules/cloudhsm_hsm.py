#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: cloudhsm_hsm
version_added: 0.1.0
short_description: Make sure an AWS CloudHSM cluster has an HSM in an Availability Zone, or delete an HSM, and wait
description:
  - With O(state=present), makes sure an HSM serves one Availability Zone of an AWS CloudHSM (v2) cluster, named by
    O(availability_zone) or by the cluster's subnet there (O(subnet_id)). An HSM that is C(ACTIVE) or
    C(CREATE_IN_PROGRESS) in that Availability Zone is enough, so a rerun changes nothing; otherwise the module calls
    C(CreateHsm). An HSM that is C(DEGRADED) or C(DELETE_IN_PROGRESS) does not count.
  - With O(state=absent), deletes the HSM selected by O(hsm_id), O(eni_id) or O(eni_ip) with C(DeleteHsm). An HSM
    that is not there, or is already C(DELETE_IN_PROGRESS), is left as it is.
  - The module reads the cluster with one C(DescribeClusters) call and calls C(CreateHsm) or C(DeleteHsm) only when
    needed. With O(wait=true) it then polls C(DescribeClusters), 1 second after the call and then every quarter of the
    time since the call (at least 2, at most 30 seconds apart), until the HSM is C(ACTIVE) (or gone), or
    O(wait_timeout) has passed. Once the cluster has been read, polls that are throttled, get no answer or an HTTP 5xx
    answer are skipped; only another AWS error or O(wait_timeout) ends the wait.
  - B(Each HSM is billed by the hour from its creation until it is deleted.) Creating one costs money even if it is
    never used. Deleting the last C(ACTIVE) HSM of a cluster that backs a KMS custom key store makes the store's
    KMS keys unusable until an HSM is C(ACTIVE) again.
  - "A guard on the last HSMs: before a C(DeleteHsm) that would leave the cluster with no C(ACTIVE) HSM, or with
    C(ACTIVE) HSMs in fewer than two Availability Zones where there were two, the module looks up the KMS custom key
    stores of the cluster (C(DescribeCustomKeyStores), every page; the C(AWS_CLOUDHSM) stores with this
    C(CloudHsmClusterId)). It refuses, naming the store, to delete the last C(ACTIVE) HSM while a store is
    C(CONNECTED), and warns when a store would be left unable to connect (no C(ACTIVE) HSM) or unable to create KMS
    keys. The KMS API Reference says so of C(CloudHsmClusterInvalidConfigurationException): For the
    CreateCustomKeyStore, UpdateCustomKeyStore, and CreateKey operations, the CloudHSM cluster must have at least two
    active HSMs, each in a different Availability Zone. For the ConnectCustomKeyStore operation, the CloudHSM must
    contain at least one active HSM."
  - Deleting an HSM that is not C(ACTIVE), or one whose deletion leaves C(ACTIVE) HSMs in two Availability Zones,
    needs no look-up. O(allow_last_hsm_deletion=true) skips the look-up, the refusal and the warnings.
  - A cluster that cannot take HSMs in its current state is not checked beforehand; AWS refuses C(CreateHsm) and
    the task fails with AWS's one-line error. Check mode therefore reports a change for such a cluster.
author:
  - awskms.custom_key_store contributors (@awskms)
options:
  cluster_id:
    description:
      - The id of the CloudHSM cluster, for example V(cluster-jxhlf7644ne).
    type: str
    required: true
  state:
    description:
      - V(present) makes sure an HSM serves the Availability Zone; V(absent) deletes the selected HSM.
    type: str
    choices: [present, absent]
    default: present
  availability_zone:
    description:
      - The Availability Zone that must have an HSM, for example V(eu-west-1a). It must be one of the cluster's
        (a key of its subnet mapping).
      - Only with O(state=present). Mutually exclusive with O(subnet_id); one of them is required.
    type: str
  subnet_id:
    description:
      - The cluster's subnet whose Availability Zone must have an HSM.
      - Only with O(state=present). Mutually exclusive with O(availability_zone); one of them is required.
    type: str
  ip_address:
    description:
      - The IP address, in the Availability Zone's subnet, to give a new HSM's network interface. AWS picks one
        when omitted.
      - Used only when an HSM is created; an HSM already serving the Availability Zone at another address
        satisfies the task, with a warning.
      - Only with O(state=present).
    type: str
  hsm_id:
    description:
      - The id of the HSM to delete, for example V(hsm-abcdefghij2).
      - Only with O(state=absent). Mutually exclusive with O(eni_id) and O(eni_ip); one of them is required.
    type: str
  eni_id:
    description:
      - The id of the elastic network interface of the HSM to delete.
      - Only with O(state=absent). Mutually exclusive with O(hsm_id) and O(eni_ip); one of them is required.
    type: str
  eni_ip:
    description:
      - The IP address of the elastic network interface of the HSM to delete.
      - Only with O(state=absent). Mutually exclusive with O(hsm_id) and O(eni_id); one of them is required.
    type: str
  allow_last_hsm_deletion:
    description:
      - Delete the HSM without looking up the custom key stores of the cluster, even when it is the last C(ACTIVE)
        HSM of a cluster whose KMS custom key store is C(CONNECTED), which makes every KMS key in that store unusable
        until an HSM is C(ACTIVE) again.
      - Without it, such a deletion is refused, and a caller that may not call C(kms:DescribeCustomKeyStores) cannot
        delete an HSM whose deletion needs the look-up; with it, the module needs no KMS permission.
      - Only with O(state=absent).
    type: bool
    default: false
  wait:
    description:
      - Wait until the HSM is C(ACTIVE) (O(state=present)) or gone (O(state=absent)).
      - Waiting for C(ACTIVE) fails if the HSM becomes C(DEGRADED) or disappears.
      - Without O(wait), the module returns right after the call, with the HSM C(CREATE_IN_PROGRESS) or
        C(DELETE_IN_PROGRESS).
    type: bool
    default: false
  wait_timeout:
    description:
      - How long to wait, in seconds, counted from the start of the task. Must be greater than 0.
      - When the time is up, the task fails with the last observed state; AWS carries on with the operation,
        and running the task again resumes waiting.
    type: int
    default: 1800
notes:
  - Supports check mode and diff mode. Check mode makes one C(DescribeClusters) call, plus the
    C(DescribeCustomKeyStores) calls of the guard on the last HSMs when a deletion needs them, and takes the same
    decision (refusal, warnings) as a real run.
  - "IAM actions used: C(cloudhsm:DescribeClusters); C(cloudhsm:CreateHsm) or C(cloudhsm:DeleteHsm) when the module
    changes something; C(kms:DescribeCustomKeyStores) when a deletion needs the guard's look-up (not with
    O(allow_last_hsm_deletion=true)). Without that KMS action such a deletion fails with a sentence naming it, before
    any C(DeleteHsm)."
  - "AWS's Service Authorization Reference for AWS CloudHSM lists the C(CreateHsm) operation as authorizing, besides
    C(cloudhsm:CreateHsm), C(ec2:AuthorizeSecurityGroupEgress), C(ec2:AuthorizeSecurityGroupIngress),
    C(ec2:CreateNetworkInterface), C(ec2:CreateSecurityGroup), C(ec2:DeleteNetworkInterface),
    C(ec2:DescribeNetworkInterfaces), C(ec2:DescribeSecurityGroups), C(ec2:DescribeSubnets) and
    C(ec2:RevokeSecurityGroupEgress); and the C(DeleteHsm) operation as authorizing, besides C(cloudhsm:DeleteHsm),
    C(ec2:DeleteNetworkInterface). The principal that runs the module needs those EC2 actions too."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Make sure eu-west-1a has an HSM, and wait until it is ACTIVE (each HSM is billed by the hour)
  awskms.custom_key_store.cloudhsm_hsm:
    cluster_id: cluster-jxhlf7644ne
    availability_zone: eu-west-1a
    wait: true

- name: Make sure the AZ of one of the cluster's subnets has an HSM, at a given address
  awskms.custom_key_store.cloudhsm_hsm:
    cluster_id: cluster-jxhlf7644ne
    subnet_id: subnet-0e5f6a7b
    ip_address: 10.0.2.20

- name: Delete an HSM and wait until it is gone
  awskms.custom_key_store.cloudhsm_hsm:
    cluster_id: cluster-jxhlf7644ne
    state: absent
    hsm_id: hsm-abcdefghij2
    wait: true

- name: Delete the last ACTIVE HSM even though the cluster's custom key store is CONNECTED (its KMS keys stop working)
  awskms.custom_key_store.cloudhsm_hsm:
    cluster_id: cluster-jxhlf7644ne
    state: absent
    hsm_id: hsm-abcdefghij2
    allow_last_hsm_deletion: true

- name: Delete the HSM at an IP address
  awskms.custom_key_store.cloudhsm_hsm:
    cluster_id: cluster-jxhlf7644ne
    state: absent
    eni_ip: 10.0.1.12
"""

RETURN = r"""
hsm:
  description:
    - The HSM after the run, as C(DescribeClusters) or C(CreateHsm) describes it, in snake_case. In check mode, the
      HSM the run would create (no id yet) or the state the run would leave it in.
    - Empty when there is no HSM after the run (deleted and waited for, or not found).
  returned: always
  type: dict
  contains:
    hsm_id:
      description: The id of the HSM.
      type: str
      returned: when the HSM exists
      sample: hsm-abcdefghij2
    cluster_id:
      description: The id of the cluster.
      type: str
      sample: cluster-jxhlf7644ne
    availability_zone:
      description: The Availability Zone of the HSM.
      type: str
      sample: eu-west-1a
    subnet_id:
      description: The subnet of the HSM's network interface.
      type: str
      sample: subnet-0a1b2c3d
    eni_id:
      description: The id of the HSM's elastic network interface.
      type: str
      returned: when AWS gives it
    eni_ip:
      description: The IP address of the HSM's elastic network interface.
      type: str
      returned: when AWS gives it
      sample: 10.0.1.12
    hsm_type:
      description: The type of the HSM.
      type: str
      returned: when AWS gives it
    state:
      description: The state of the HSM.
      type: str
      sample: ACTIVE
    state_message:
      description: A description of the HSM's state.
      type: str
      returned: when AWS gives it
cluster_id:
  description: The id of the cluster.
  returned: always
  type: str
  sample: cluster-jxhlf7644ne
custom_key_stores:
  description:
    - The KMS custom key stores of the cluster, as the guard on the last HSMs found them before the deletion.
  returned: when a deletion needed the guard's look-up (state=absent, allow_last_hsm_deletion=false)
  type: list
  elements: dict
  contains:
    custom_key_store_id:
      description: The id of the store.
      type: str
      sample: cks-1234567890abcdef0
    custom_key_store_name:
      description: The name of the store.
      type: str
      sample: payments-hsm
    connection_state:
      description: The store's connection state.
      type: str
      sample: CONNECTED
key_store_warnings:
  description:
    - The warnings of the guard on the last HSMs (also given as the task's warnings), so that a playbook can act on
      them. Empty when the deletion harms no key store of the cluster.
  returned: when custom_key_stores is
  type: list
  elements: str
actions:
  description: The CloudHSM API actions the run called (or, in check mode, would call).
  returned: always
  type: list
  elements: str
  sample: [CreateHsm]
"""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.cloudhsm import AnsibleCloudHSMError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.hsm import HsmRunner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import CustomKeyStoreModule
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import HSM_ABSENT_OPTIONS
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import HSM_PRESENT_OPTIONS
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import empty_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import hsm_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import wait_timeout_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure


def main():
    argument_spec = dict(
        cluster_id=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        availability_zone=dict(type="str"),
        subnet_id=dict(type="str"),
        ip_address=dict(type="str"),
        hsm_id=dict(type="str"),
        eni_id=dict(type="str"),
        eni_ip=dict(type="str"),
        allow_last_hsm_deletion=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1800),
    )
    module = CustomKeyStoreModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["availability_zone", "subnet_id"], ["hsm_id", "eni_id", "eni_ip"]],
        required_if=[
            ["state", "present", ["availability_zone", "subnet_id"], True],
            ["state", "absent", ["hsm_id", "eni_id", "eni_ip"], True],
        ],
        supports_check_mode=True,
    )
    params = module.params
    problem = empty_problem(params, ("cluster_id",) + HSM_PRESENT_OPTIONS + HSM_ABSENT_OPTIONS)
    module.fail_on_problem(problem or wait_timeout_problem(params) or hsm_problem(params))

    runner = HsmRunner(
        module.wait_client("cloudhsmv2"),
        params["cluster_id"],
        module.region,
        check_mode=module.check_mode,
        create_client=lambda: module.single_attempt_client("cloudhsmv2"),
        kms_client=lambda: module.client("kms"),
    )
    try:
        if params["state"] == "present":
            result = runner.present(
                availability_zone=params["availability_zone"],
                subnet_id=params["subnet_id"],
                ip_address=params["ip_address"],
                wait=params["wait"],
                wait_timeout=params["wait_timeout"],
            )
        else:
            result = runner.absent(
                hsm_id=params["hsm_id"],
                eni_id=params["eni_id"],
                eni_ip=params["eni_ip"],
                wait=params["wait"],
                wait_timeout=params["wait_timeout"],
                allow_last_hsm_deletion=params["allow_last_hsm_deletion"],
            )
    except RunFailure as failure:
        module.fail_json(msg=failure.message, **failure.result)
    except (AnsibleCloudHSMError, AnsibleKMSError) as error:
        module.fail_aws_error(
            error, changed=bool(runner.actions), cluster_id=params["cluster_id"], actions=runner.actions
        )
    for warning in runner.warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
