# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The aws_error_advice filter: the connect role reads the modules' table of next steps through it."""

import botocore.exceptions
import pytest
from ansible_collections.awskms.custom_key_store.plugins.filter.aws_error_advice import FilterModule
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import explain_aws_error

advice = FilterModule().filters()["aws_error_advice"]


def refusal(code):
    error = botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "refused"}}, "ConnectCustomKeyStore")
    return AnsibleKMSError(message="Failed to connect custom key store cks-1", exception=error)


@pytest.mark.parametrize("code", ["CloudHsmClusterNotActiveException", "CloudHsmClusterInvalidConfigurationException"])
def test_the_role_and_the_modules_give_the_same_next_step(code):
    assert (
        explain_aws_error(refusal(code))
        == f"Failed to connect custom key store cks-1: {code}: refused. Next step: {advice(code)}"
    )


@pytest.mark.parametrize(
    "state, words",
    [
        (
            "UNINITIALIZED",
            "Initialize it (sign its certificate signing request and call InitializeCluster), activate it",
        ),
        ("INITIALIZED", "Activate it (set the admin password with the CloudHSM CLI)"),
        ("DEGRADED", "Replace its failed HSMs"),
        ("DELETE_IN_PROGRESS", "connect_replacement_cluster_id"),
    ],
)
def test_a_cluster_that_is_not_active_gets_the_step_for_its_state(state, words):
    assert words in advice("CloudHsmClusterNotActiveException", cluster_state=state)


def test_a_state_without_its_own_step_gets_the_general_one():
    assert advice("CloudHsmClusterNotActiveException", cluster_state="MODIFY_IN_PROGRESS") == advice(
        "CloudHsmClusterNotActiveException"
    )
    assert advice("CloudHsmClusterNotActiveException").startswith("Initialize and activate the cluster")


def test_a_code_without_advice_is_an_empty_string():
    assert advice("AccessDeniedException") == ""


def test_invalid_configuration_advice_names_the_two_hsm_rule_first():
    text = advice("CloudHsmClusterInvalidConfigurationException")
    assert text.startswith("Give the cluster at least two ACTIVE HSMs, each in a different Availability Zone")
    assert text.count(". ") == 0 and text.endswith(".")


def test_quota_advice_is_one_sentence_and_asks_for_an_increase():
    text = advice("LimitExceededException")
    assert "quota of custom key stores" in text and "request a quota increase" in text
    assert text.count(". ") == 0 and text.endswith(".")


def test_invalid_state_advice_does_not_send_the_user_round_in_circles():
    # A rerun of kms_custom_key_store waits out CONNECTING / DISCONNECTING; a FAILED store needs allow_disconnect.
    text = advice("CustomKeyStoreInvalidStateException")
    assert "CONNECTED or DISCONNECTED" in text and "allow_disconnect: true" in text and "FAILED" in text


@pytest.mark.parametrize(
    "code, words",
    [
        ("XksProxyVpcEndpointServiceNotFoundException", ["xks_proxy_vpc_endpoint_service_name", "cks.kms.<region>"]),
        (
            "XksProxyVpcEndpointServiceInvalidConfigurationException",
            ["network load balancer", "acceptance", "verified private DNS name", "xks_proxy_uri_endpoint"],
        ),
    ],
)
def test_vpc_endpoint_service_advice_is_one_sentence_naming_what_to_fix(code, words):
    text = advice(code)
    assert all(word in text for word in words)
    assert text.count(". ") == 0 and text.endswith(".")
