#!/usr/bin/env bash
# Usage: scripts/demo.sh PYTHON (what `make demo` calls); the work is done by scripts/demo.py.
exec "$1" "$(dirname "$0")/demo.py"
