# Copyright: contributors to awskms.custom_key_store
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Usage: check-module-docs.py ANSIBLE_DOC COLLECTION_DIR

Runs ANSIBLE_DOC (an ansible-doc executable) for every module of the collection installed
in COLLECTION_DIR (…/ansible_collections/NAMESPACE/NAME), with ANSIBLE_COLLECTIONS_PATH as
the caller set it. Fails when a module's documentation cannot be loaded, lacks a
description, options, EXAMPLES or RETURN, or does not render as text.
"""

import json
import os
import subprocess
import sys


def main():
    ansible_doc, collection_dir = sys.argv[1:]
    with open(os.path.join(collection_dir, "MANIFEST.json")) as manifest:
        info = json.load(manifest)["collection_info"]
    prefix = "%s.%s." % (info["namespace"], info["name"])
    modules_dir = os.path.join(collection_dir, "plugins", "modules")
    names = sorted(
        prefix + entry[: -len(".py")]
        for entry in (os.listdir(modules_dir) if os.path.isdir(modules_dir) else [])
        if entry.endswith(".py") and not entry.startswith("_")
    )
    if not names:
        print("no modules in %s: nothing to document" % modules_dir)
        return 0

    failures = []
    command = [ansible_doc, "-t", "module", "--json"] + names
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        failures.append("ansible-doc --json failed (rc %d): %s" % (result.returncode, result.stderr.strip()))
        docs = {}
    else:
        docs = json.loads(result.stdout or "{}")
    for name in names:
        entry = docs.get(name) or {}
        doc = entry.get("doc") or {}
        missing = [
            what
            for what, value in (
                ("short_description", doc.get("short_description")),
                ("description", doc.get("description")),
                ("options", doc.get("options")),
                ("EXAMPLES", (entry.get("examples") or "").strip()),
                ("RETURN", entry.get("return")),
            )
            if not value
        ]
        if missing:
            failures.append("%s: no %s" % (name, ", ".join(missing)))

    for name in names:
        text = subprocess.run([ansible_doc, "-t", "module", name], capture_output=True, text=True, check=False)
        if text.returncode != 0 or not text.stdout.strip() or "[ERROR]" in text.stderr:
            failures.append("%s: ansible-doc failed (rc %d): %s" % (name, text.returncode, text.stderr.strip()))
        else:
            print("ansible-doc %s: %d lines" % (name, len(text.stdout.splitlines())))

    for failure in failures:
        print("FAIL " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
