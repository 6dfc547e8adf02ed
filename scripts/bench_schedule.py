# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench's analysis of the poll schedule the collection waits with (plugins/module_utils/polling.py):
when a wait polls, and how soon it sees a transition."""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.polling import poll_times as schedule


def lag_bound(transition_at):
    """The worst lag polling.py promises for a transition `transition_at` seconds after the call."""
    return min(30.0, max(2.0, 0.25 * transition_at))


def poll_times(timeout):
    """Seconds after the call at which the wait polls, the last one at the timeout itself."""
    times = []
    for at in schedule():
        times.append(min(at, timeout))
        if at >= timeout:
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


def worst_case(transition_at, timeout):
    """(polls, worst lag, the polls around it) for a connection ending anywhere between the polls around `transition_at`.

    A connection that ends just after a poll is seen at the next one: its lag approaches the gap between them.
    """
    times = [0.0] + poll_times(timeout)
    for count, (earlier, later) in enumerate(zip(times, times[1:]), start=1):
        if later >= transition_at:
            return count, later - earlier, (earlier, later)
    return len(times) - 1, None, None
