# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Act as another operator at an exact moment: once the emulator has answered `operation` in `region`
(after request `since`), POST the control action `action` with the JSON `body`, and print its reply.

Usage: act_when_seen.py URL REGION SINCE OPERATION ACTION BODY_JSON [TIMEOUT_SECONDS]
Exits 0 after acting, 1 when the operation was not seen within the timeout (default 60 s).
"""

import json
import sys
import time
from urllib.request import Request
from urllib.request import urlopen


def control(url, method, path, body=None):
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = Request(
        url + "/_emulator/" + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urlopen(request, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def main(argv):
    url, region, since, operation, action, body = argv[1:7]
    timeout = float(argv[7]) if len(argv) > 7 else 60.0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        requests = control(url, "GET", "requests?since=%s" % since)["requests"]
        if any(entry["region"] == region and entry["operation"] == operation for entry in requests):
            reply = control(url, "POST", action, dict(json.loads(body), region=region))
            print(json.dumps({"acted": action, "reply": reply}))
            return 0
        time.sleep(0.05)
    print(json.dumps({"acted": None, "error": "%s was not seen in %s within %s s" % (operation, region, timeout)}))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
