# Copyright: contributors to awskms.custom_key_store
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Usage: check-galaxy-import.py PYTHON TARBALL

Runs galaxy-importer (with PYTHON, the interpreter of its venv) on the collection TARBALL as
Galaxy does on upload, configured by GALAXY_IMPORTER_CONFIG (tests/galaxy-importer.cfg), and
prints its log. Fails when the import fails, or when the log has any WARNING or ERROR line
other than the one expected below.

The expected ERROR: galaxy-importer runs ansible-doc with ANSIBLE_COLLECTIONS_PATH set to a
directory that holds only this collection, so the doc fragments of amazon.aws that every
module extends are unknown to it ("unknown doc_fragment(s)"). Galaxy logs the same for every
collection that uses amazon.aws's fragments (community.aws too) and completes the import.
That line is accepted only when every fragment it names is amazon.aws's. ansible-doc stops
at the first module there, so the documentation of every module is checked separately, with
amazon.aws present, by `make build-install-doc` and `make docs-lint`.
"""

import os
import re
import subprocess
import sys

FRAGMENTS = re.compile(r"unknown doc_fragment\(s\) in file [^:]+: ([\w., ]+)")


def expected_error(line):
    """True for the ansible-doc error about amazon.aws's doc fragments, and only for that."""
    if not line.startswith("ERROR: Error running ansible-doc:"):
        return False
    found = FRAGMENTS.findall(line)
    names = [name.strip() for group in found for name in group.split(",") if name.strip()]
    return bool(names) and all(name.startswith("amazon.aws.") for name in names)


def main():
    python, tarball = sys.argv[1:]
    if not os.environ.get("GALAXY_IMPORTER_CONFIG"):
        sys.exit("Set GALAXY_IMPORTER_CONFIG to the galaxy-importer configuration file.")
    # flake8 is looked up on PATH: the one of galaxy-importer's venv.
    env = dict(os.environ, PATH=os.path.dirname(python) + os.pathsep + os.environ.get("PATH", ""))
    run = subprocess.run(
        [python, "-m", "galaxy_importer.main", tarball],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = run.stdout + run.stderr
    print(output, end="")

    lines = output.splitlines()
    problems = [
        line for line in lines if line.startswith(("WARNING:", "ERROR:", "CRITICAL:")) and not expected_error(line)
    ]
    if run.returncode != 0 or "Importer processing completed successfully" not in lines:
        problems.append("galaxy-importer did not complete the import (rc %d)" % run.returncode)
    if problems:
        print("\ngalaxy-importer: %d unexpected problem(s):" % len(problems))
        for problem in problems:
            print("  " + problem[:400])
        return 1
    accepted = sum(1 for line in lines if expected_error(line))
    print("\ngalaxy-importer: import complete; no warnings; %d expected error(s) (amazon.aws doc fragments)" % accepted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
