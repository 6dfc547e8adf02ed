#!/usr/bin/env bash
# Usage: build-docs-site.sh DOCS_VENV COLLECTION_DIR DEST
# The collection's documentation site, built offline: antsibull-docs writes one reStructuredText
# page per module and role (with ANSIBLE_COLLECTIONS_PATH as the caller set it, so amazon.aws's
# doc fragments resolve), then Sphinx renders DEST/html with warnings as errors. There is no
# conf.py to ship: the Sphinx settings are given on the command line, without intersphinx (it
# downloads the inventories of docs.python.org and docs.ansible.com). The few labels the pages
# take from Ansible's own documentation get a local page that links to their online address.
# Then scripts/check-docs-site.py checks that every module, return value and role entry point
# was rendered.
set -euo pipefail
venv=$1
collection_dir=$2
dest=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=$("$venv/bin/python" -c 'import sys, yaml; g = yaml.safe_load(open(sys.argv[1])); print(g["namespace"] + "." + g["name"])' \
    "$collection_dir/galaxy.yml")

rm -rf "$dest"
mkdir -p "$dest/rst"
chmod 700 "$dest/rst"  # antsibull-docs wants its destination writable by its owner only
PATH=$venv/bin:$PATH "$venv/bin/antsibull-docs" collection --use-current --squash-hierarchy --fail-on-error \
    --cleanup everything --dest-dir "$dest/rst" "$name"

cat > "$dest/rst/ansible-documentation-links.rst" <<'RST'
:orphan:

Ansible documentation
=====================

Pages of the Ansible documentation that this site refers to (it is built without intersphinx).

.. _common_return_values:

Common return values
--------------------

See `Return Values <https://docs.ansible.com/ansible/latest/reference_appendices/common_return_values.html>`_.

.. _ansible_configuration_settings:

Ansible configuration settings
------------------------------

See `Ansible Configuration Settings <https://docs.ansible.com/ansible/latest/reference_appendices/config.html>`_.
RST

"$venv/bin/sphinx-build" -b html -W --keep-going -q -C \
    -D project="$name" \
    -D extensions=sphinx_antsibull_ext \
    -D html_theme=sphinx_ansible_theme \
    -D pygments_style=ansible \
    -D highlight_language=YAML+Jinja \
    -D default_role=any \
    -D nitpicky=1 \
    -D html_show_sphinx=0 \
    -D html_copy_source=0 \
    "$dest/rst" "$dest/html"

"$venv/bin/python" "$here/check-docs-site.py" "$collection_dir" "$dest/html"
