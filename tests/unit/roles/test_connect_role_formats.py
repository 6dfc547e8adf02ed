# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The connect role checks its inputs with the modules' own formats (vars/main.yml against options.py)."""

import os

import yaml
from ansible_collections.awskms.custom_key_store.plugins.module_utils import options

VARS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "connect", "vars", "main.yml")

with open(VARS, encoding="utf-8") as handle:
    ROLE_VARS = yaml.safe_load(handle)


def test_the_xks_credential_formats_are_the_modules():
    formats = ROLE_VARS["connect__formats"]
    assert formats["access_key_id"] == options._SHAPES["access_key_id"][0].pattern
    assert formats["raw_secret_access_key"] == options._SHAPES["raw_secret_access_key"][0].pattern


def test_the_cluster_id_format_is_the_modules():
    assert ROLE_VARS["connect__formats"]["cluster_id"] == options.FORMATS["cluster_id"][0].pattern


def test_the_password_length_is_the_modules():
    low, high = ROLE_VARS["connect__password_length"]
    assert options._SHAPES["key_store_password"][0].pattern == f"^.{{{low},{high}}}$"


def test_the_xks_code_checks_name_every_xks_configuration_code_and_only_the_preflights_checks():
    from ansible_collections.awskms.custom_key_store.plugins.module_utils import connection_errors
    from ansible_collections.awskms.custom_key_store.plugins.module_utils import xks_probe

    xks_configuration_codes = {
        code
        for (code, store_type), info in connection_errors._ERRORS.items()
        if store_type != "AWS_CLOUDHSM" and info.error_class == connection_errors.XKS_CONFIGURATION
    }
    code_checks = ROLE_VARS["connect__xks_code_checks"]
    assert set(code_checks) == xks_configuration_codes
    for code, checks in code_checks.items():
        assert checks and set(checks) <= set(xks_probe.PROXY_CHECKS + xks_probe.SERVICE_CHECKS), code
