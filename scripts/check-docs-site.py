# Copyright: contributors to awskms.custom_key_store
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Usage: check-docs-site.py COLLECTION_DIR HTML_DIR

Checks the documentation site that antsibull-docs and Sphinx rendered into HTML_DIR (with
--squash-hierarchy) against the collection's sources in COLLECTION_DIR: a page for every
module, with an anchor for every option and every return value (nested ones too), and a page
for every role, with every entry point and its options.
"""

import ast
import os
import sys

import yaml


def module_docs(path):
    """(DOCUMENTATION, RETURN) of a module file, parsed as YAML, without importing it."""
    strings = {}
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("DOCUMENTATION", "RETURN"):
                strings[node.targets[0].id] = yaml.safe_load(node.value.value)
    return strings.get("DOCUMENTATION") or {}, strings.get("RETURN") or {}


def anchors(prefix, fields, key):
    """Anchor ids antsibull-docs gives to options or return values, nested ones joined with /."""
    for name, spec in (fields or {}).items():
        yield prefix + name
        yield from anchors(prefix + name + "/", (spec or {}).get(key), key)


def main():
    collection_dir, html_dir = sys.argv[1:]
    missing = []
    counts = {"modules": 0, "options": 0, "return values": 0, "role entry points": 0, "role options": 0}

    def expect(page, ids, what):
        path = os.path.join(html_dir, page)
        if not os.path.isfile(path):
            missing.append("%s: no page" % page)
            return
        with open(path, encoding="utf-8") as handle:
            html = handle.read()
        for anchor in ids:
            counts[what] += 1
            if 'id="%s"' % anchor not in html:
                missing.append("%s: no %s" % (page, anchor))

    modules_dir = os.path.join(collection_dir, "plugins", "modules")
    for entry in sorted(os.listdir(modules_dir)):
        if not entry.endswith(".py") or entry.startswith("_"):
            continue
        counts["modules"] += 1
        documentation, returns = module_docs(os.path.join(modules_dir, entry))
        page = entry[: -len(".py")] + "_module.html"
        expect(page, anchors("parameter-", documentation.get("options"), "suboptions"), "options")
        expect(page, anchors("return-", returns, "contains"), "return values")

    roles_dir = os.path.join(collection_dir, "roles")
    for role in sorted(os.listdir(roles_dir) if os.path.isdir(roles_dir) else []):
        with open(os.path.join(roles_dir, role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
            entry_points = yaml.safe_load(handle)["argument_specs"]
        for entry_point, spec in entry_points.items():
            page = role + "_role.html"
            expect(
                page,
                ["ansible-collections-%s-role-entrypoint-%s" % (collection_anchor(collection_dir, role), entry_point)],
                "role entry points",
            )
            expect(page, anchors("parameter-%s--" % entry_point, spec.get("options"), "options"), "role options")

    if missing:
        print("The documentation site lacks %d item(s):" % len(missing))
        print("\n".join("  " + item for item in missing))
        return 1
    print("documentation site: " + ", ".join("%d %s" % (number, what) for what, number in counts.items()))
    return 0


def collection_anchor(collection_dir, role):
    with open(os.path.join(collection_dir, "galaxy.yml"), encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    return "%s-%s-%s" % (galaxy["namespace"], galaxy["name"].replace("_", "-"), role.replace("_", "-"))


if __name__ == "__main__":
    sys.exit(main())
