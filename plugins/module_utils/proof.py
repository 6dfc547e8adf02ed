# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Proof that a CONNECTED custom key store can do cryptography, not only that KMS reached its backing key store.

A CloudHSM key store is proved by GenerateRandom with its CustomKeyStoreId: "To generate the byte string in the
CloudHSM cluster associated with an CloudHSM key store, use the CustomKeyStoreId parameter" (KMS API Reference,
"GenerateRandom"). An external key store is proved by an Encrypt/Decrypt round trip with a KMS key of the store
named by the operator: GenerateRandom refuses external key store IDs ("If you specify the ID of an external key store,
GenerateRandom throws an UnsupportedOperationException"). The random bytes are never returned, only their count.

The outcome is `proven`: True (done), False (KMS refused, or the store is not CONNECTED), None (not checked: the
caller lacks an IAM action, no key_id for an external key store, KMS throttled or could not be reached).
"""

import os

from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import error_code
from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import is_throttling
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import decrypt
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import describe_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import describe_key
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import encrypt
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import generate_random
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import store_selector
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import aws_error_sentence
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure

NUMBER_OF_BYTES = 32
# Names the round trip in CloudTrail; Decrypt must be given the same context.
ENCRYPTION_CONTEXT = {"awskms.custom_key_store": "proof-of-use"}

GENERATE_RANDOM = "GenerateRandom"
ROUND_TRIP = "Encrypt/Decrypt"

# The IAM action behind each call the proof makes.
IAM_ACTIONS = {
    "DescribeCustomKeyStores": "kms:DescribeCustomKeyStores",
    "GenerateRandom": "kms:GenerateRandom",
    "DescribeKey": "kms:DescribeKey",
    "Encrypt": "kms:Encrypt",
    "Decrypt": "kms:Decrypt",
}


# What kms_custom_key_store_connection returns in `proof` of a proof it made.
CONNECTION_PROOF_KEYS = ("proven", "proof", "reason", "actions", "missing_iam_action", "random_byte_count")


def store_named(store):
    """How a proof's reasons name a store (a DescribeCustomKeyStores entry)."""
    return f"custom key store {store.get('CustomKeyStoreName')} ({store['CustomKeyStoreId']})"


def prove_connected_store(client, region, store, predicted=False):
    """kms_custom_key_store_connection's `proof` (its prove option) of the store it leaves (a DescribeCustomKeyStores
    entry): a CloudHSM key store seen CONNECTED is proved by GenerateRandom, in the same module run; any other is not
    (proven None). `predicted`: the state is check mode's prediction, not a read."""
    named = store_named(store)
    state = store.get("ConnectionState")
    if store.get("CustomKeyStoreType", "AWS_CLOUDHSM") == "EXTERNAL_KEY_STORE":
        why = (
            f"{named} is an external key store, which is proved by an Encrypt/Decrypt round trip with one of its KMS "
            "keys: use kms_custom_key_store_proof with key_id"
        )
    elif state != "CONNECTED":
        why = f"{named} is {state}, not CONNECTED"
    elif predicted:
        why = f"check mode, and {named} is not connected yet"
    else:
        made = ProofRunner(client, region).prove_store(store)
        return {key: made[key] for key in CONNECTION_PROOF_KEYS if key in made}
    return {"proven": None, "proof": None, "reason": f"Not run: {why}.", "actions": []}


class NotChecked(Exception):
    """A call whose answer says nothing about the store: access denied, throttled, no answer."""

    def __init__(self, reason, missing_iam_action=None):
        super().__init__(reason)
        self.reason = reason
        self.missing_iam_action = missing_iam_action


class Refused(Exception):
    """KMS answered the proof's call with an error: the store did not prove itself."""


class ProofRunner:
    """Describes one store, then proves it with the calls its type needs; never changes anything.

    random_bytes makes the round trip's plaintext (injectable for tests).
    """

    def __init__(self, client, region, random_bytes=os.urandom):
        self.client = client
        self.region = region
        self.random_bytes = random_bytes
        self.actions = []
        self.warnings = []

    def prove(self, custom_key_store_id=None, custom_key_store_name=None, key_id=None):
        self.actions = []
        self.warnings = []
        selector, label = store_selector(custom_key_store_id, custom_key_store_name)
        result = {"changed": False, "proven": None, "proof": None, "actions": self.actions}
        try:
            store = self._call("DescribeCustomKeyStores", describe_custom_key_store, self.client, selector, label)
        except NotChecked as not_checked:
            return self._not_checked(result, not_checked, f"custom key store {label}")
        except Refused as refused:
            raise RunFailure(str(refused), **result) from None
        if store is None:
            raise RunFailure(f"Custom key store {label} not found in {self.region}.", **result)
        return self._prove(result, store, key_id)

    def prove_store(self, store):
        """Proves a CloudHSM key store just described (its DescribeCustomKeyStores entry), without reading it again."""
        self.actions = []
        self.warnings = []
        return self._prove({"changed": False, "proven": None, "proof": None, "actions": self.actions}, store, None)

    def _prove(self, result, store, key_id):
        result.update(
            custom_key_store_id=store["CustomKeyStoreId"],
            custom_key_store_name=store.get("CustomKeyStoreName"),
            custom_key_store_type=store.get("CustomKeyStoreType", "AWS_CLOUDHSM"),
            connection_state=store.get("ConnectionState"),
        )
        named = store_named(store)
        external = result["custom_key_store_type"] == "EXTERNAL_KEY_STORE"
        result["proof"] = ROUND_TRIP if external else GENERATE_RANDOM
        if external and not key_id:
            result["reason"] = (
                f"Not checked: {named} is an external key store, which is proved by an Encrypt/Decrypt round trip "
                "with one of its KMS keys (GenerateRandom does not take external key stores); set key_id to one."
            )
            return result
        if not external and key_id:
            self.warnings.append(
                f"key_id is used only with external key stores; {named} is a CloudHSM key store, proved by "
                "GenerateRandom in its cluster, so key_id was not used."
            )
        if result["connection_state"] != "CONNECTED":
            result["proven"] = False
            result["reason"] = (
                f"Not proven: {named} is {result['connection_state']}, and KMS can use a custom key store only while it "
                "is CONNECTED; connect it (kms_custom_key_store_connection), then prove it again."
            )
            return result
        try:
            if external:
                self._round_trip(result, named, key_id)
            else:
                self._generate_random(result, named)
        except NotChecked as not_checked:
            return self._not_checked(result, not_checked, named)
        except Refused as refused:
            result["proven"] = False
            result["reason"] = f"Not proven: {refused}"
        return result

    # -- the proofs ---------------------------------------------------------------------

    def _generate_random(self, result, named):
        store_id = result["custom_key_store_id"]
        plaintext = self._call("GenerateRandom", generate_random, self.client, store_id, NUMBER_OF_BYTES)
        result["random_byte_count"] = len(plaintext)
        if len(plaintext) != NUMBER_OF_BYTES:
            result["proven"] = False
            result["reason"] = (
                f"Not proven: GenerateRandom in {named} returned {len(plaintext)} bytes instead of {NUMBER_OF_BYTES}."
            )
            return
        result["proven"] = True
        result["reason"] = (
            f"Proven: the CloudHSM cluster of {named} generated {NUMBER_OF_BYTES} random bytes (GenerateRandom)."
        )

    def _round_trip(self, result, named, key_id):
        metadata = self._call("DescribeKey", describe_key, self.client, key_id)
        if metadata.get("CustomKeyStoreId") != result["custom_key_store_id"]:
            where = metadata.get("CustomKeyStoreId") or "no custom key store"
            raise RunFailure(
                f"KMS key {key_id} is not a key of {named} (it is in {where}); set key_id to a KMS key of that store.",
                **result,
            )
        key_arn = metadata.get("Arn") or key_id
        result["key_id"] = key_arn
        plaintext = self.random_bytes(NUMBER_OF_BYTES)
        ciphertext = self._call("Encrypt", encrypt, self.client, key_arn, plaintext, ENCRYPTION_CONTEXT)
        decrypted = self._call("Decrypt", decrypt, self.client, key_arn, ciphertext, ENCRYPTION_CONTEXT)
        if decrypted != plaintext:
            result["proven"] = False
            result["reason"] = f"Not proven: Decrypt with KMS key {key_arn} of {named} did not return what Encrypt got."
            return
        result["proven"] = True
        result["reason"] = (
            f"Proven: KMS key {key_arn} of {named} encrypted and decrypted {NUMBER_OF_BYTES} bytes (Encrypt/Decrypt)."
        )

    # -- calls and their failures ---------------------------------------------------------

    def _call(self, operation, function, *args):
        """One API call, recorded in actions; its failure as NotChecked (says nothing of the store) or Refused."""
        self.actions.append(operation)
        try:
            return function(*args)
        except AnsibleKMSError as error:
            code = error_code(error)
            if code == "AccessDeniedException":
                raise NotChecked(
                    f"the caller is not allowed {IAM_ACTIONS[operation]} (AccessDeniedException)",
                    IAM_ACTIONS[operation],
                ) from None
            if code is None or is_throttling(error):
                raise NotChecked(
                    f"{operation} got no usable answer ({aws_error_sentence(error).rstrip('.')})"
                ) from None
            if code == "NotFoundException" and operation == "DescribeKey":
                raise RunFailure(f"{aws_error_sentence(error)} Set key_id to a KMS key of the store.") from None
            raise Refused(aws_error_sentence(error)) from None

    @staticmethod
    def _not_checked(result, not_checked, named):
        result["proven"] = None
        if not_checked.missing_iam_action:
            result["missing_iam_action"] = not_checked.missing_iam_action
            result["reason"] = (
                f"Not checked: {not_checked.reason}, so {named} could not be proved; allow that IAM action to prove it."
            )
        else:
            result["reason"] = f"Not checked: {named} could not be proved, as {not_checked.reason}."
        return result
