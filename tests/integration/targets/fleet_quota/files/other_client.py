# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Another client of the fleet's account: it keeps the DescribeCustomKeyStores and ConnectCustomKeyStore quota of
each Region busy (every 0.1 s a Describe of all stores and a Connect of a store that does not exist) until the
fleet's own calls have been throttled there, then 1 s more, so the fleet meets KMS's quota for certain. The fleet
alone makes about one call a second per operation and Region, under any quota.

Usage: other_client.py URL SINCE REGION...
Prints {"throttled_fleet_calls": {region: n}, "calls": n} and exits 0 once the fleet was throttled in every Region,
1 when it was not within 120 s.
"""

import http.client
import json
import sys
import time
from urllib.parse import urlsplit
from urllib.request import urlopen

UNKNOWN_STORE = "cks-00000000000000000"
PACE_SECONDS = 0.1
AFTER_SECONDS = 1.0
TIMEOUT_SECONDS = 120.0


def kms(connection, region, operation, params):
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "TrentService." + operation,
        # the emulator reads the Region from the credential scope and checks no signature
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/%s/kms/aws4_request, "
        "SignedHeaders=host, Signature=0" % region,
    }
    connection.request("POST", "/", body=json.dumps(params), headers=headers)
    connection.getresponse().read()


def is_fleet_call(entry):
    params = entry.get("params") or {}
    return bool(params.get("CustomKeyStoreName")) or params.get("CustomKeyStoreId") not in (None, UNKNOWN_STORE)


def main(argv):
    url, since, regions = argv[1], int(argv[2]), argv[3:]
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    throttled = dict.fromkeys(regions, 0)
    quiet_after = {}  # region -> the time its noise stops
    calls = 0
    deadline = time.monotonic() + TIMEOUT_SECONDS
    next_read = 0.0
    while time.monotonic() < deadline:
        now = time.monotonic()
        busy = [region for region in regions if now < quiet_after.get(region, deadline)]
        if not busy:
            print(json.dumps({"throttled_fleet_calls": throttled, "calls": calls}))
            return 0
        for region in busy:
            kms(connection, region, "DescribeCustomKeyStores", {})
            kms(connection, region, "ConnectCustomKeyStore", {"CustomKeyStoreId": UNKNOWN_STORE})
            calls += 2
        if now >= next_read:
            with urlopen("%s/_emulator/requests?since=%d" % (url, since), timeout=10) as response:
                log = json.loads(response.read().decode("utf-8"))
            since = log["last_seq"]
            for entry in log["requests"]:
                if (
                    entry["region"] in throttled
                    and entry["error_code"] == "ThrottlingException"
                    and is_fleet_call(entry)
                ):
                    throttled[entry["region"]] += 1
                    quiet_after.setdefault(entry["region"], time.monotonic() + AFTER_SECONDS)
            next_read = now + 0.5
        time.sleep(PACE_SECONDS)
    print(json.dumps({"throttled_fleet_calls": throttled, "calls": calls, "error": "the fleet was never throttled"}))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
