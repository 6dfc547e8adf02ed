# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Creating, updating and deleting a custom key store: the run (what to send is key_store_plan.py).

Only a DISCONNECTED store can be deleted, and some fields change only while it is DISCONNECTED
(key_store_plan.NEEDS_DISCONNECTED): the runner disconnects and reconnects through ConnectionRunner.
"""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import error_code
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection import ConnectionRunner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection import plan
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import NAME
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import XKS
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import compute_changes
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import create_request
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import created_entry
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import definition
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import join
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import needs_disconnected
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import secrets_sent
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import updated_entry
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import create_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import delete_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import describe_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import normalize_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import poll_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import update_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import explain_aws_error
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import connectivity_change_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import connectivity_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import key_store_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import Runner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import timeout_sentence

CREATE = "CreateCustomKeyStore"
UPDATE = "UpdateCustomKeyStore"
DELETE = "DeleteCustomKeyStore"


def argument_spec():
    """kms_custom_key_store's options: KeyStoreRunner.run() takes them as its params."""
    return dict(
        custom_key_store_name=dict(type="str", required=True),
        custom_key_store_id=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        custom_key_store_type=dict(type="str", default="AWS_CLOUDHSM", choices=["AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"]),
        cloud_hsm_cluster_id=dict(type="str"),
        trust_anchor_certificate=dict(type="str"),
        key_store_password=dict(type="str", no_log=True),
        xks_proxy_uri_endpoint=dict(type="str"),
        xks_proxy_uri_path=dict(type="str"),
        xks_proxy_connectivity=dict(type="str", choices=["PUBLIC_ENDPOINT", "VPC_ENDPOINT_SERVICE"]),
        xks_proxy_vpc_endpoint_service_name=dict(type="str"),
        xks_proxy_vpc_endpoint_service_owner=dict(type="str"),
        xks_proxy_authentication_credential=dict(
            type="dict",
            no_log=True,
            options=dict(
                access_key_id=dict(type="str", required=True),
                raw_secret_access_key=dict(type="str", required=True, no_log=True),
            ),
        ),
        update_password=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
        allow_disconnect=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1200),
    )


# A store disconnected for an update is connected again when it was meant to be connected before.
RECONNECT_FROM = ("CONNECTED", "CONNECTING", "FAILED")
# UpdateCustomKeyStore is valid only in CONNECTED and DISCONNECTED (KMS API Reference, CustomKeyStoreInvalidStateException;
# docs/design.md, Updating a store): an update waits out these states first ...
SETTLING = {"CONNECTING": "CONNECTED", "DISCONNECTING": "DISCONNECTED"}
# ... and a FAILED store is disconnected first.
UPDATABLE = ("CONNECTED", "DISCONNECTED")


class KeyStoreRunner(Runner):
    """Creates, updates or deletes one custom key store; disconnects and reconnects through ConnectionRunner."""

    def run(self, params):
        problem = key_store_problem(params)
        if problem:
            raise RunFailure(problem)
        self._start_clock(params["wait_timeout"])
        store_id = params.get("custom_key_store_id")
        selector, label = (
            ({"CustomKeyStoreId": store_id}, store_id)
            if store_id
            else ({"CustomKeyStoreName": params[NAME]}, params[NAME])
        )
        entry = describe_custom_key_store(self.client, selector, label)
        if params["state"] == "absent":
            return self._absent(entry, params)
        if entry is None:
            if store_id:
                raise RunFailure(
                    f"custom key store {store_id} not found in {self.region}; KMS chooses the ID of a new store, "
                    f"so omit custom_key_store_id to create a store named {params[NAME]}."
                )
            return self._create(params)
        return self._update(entry, params)

    # -- create -------------------------------------------------------------------

    def _create(self, params):
        request = create_request(params)
        after = created_entry(params[NAME], request)
        if not self.check_mode:
            store_id = create_custom_key_store(self.create_client(), params[NAME], request)
            self.actions.append(CREATE)
            after = describe_custom_key_store(self.client, {"CustomKeyStoreId": store_id}, params[NAME]) or dict(
                after, CustomKeyStoreId=store_id
            )
        else:
            self.actions.append(CREATE)
        return self._result(None, after, secrets_sent(request))

    # -- update -------------------------------------------------------------------

    def _update(self, entry, params):
        store_type = entry["CustomKeyStoreType"]
        name = entry["CustomKeyStoreName"]
        if store_type != params["custom_key_store_type"]:
            raise RunFailure(
                f"Custom key store {name} is of type {store_type}, not {params['custom_key_store_type']}, and a store's type "
                f"cannot change: set custom_key_store_type: {store_type}, or create a new store under another name.",
                custom_key_store=normalize_custom_key_store(entry),
            )
        if store_type == XKS:
            config = entry.get("XksProxyConfiguration") or {}
            connectivity = params.get("xks_proxy_connectivity") or config.get("Connectivity")
            keeps_vpc_service = connectivity == config.get("Connectivity")
            problem = connectivity_change_problem(params, config) or connectivity_problem(
                params, connectivity, config.get("VpcEndpointServiceName") if keeps_vpc_service else None
            )
            if problem:
                raise RunFailure(problem)
        changes = compute_changes(entry, params)
        if not changes:
            return self._result(entry, entry)
        state = entry["ConnectionState"]
        blocked = needs_disconnected(store_type, changes)
        # A connecting store that must be disconnected anyway is disconnected at once; every other
        # transitional store is waited for (in check mode: predicted to settle).
        if state in SETTLING and not (state == "CONNECTING" and blocked):
            before = entry
            if self.check_mode:
                entry = updated_entry(entry, {}, SETTLING[state])
            else:
                entry = self._settled(entry)
            state = entry["ConnectionState"]
            changes = compute_changes(entry, params)
            if not changes:
                return self._result(before, entry)
            blocked = needs_disconnected(store_type, changes)
        if state == "FAILED" and not params["allow_disconnect"]:
            raise RunFailure(
                f"Custom key store {name} is FAILED, and AWS updates a store only while it is CONNECTED or DISCONNECTED: "
                "set allow_disconnect: true to disconnect it, update it and connect it again, or disconnect it first.",
                custom_key_store=normalize_custom_key_store(entry),
            )
        disconnect = state not in UPDATABLE or (bool(blocked) and state != "DISCONNECTED")
        if disconnect and not params["allow_disconnect"]:
            raise RunFailure(
                f"Custom key store {name} is {state}, and AWS changes {join(blocked)} only while a store is DISCONNECTED: "
                "set allow_disconnect: true to disconnect it, update it and connect it again (disconnecting interrupts "
                "all use of its KMS keys until it is connected again), or disconnect it first.",
                custom_key_store=normalize_custom_key_store(entry),
            )
        reconnect = disconnect and state in RECONNECT_FROM
        secrets = secrets_sent(changes)
        if self.check_mode:
            # The connection runner's plans: disconnect and wait, update, and connect again (waiting with wait).
            actions, final = plan(state, "disconnected", wait=True) if disconnect else ([], state)
            self.actions = actions + [UPDATE]
            if reconnect:
                actions, final = plan(final, "connected", wait=params["wait"])
                self.actions += actions
            return self._result(entry, updated_entry(entry, changes, final), secrets)
        if disconnect:
            self._connection(entry, "disconnected", wait=True)
        try:
            update_custom_key_store(self.client, entry["CustomKeyStoreId"], name, changes)
        except AnsibleKMSError as error:
            raise self._restored(entry, reconnect, explain_aws_error(error), params)
        self.actions.append(UPDATE)
        if reconnect:
            self._connection(entry, "connected", wait=params["wait"])
        after = describe_custom_key_store(self.client, {"CustomKeyStoreId": entry["CustomKeyStoreId"]}, name)
        return self._result(entry, after or updated_entry(entry, changes, entry["ConnectionState"]), secrets)

    def _settled(self, entry):
        """The store's Describe entry once it has left CONNECTING / DISCONNECTING (bounded by wait_timeout)."""
        name = entry["CustomKeyStoreName"]
        selector = {"CustomKeyStoreId": entry["CustomKeyStoreId"]}
        last = entry
        for last in self._polls(lambda: poll_custom_key_store(self.client, selector, name)):
            if last is None:
                raise RunFailure(
                    f"Custom key store {name} was deleted in {self.region} while this task waited to update it."
                )
            if last["ConnectionState"] not in SETTLING:
                return last
        waited_for = f"custom key store {name} to leave {last['ConnectionState']} before updating it"
        raise RunFailure(
            timeout_sentence(self._elapsed(), waited_for, last["ConnectionState"]),
            custom_key_store=normalize_custom_key_store(last),
        )

    # -- delete -------------------------------------------------------------------

    def _absent(self, entry, params):
        if entry is None:
            return self._result(None, None)
        name = entry["CustomKeyStoreName"]
        state = entry["ConnectionState"]
        disconnect = state != "DISCONNECTED"
        if disconnect and not params["allow_disconnect"]:
            raise RunFailure(
                f"Custom key store {name} is {state}, and AWS deletes only a DISCONNECTED store: set allow_disconnect: true "
                "to disconnect it first (disconnecting interrupts all use of its KMS keys), or disconnect it yourself.",
                custom_key_store=normalize_custom_key_store(entry),
            )
        if self.check_mode:
            self.actions = (plan(state, "disconnected", wait=True)[0] if disconnect else []) + [DELETE]
            return self._result(entry, None)
        if disconnect:
            self._connection(entry, "disconnected", wait=True)
        reconnect = disconnect and state in RECONNECT_FROM
        try:
            delete_custom_key_store(self.client, entry["CustomKeyStoreId"], name)
        except AnsibleKMSError as error:
            if error_code(error) == "CustomKeyStoreHasCMKsException":
                message = (
                    f"Custom key store {name} holds KMS keys: schedule deletion of its KMS keys first "
                    "(they are deleted after the waiting period), then run again."
                )
            else:
                message = explain_aws_error(error)
            raise self._restored(entry, reconnect, message, params)
        self.actions.append(DELETE)
        return self._result(entry, None)

    # -- connection changes through the connection module's runner ---------------------------

    def _connection(self, entry, desired, wait):
        runner = ConnectionRunner(
            self.client,
            {"CustomKeyStoreId": entry["CustomKeyStoreId"]},
            entry["CustomKeyStoreName"],
            self.region,
            sleep=self.sleep,
            clock=self.clock,
        )
        try:
            runner.run(desired, wait=wait, wait_timeout=self._deadline - self.clock())
        except RunFailure as failure:
            self.actions.extend(failure.result.get("actions", runner.actions))
            raise RunFailure(failure.message, **self._failure_result(failure.result.get("custom_key_store")))
        except AnsibleKMSError:
            self.actions.extend(runner.actions)
            raise
        self.actions.extend(runner.actions)

    def _restored(self, entry, reconnect, message, params):
        """The failure of an update or delete, after connecting again a store this run disconnected."""
        if reconnect:
            try:
                self._connection(entry, "connected", wait=params["wait"])
                message += (
                    f" Custom key store {entry['CustomKeyStoreName']} was connected again, as it was before the task."
                )
            except (RunFailure, AnsibleKMSError) as error:
                detail = error.message if isinstance(error, RunFailure) else explain_aws_error(error)
                message += f" Connecting custom key store {entry['CustomKeyStoreName']} again failed too: {detail}"
        return RunFailure(message, **self._failure_result())

    def _failure_result(self, store=None):
        result = {"changed": bool(self.actions), "actions": list(self.actions)}
        if store is not None:
            result["custom_key_store"] = store
        return result

    def _result(self, before, after, secrets=()):
        return {
            "changed": bool(self.actions),
            "custom_key_store": normalize_custom_key_store(after) if after else {},
            "actions": list(self.actions),
            "diff": {"before": definition(before), "after": definition(after, secrets if self.actions else ())},
        }
