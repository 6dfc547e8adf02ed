# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Option checks that need no AWS call, for every module: each returns one sentence naming the option, or None.

The formats are botocore's model (lengths and patterns, which AWS checks as a whole match). botocore itself checks
only lengths, in a multi-line message naming the API member (and echoing the value, even a secret), and leaves
patterns to AWS, whose ValidationException would come from a create or update call; checking them here names the
option and makes no call.
"""

import re

from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import CLOUDHSM
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import CLOUDHSM_FIELDS
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import CREDENTIAL
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import NAME
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import PUBLIC_ENDPOINT
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import TYPE_FIELDS
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import VPC_ENDPOINT_SERVICE
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import XKS
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import XKS_FIELDS
from ansible_collections.awskms.custom_key_store.plugins.module_utils.key_store_plan import join

# The CloudHSM cluster ID, as KMS (CloudHsmClusterIdType) and CloudHSM (ClusterId) both define it.
_CLUSTER_ID = (
    re.compile(r"cluster-[2-7a-zA-Z]{11,16}", re.ASCII),
    "cluster- followed by 11 to 16 letters or digits 2 to 7",
)
_IPV4 = (re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", re.ASCII), "an IPv4 address, for example 10.0.1.4")

# option -> (pattern, what it must be). None of these options is a secret, so a wrong value may be shown.
FORMATS = {
    # KMS (kms_custom_key_store)
    NAME: (re.compile(r"^.{1,256}$", re.S), "1 to 256 characters"),
    "custom_key_store_id": (re.compile(r"^.{1,64}$", re.S), "1 to 64 characters, for example cks-1234567890abcdef0"),
    "cloud_hsm_cluster_id": _CLUSTER_ID,
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
    # CloudHSM (cloudhsm_hsm)
    "cluster_id": _CLUSTER_ID,
    "hsm_id": (re.compile(r"hsm-[2-7a-zA-Z]{11,16}", re.ASCII), "hsm- followed by 11 to 16 letters or digits 2 to 7"),
    "eni_id": (re.compile(r"eni-[0-9a-fA-F]{8,17}", re.ASCII), "eni- followed by 8 to 17 hexadecimal digits"),
    "eni_ip": _IPV4,
    "ip_address": _IPV4,
}
KMS_FORMATS = (NAME, "custom_key_store_id") + tuple(
    option for option, _member, _key in CLOUDHSM_FIELDS[:2] + XKS_FIELDS[:-1] if option in FORMATS
)
HSM_FORMATS = ("cluster_id", "hsm_id", "eni_id", "eni_ip", "ip_address")

# The secrets' shapes: a wrong secret is refused here, never echoed (the sentence names the shape only).
_SHAPES = {
    "key_store_password": (re.compile(r"^.{7,32}$", re.S), "7 to 32 characters"),
    "access_key_id": (re.compile(r"^[A-Z2-7]{20,30}$"), "20 to 30 characters of A-Z and 2-7"),
    "raw_secret_access_key": (
        re.compile(r"^[a-zA-Z0-9/+=]{43,64}$"),
        "43 to 64 characters of A-Z, a-z, 0-9, /, + and =",
    ),
}

HSM_PRESENT_OPTIONS = ("availability_zone", "subnet_id", "ip_address")
HSM_ABSENT_OPTIONS = ("hsm_id", "eni_id", "eni_ip")


def well_formed(option, value):
    """True when the value has the format AWS accepts for the option."""
    pattern = FORMATS[option][0]
    if not pattern.fullmatch(value):
        return False
    return FORMATS[option] is not _IPV4 or all(int(octet) <= 255 for octet in value.split("."))


def format_problem(params, options):
    """The first of these options whose value AWS would refuse."""
    for option in options:
        value = params.get(option)
        if value is not None and not well_formed(option, value):
            shown = value if len(value) <= 80 and "\n" not in value else f"a value of {len(value)} characters"
            return f"{option} must be {FORMATS[option][1]}, got {shown}."
    return None


def empty_problem(params, options):
    """The first of these string options given as an empty (or blank) string."""
    for option in options:
        value = params.get(option)
        if value is not None and not value.strip():
            return f"{option} must not be empty."
    return None


def empty_values_problem(params, options):
    """The first of these list options with an empty (or blank) element."""
    for option in options:
        if any(not value.strip() for value in params.get(option) or []):
            return f"{option} must not contain empty values."
    return None


def wait_timeout_problem(params):
    if params["wait_timeout"] <= 0:
        return f"wait_timeout must be greater than 0 seconds, got {params['wait_timeout']}."
    return None


def hsm_problem(params):
    """cloudhsm_hsm: the options of the other state, then the formats."""
    wrong = HSM_ABSENT_OPTIONS if params["state"] == "present" else HSM_PRESENT_OPTIONS
    for option in wrong:
        if params[option] is not None:
            other = "absent" if params["state"] == "present" else "present"
            return f"{option} is used only with state={other}; remove it, or set state={other}."
    if params.get("allow_last_hsm_deletion") and params["state"] == "present":
        return "allow_last_hsm_deletion is used only with state=absent; remove it, or set state=absent."
    return format_problem(params, HSM_FORMATS)


def key_store_problem(params):
    """kms_custom_key_store: what no AWS call can make right."""
    credential = params.get(CREDENTIAL)
    problem = empty_problem(
        params, (NAME, "custom_key_store_id") + tuple(field[0] for field in CLOUDHSM_FIELDS + XKS_FIELDS[:-1])
    )
    if problem:
        return problem
    for sub in ("access_key_id", "raw_secret_access_key"):
        if credential is not None and not (credential.get(sub) or "").strip():
            return f"{CREDENTIAL}.{sub} must not be empty."
    problem = wait_timeout_problem(params) or format_problem(params, (NAME, "custom_key_store_id"))
    if problem or params["state"] == "absent":
        return problem
    store_type = params["custom_key_store_type"]
    other = XKS if store_type == CLOUDHSM else CLOUDHSM
    foreign = [field[0] for field in TYPE_FIELDS[other] if params.get(field[0]) is not None]
    if foreign:
        return (
            f"{join(foreign)} {'applies' if len(foreign) == 1 else 'apply'} only to custom key stores of type {other}, "
            f"not to custom_key_store_type {store_type}: remove {'it' if len(foreign) == 1 else 'them'}, "
            f"or set custom_key_store_type: {other}."
        )
    values = dict(key_store_password=params.get("key_store_password"), **(credential or {}))
    for name, (pattern, shape) in _SHAPES.items():
        if values.get(name) is not None and not pattern.fullmatch(values[name]):
            option = name if name == "key_store_password" else f"{CREDENTIAL}.{name}"
            return f"{option} must be {shape}."
    if params.get("xks_proxy_connectivity") == PUBLIC_ENDPOINT:
        # (VPC_ENDPOINT_SERVICE without a service name is checked against the store, which may have one.)
        problem = connectivity_problem(params, PUBLIC_ENDPOINT)
    return problem or format_problem(
        params, [option for option in KMS_FORMATS if option not in (NAME, "custom_key_store_id")]
    )


def connectivity_problem(params, connectivity, vpc_service_name=None):
    """VPC endpoint service options go with VPC_ENDPOINT_SERVICE, which needs a service name (given, or the store's)."""
    vpc_options = [field[0] for field in XKS_FIELDS[3:5] if params.get(field[0]) is not None]
    if connectivity == PUBLIC_ENDPOINT and vpc_options:
        return (
            f"{join(vpc_options)} {'applies' if len(vpc_options) == 1 else 'apply'} only with xks_proxy_connectivity "
            f"{VPC_ENDPOINT_SERVICE}, and the store's connectivity is {PUBLIC_ENDPOINT}: remove "
            f"{'it' if len(vpc_options) == 1 else 'them'}, or set xks_proxy_connectivity: {VPC_ENDPOINT_SERVICE}."
        )
    if connectivity == VPC_ENDPOINT_SERVICE and not (
        params.get("xks_proxy_vpc_endpoint_service_name") or vpc_service_name
    ):
        return (
            f"xks_proxy_connectivity {VPC_ENDPOINT_SERVICE} needs xks_proxy_vpc_endpoint_service_name: "
            "set it to the name of the VPC endpoint service of the proxy."
        )
    return None


def connectivity_change_problem(params, config):
    """A new xks_proxy_connectivity needs a new xks_proxy_uri_endpoint (KMS API Reference, UpdateCustomKeyStore)."""
    connectivity = params.get("xks_proxy_connectivity")
    if connectivity is None or connectivity == config.get("Connectivity"):
        return None
    endpoint = params.get("xks_proxy_uri_endpoint")
    if endpoint is None or endpoint == config.get("UriEndpoint"):
        return (
            f"Changing xks_proxy_connectivity from {config.get('Connectivity')} to {connectivity} needs a new "
            "xks_proxy_uri_endpoint, as AWS requires: set it to the endpoint the proxy has with the new connectivity."
        )
    return None


# The first botocore whose KMS model has XksProxyVpcEndpointServiceOwner (botocore changelog 1.40.63).
VPC_ENDPOINT_SERVICE_OWNER_BOTOCORE = "1.40.63"


def botocore_problem(params, kms_client):
    """Options the installed botocore cannot send, read from the KMS client's own service model.

    The model, not a version number: amazon.aws's botocore_at_least answers True (with a warning) when the
    `packaging` library is missing, and botocore would then refuse the parameter after the run had started.
    """
    option = "xks_proxy_vpc_endpoint_service_owner"
    members = kms_client.meta.service_model.operation_model("CreateCustomKeyStore").input_shape.members
    if params.get(option) is not None and "XksProxyVpcEndpointServiceOwner" not in members:
        return f"{option} needs botocore {VPC_ENDPOINT_SERVICE_OWNER_BOTOCORE} or later: upgrade botocore, or remove {option}."
    return None
