# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # wait and wait_timeout of the modules that connect or disconnect a custom key store.
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until the store is C(CONNECTED) (or, after a disconnection, C(DISCONNECTED)) following the module's last
        connect (or disconnect) call, or fail when it ends C(FAILED) or O(wait_timeout) passes.
      - Without O(wait), the module returns right after that call, with the store C(CONNECTING) (or C(DISCONNECTING)).
    type: bool
    default: false
  wait_timeout:
    description:
      - How long the module may wait, in seconds, counted from the start of the task. Must be greater than 0.
      - Also bounds the waits the module makes without O(wait), for a store to become C(DISCONNECTED) before it is
        changed, deleted or connected.
      - When the time is up, the task fails with the last observed state; AWS carries on with the operation,
        and running the task again resumes waiting.
    type: int
    default: 1200
"""
