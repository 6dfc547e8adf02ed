# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMS cryptographic operations of the emulator: GenerateRandom, in KMS or in a CloudHSM key store's cluster.

Kept apart from ``kms.py`` (the custom key store operations); ``kms.OPERATIONS`` takes these in. The rules and
their AWS sources are in README.md ("Rules table", GenerateRandom rows).
"""

import base64
import os

from .entities import CONNECTED
from .entities import EXTERNAL_KEY_STORE
from .errors import CustomKeyStoreInvalidStateError
from .errors import CustomKeyStoreNotFoundError
from .errors import DependencyTimeoutError
from .errors import UnsupportedOperationError
from .errors import ValidationError


def generate_random(world, params):
    """GenerateRandom: NumberOfBytes random bytes, from KMS or from the HSMs of a CONNECTED CloudHSM key store."""
    count = params.get("NumberOfBytes")
    if count is None:
        # botocore's model does not mark it required; the API text does ("This parameter is required.").
        raise ValidationError("GenerateRandom needs NumberOfBytes (1 to 1024); there is no default length.")
    if params.get("Recipient") is not None:
        raise ValidationError("The emulator does not implement GenerateRandom with a Recipient (Nitro Enclaves).")
    store_id = params.get("CustomKeyStoreId")
    if store_id is not None:
        _check_cloudhsm_store(world, store_id)
    return {"Plaintext": base64.b64encode(os.urandom(count)).decode("ascii")}


def _check_cloudhsm_store(world, store_id):
    store = world.stores.get(store_id)
    if store is None:
        raise CustomKeyStoreNotFoundError("Custom key store %s does not exist in %s." % (store_id, world.region))
    if store.store_type == EXTERNAL_KEY_STORE:
        raise UnsupportedOperationError(
            "GenerateRandom does not take the ID of an external key store (%s); use a CloudHSM key store." % store_id
        )
    if store.state != CONNECTED:
        raise CustomKeyStoreInvalidStateError(
            "GenerateRandom is valid only when CloudHSM key store %s is CONNECTED; it is %s." % (store_id, store.state)
        )
    cluster = world.clusters.get(store.cluster_id)
    gone = cluster is None or cluster.state in ("DELETE_IN_PROGRESS", "DELETED")
    if gone or not cluster.active_hsms():
        # Emulator's choice (README): the docs do not say what KMS answers when a CONNECTED store's cluster has
        # lost every ACTIVE HSM; no HSM can generate the bytes, so it answers an error of GenerateRandom's list.
        raise DependencyTimeoutError(
            "KMS could not reach an ACTIVE HSM in CloudHSM cluster %s of custom key store %s."
            % (store.cluster_id, store_id)
        )


OPERATIONS = {
    "GenerateRandom": generate_random,
}
