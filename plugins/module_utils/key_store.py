# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Creating, updating and deleting a custom key store: option checks, the change computation and the run.

AWS facts (KMS API reference, UpdateCustomKeyStore / DeleteCustomKeyStore; DESIGN §4): a CloudHSM store's
name may change while it is connected, its kmsuser password and cluster ID only while it is DISCONNECTED; an
XKS store's name, proxy credential and URI path may change while connected, its proxy endpoint, connectivity
and VPC endpoint service only while DISCONNECTED. Only a DISCONNECTED store can be deleted. AWS never returns
the kmsuser password or the XKS secret, so those are sent on create, or on every run with update_password=always.
"""

import copy
import re
import time

from ansible_collections.awskms.custom_key_store.plugins.module_utils.aws_errors import error_code
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection import ConnectionFailure
from ansible_collections.awskms.custom_key_store.plugins.module_utils.connection import ConnectionRunner
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import create_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import delete_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import describe_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import normalize_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import update_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import aws_error_sentence

CLOUDHSM = "AWS_CLOUDHSM"
XKS = "EXTERNAL_KEY_STORE"
PUBLIC_ENDPOINT = "PUBLIC_ENDPOINT"
VPC_ENDPOINT_SERVICE = "VPC_ENDPOINT_SERVICE"

CREATE = "CreateCustomKeyStore"
UPDATE = "UpdateCustomKeyStore"
DELETE = "DeleteCustomKeyStore"
CONNECT = "ConnectCustomKeyStore"
DISCONNECT = "DisconnectCustomKeyStore"

NAME = "custom_key_store_name"
CREDENTIAL = "xks_proxy_authentication_credential"

# (option, Create/UpdateCustomKeyStore member, key of the Describe entry - XKS: of its XksProxyConfiguration)
CLOUDHSM_FIELDS = (
    ("cloud_hsm_cluster_id", "CloudHsmClusterId", "CloudHsmClusterId"),
    ("trust_anchor_certificate", "TrustAnchorCertificate", "TrustAnchorCertificate"),
    ("key_store_password", "KeyStorePassword", None),
)
XKS_FIELDS = (
    ("xks_proxy_uri_endpoint", "XksProxyUriEndpoint", "UriEndpoint"),
    ("xks_proxy_uri_path", "XksProxyUriPath", "UriPath"),
    ("xks_proxy_connectivity", "XksProxyConnectivity", "Connectivity"),
    ("xks_proxy_vpc_endpoint_service_name", "XksProxyVpcEndpointServiceName", "VpcEndpointServiceName"),
    ("xks_proxy_vpc_endpoint_service_owner", "XksProxyVpcEndpointServiceOwner", "VpcEndpointServiceOwner"),
    (CREDENTIAL, "XksProxyAuthenticationCredential", None),
)
TYPE_FIELDS = {CLOUDHSM: CLOUDHSM_FIELDS, XKS: XKS_FIELDS}
OPTION_OF = dict((member, option) for option, member, _key in CLOUDHSM_FIELDS + XKS_FIELDS)
OPTION_OF["NewCustomKeyStoreName"] = NAME

# What CreateCustomKeyStore needs, by type (plus the VPC endpoint service name with VPC_ENDPOINT_SERVICE).
CREATE_REQUIRES = {
    CLOUDHSM: ("cloud_hsm_cluster_id", "trust_anchor_certificate", "key_store_password"),
    XKS: ("xks_proxy_uri_endpoint", "xks_proxy_uri_path", "xks_proxy_connectivity", CREDENTIAL),
}

# UpdateCustomKeyStore members AWS accepts only while the store is DISCONNECTED.
NEEDS_DISCONNECTED = {
    CLOUDHSM: ("CloudHsmClusterId", "KeyStorePassword"),
    XKS: ("XksProxyUriEndpoint", "XksProxyConnectivity", "XksProxyVpcEndpointServiceName", "XksProxyVpcEndpointServiceOwner"),
}
SECRET_MEMBERS = ("KeyStorePassword", "XksProxyAuthenticationCredential")

# A store disconnected for an update is connected again when it was meant to be connected before.
RECONNECT_FROM = ("CONNECTED", "CONNECTING", "FAILED")

# The shapes KMS accepts (botocore's model; botocore itself checks only lengths, and echoes what it refuses).
_SHAPES = {
    "key_store_password": (re.compile(r"^.{7,32}$", re.S), "7 to 32 characters"),
    "access_key_id": (re.compile(r"^[A-Z2-7]{20,30}$"), "20 to 30 characters of A-Z and 2-7"),
    "raw_secret_access_key": (re.compile(r"^[a-zA-Z0-9/+=]{43,64}$"), "43 to 64 characters of A-Z, a-z, 0-9, /, + and ="),
}

# The formats KMS accepts for the other options (botocore's model: lengths and patterns, which AWS checks as a whole
# match). botocore checks only lengths, in a multi-line message naming the API member, and leaves patterns to AWS,
# whose ValidationException would come from a create or update call; checking them here names the option and makes
# no call.
_FORMATS = {
    NAME: (re.compile(r"^.{1,256}$", re.S), "1 to 256 characters"),
    "custom_key_store_id": (re.compile(r"^.{1,64}$", re.S), "1 to 64 characters, for example cks-1234567890abcdef0"),
    "cloud_hsm_cluster_id": (re.compile(r"^cluster-[2-7a-zA-Z]{11,16}$"), "cluster- followed by 11 to 16 letters or digits 2 to 7"),
    "trust_anchor_certificate": (re.compile(r"^.{1,5000}$", re.S), "1 to 5000 characters"),
    "xks_proxy_uri_endpoint": (
        re.compile(r"^(?=.{10,128}$)https://[a-zA-Z0-9.-]+$"),
        "https:// followed by a DNS name (letters, digits, dots and hyphens), 10 to 128 characters in all, for example https://xks.example.com",
    ),
    "xks_proxy_uri_path": (
        re.compile(r"^(?=.{10,128}$)(/[a-zA-Z0-9/_-]+)?/kms/xks/v[0-9]{1,2}$"),
        "/kms/xks/v followed by the API version (1 or 2 digits), optionally after a prefix such as /example, 10 to 128 characters",
    ),
    "xks_proxy_vpc_endpoint_service_name": (
        re.compile(r"^(?=.{20,64}$)(com|eu)[.]amazonaws[.]vpce[.]([a-z]+-){2,3}[0-9]+[.]vpce-svc-[0-9a-z]+$"),
        "the name of a VPC endpoint service, for example com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
    ),
    "xks_proxy_vpc_endpoint_service_owner": (re.compile(r"^[0-9]{12}$"), "an AWS account ID of 12 digits"),
}

# What to do about the AWS refusals an operator can cause. Codes not listed get AWS's own message only.
ADVICE = {
    "CustomKeyStoreNameInUseException": "Choose another custom_key_store_name: names are unique in a Region.",
    "CloudHsmClusterNotFoundException": "Check cloud_hsm_cluster_id and the Region.",
    "CloudHsmClusterInUseException": (
        "Use a cluster that backs no other custom key store (clusters created from each other's backups count as one)."
    ),
    "CloudHsmClusterNotActiveException": "Initialize and activate the cluster, add an HSM, then run again.",
    "CloudHsmClusterNotRelatedException": (
        "Set cloud_hsm_cluster_id to the store's original cluster or to a cluster created from a backup of it."
    ),
    "CloudHsmClusterInvalidConfigurationException": (
        "Give the cluster private subnets in at least two Availability Zones and the security group rules KMS needs, then run again."
    ),
    "IncorrectTrustAnchorException": "Set trust_anchor_certificate to the content of the customerCA.crt file that initialized the cluster.",
    "XksProxyUriInUseException": "Another custom key store uses this proxy endpoint and path: choose another xks_proxy_uri_path.",
    "XksProxyUriEndpointInUseException": "Another custom key store uses this xks_proxy_uri_endpoint: choose another endpoint.",
    "XksProxyVpcEndpointServiceInUseException": (
        "Another custom key store uses this VPC endpoint service: choose another xks_proxy_vpc_endpoint_service_name."
    ),
    "XksProxyUriUnreachableException": (
        "Check xks_proxy_uri_endpoint, xks_proxy_uri_path and xks_proxy_connectivity, and that the proxy is running and reachable by KMS."
    ),
    "XksProxyIncorrectAuthenticationCredentialException": "Set xks_proxy_authentication_credential to a credential the proxy accepts.",
    "XksProxyInvalidConfigurationException": "Fix the proxy's configuration (its logs say what is wrong), then run again.",
    "CustomKeyStoreInvalidStateException": "The store's connection state changed while the task ran: run the task again.",
}


class KeyStoreFailure(Exception):
    """A failure to report to the user: one sentence, plus what the run did so far."""

    def __init__(self, message, **result):
        super().__init__(message)
        self.message = message
        self.result = result


def aws_error_advice(error):
    """The next step for an AWS refusal the operator can fix, or None."""
    return ADVICE.get(error_code(error))


def explain_aws_error(error):
    """AWS's refusal as one line, with the next step when there is a known one."""
    sentence = aws_error_sentence(error)
    advice = aws_error_advice(error)
    return f"{sentence} Next step: {advice}" if advice else sentence


def _join(names):
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ---------------------------------------------------------------------------
# Option checks that need no AWS call
# ---------------------------------------------------------------------------


def check_options(params):
    """Refuse, in one sentence naming the options, what no AWS call can make right."""
    for option in (NAME, "custom_key_store_id") + tuple(field[0] for field in CLOUDHSM_FIELDS + XKS_FIELDS[:-1]):
        value = params.get(option)
        if value is not None and not value.strip():
            raise KeyStoreFailure(f"{option} must not be empty.")
    credential = params.get(CREDENTIAL)
    for sub in ("access_key_id", "raw_secret_access_key"):
        if credential is not None and not (credential.get(sub) or "").strip():
            raise KeyStoreFailure(f"{CREDENTIAL}.{sub} must not be empty.")
    if params["wait_timeout"] <= 0:
        raise KeyStoreFailure(f"wait_timeout must be greater than 0 seconds, got {params['wait_timeout']}.")
    _check_formats(params, (NAME, "custom_key_store_id"))
    if params["state"] == "absent":
        return
    store_type = params["custom_key_store_type"]
    other = XKS if store_type == CLOUDHSM else CLOUDHSM
    foreign = [field[0] for field in TYPE_FIELDS[other] if params.get(field[0]) is not None]
    if foreign:
        raise KeyStoreFailure(
            f"{_join(foreign)} {'applies' if len(foreign) == 1 else 'apply'} only to custom key stores of type {other}, "
            f"not to custom_key_store_type {store_type}: remove {'it' if len(foreign) == 1 else 'them'}, "
            f"or set custom_key_store_type: {other}."
        )
    # Shapes are checked here so that a wrong secret is never echoed by a client-side validation message.
    values = dict(key_store_password=params.get("key_store_password"), **(credential or {}))
    for name, (pattern, shape) in _SHAPES.items():
        if values.get(name) is not None and not pattern.match(values[name]):
            option = name if name == "key_store_password" else f"{CREDENTIAL}.{name}"
            raise KeyStoreFailure(f"{option} must be {shape}.")
    if params.get("xks_proxy_connectivity") == PUBLIC_ENDPOINT:
        # (VPC_ENDPOINT_SERVICE without a service name is checked against the store, which may have one.)
        _check_connectivity(params, PUBLIC_ENDPOINT)
    _check_formats(params, [option for option in _FORMATS if option not in (NAME, "custom_key_store_id")])


def _check_formats(params, options):
    """Refuse the first of these options whose value KMS would refuse (no secret is among them)."""
    for option in options:
        value = params.get(option)
        pattern, shape = _FORMATS[option]
        if value is not None and not pattern.match(value):
            shown = value if len(value) <= 80 and "\n" not in value else f"a value of {len(value)} characters"
            raise KeyStoreFailure(f"{option} must be {shape}, got {shown}.")


def _check_connectivity(params, connectivity, vpc_service_name=None):
    """VPC endpoint service options go with VPC_ENDPOINT_SERVICE, which needs a service name."""
    vpc_options = [field[0] for field in XKS_FIELDS[3:5] if params.get(field[0]) is not None]
    if connectivity == PUBLIC_ENDPOINT and vpc_options:
        raise KeyStoreFailure(
            f"{_join(vpc_options)} {'applies' if len(vpc_options) == 1 else 'apply'} only with xks_proxy_connectivity "
            f"{VPC_ENDPOINT_SERVICE}, and the store's connectivity is {PUBLIC_ENDPOINT}: remove "
            f"{'it' if len(vpc_options) == 1 else 'them'}, or set xks_proxy_connectivity: {VPC_ENDPOINT_SERVICE}."
        )
    if connectivity == VPC_ENDPOINT_SERVICE and not (params.get("xks_proxy_vpc_endpoint_service_name") or vpc_service_name):
        raise KeyStoreFailure(
            f"xks_proxy_connectivity {VPC_ENDPOINT_SERVICE} needs xks_proxy_vpc_endpoint_service_name: "
            "set it to the name of the VPC endpoint service of the proxy."
        )


# ---------------------------------------------------------------------------
# What to send
# ---------------------------------------------------------------------------


def _credential(credential):
    return {"AccessKeyId": credential["access_key_id"], "RawSecretAccessKey": credential["raw_secret_access_key"]}


def create_request(params):
    """The CreateCustomKeyStore members besides the name; one sentence naming every missing option."""
    store_type = params["custom_key_store_type"]
    required = list(CREATE_REQUIRES[store_type])
    if store_type == XKS and params.get("xks_proxy_connectivity") == VPC_ENDPOINT_SERVICE:
        required.append("xks_proxy_vpc_endpoint_service_name")
    missing = [option for option in required if params.get(option) is None]
    if missing:
        raise KeyStoreFailure(
            f"Custom key store {params[NAME]} does not exist, and creating it (type {store_type}) needs {_join(missing)}: "
            f"set {'it' if len(missing) == 1 else 'them'}, or correct custom_key_store_name if you meant an existing store."
        )
    request = {"CustomKeyStoreType": store_type}
    for option, member, _key in TYPE_FIELDS[store_type]:
        if params.get(option) is not None:
            request[member] = _credential(params[option]) if option == CREDENTIAL else params[option]
    return request


def compute_changes(entry, params):
    """The UpdateCustomKeyStore members (besides the ID) that make `entry` what `params` ask for.

    Only what differs from the Describe entry is sent. Secrets cannot be compared: the kmsuser password
    (CloudHSM) and the XKS credential are sent with update_password=always; the XKS credential is also sent
    when its access key ID differs from the one the store uses.
    """
    changes = {}
    if params[NAME] != entry["CustomKeyStoreName"]:
        changes["NewCustomKeyStoreName"] = params[NAME]
    always = params["update_password"] == "always"
    if entry["CustomKeyStoreType"] == CLOUDHSM:
        cluster = params.get("cloud_hsm_cluster_id")
        if cluster is not None and cluster != entry.get("CloudHsmClusterId"):
            changes["CloudHsmClusterId"] = cluster
        if always and params.get("key_store_password") is not None:
            changes["KeyStorePassword"] = params["key_store_password"]
        return changes
    config = entry.get("XksProxyConfiguration") or {}
    for option, member, key in XKS_FIELDS[:-1]:
        if params.get(option) is not None and params[option] != config.get(key):
            changes[member] = params[option]
    credential = params.get(CREDENTIAL)
    if credential is not None and (always or credential["access_key_id"] != config.get("AccessKeyId")):
        changes["XksProxyAuthenticationCredential"] = _credential(credential)
    return changes


def needs_disconnected(store_type, changes):
    """The options among `changes` that AWS changes only while the store is DISCONNECTED."""
    return [OPTION_OF[member] for member in NEEDS_DISCONNECTED[store_type] if member in changes]


def secrets_sent(changes):
    return [OPTION_OF[member] for member in SECRET_MEMBERS if member in changes]


def updated_entry(entry, changes, state):
    """The Describe entry the store would have after UpdateCustomKeyStore(changes), in `state`."""
    entry = copy.deepcopy(entry)
    entry["ConnectionState"] = state
    if state != "FAILED":
        entry.pop("ConnectionErrorCode", None)
    if "NewCustomKeyStoreName" in changes:
        entry["CustomKeyStoreName"] = changes["NewCustomKeyStoreName"]
    if "CloudHsmClusterId" in changes:
        entry["CloudHsmClusterId"] = changes["CloudHsmClusterId"]
    if entry["CustomKeyStoreType"] == XKS:
        config = entry.setdefault("XksProxyConfiguration", {})
        for _option, member, key in XKS_FIELDS[:-1]:
            if member in changes:
                config[key] = changes[member]
        if changes.get("XksProxyConnectivity") == PUBLIC_ENDPOINT:
            # AWS drops the VPC endpoint service of a store switched to a public endpoint.
            config.pop("VpcEndpointServiceName", None)
            config.pop("VpcEndpointServiceOwner", None)
        if "XksProxyAuthenticationCredential" in changes:
            config["AccessKeyId"] = changes["XksProxyAuthenticationCredential"]["AccessKeyId"]
    return entry


def created_entry(name, request):
    """The Describe entry a new store would have (no ID or creation date: AWS chooses them)."""
    entry = {"CustomKeyStoreName": name, "CustomKeyStoreType": request["CustomKeyStoreType"], "ConnectionState": "DISCONNECTED"}
    if request["CustomKeyStoreType"] == CLOUDHSM:
        entry["CloudHsmClusterId"] = request["CloudHsmClusterId"]
        entry["TrustAnchorCertificate"] = request["TrustAnchorCertificate"]
    else:
        entry["XksProxyConfiguration"] = dict(
            (key, request[member]) for _option, member, key in XKS_FIELDS[:-1] if member in request
        )
        entry["XksProxyConfiguration"]["AccessKeyId"] = request["XksProxyAuthenticationCredential"]["AccessKeyId"]
    return entry


def definition(entry, secrets=()):
    """The diff view of a store: what this module manages, never a secret (sent secrets are listed by name)."""
    if not entry:
        return {}
    store = normalize_custom_key_store(entry)
    view = dict((key, store[key]) for key in (NAME, "custom_key_store_type", "connection_state") if key in store)
    for key in ("cloud_hsm_cluster_id", "xks_proxy_configuration"):
        if key in store:
            view[key] = store[key]
    if secrets:
        view["secrets_updated"] = list(secrets)
    return view


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


class KeyStoreRunner:
    """Creates, updates or deletes one custom key store; disconnects and reconnects through ConnectionRunner."""

    def __init__(self, client, region, check_mode=False, sleep=time.sleep, clock=time.monotonic, create_client=None):
        self.client = client
        # CreateCustomKeyStore goes through a client that sends it once (CustomKeyStoreModule.single_attempt_client).
        self.create_client = create_client or (lambda: client)
        self.region = region
        self.check_mode = check_mode
        self.sleep = sleep
        self.clock = clock
        self.actions = []
        self._deadline = None

    def run(self, params):
        check_options(params)
        self._deadline = self.clock() + params["wait_timeout"]
        store_id = params.get("custom_key_store_id")
        selector, label = ({"CustomKeyStoreId": store_id}, store_id) if store_id else ({"CustomKeyStoreName": params[NAME]}, params[NAME])
        entry = describe_custom_key_store(self.client, selector, label)
        if params["state"] == "absent":
            return self._absent(entry, params)
        if entry is None:
            if store_id:
                raise KeyStoreFailure(
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
            raise KeyStoreFailure(
                f"Custom key store {name} is of type {store_type}, not {params['custom_key_store_type']}, and a store's type "
                f"cannot change: set custom_key_store_type: {store_type}, or create a new store under another name.",
                custom_key_store=normalize_custom_key_store(entry),
            )
        if store_type == XKS:
            config = entry.get("XksProxyConfiguration") or {}
            connectivity = params.get("xks_proxy_connectivity") or config.get("Connectivity")
            keeps_vpc_service = connectivity == config.get("Connectivity")
            _check_connectivity(params, connectivity, config.get("VpcEndpointServiceName") if keeps_vpc_service else None)
        changes = compute_changes(entry, params)
        if not changes:
            return self._result(entry, entry)
        state = entry["ConnectionState"]
        blocked = needs_disconnected(store_type, changes)
        disconnect = bool(blocked) and state != "DISCONNECTED"
        if disconnect and not params["allow_disconnect"]:
            raise KeyStoreFailure(
                f"Custom key store {name} is {state}, and AWS changes {_join(blocked)} only while a store is DISCONNECTED: "
                "set allow_disconnect: true to disconnect it, update it and connect it again (disconnecting interrupts "
                "all use of its KMS keys until it is connected again), or disconnect it first.",
                custom_key_store=normalize_custom_key_store(entry),
            )
        reconnect = disconnect and state in RECONNECT_FROM
        secrets = secrets_sent(changes)
        if self.check_mode:
            self.actions = ([DISCONNECT] if disconnect and state != "DISCONNECTING" else []) + [UPDATE] + ([CONNECT] if reconnect else [])
            final = state
            if disconnect:
                final = ("CONNECTED" if params["wait"] else "CONNECTING") if reconnect else "DISCONNECTED"
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

    # -- delete -------------------------------------------------------------------

    def _absent(self, entry, params):
        if entry is None:
            return self._result(None, None)
        name = entry["CustomKeyStoreName"]
        state = entry["ConnectionState"]
        disconnect = state != "DISCONNECTED"
        if disconnect and not params["allow_disconnect"]:
            raise KeyStoreFailure(
                f"Custom key store {name} is {state}, and AWS deletes only a DISCONNECTED store: set allow_disconnect: true "
                "to disconnect it first (disconnecting interrupts all use of its KMS keys), or disconnect it yourself.",
                custom_key_store=normalize_custom_key_store(entry),
            )
        if self.check_mode:
            self.actions = ([DISCONNECT] if disconnect and state != "DISCONNECTING" else []) + [DELETE]
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
        except ConnectionFailure as failure:
            self.actions.extend(failure.result.get("actions", runner.actions))
            raise KeyStoreFailure(failure.message, **self._failure_result(failure.result.get("custom_key_store")))
        except AnsibleKMSError:
            self.actions.extend(runner.actions)
            raise
        self.actions.extend(runner.actions)

    def _restored(self, entry, reconnect, message, params):
        """The failure of an update or delete, after connecting again a store this run disconnected."""
        if reconnect:
            try:
                self._connection(entry, "connected", wait=params["wait"])
                message += f" Custom key store {entry['CustomKeyStoreName']} was connected again, as it was before the task."
            except (KeyStoreFailure, AnsibleKMSError) as error:
                detail = error.message if isinstance(error, KeyStoreFailure) else explain_aws_error(error)
                message += f" Connecting custom key store {entry['CustomKeyStoreName']} again failed too: {detail}"
        return KeyStoreFailure(message, **self._failure_result())

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
