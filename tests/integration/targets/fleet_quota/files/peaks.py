# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request-log entries (JSON on standard input) -> {"REGION OPERATION": {"calls", "throttled", "peak", "mean"}}
(the emulator's quota.request_rates), as JSON on standard output."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".."))

from emulator.quota import request_rates  # noqa: E402  pylint: disable=wrong-import-position

rates = request_rates(json.load(sys.stdin))
print(json.dumps(dict(("%s %s" % key, figures) for key, figures in sorted(rates.items()))))
