# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The connect role's interface: meta/argument_specs.yml, defaults/main.yml and README.md say the same thing."""

import json
import os

import yaml

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "connect")


def load(*path):
    with open(os.path.join(ROLE, *path), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


OPTIONS = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
DEFAULTS = load("defaults", "main.yml")


def test_defaults_hold_exactly_the_defaulted_options_with_the_same_values():
    assert DEFAULTS == {name: spec["default"] for name, spec in OPTIONS.items() if "default" in spec}


def test_every_option_is_prefixed_typed_and_described():
    for name, spec in OPTIONS.items():
        assert name.startswith("connect_") and not name.startswith("connect__"), name
        assert spec.get("type") in ("str", "int", "bool", "dict", "list"), name
        assert spec.get("description"), name


def test_secret_options_are_no_log():
    secret = {name for name, spec in OPTIONS.items() if spec.get("no_log")}
    assert secret == {"connect_key_store_password", "connect_xks_proxy_authentication_credential"}


def readme_variables():
    """{name: default} from the variable table of the role's README ("-" when it has no default)."""
    with open(os.path.join(ROLE, "README.md"), encoding="utf-8") as handle:
        rows = [line.split("|")[1:3] for line in handle if line.startswith("| `connect_")]
    return {name.strip().strip("`"): default.strip() for name, default in rows}


def test_readme_lists_every_option_with_its_default():
    expected = {
        name: "`%s`" % json.dumps(spec["default"]) if "default" in spec else "-" for name, spec in OPTIONS.items()
    }
    assert readme_variables() == expected
