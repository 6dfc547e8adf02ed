#!/usr/bin/env bash
# Usage: stage.sh DEST
# Replaces DEST with a copy of the working tree as it is now: tracked and untracked files
# that git does not ignore, so uncommitted work is tested too. Outside a git checkout it
# copies everything but version control, tool environments and build output.
# DEST is made a git repository of its own (see the end).
set -euo pipefail
dest=$1
rm -rf "$dest"
mkdir -p "$dest"
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
    # Skip files deleted from the working tree but still in the index.
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' file; do
            if [ -e "$file" ] || [ -L "$file" ]; then printf '%s\0' "$file"; fi
        done |
        tar --null --no-recursion --files-from=- -cf - | tar -xf - -C "$dest"
else
    tar --exclude=./.git --exclude='./.venv*' --exclude=./build --exclude=./tests/output \
        --exclude=./.ansible --exclude='*/__pycache__' -cf - . | tar -xf - -C "$dest"
fi
# A repository of its own (nothing committed): ansible-test lists a collection's files with
# git from the nearest enclosing .git, which would otherwise be ours, where build/ is ignored.
git init --quiet "$dest"
