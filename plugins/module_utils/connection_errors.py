# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What each KMS ConnectionErrorCode means, its remediation class, and the operator's next step.

Facts from the KMS API reference (CustomKeyStoresListEntry) and the KMS Developer Guide,
"Troubleshooting a custom key store". The unit tests compare the codes with botocore's
ConnectionErrorCodeType enum, so a code AWS adds fails the build until it is described here.
"""

from collections import namedtuple

# Remediation classes (docs/design.md, Error-code classes): what can be done about a FAILED connection.
TRANSIENT = "transient"
HSM_CAPACITY = "hsm_capacity"
CREDENTIALS = "credentials"
OPERATOR_ACTION = "operator_action"
CLUSTER_NETWORK = "cluster_network"
XKS_CONFIGURATION = "xks_configuration"
UNKNOWN = "unknown"

ErrorDescription = namedtuple("ErrorDescription", ["error_class", "meaning", "remedy"])

_CLOUDHSM = "AWS_CLOUDHSM"
_XKS = "EXTERNAL_KEY_STORE"

_GUIDE = "see 'Troubleshooting a custom key store' in the AWS KMS Developer Guide"

# (code, store type or None for both) -> description
_ERRORS = {
    ("INTERNAL_ERROR", None): ErrorDescription(
        TRANSIENT,
        "KMS could not complete the connection because of an internal error.",
        "Disconnect the custom key store, then connect it again (reconnect_failed=true does both).",
    ),
    ("NETWORK_ERRORS", None): ErrorDescription(
        TRANSIENT,
        "Network errors prevented KMS from reaching the store's backing key store.",
        "Disconnect and connect again (reconnect_failed=true); if it recurs, check the routes, security groups "
        "and network ACLs between KMS and the cluster or proxy.",
    ),
    ("CLUSTER_NOT_FOUND", _CLOUDHSM): ErrorDescription(
        CLUSTER_NETWORK,
        "KMS cannot find the CloudHSM cluster associated with the store.",
        "Create a cluster from a recent backup of the original cluster, disconnect the store, "
        "update its CloudHsmClusterId to the new cluster, and connect again.",
    ),
    ("INSUFFICIENT_CLOUDHSM_HSMS", _CLOUDHSM): ErrorDescription(
        HSM_CAPACITY,
        "The CloudHSM cluster has no ACTIVE HSM.",
        "Add an HSM to the cluster (two, in different Availability Zones, are recommended; HSMs are billed by the hour), "
        "wait until it is ACTIVE, then disconnect and connect the store again.",
    ),
    ("INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET", _CLOUDHSM): ErrorDescription(
        CLUSTER_NETWORK,
        "A private subnet of the CloudHSM cluster has no free IP address (KMS needs one in each, two preferred).",
        "Free IP addresses in the cluster's subnets, or create a cluster from a backup in subnets with free addresses "
        "and update the store's CloudHsmClusterId to it; then disconnect and connect again.",
    ),
    ("INVALID_CREDENTIALS", _CLOUDHSM): ErrorDescription(
        CREDENTIALS,
        "The store's key store password does not match the current password of the kmsuser crypto user in the cluster.",
        "Set a new kmsuser password with the CloudHSM CLI, disconnect the store, update its KeyStorePassword "
        "to the same value, and connect again.",
    ),
    ("SUBNET_NOT_FOUND", _CLOUDHSM): ErrorDescription(
        CLUSTER_NETWORK,
        "A subnet in the CloudHSM cluster's configuration was deleted.",
        "Create a cluster from a recent backup (with new private subnets), disconnect the store, "
        "update its CloudHsmClusterId to the new cluster, and connect again.",
    ),
    ("USER_LOCKED_OUT", _CLOUDHSM): ErrorDescription(
        CREDENTIALS,
        "The kmsuser crypto user is locked out of the cluster after too many failed password attempts.",
        "Set a new kmsuser password with the CloudHSM CLI, disconnect the store, update its KeyStorePassword "
        "to the same value, and connect again.",
    ),
    ("USER_LOGGED_IN", _CLOUDHSM): ErrorDescription(
        OPERATOR_ACTION,
        "The kmsuser crypto user is logged in to the cluster, which stops KMS from rotating its password and logging in.",
        "Log kmsuser out of the cluster (end every CloudHSM CLI session that logged in as kmsuser); if you changed "
        "its password to log in, update the store's KeyStorePassword too; then disconnect and connect again.",
    ),
    ("USER_NOT_FOUND", _CLOUDHSM): ErrorDescription(
        CREDENTIALS,
        "KMS cannot find a kmsuser crypto user in the cluster.",
        "Create a crypto user named kmsuser with the CloudHSM CLI, disconnect the store, update its KeyStorePassword "
        "to that user's password, and connect again.",
    ),
    ("INVALID_CREDENTIALS", _XKS): ErrorDescription(
        XKS_CONFIGURATION,
        "The store's XKS proxy authentication credential is not valid on the external key store proxy.",
        "Update the store's XksProxyAuthenticationCredential to an access key ID and secret the proxy accepts, "
        "then disconnect and connect again.",
    ),
    ("XKS_PROXY_ACCESS_DENIED", _XKS): ErrorDescription(
        XKS_CONFIGURATION,
        "The external key store proxy denied KMS's requests.",
        "Change the proxy's authorization rules so that they allow KMS to call it for this store, "
        "then disconnect and connect again.",
    ),
    ("XKS_PROXY_INVALID_CONFIGURATION", _XKS): ErrorDescription(
        XKS_CONFIGURATION,
        "A configuration error prevents the external key store from connecting to its proxy.",
        "Check the store's XksProxyUriPath against the proxy's documentation, update it, "
        "then disconnect and connect again.",
    ),
    ("XKS_PROXY_INVALID_RESPONSE", _XKS): ErrorDescription(
        TRANSIENT,
        "KMS cannot interpret the external key store proxy's response.",
        "Disconnect and connect again (reconnect_failed=true); if it recurs, contact your external key store proxy vendor.",
    ),
    ("XKS_PROXY_INVALID_TLS_CONFIGURATION", _XKS): ErrorDescription(
        XKS_CONFIGURATION,
        "KMS cannot connect to the proxy because its TLS configuration is invalid.",
        "Make the proxy serve TLS 1.2 or 1.3 with an unexpired certificate that matches the hostname in XksProxyUriEndpoint "
        "(for VPC endpoint service connectivity, its private DNS name) and is signed by a certificate authority in the "
        "Trusted Certificate Authorities list of the XKS proxy API specification; then disconnect and connect again.",
    ),
    ("XKS_PROXY_NOT_REACHABLE", _XKS): ErrorDescription(
        XKS_CONFIGURATION,
        "KMS cannot communicate with the external key store proxy.",
        "Check the store's XksProxyUriEndpoint and XksProxyUriPath, that the proxy is running and reachable, and that "
        "its external key manager instances are available; then disconnect and connect again.",
    ),
    ("XKS_PROXY_TIMED_OUT", _XKS): ErrorDescription(
        TRANSIENT,
        "KMS reached the external key store proxy, but it did not answer in time.",
        "Disconnect and connect again (reconnect_failed=true); if it recurs, contact your external key store proxy vendor.",
    ),
    ("XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION", _XKS): ErrorDescription(
        XKS_CONFIGURATION,
        "The Amazon VPC endpoint service does not meet KMS's requirements for an external key store.",
        "Fix the VPC endpoint service so that it meets every requirement: an endpoint service for interface endpoints in "
        "the account that owns it (the store's, unless XksProxyVpcEndpointServiceOwner names another), with a network load "
        "balancer (not a gateway load balancer) in at least two subnets in different Availability Zones; the KMS service "
        "principal of the Region, cks.kms.<region>.amazonaws.com, in its allowed principals; acceptance of connection "
        "requests not required; a private DNS name that is a subdomain of a public domain, matches the store's "
        "XksProxyUriEndpoint, is unique in the Region and has the verification status verified; and a TLS certificate "
        "for the proxy that names that private DNS name; then disconnect and connect again.",
    ),
    ("XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND", _XKS): ErrorDescription(
        XKS_CONFIGURATION,
        "KMS cannot find the Amazon VPC endpoint service it uses to reach the proxy.",
        "Check the store's XksProxyVpcEndpointServiceName and that KMS's service principal has consumer permission on "
        "the endpoint service; then disconnect and connect again.",
    ),
}

KNOWN_CODES = frozenset(code for code, _store_type in _ERRORS)


def describe_connection_error(code, store_type=None):
    """The class, meaning and remedy of a ConnectionErrorCode for a store of the given type."""
    for key in ((code, store_type), (code, None), (code, _CLOUDHSM), (code, _XKS)):
        if key in _ERRORS:
            return _ERRORS[key]
    return ErrorDescription(UNKNOWN, f"KMS reported connection error code {code}.", f"For this code, {_GUIDE}.")


def error_fields(code, store_type=None):
    """The result keys that explain a FAILED store: its code, the code's class, meaning and remedy."""
    info = describe_connection_error(code, store_type)
    return {
        "connection_error_code": code,
        "connection_error_class": info.error_class,
        "connection_error_meaning": info.meaning,
        "connection_error_remedy": info.remedy,
    }


def failure_sentence(label, code, store_type=None):
    """One message naming the store, the code, what it means and what to do next."""
    info = describe_connection_error(code, store_type)
    return f"Custom key store {label} is FAILED with {code}: {info.meaning} Next step: {info.remedy}"
