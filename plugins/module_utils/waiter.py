# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The poll loop behind every wait of this collection (a store's connection, an HSM's creation or deletion)."""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import is_throttling
from ansible_collections.awskms.custom_key_store.plugins.module_utils.poller import poll_delays


def polls(describe, deadline, sleep, clock):
    """Call describe() at the poll schedule's delays until `deadline` (a clock() value); yield each answer.

    A poll still throttled after AWSRetry's retries is skipped: throttling never ends a wait. The caller
    stops when it sees what it waits for; when the generator ends, the wait has timed out.
    """
    for delay in poll_delays():
        remaining = deadline - clock()
        if remaining <= 0:
            return
        sleep(min(delay, remaining))
        try:
            answer = describe()
        except AnsibleAWSError as error:
            if not is_throttling(error):
                raise
            continue
        yield answer
