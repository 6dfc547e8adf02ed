# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading the AWS error code behind an error, for the KMS and CloudHSM helpers alike."""

# The codes AWS services answer when a request exceeds a rate quota. A wait treats them as
# "poll again later", never as the end of the wait.
THROTTLING_ERROR_CODES = ("ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded")


def error_code(error):
    """The AWS error code behind an AnsibleAWSError (or a botocore ClientError), else None."""
    cause = getattr(error, "exception", error)
    response = getattr(cause, "response", None) or {}
    return response.get("Error", {}).get("Code")


def is_throttling(error):
    return error_code(error) in THROTTLING_ERROR_CODES
