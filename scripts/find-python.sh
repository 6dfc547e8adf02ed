#!/usr/bin/env bash
# Usage: find-python.sh X.Y
# Prints the absolute path of a working Python X.Y interpreter that can create a venv, or
# exits 1. Tries `pythonX.Y` on PATH first; a pyenv shim on PATH fails there unless that
# version is selected, so it then tries each pyenv-installed X.Y.z (newest first) through
# PYENV_VERSION. The printed path is the real interpreter, usable without pyenv.
set -uo pipefail
want=$1
probe='import sys, venv, ensurepip; print(sys.executable)'

if path=$("python$want" -c "$probe" 2>/dev/null) && [ -n "$path" ]; then
    echo "$path"
    exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}\.[0-9]+$" | sort -t. -k3,3nr); do
        if path=$(PYENV_VERSION=$version "python$want" -c "$probe" 2>/dev/null) && [ -n "$path" ]; then
            echo "$path"
            exit 0
        fi
    done
fi
exit 1
