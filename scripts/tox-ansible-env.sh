#!/usr/bin/env bash
# Usage: tox-ansible-env.sh PYTHON HOME_DIR   (from the collection root; tox-ansible's commands_pre, see pyproject.toml)
# What tox-ansible's own set-up (ansible-dev-environment) would do, without reaching past the Python package
# index: a real copy of this collection and amazon.aws in PYTHON's site-packages/ansible_collections/, where
# tox-ansible's commands look for them, and ansible-test's offline pip bootstrap stand-in in HOME_DIR.
set -euo pipefail
python=$1
home=$2
here=$(cd "$(dirname "$0")" && pwd)
site=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
version=$(sed -n 's/^ANSIBLE_PACKAGE_VERSION := //p' "$here/../Makefile")
"$here/stage.sh" "$site/ansible_collections/awskms/custom_key_store"
"$here/fetch-amazon-aws.sh" "$python" "$version" "$here/../build/wheels" "$site"
"$here/install-get-pip-standin.sh" "$python" "$home"
