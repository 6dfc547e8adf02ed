# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: aws_error_advice
version_added: 0.1.0
short_description: The next step for an AWS refusal of a custom key store or CloudHSM operation
description:
  - Returns the next step this collection's modules give for an AWS error code that the operator can fix,
    for example V(CloudHsmClusterNotActiveException), from the same table the modules use.
  - The C(connect) role uses it to say what to do about a cluster that is not C(ACTIVE).
author:
  - awskms.custom_key_store contributors (@awskms)
options:
  _input:
    description: The AWS error code.
    type: str
    required: true
  cluster_state:
    description:
      - The state of the CloudHSM cluster, when known. For V(CloudHsmClusterNotActiveException) the next step
        then depends on it (initialize, activate, wait, replace).
    type: str
"""

EXAMPLES = r"""
- name: Say what to do about a cluster that is not ACTIVE
  ansible.builtin.debug:
    msg: "{{ 'CloudHsmClusterNotActiveException' | awskms.custom_key_store.aws_error_advice(cluster_state='INITIALIZED') }}"
"""

RETURN = r"""
_value:
  description: The next step, or an empty string for a code without one.
  type: str
"""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import aws_error_advice as _advice


def aws_error_advice(code, cluster_state=None):
    return _advice(code, cluster_state) or ""


class FilterModule:
    def filters(self):
        return {"aws_error_advice": aws_error_advice}
