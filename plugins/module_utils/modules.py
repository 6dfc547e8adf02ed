# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The base class every module of this collection is built on."""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import aws_error_advice
from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import error_code

from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

COLLECTION_NAME = "awskms.custom_key_store"
COLLECTION_VERSION = "0.1.0"

WAIT_CLIENT_CONFIG = {"connect_timeout": 5, "read_timeout": 15, "retries": {"total_max_attempts": 2}}


class CustomKeyStoreModule(AnsibleAWSModule):
    """AnsibleAWSModule that names this collection in the AWS user agent.

    amazon.aws builds the user agent of every client it creates from the collection info it holds,
    so setting ours here makes CloudTrail show which tool connected or changed a key store.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        set_collection_info(collection_name=COLLECTION_NAME, collection_version=COLLECTION_VERSION)

    def wait_client(self, service):
        """A client for runs that may wait: each call gives up within about 40 s (2 attempts, 5 s to connect, 15 s to read).

        botocore's defaults (5 attempts of up to 60 s each) would let one poll of a wait that lost its network run
        minutes past wait_timeout; a poll that fails this way is skipped and the next one tries again
        (polling.py). The user's aws_config still overrides these values.
        """
        return self.client(service, config=WAIT_CLIENT_CONFIG)

    def single_attempt_client(self, service):
        """A client whose every call is sent once by botocore (AWSRetry's backoff still retries throttling).

        botocore retries a call that ended in a 5xx or a dropped connection, which for a create may run it twice:
        AWS may have acted on the first attempt, so the second makes a second HSM (billed), or fails "name in use"
        (KMS returns the existing ID only for an identical CloudHSM key store create while that store is DISCONNECTED).
        """
        return self.client(service, config={"retries": {"total_max_attempts": 1}})

    def fail_on_problem(self, problem):
        """Fail with the sentence of an option check (module_utils/options.py), if there is one."""
        if problem:
            self.fail_json(msg=problem)

    def fail_aws_error(self, error, **kwargs):
        """Fail with the one-line message of an AnsibleAWSError, without a traceback.

        amazon.aws's fail_json_aws adds the Python traceback to the result; the errors that reach
        here (access denied, throttling that outlasted the retries, unreachable endpoint, ...) are
        caused by the user's environment, so the AWS error code and message are all they need.
        """
        self.fail_json(msg=aws_error_sentence(error), **kwargs)


def aws_error_sentence(error):
    """'Failed to X: Code: AWS message.' for an AnsibleAWSError wrapping a botocore error."""
    cause = error.exception
    response = getattr(cause, "response", None)
    if response and "Error" in response:
        detail = f"{response['Error'].get('Code', 'Error')}: {response['Error'].get('Message', '')}".rstrip(": ")
    else:
        detail = str(cause) if cause else ""
    message = error.message or "AWS request failed"
    sentence = f"{message}: {detail}" if detail else message
    # botocore's parameter validation reports each problem on a line of its own.
    sentence = " ".join(sentence.split())
    return sentence if sentence.endswith(".") else sentence + "."


def explain_aws_error(error):
    """AWS's refusal as one line, with the next step when there is a known one (aws_errors.ADVICE)."""
    sentence = aws_error_sentence(error)
    advice = aws_error_advice(error_code(error))
    return f"{sentence} Next step: {advice}" if advice else sentence
