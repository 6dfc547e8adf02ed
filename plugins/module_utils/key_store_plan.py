# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What to send to KMS for a custom key store: the create request, the update plan and the store it leads to.

AWS facts (KMS API reference, UpdateCustomKeyStore / DeleteCustomKeyStore; docs/design.md, Updating a store): a
CloudHSM store's name may change while it is connected, its kmsuser password and cluster ID only while it is
DISCONNECTED; an XKS store's name, proxy credential and URI path may change while connected, its proxy endpoint,
connectivity and VPC endpoint service only while DISCONNECTED. AWS never returns the kmsuser password or the XKS
secret, so those are sent on create, or on every run with update_password=always.
"""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import normalize_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import RunFailure
from ansible_collections.awskms.custom_key_store.plugins.module_utils.runner import with_state

CLOUDHSM = "AWS_CLOUDHSM"
XKS = "EXTERNAL_KEY_STORE"
PUBLIC_ENDPOINT = "PUBLIC_ENDPOINT"
VPC_ENDPOINT_SERVICE = "VPC_ENDPOINT_SERVICE"

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
    XKS: (
        "XksProxyUriEndpoint",
        "XksProxyConnectivity",
        "XksProxyVpcEndpointServiceName",
        "XksProxyVpcEndpointServiceOwner",
    ),
}
SECRET_MEMBERS = ("KeyStorePassword", "XksProxyAuthenticationCredential")


def join(names):
    """'a', 'a and b', 'a, b and c'."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


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
        raise RunFailure(
            f"Custom key store {params[NAME]} does not exist, and creating it (type {store_type}) needs {join(missing)}: "
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
    entry = with_state(entry, state, "ConnectionState")
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
    entry = {
        "CustomKeyStoreName": name,
        "CustomKeyStoreType": request["CustomKeyStoreType"],
        "ConnectionState": "DISCONNECTED",
    }
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
