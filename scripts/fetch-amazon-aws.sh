#!/usr/bin/env bash
# Usage: fetch-amazon-aws.sh PYTHON ANSIBLE_VERSION WHEEL_DIR COLLECTIONS_DIR
# amazon.aws has no pip distribution of its own and Galaxy may be out of reach, so take it
# from the `ansible` package's wheel (downloaded once into WHEEL_DIR) and extract only
# ansible_collections/amazon/aws into COLLECTIONS_DIR/ansible_collections/amazon/aws.
set -euo pipefail
python=$1
version=$2
wheel_dir=$3
collections=$4
wheel="$wheel_dir/ansible-$version-py3-none-any.whl"
if [ ! -f "$wheel" ]; then
    # The ansible wheels since 12 require Python >= 3.12; ask for one regardless of ours.
    "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.12 "ansible==$version" -d "$wheel_dir"
fi
rm -rf "$collections/ansible_collections/amazon/aws"
"$python" - "$wheel" "$collections" <<'PY'
import sys
import zipfile

wheel, dest = sys.argv[1:]
prefix = "ansible_collections/amazon/aws/"
with zipfile.ZipFile(wheel) as archive:
    members = [name for name in archive.namelist() if name.startswith(prefix)]
    if not members:
        sys.exit(f"{wheel} holds no {prefix}")
    archive.extractall(dest, members)
PY
"$python" -c 'import json, sys; m = json.load(open(sys.argv[1]))["collection_info"]; print("amazon.aws", m["version"])' \
    "$collections/ansible_collections/amazon/aws/MANIFEST.json"
