#!/usr/bin/env bash
# Runs playbooks/demo.yml against a freshly started, seeded emulator, then stops the emulator.
# Usage: scripts/demo.sh PYTHON   (from the collection root; ANSIBLE_COLLECTIONS_PATH set by make demo)
set -euo pipefail
python=$1
out=$(mktemp)
PYTHONPATH=tests "$python" -m emulator --port 0 --seed playbooks/files/demo-world.json --connect-seconds 3 --hsm-create-seconds 4 >"$out" &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true; wait "$emulator" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do
    grep -q '^emulator listening on ' "$out" && break
    kill -0 "$emulator" 2>/dev/null || break
    sleep 0.1
done
url=$(sed -n 's/^emulator listening on //p' "$out")
if [ -z "$url" ]; then
    echo "The emulator did not start; run 'make emulator' to see why." >&2
    exit 1
fi
echo "Emulator of KMS and CloudHSM listening on $url"
ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ansible-playbook -i localhost, -c local \
    -e "ansible_python_interpreter=$python" -e "emulator_url=$url" playbooks/demo.yml
