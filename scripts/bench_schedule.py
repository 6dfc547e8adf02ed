# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench's analysis of the poll schedule the collection waits with (plugins/module_utils/polling.py):
when a wait polls, and how soon it sees a transition."""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.polling import poll_delays


def poll_times(timeout):
    """Seconds after the call at which the wait polls, the last one at the timeout itself."""
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
