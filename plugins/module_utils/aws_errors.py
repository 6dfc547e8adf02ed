# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWS error codes: reading the code behind an error, the throttling codes, and the next step for each refusal."""

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


# THE table of what to do about the AWS refusals an operator can cause, for the modules (after AWS's own message,
# or after the sentence of kms_custom_key_store_connection for a refused connection) and the connect role (through
# the aws_error_advice filter). Codes not listed get AWS's own message only.
ADVICE = {
    "CustomKeyStoreNameInUseException": "Choose another custom_key_store_name: names are unique in a Region.",
    "CloudHsmClusterNotFoundException": "Check cloud_hsm_cluster_id and the Region.",
    "CloudHsmClusterInUseException": (
        "Use a cluster that backs no other custom key store (clusters created from each other's backups count as one)."
    ),
    "CloudHsmClusterNotActiveException": "Initialize and activate the cluster, make sure it has at least one ACTIVE HSM, then run again.",
    "CloudHsmClusterNotRelatedException": (
        "Set cloud_hsm_cluster_id to the store's original cluster or to a cluster created from a backup of it."
    ),
    "CloudHsmClusterInvalidConfigurationException": (
        "Give the cluster at least two ACTIVE HSMs, each in a different Availability Zone (creating or updating a store needs "
        "them, connecting it needs one), private subnets in at least two Availability Zones and a security group that allows "
        "TCP ports 2223-2225, then run again."
    ),
    "LimitExceededException": (
        "The account has reached its quota of custom key stores in this Region (10 by default): delete a store it no longer "
        "needs, or request a quota increase in Service Quotas."
    ),
    "IncorrectTrustAnchorException": "Set trust_anchor_certificate to the content of the customerCA.crt file that initialized the cluster.",
    "XksProxyUriInUseException": "Another custom key store uses this proxy endpoint and path: choose another xks_proxy_uri_path.",
    "XksProxyUriEndpointInUseException": "Another custom key store uses this xks_proxy_uri_endpoint: choose another endpoint.",
    "XksProxyVpcEndpointServiceInUseException": (
        "Another custom key store uses this VPC endpoint service: choose another xks_proxy_vpc_endpoint_service_name."
    ),
    "XksProxyVpcEndpointServiceNotFoundException": (
        "Check xks_proxy_vpc_endpoint_service_name and the Region, and add the KMS service principal "
        "cks.kms.<region>.amazonaws.com to the endpoint service's Allow principals list."
    ),
    "XksProxyVpcEndpointServiceInvalidConfigurationException": (
        "Make the VPC endpoint service meet KMS's requirements (a network load balancer in at least two Availability "
        "Zones, no acceptance required, a verified private DNS name unique in the Region that is the host of "
        "xks_proxy_uri_endpoint), then run again."
    ),
    "XksProxyUriUnreachableException": (
        "Check xks_proxy_uri_endpoint, xks_proxy_uri_path and xks_proxy_connectivity, and that the proxy is running and reachable by KMS."
    ),
    "XksProxyIncorrectAuthenticationCredentialException": "Set xks_proxy_authentication_credential to a credential the proxy accepts.",
    "XksProxyInvalidConfigurationException": "Fix the proxy's configuration (its logs say what is wrong), then run again.",
    "CustomKeyStoreInvalidStateException": (
        "AWS refused the call in the store's connection state (an update needs CONNECTED or DISCONNECTED, and most updates "
        "and a deletion need DISCONNECTED): run kms_custom_key_store again, which waits out CONNECTING and DISCONNECTING, "
        "with allow_disconnect: true for a CONNECTED or FAILED store."
    ),
}

# The next step for CloudHsmClusterNotActiveException when the cluster's state is known (the connect role reads it).
CLUSTER_STATE_ADVICE = {
    "UNINITIALIZED": "Initialize it (sign its certificate signing request and call InitializeCluster), activate it, then run again.",
    "INITIALIZE_IN_PROGRESS": "Wait until it is INITIALIZED, activate it, then run again.",
    "INITIALIZED": "Activate it (set the admin password with the CloudHSM CLI), then run again.",
    "CREATE_IN_PROGRESS": "Wait until it is created, initialize and activate it, then run again.",
    "UPDATE_IN_PROGRESS": "Wait until it is ACTIVE again, then run again.",
    "DEGRADED": "Replace its failed HSMs (or restore it from a backup), then run again.",
    "DELETE_IN_PROGRESS": "Create a cluster from a recent backup of it, then run again with connect_replacement_cluster_id set to it.",
}


def aws_error_advice(code, cluster_state=None):
    """The next step for an AWS error code the operator can fix, or None."""
    if code == "CloudHsmClusterNotActiveException" and cluster_state in CLUSTER_STATE_ADVICE:
        return CLUSTER_STATE_ADVICE[cluster_state]
    return ADVICE.get(code)
