# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMS's request quota for the custom key store operations, and the request rates a log shows.

AWS KMS Developer Guide, "Request quotas": each of the six custom key store operations has its own
quota ("ConnectCustomKeyStore request rate | 5", "DescribeCustomKeyStores request rate | 5", ...), and
"Each request quota is calculated independently", per account and Region ("Quotas": "Each quota is
calculated independently for each Region of each AWS account"). The emulator holds one account, so a
Region stands for an account and Region.

How a second is counted, AWS does not say beyond "in each one-second interval"; the emulator's choice is
the strictest reading: at most N accepted requests in any sliding window of one second (a window aligned
to clock seconds would let 2 N through across a boundary). A throttled request is not counted: the
quota counts operations KMS performs. Off (0) unless a setting or a Region's own rate turns it on.
"""

import bisect

from .errors import ControlError
from .errors import ThrottlingError
from .world import check_region

OPERATIONS = (
    "CreateCustomKeyStore",
    "DescribeCustomKeyStores",
    "ConnectCustomKeyStore",
    "DisconnectCustomKeyStore",
    "UpdateCustomKeyStore",
    "DeleteCustomKeyStore",
)
SETTING = "custom_key_store_request_rate_quota"
WINDOW_SECONDS = 1.0
# KMS Developer Guide, "Request quotas" (the ThrottlingException it shows).
MESSAGE = "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."


class RequestQuota:
    """Requests per second per custom key store operation and Region: the setting, or a Region's own rate."""

    def __init__(self, settings, clock):
        self.settings = settings
        self.clock = clock
        self.region_rates = {}  # region -> requests per second, replacing the setting there (0: off)
        self._accepted = (
            {}
        )  # (region, operation) -> sorted monotonic arrival times of the last second's accepted requests
        self.counts = {}  # (region, operation) -> {"accepted": n, "throttled": n}, while the quota is on

    def rate(self, region):
        """The requests per second allowed in `region` (0: no quota)."""
        return self.region_rates.get(region, self.settings[SETTING])

    def check(self, region, operation, arrived=None):
        """Count one request that arrived at `arrived` (monotonic; default now), or raise the ThrottlingException
        KMS answers above the quota. Requests count by their arrival, as the request log times them."""
        limit = self.rate(region)
        if operation not in OPERATIONS or not limit:
            return
        key = (region, operation)
        arrived = self.clock.monotonic() if arrived is None else arrived
        accepted = self._accepted.setdefault(key, [])
        # Threads may reach the check out of arrival order: keep the times sorted, count the window before `arrived`.
        del accepted[: bisect.bisect_right(accepted, arrived - WINDOW_SECONDS)]
        counts = self.counts.setdefault(key, {"accepted": 0, "throttled": 0})
        if len(accepted) >= limit:
            counts["throttled"] += 1
            raise ThrottlingError("ThrottlingException", MESSAGE)
        bisect.insort(accepted, arrived)
        counts["accepted"] += 1

    def configure(self, fields):
        """Control action: `requests_per_second` for one Region (a whole number; 0 turns it off, null: the setting)."""
        region = check_region(fields.get("region", "string"), "request-quota")
        rate = fields.get("requests_per_second", "integer")
        fields.done()
        if rate is not None and rate < 0:
            raise ControlError('"requests_per_second" must be a whole number, zero or more (0 turns the quota off).')
        if rate is None:
            self.region_rates.pop(region, None)
        else:
            self.region_rates[region] = rate
        return self.as_dict()

    def reset(self, region=None):
        """Forget one Region's rate and counts, or every Region's."""
        for table in (self.region_rates, self._accepted, self.counts):
            for key in list(table):
                if region is None or key == region or (isinstance(key, tuple) and key[0] == region):
                    del table[key]

    def as_dict(self):
        """The setting, the Regions' own rates, and each operation's accepted and throttled requests."""
        return {
            "requests_per_second": self.settings[SETTING],
            "regions": dict(self.region_rates),
            "operations": list(OPERATIONS),
            "counts": [
                {"region": region, "operation": operation, **counts}
                for (region, operation), counts in sorted(self.counts.items())
            ],
        }


def peak_per_second(times, window=WINDOW_SECONDS):
    """The most requests in any one-second window (a sliding window, as the quota counts them); `window` is that
    second in the unit of `times` (whole microseconds, say, to leave float noise out)."""
    times = sorted(times)
    best = start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def request_rates(entries, seconds=None):
    """{(region, operation): {"calls", "throttled", "peak", "mean"}} from request-log entries.

    Calls and the peak count the requests KMS accepted (every answer but ThrottlingException), throttled the
    others; the mean is calls per second over `seconds` (default: from the first to the last request logged).
    """
    groups = {}
    for entry in entries:
        if entry.get("operation") and entry.get("region"):
            groups.setdefault((entry["region"], entry["operation"]), []).append(entry)
    if seconds is None and entries:
        moments = [entry["time"] for entry in entries]
        seconds = max(moments) - min(moments)
    rates = {}
    for key, group in groups.items():
        accepted = [entry["time"] for entry in group if entry.get("error_code") != "ThrottlingException"]
        rates[key] = {
            "calls": len(accepted),
            "throttled": len(group) - len(accepted),
            "peak": peak_per_second(accepted),
            "mean": len(accepted) / seconds if seconds else float(len(accepted)),
        }
    return rates
