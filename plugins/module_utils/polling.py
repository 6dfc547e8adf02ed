# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The poll schedule and the poll loop behind every wait of this collection (a store's connection, an HSM's
creation or deletion).

The first poll comes 1 s after the call and the delay doubles up to a 30 s cap:
a 2 s connection (the emulator) is seen within about a second, and a 20-minute CloudHSM
connection costs 44 DescribeCustomKeyStores calls instead of hundreds, which matters under
KMS's low per-account request quota for custom key store operations.
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import is_throttling

FIRST_DELAY = 1.0
BACKOFF = 2.0
MAX_DELAY = 30.0


def poll_delays(first=FIRST_DELAY, factor=BACKOFF, cap=MAX_DELAY):
    """Endless delays, in seconds, between a call and the polls that follow it."""
    delay = first
    while True:
        yield delay
        delay = min(cap, delay * factor)


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
