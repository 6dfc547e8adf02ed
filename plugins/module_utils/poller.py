# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The poll schedule used while waiting for a custom key store to change state.

The first poll comes 1 s after the call and the delay doubles up to a 30 s cap:
a 2 s connection (the emulator) is seen within about a second, and a 20-minute CloudHSM
connection costs 44 DescribeCustomKeyStores polls instead of hundreds, which matters under
KMS's low per-account request quota for custom key store operations.
"""

FIRST_DELAY = 1.0
BACKOFF = 2.0
MAX_DELAY = 30.0


def poll_delays(first=FIRST_DELAY, factor=BACKOFF, cap=MAX_DELAY):
    """Endless delays, in seconds, between a call and the polls that follow it."""
    delay = first
    while True:
        yield delay
        delay = min(cap, delay * factor)


def poll_times(timeout):
    """Seconds after the call at which the waiter polls, the last one at the timeout itself."""
    times = []
    elapsed = 0.0
    for delay in poll_delays():
        elapsed = min(elapsed + delay, timeout)
        times.append(elapsed)
        if elapsed >= timeout:
            return times


def detection(transition_at, timeout):
    """(polls made, detection lag in seconds) for a transition `transition_at` seconds after the call.

    The lag is None when the transition comes after the last poll (the wait times out).
    """
    times = poll_times(timeout)
    for count, polled_at in enumerate(times, start=1):
        if polled_at >= transition_at:
            return count, polled_at - transition_at
    return len(times), None
