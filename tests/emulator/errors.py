# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The errors the emulator answers with, one class per AWS error code.

Each class fixes its ``__type`` code, HTTP status and the botocore service whose model defines
the code (None for errors of the JSON 1.1 protocol itself), so a rule raises
``CustomKeyStoreInvalidStateError('...')`` and never spells a code. The server renders them as
``{"__type": code, "message": ...}`` and botocore raises the matching modelled exception class.
``ControlError`` is the control API's own refusal (HTTP 400 ``{"error": ...}``).
"""

KMS = "kms"
CLOUDHSM = "cloudhsmv2"


class ControlError(ValueError):
    """A control-API request the emulator cannot honour; the message is one clear sentence."""


class AwsError(Exception):
    """An AWS error response: ``code`` (the ``__type``), ``status`` and ``message``."""

    code = None
    status = 400
    service = None

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# -- the JSON 1.1 protocol (any service) ------------------------------------------


class SerializationError(AwsError):
    code = "SerializationException"


class UnknownOperationError(AwsError):
    code = "UnknownOperationException"


class ValidationError(AwsError):
    """A request that breaks the model, or parameters that do not fit together."""

    code = "ValidationException"


class ThrottlingError(AwsError):
    """Rate exceeded; the code is the one a fault asks for (see ``wire.THROTTLING_CODES``)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class InternalFailureError(AwsError):
    """An internal fault of a request whose service is not known."""

    code = "InternalFailure"
    status = 500


# -- KMS ------------------------------------------------------------------------------


class KmsError(AwsError):
    service = KMS


class KmsInternalError(KmsError):
    code = "KMSInternalException"
    status = 500


class CustomKeyStoreNotFoundError(KmsError):
    code = "CustomKeyStoreNotFoundException"


class CustomKeyStoreInvalidStateError(KmsError):
    code = "CustomKeyStoreInvalidStateException"


class CustomKeyStoreNameInUseError(KmsError):
    code = "CustomKeyStoreNameInUseException"


class CustomKeyStoreHasCMKsError(KmsError):
    code = "CustomKeyStoreHasCMKsException"


class LimitExceededError(KmsError):
    code = "LimitExceededException"


class InvalidMarkerError(KmsError):
    code = "InvalidMarkerException"


class CloudHsmClusterNotFoundError(KmsError):
    code = "CloudHsmClusterNotFoundException"


class CloudHsmClusterInUseError(KmsError):
    code = "CloudHsmClusterInUseException"


class CloudHsmClusterNotActiveError(KmsError):
    code = "CloudHsmClusterNotActiveException"


class CloudHsmClusterNotRelatedError(KmsError):
    code = "CloudHsmClusterNotRelatedException"


class CloudHsmClusterInvalidConfigurationError(KmsError):
    code = "CloudHsmClusterInvalidConfigurationException"


class IncorrectTrustAnchorError(KmsError):
    code = "IncorrectTrustAnchorException"


class XksProxyUriInUseError(KmsError):
    code = "XksProxyUriInUseException"


class XksProxyUriEndpointInUseError(KmsError):
    code = "XksProxyUriEndpointInUseException"


class XksProxyVpcEndpointServiceInUseError(KmsError):
    code = "XksProxyVpcEndpointServiceInUseException"


class XksProxyVpcEndpointServiceNotFoundError(KmsError):
    code = "XksProxyVpcEndpointServiceNotFoundException"


class XksProxyVpcEndpointServiceInvalidConfigurationError(KmsError):
    code = "XksProxyVpcEndpointServiceInvalidConfigurationException"


class XksProxyUriUnreachableError(KmsError):
    code = "XksProxyUriUnreachableException"


class XksProxyIncorrectAuthenticationCredentialError(KmsError):
    code = "XksProxyIncorrectAuthenticationCredentialException"


class XksProxyInvalidConfigurationError(KmsError):
    code = "XksProxyInvalidConfigurationException"


class XksProxyInvalidResponseError(KmsError):
    code = "XksProxyInvalidResponseException"


class UnsupportedOperationError(KmsError):
    code = "UnsupportedOperationException"


class DependencyTimeoutError(KmsError):
    """A fault (server error) in botocore's KMS model, answered with HTTP 500 like the other faults."""

    code = "DependencyTimeoutException"
    status = 500


# -- CloudHSM v2 ------------------------------------------------------------------------


class CloudHsmError(AwsError):
    service = CLOUDHSM


class CloudHsmInternalFailureError(CloudHsmError):
    code = "CloudHsmInternalFailureException"
    status = 500


class CloudHsmInvalidRequestError(CloudHsmError):
    code = "CloudHsmInvalidRequestException"


class CloudHsmResourceLimitExceededError(CloudHsmError):
    code = "CloudHsmResourceLimitExceededException"


class CloudHsmResourceNotFoundError(CloudHsmError):
    code = "CloudHsmResourceNotFoundException"


_INTERNAL_ERRORS = {KMS: KmsInternalError, CLOUDHSM: CloudHsmInternalFailureError}


def internal_error(service, message):
    """The HTTP 500 error AWS answers for an internal fault of ``service`` (KMS, CloudHSM or unknown)."""
    return _INTERNAL_ERRORS.get(service, InternalFailureError)(message)
