#!/usr/bin/env bash
# Usage: install-get-pip-standin.sh PYTHON HOME_DIR
# Puts scripts/get_pip_standin.py where the ansible-test of PYTHON's ansible-core looks for
# its cached pip bootstrap script: HOME_DIR/.ansible/test/cache/get_pip_X_Y.py, X.Y being
# the pip='X.Y' default in ansible_test/_internal/python_requirements.py.
set -euo pipefail
python=$1
home=$2
here=$(cd "$(dirname "$0")" && pwd)
file=$("$python" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"))')
version=$(sed -n "s/^ *pip='\([0-9][0-9.]*\)',.*/\1/p" "$file" | head -n 1)
if [ -z "$version" ]; then
    echo "install-get-pip-standin: no pip='X.Y' default found in $file" >&2
    exit 1
fi
target="$home/.ansible/test/cache/get_pip_${version//./_}.py"
mkdir -p "$(dirname "$target")"
cp "$here/get_pip_standin.py" "$target"
echo "get-pip stand-in for pip $version: $target"
