# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS custom key store API calls, error handling and normalisation."""

try:
    import botocore  # pylint: disable=unused-import  # noqa: F401
except ImportError:
    pass  # AnsibleAWSModule reports a missing SDK.

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

# KMS answers ThrottlingException when a custom key store operation exceeds its (low) request
# quota, and KMSInternalException for transient faults; amazon.aws's AWSRetry knows neither.
RETRIED_ERROR_CODES = ["ThrottlingException", "KMSInternalException"]

kms_retry = AWSRetry.jittered_backoff(retries=8, delay=1, max_delay=20, catch_extra_error_codes=RETRIED_ERROR_CODES)


class AnsibleKMSError(AnsibleAWSError):
    pass


class KMSErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleKMSError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("CustomKeyStoreNotFoundException")


def store_selector(custom_key_store_id=None, custom_key_store_name=None):
    """The DescribeCustomKeyStores filter for one store, and a label for messages."""
    if custom_key_store_id:
        return {"CustomKeyStoreId": custom_key_store_id}, custom_key_store_id
    return {"CustomKeyStoreName": custom_key_store_name}, custom_key_store_name


def _describe_custom_key_store(client, selector, label):  # pylint: disable=unused-argument  # label: for messages
    """The DescribeCustomKeyStores entry (boto3 form) for one store, or None when AWS does not know it."""
    stores = client.describe_custom_key_stores(**selector)["CustomKeyStores"]
    return stores[0] if stores else None


describe_custom_key_store = KMSErrorHandler.list_error_handler("describe custom key store {label}")(
    kms_retry(_describe_custom_key_store)
)
# A wait's polls are not retried here: polling.Polls skips a throttled poll and keeps to its schedule, whereas
# AWSRetry's backoff (up to 8 retries of up to 20 s) could hold one poll a minute or more past wait_timeout.
poll_custom_key_store = KMSErrorHandler.list_error_handler("describe custom key store {label}")(
    _describe_custom_key_store
)


@KMSErrorHandler.list_error_handler("list custom key stores", [])
@kms_retry
def list_custom_key_stores(client):
    """Every custom key store in the client's Region, following Marker paging to the end."""
    paginator = client.get_paginator("describe_custom_key_stores")
    return paginator.paginate().build_full_result()["CustomKeyStores"]


@KMSErrorHandler.common_error_handler("connect custom key store {custom_key_store_id}")
@kms_retry
def connect_custom_key_store(client, custom_key_store_id):
    client.connect_custom_key_store(CustomKeyStoreId=custom_key_store_id)


@KMSErrorHandler.common_error_handler("disconnect custom key store {custom_key_store_id}")
@kms_retry
def disconnect_custom_key_store(client, custom_key_store_id):
    client.disconnect_custom_key_store(CustomKeyStoreId=custom_key_store_id)


def normalize_custom_key_store(entry):
    """snake_case keys and ISO 8601 dates, as the modules return a store."""
    return boto3_resource_to_ansible_dict(entry, transform_tags=False, force_tags=False)


# CreateCustomKeyStore is retried only when KMS refused the request outright (throttling): after an
# internal error the store may exist already. KMS answers a repeat of an identical CloudHSM create with the
# existing store's ID only while that store is DISCONNECTED (KMS Developer Guide, "Creating an AWS CloudHSM
# key store"); an external key store, or a store in another state, would answer "name in use".
kms_create_retry = AWSRetry.jittered_backoff(
    retries=8, delay=1, max_delay=20, catch_extra_error_codes=["ThrottlingException"]
)


@KMSErrorHandler.common_error_handler("create custom key store {custom_key_store_name}")
@kms_create_retry
def create_custom_key_store(client, custom_key_store_name, request):
    """CreateCustomKeyStore with the other request members in `request`; returns the new store's ID."""
    return client.create_custom_key_store(CustomKeyStoreName=custom_key_store_name, **request)["CustomKeyStoreId"]


@KMSErrorHandler.common_error_handler("update custom key store {label}")
@kms_retry
def update_custom_key_store(client, custom_key_store_id, label, changes):
    """UpdateCustomKeyStore with only the members in `changes` (NewCustomKeyStoreName, KeyStorePassword, ...)."""
    client.update_custom_key_store(CustomKeyStoreId=custom_key_store_id, **changes)


@KMSErrorHandler.deletion_error_handler("delete custom key store {label}")
@kms_retry
def delete_custom_key_store(client, custom_key_store_id, label):
    """DeleteCustomKeyStore; True when deleted, False when AWS no longer knows the store (already gone)."""
    client.delete_custom_key_store(CustomKeyStoreId=custom_key_store_id)
    return True


# -- cryptographic calls of the proof of use (proof.py) -----------------------------------------------------------


@KMSErrorHandler.common_error_handler("generate random bytes in custom key store {custom_key_store_id}")
@kms_retry
def generate_random(client, custom_key_store_id, number_of_bytes):
    """GenerateRandom in the CloudHSM cluster of a CloudHSM key store; returns the bytes."""
    return client.generate_random(NumberOfBytes=number_of_bytes, CustomKeyStoreId=custom_key_store_id)["Plaintext"]


@KMSErrorHandler.common_error_handler("describe KMS key {key_id}")
@kms_retry
def describe_key(client, key_id):
    """DescribeKey; returns the KeyMetadata (boto3 form)."""
    return client.describe_key(KeyId=key_id)["KeyMetadata"]


@KMSErrorHandler.common_error_handler("encrypt with KMS key {key_id}")
@kms_retry
def encrypt(client, key_id, plaintext, encryption_context):
    """Encrypt; returns the ciphertext blob."""
    return client.encrypt(KeyId=key_id, Plaintext=plaintext, EncryptionContext=encryption_context)["CiphertextBlob"]


@KMSErrorHandler.common_error_handler("decrypt with KMS key {key_id}")
@kms_retry
def decrypt(client, key_id, ciphertext, encryption_context):
    """Decrypt with the KMS key named (KMS refuses a ciphertext of another key); returns the plaintext."""
    return client.decrypt(KeyId=key_id, CiphertextBlob=ciphertext, EncryptionContext=encryption_context)["Plaintext"]
