# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kms_xks_proxy_info as Ansible runs it: KMS behind botocore's Stubber, the proxy a real HTTPS XKS proxy."""

import pytest
import yaml
from ansible_collections.awskms.custom_key_store.plugins.modules import kms_xks_proxy_info
from ansible_collections.awskms.custom_key_store.tests.emulator import xks_proxy
from ansible_collections.awskms.custom_key_store.tests.unit.plugins import stubs
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.modules.test_return_documented import COMMON_KEYS
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.modules.test_return_documented import undocumented
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import STORE_ID
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import store_entry

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRST"
SECRET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CREDENTIAL = {"access_key_id": ACCESS_KEY, "raw_secret_access_key": SECRET}


@pytest.fixture(scope="module")
def proxy():
    handle = xks_proxy.start("/kms/xks/v1", ACCESS_KEY, SECRET, "us-east-1", host_name="xks.example.com")
    yield handle
    handle.stop()


@pytest.fixture
def local(proxy, tmp_path):
    """The options that point the probe at the local proxy and its test CA."""
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(proxy.ca_pem)
    return {"proxy_address": "%s:%d" % proxy.address, "ca_bundle": str(ca_file)}


def run_module(capsys, **args):
    return stubs.run_module(kms_xks_proxy_info.main, capsys, **args)


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_healthy_store_passes_every_check_and_every_key_is_documented(kms_stubber, capsys, local, check_mode):
    kms_stubber.add_response(
        "describe_custom_key_stores",
        {"CustomKeyStores": [store_entry("DISCONNECTED", store_type="EXTERNAL_KEY_STORE")]},
        {"CustomKeyStoreId": STORE_ID},
    )
    result = run_module(
        capsys,
        custom_key_store_id=STORE_ID,
        xks_proxy_authentication_credential=CREDENTIAL,
        _ansible_check_mode=check_mode,
        **local
    )
    assert result["changed"] is False and result["passed"] is True and result["failed_checks"] == []
    assert [item["name"] for item in result["checks"]][0] == "credential_matches_store"
    assert result["msg"] == "All 7 checks passed."
    assert result["custom_key_store"]["xks_proxy_uri_endpoint"] == "https://xks.example.com"
    assert SECRET not in repr(result)
    documented = yaml.safe_load(kms_xks_proxy_info.RETURN)
    assert [key for key in undocumented(result, documented) if key.split(".")[0] not in COMMON_KEYS | {"msg"}] == []


def test_a_wrong_secret_fails_the_signature_check_naming_what_to_do(kms_stubber, capsys, local):
    result = run_module(
        capsys,
        xks_proxy_uri_endpoint="https://xks.example.com",
        xks_proxy_uri_path="/kms/xks/v1",
        xks_proxy_authentication_credential=dict(CREDENTIAL, raw_secret_access_key=SECRET[::-1]),
        **local
    )
    assert result["passed"] is False and result["failed_checks"] == ["proxy_signature"]
    assert result["msg"].startswith(
        "1 of 3 checks failed (proxy_signature); first: The proxy rejected the SigV4 signature"
    )
    assert "xks_proxy_authentication_credential" in result["msg"]


def test_a_cloudhsm_store_is_refused_in_one_sentence(kms_stubber, capsys):
    kms_stubber.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [store_entry("CONNECTED")]}, {"CustomKeyStoreId": STORE_ID}
    )
    result = run_module(capsys, custom_key_store_id=STORE_ID)
    assert result["failed"] is True
    assert result["msg"] == (
        "Custom key store %s is an AWS CloudHSM key store: the XKS preflight checks external key stores only."
        % STORE_ID
    )


def test_an_unknown_store_is_not_found(kms_stubber, capsys):
    kms_stubber.add_client_error("describe_custom_key_stores", "CustomKeyStoreNotFoundException", "none")
    result = run_module(capsys, custom_key_store_name="nope")
    assert result["msg"] == "Custom key store nope not found in us-east-1."


@pytest.mark.parametrize(
    "args, message",
    [
        ({"proxy_address": "10.0.1.4"}, "proxy_address must be host:port, for example 10.0.1.4:443, got 10.0.1.4."),
        ({"timeout": 0}, "timeout must be greater than 0 seconds, got 0."),
        ({"xks_proxy_uri_path": "/nope"}, "xks_proxy_uri_path must be /kms/xks/v followed by"),
        (
            {"xks_proxy_connectivity": "VPC_ENDPOINT_SERVICE"},
            "xks_proxy_connectivity VPC_ENDPOINT_SERVICE needs xks_proxy_vpc_endpoint_service_name.",
        ),
        (
            {"ca_bundle": "/nonexistent/ca.pem"},
            "ca_bundle must be a file of PEM CA certificates, got /nonexistent/ca.pem.",
        ),
    ],
)
def test_option_problems_fail_before_any_call(kms_stubber, capsys, args, message):
    options = dict(xks_proxy_uri_endpoint="https://xks.example.com", xks_proxy_uri_path="/kms/xks/v1")
    options.update(args)
    result = run_module(capsys, **options)
    assert result["failed"] is True and result["msg"].startswith(message)
