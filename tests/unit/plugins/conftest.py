# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS clients whose every request and response botocore's Stubber checks against the KMS model."""

import boto3
import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from botocore.stub import Stubber

from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import FakeClock


@pytest.fixture(autouse=True)
def fresh_module_warnings():
    """Each module run is a process of its own in Ansible: no warning of one test reaches the next."""
    yield
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    ansible_warnings._global_deprecations.clear()  # pylint: disable=protected-access


@pytest.fixture
def kms():
    client = boto3.client(
        "kms", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="not-a-secret"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def fake_clock():
    return FakeClock()


@pytest.fixture
def kms_stubbed(kms):
    return kms


@pytest.fixture
def cloudhsm():
    """A CloudHSM v2 client, checked by botocore's Stubber against the cloudhsmv2 model."""
    client = boto3.client(
        "cloudhsmv2", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="not-a-secret"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()
