# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS and CloudHSM clients whose every request and response botocore's Stubber checks against the service model."""

import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from botocore.stub import Stubber

from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import FakeClock
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import aws_client


@pytest.fixture(autouse=True)
def fresh_module_warnings():
    """Each module run is a process of its own in Ansible: no warning of one test reaches the next."""
    yield
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    ansible_warnings._global_deprecations.clear()  # pylint: disable=protected-access


def stubbed(service):
    client = aws_client(service)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def kms():
    """A KMS client, checked by botocore's Stubber against the KMS model."""
    yield from stubbed("kms")


@pytest.fixture
def fake_clock():
    return FakeClock()


@pytest.fixture
def kms_stubbed(kms):
    return kms


@pytest.fixture
def cloudhsm():
    """A CloudHSM v2 client, checked by botocore's Stubber against the cloudhsmv2 model."""
    yield from stubbed("cloudhsmv2")
