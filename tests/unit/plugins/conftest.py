# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS and CloudHSM clients whose every request and response botocore's Stubber checks against the service model."""

import pytest
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import CustomKeyStoreModule
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import FakeClock
from ansible_collections.awskms.custom_key_store.tests.unit.plugins.stubs import aws_client
from botocore.stub import Stubber

from ansible.module_utils.common import warnings as ansible_warnings


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


def module_stubber(monkeypatch, stubbed):
    """Give every module run the Stubber-checked client; yield its Stubber, then check no other service was asked for."""
    client, stubber = stubbed
    services = []

    def client_for(self, service, **kwargs):
        services.append(service)
        return client

    monkeypatch.setattr(CustomKeyStoreModule, "client", client_for)
    yield stubber
    assert set(services) <= {client.meta.service_model.service_name}


@pytest.fixture
def kms_stubber(kms, monkeypatch):
    """The Stubber of the KMS client that every module run in the test gets."""
    yield from module_stubber(monkeypatch, kms)


@pytest.fixture
def cloudhsm_stubber(cloudhsm, monkeypatch):
    """The Stubber of the CloudHSM v2 client that every module run in the test gets."""
    yield from module_stubber(monkeypatch, cloudhsm)


@pytest.fixture
def both_stubbers(cloudhsm, kms, monkeypatch):
    """(CloudHSM Stubber, KMS Stubber): every module run gets the Stubber-checked client of the service it asks for."""
    clients = {"cloudhsmv2": cloudhsm[0], "kms": kms[0]}
    monkeypatch.setattr(CustomKeyStoreModule, "client", lambda self, service, **kwargs: clients[service])
    return cloudhsm[1], kms[1]
