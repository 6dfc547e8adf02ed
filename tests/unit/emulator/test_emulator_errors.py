# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's typed errors: every code is one botocore models (or one of the JSON 1.1 protocol's own)."""

import pytest

# ec2 is imported for its error classes, which the checks below cover too.
from ansible_collections.awskms.custom_key_store.tests.emulator import ec2  # noqa: F401  pylint: disable=unused-import
from ansible_collections.awskms.custom_key_store.tests.emulator import errors
from ansible_collections.awskms.custom_key_store.tests.emulator import wire

# Codes of the AWS JSON 1.1 protocol itself, common to every service and in no service model.
PROTOCOL_CODES = ("SerializationException", "UnknownOperationException", "ValidationException", "InternalFailure")
# EC2's model defines no exception shapes; its codes are listed in the EC2 API Reference, "Error codes for the
# Amazon EC2 API" (common client errors and the resource-specific ones).
EC2_CODES = ("InvalidParameterValue", "InvalidVpcEndpointServiceId.NotFound")


def _typed_errors(cls=errors.AwsError):
    for sub in cls.__subclasses__():
        yield sub
        yield from _typed_errors(sub)


TYPED = [cls for cls in _typed_errors() if cls.code is not None]


def _modelled_exceptions(service):
    model = wire.service_model(service)
    return set(name for name in model.shape_names if model.shape_for(name).metadata.get("exception"))


@pytest.mark.parametrize("cls", TYPED, ids=lambda cls: cls.__name__)
def test_every_code_is_modelled_by_its_service_or_the_protocol(cls):
    if cls.service is None:
        assert cls.code in PROTOCOL_CODES
    elif cls.service == "ec2":
        assert cls.code in EC2_CODES
    else:
        assert cls.code in _modelled_exceptions(cls.service)
    error = cls("one sentence.")
    assert (error.code, error.message, str(error)) == (cls.code, "one sentence.", "one sentence.")


def test_each_code_has_one_class():
    codes = [cls.code for cls in TYPED]
    assert len(codes) == len(set(codes)) > 20


@pytest.mark.parametrize(
    "service, code",
    [("kms", "KMSInternalException"), ("cloudhsmv2", "CloudHsmInternalFailureException"), (None, "InternalFailure")],
)
def test_internal_errors_are_http_500_of_the_service(service, code):
    error = errors.internal_error(service, "boom")
    assert (error.code, error.status, error.message) == (code, 500, "boom")


def test_throttling_takes_the_code_a_fault_asks_for():
    error = errors.ThrottlingError("ThrottlingException", "Rate exceeded.")
    assert (error.code, error.status) == ("ThrottlingException", 400)
    assert errors.ThrottlingError.code is None
