# Copyright: contributors to awskms.custom_key_store
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for get-pip.py, used by ansible-test's pip bootstrap.

ansible-test creates its sanity/units virtual environments without pip, then runs
~/.ansible/test/cache/get_pip_X_Y.py (downloading it first when missing, which fails
without access to the host it comes from). Installed under that name (see
scripts/install-get-pip-standin.sh), this script does the same job with the pip wheel
bundled with the standard library's ensurepip: it runs that pip to install what
ansible-test asks for (for example ``pip==24.2``) from the package index.
"""

import glob
import os
import sys

# get-pip.py options that pip itself does not know.
GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}


def bundled_pip_wheel():
    import ensurepip

    directories = [os.path.join(os.path.dirname(ensurepip.__file__), "_bundled")]
    wheel_pkg_dir = getattr(ensurepip, "_WHEEL_PKG_DIR", None)  # distributions that unbundle wheels
    if wheel_pkg_dir:
        directories.append(wheel_pkg_dir)
    for directory in directories:
        wheels = sorted(glob.glob(os.path.join(directory, "pip-*.whl")))
        if wheels:
            return wheels[-1]
    sys.exit("get-pip stand-in: no pip wheel bundled with ensurepip in %s" % ", ".join(directories))


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    sys.path.insert(0, bundled_pip_wheel())
    from pip._internal.cli.main import main as pip_main

    return pip_main(["install", "--upgrade", "--force-reinstall"] + args)


if __name__ == "__main__":
    sys.exit(main())
