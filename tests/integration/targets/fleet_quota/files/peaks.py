# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request-log entries (JSON on standard input) -> {"REGION OPERATION": {"calls", "throttled", "peak", "mean"}}
(the emulator's quota.request_rates), as JSON on standard output."""

import json
import os
import sys

# The collection as ansible-playbook finds it (run.py and ansible-test both name it in ANSIBLE_COLLECTIONS_PATH).
sys.path[:0] = [path for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if path]

from ansible_collections.awskms.custom_key_store.tests.emulator.quota import (  # noqa: E402  pylint: disable=wrong-import-position
    request_rates,
)

rates = request_rates(json.load(sys.stdin))
print(json.dumps(dict(("%s %s" % key, figures) for key, figures in sorted(rates.items()))))
