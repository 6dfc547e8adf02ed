#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: kms_xks_proxy_info
version_added: 0.1.0
short_description: Check an external key store's proxy and VPC endpoint service the way KMS will, before connecting
description:
  - The XKS preflight. KMS connects an external key store only when its proxy and, for C(VPC_ENDPOINT_SERVICE)
    connectivity, its VPC endpoint service meet the requirements AWS documents; otherwise the connection ends
    C(FAILED) minutes later with an C(XKS_*) connection error code. This module checks them first and returns every
    check with its outcome and, for each one that failed, the remedy. It changes nothing.
  - The store is read with C(DescribeCustomKeyStores) (O(custom_key_store_id) or O(custom_key_store_name)), or given
    by its settings (O(xks_proxy_uri_endpoint) and the options after it).
  - "The proxy: from the host the module runs on, a C(GetHealthStatus) request of the XKS Proxy API
    (C(POST <uri path>/health)), signed with SigV4 with O(xks_proxy_authentication_credential) (service
    C(kms-xks-proxy), the store's Region), over HTTPS on port 443 with certificate and host name verification, TLS 1.2
    or later. It reports whether the proxy is reachable, whether its certificate verifies (and its expiry), whether the
    proxy accepts the signature, the URI path and the request, and its health answer."
  - Without O(xks_proxy_authentication_credential) (AWS never returns the secret access key), only reachability and
    TLS are checked; the other proxy checks are reported as not checked.
  - "The VPC endpoint service of a C(VPC_ENDPOINT_SERVICE) store, with EC2's C(DescribeVpcEndpointServiceConfigurations)
    and C(DescribeVpcEndpointServicePermissions), against the requirements of the KMS Developer Guide
    (C(Configuring VPC endpoint service connectivity), C(Troubleshooting external key stores)): the service exists in the
    Region and is C(Available); it is for interface endpoints; it uses a network load balancer, not a gateway load
    balancer; in at least two Availability Zones; it does not require acceptance; C(cks.kms.<region>.amazonaws.com)
    is an allowed principal; its private DNS name is the host of the proxy URI endpoint, verified, and unique in the
    Region (among the account's own services, the only ones EC2 shows)."
  - The proxy of a C(VPC_ENDPOINT_SERVICE) store is private to the service; it is probed only when O(proxy_address)
    says where this host reaches it.
  - "The requirements each check enforces, as AWS words them (KMS API Reference, C(CustomKeyStoresListEntry), for the
    connection error codes; KMS Developer Guide pages named):"
  - "V(proxy_reachable): 'AWS KMS communicates with the external key store proxy on port 443.' (Troubleshooting external
    key stores); 'KMS can't communicate with your external key store proxy.' (XKS_PROXY_NOT_REACHABLE)."
  - "V(tls_certificate): 'Verify that the XKS proxy supports TLS 1.2 or 1.3. Also, verify that the TLS certificate is not
    expired, and that it matches the hostname in the XksProxyUriEndpoint value, and that it is signed by a certificate
    authority included in the Trusted Certificate Authorities list.' (XKS_PROXY_INVALID_TLS_CONFIGURATION)."
  - "V(proxy_signature), V(credential_matches_store): 'One or both of the XksProxyAuthenticationCredential values is not
    valid on the specified external key store proxy.' (INVALID_CREDENTIALS)."
  - "V(proxy_uri_path): 'A configuration error is preventing the external key store from connecting to its proxy.
    Verify the value of the XksProxyUriPath.' (XKS_PROXY_INVALID_CONFIGURATION)."
  - "V(proxy_authorization): 'KMS requests are denied access to the external key store proxy.' (XKS_PROXY_ACCESS_DENIED)."
  - "V(proxy_health): 'Connection attempts fail with this connection error code if the proxy reports that all external
    key manager instances are unavailable.' (XKS_PROXY_NOT_REACHABLE); 'KMS cannot interpret the response from the
    external key store proxy.' (XKS_PROXY_INVALID_RESPONSE); 'the proxy does not respond to KMS in the time allotted.'
    (XKS_PROXY_TIMED_OUT)."
  - "V(vpc_endpoint_service_available): 'An incorrect VPC endpoint service name' and 'The VPC endpoint service might be
    in a different AWS Region than the external key store.' (Troubleshooting external key stores,
    XksProxyVpcEndpointServiceNotFoundException)."
  - "V(vpc_endpoint_service_interface): 'The VPC endpoint service must be an endpoint service for interface endpoints in
    the caller's Amazon Web Services account.' (XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION)."
  - "V(network_load_balancer): 'Your VPC endpoint service type must use a network load balancer, not a gateway load
    balancer.' (Troubleshooting external key stores)."
  - "V(availability_zones): 'It must have a network load balancer (NLB) connected to at least two subnets, each in a
    different Availability Zone.' (XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION)."
  - "V(acceptance_not_required): 'It must not require acceptance of connection requests.'
    (XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION); 'The endpoint service cannot require acceptance.' (Configuring
    VPC endpoint service connectivity)."
  - "V(kms_principal_allowed): 'You must add AWS KMS to the Allow principals list for your VPC endpoint service.'
    (Configuring VPC endpoint service connectivity); 'The Allow principals list must include the KMS service principal
    for the Region, cks.kms.<region>.amazonaws.com' (XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION)."
  - "V(private_dns_name_matches_endpoint): 'It must have a private DNS name.' (XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION);
    'The private DNS name of the VPC endpoint service must match the proxy URI endpoint value for the external key
    store.' (Troubleshooting external key stores)."
  - "V(private_dns_name_verified): 'The domain of the private DNS name must have a verification status of verified.'
    (XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION)."
  - "V(private_dns_name_unique): 'The private DNS name for an external key store with VPC_ENDPOINT_SERVICE connectivity
    must be unique in its Amazon Web Services Region.' (XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION)."
author:
  - awskms.custom_key_store contributors (@awskms)
options:
  custom_key_store_id:
    description:
      - The ID of the external key store to check, for example V(cks-1234567890abcdef0).
      - Mutually exclusive with O(custom_key_store_name) and O(xks_proxy_uri_endpoint).
    type: str
  custom_key_store_name:
    description:
      - The friendly name of the external key store to check.
    type: str
  xks_proxy_uri_endpoint:
    description:
      - Check this proxy endpoint instead of a store's, for example before the store is created; V(https://) and a DNS name.
      - Needs O(xks_proxy_uri_path).
    type: str
  xks_proxy_uri_path:
    description:
      - With O(xks_proxy_uri_endpoint), the URI path of the XKS Proxy API, for example V(/kms/xks/v1).
    type: str
  xks_proxy_connectivity:
    description:
      - With O(xks_proxy_uri_endpoint), how KMS reaches the proxy.
    type: str
    choices: [PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE]
    default: PUBLIC_ENDPOINT
  xks_proxy_vpc_endpoint_service_name:
    description:
      - With O(xks_proxy_uri_endpoint) and V(VPC_ENDPOINT_SERVICE) connectivity, the name of the VPC endpoint service.
    type: str
  xks_proxy_authentication_credential:
    description:
      - The credential the store signs its requests to the proxy with. It is used only to sign the health check
        request; the whole option is kept out of logs and results.
      - Without it, the signature, URI path, authorization and health checks are not made.
    type: dict
    suboptions:
      access_key_id:
        description:
          - The access key ID, 20 to 30 characters of A-Z and 2-7.
        type: str
        required: true
      raw_secret_access_key:
        description:
          - The secret access key, 43 to 64 characters of A-Z, a-z, 0-9, /, + and =.
        type: str
        required: true
  ca_bundle:
    description:
      - A file of PEM certificates to trust for the proxy's certificate instead of the system's certificate
        authorities, for example a test CA.
      - KMS itself trusts only the authorities of the XKS Proxy API's Trusted Certificate Authorities list.
    type: path
  proxy_address:
    description:
      - V(host:port) to connect to instead of the endpoint's host on port 443, like C(curl --resolve); the certificate
        is still verified against the host of the proxy URI endpoint.
      - Needed to probe the proxy of a C(VPC_ENDPOINT_SERVICE) store, which KMS reaches through the endpoint service.
    type: str
  timeout:
    description:
      - Seconds to wait for the connection, the TLS handshake and the answer, each. KMS waits 250 ms for an answer; the
        detail of the health check says how long the proxy took.
    type: float
    default: 5
notes:
  - Supports check mode; the module never changes anything.
  - The checks run from the host the module runs on, not from KMS's network, so a proxy reachable from here may still
    be unreachable for KMS (and the reverse).
  - EC2 shows only the caller's own VPC endpoint services; for a service owned by another account, run the module with
    that account's credentials.
  - "IAM actions used: C(kms:DescribeCustomKeyStores) (for a store given by ID or name),
    C(ec2:DescribeVpcEndpointServiceConfigurations) and C(ec2:DescribeVpcEndpointServicePermissions) (for
    C(VPC_ENDPOINT_SERVICE) connectivity)."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Check an external key store before connecting it
  awskms.custom_key_store.kms_xks_proxy_info:
    custom_key_store_name: payments-xks-store
    xks_proxy_authentication_credential:
      access_key_id: "{{ xks_access_key_id }}"
      raw_secret_access_key: "{{ xks_secret_access_key }}"
  register: preflight

- name: Stop, saying which check failed and what to do
  ansible.builtin.assert:
    that: preflight.passed
    fail_msg: "{{ preflight.msg }}"

- name: Warn when the proxy's certificate expires within 30 days
  ansible.builtin.debug:
    msg: "The proxy's certificate expires on {{ preflight.certificate_not_after }}."
  when: preflight.certificate_days_left is defined and preflight.certificate_days_left < 30

- name: Check a proxy before the store exists (reachability and TLS only, without the credential)
  awskms.custom_key_store.kms_xks_proxy_info:
    xks_proxy_uri_endpoint: https://myproxy.xks.example.com
    xks_proxy_uri_path: /example/kms/xks/v1
"""

RETURN = r"""
checks:
  description:
    - Every check, in the order it ran. The proxy checks stop at the first failure; the ones after it are not checked.
    - "Names: V(credential_matches_store) (with a credential and a store); for VPC_ENDPOINT_SERVICE connectivity
      V(vpc_endpoint_service_available), V(vpc_endpoint_service_interface), V(network_load_balancer),
      V(availability_zones), V(acceptance_not_required), V(kms_principal_allowed), V(private_dns_name_matches_endpoint),
      V(private_dns_name_verified), V(private_dns_name_unique); then V(proxy_reachable), V(tls_certificate),
      V(proxy_signature), V(proxy_uri_path), V(proxy_authorization), V(proxy_health)."
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The check.
      type: str
      sample: tls_certificate
    passed:
      description: V(true) or V(false); V(null) when the check was not made (the detail says why).
      type: bool
      sample: false
    detail:
      description: What was found.
      type: str
      sample: "The certificate of xks.example.com:443 does not verify: certificate has expired."
    remedy:
      description: One sentence, what to do; V(null) for a check that passed.
      type: str
      sample: Give the proxy a TLS certificate that is not expired, ...
passed:
  description: V(true) when no check failed (checks that were not made do not count; see RV(not_checked)).
  returned: always
  type: bool
failed_checks:
  description: The names of the checks that failed.
  returned: always
  type: list
  elements: str
  sample: [proxy_signature]
not_checked:
  description: The names of the checks that were not made.
  returned: always
  type: list
  elements: str
msg:
  description: One sentence, how many checks passed, or which failed with the first one's detail and remedy.
  returned: always
  type: str
  sample: "All 6 checks passed."
certificate_not_after:
  description: When the proxy's TLS certificate expires, in ISO 8601.
  returned: when the proxy presented a certificate (for one that does not verify, only if python cryptography is installed)
  type: str
  sample: "2027-03-01T00:00:00+00:00"
certificate_days_left:
  description: Whole days until RV(certificate_not_after), negative once expired.
  returned: with RV(certificate_not_after)
  type: int
  sample: 89
proxy_health:
  description: The proxy's GetHealthStatus answer, in snake_case.
  returned: when the proxy answered GetHealthStatus as the XKS Proxy API specifies
  type: dict
  contains:
    xks_proxy_fleet_size:
      description: How many proxy instances serve the endpoint.
      type: int
    xks_proxy_vendor:
      description: The proxy's vendor.
      type: str
    xks_proxy_model:
      description: The proxy's model.
      type: str
    ekm_vendor:
      description: The external key manager's vendor.
      type: str
    ekm_fleet_details:
      description: Each external key manager instance, with its C(id), C(model) and C(health_status).
      type: list
      elements: dict
custom_key_store:
  description: What was checked, from the store's description or the options (never the secret access key).
  returned: always
  type: dict
  sample:
    custom_key_store_id: cks-1234567890abcdef0
    xks_proxy_uri_endpoint: https://myproxy.xks.example.com
    xks_proxy_uri_path: /kms/xks/v1
    xks_proxy_connectivity: PUBLIC_ENDPOINT
region:
  description: The AWS Region of the store, which the request is signed for.
  returned: always
  type: str
  sample: eu-west-1
"""

from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import AnsibleKMSError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import describe_custom_key_store
from ansible_collections.awskms.custom_key_store.plugins.module_utils.kms import store_selector
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import CustomKeyStoreModule
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import empty_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.options import format_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.xks_probe import AnsibleEC2ProbeError
from ansible_collections.awskms.custom_key_store.plugins.module_utils.xks_probe import ca_bundle_problem
from ansible_collections.awskms.custom_key_store.plugins.module_utils.xks_probe import parse_address
from ansible_collections.awskms.custom_key_store.plugins.module_utils.xks_probe import preflight
from ansible_collections.awskms.custom_key_store.plugins.module_utils.xks_probe import store_config

SETTINGS = (
    "xks_proxy_uri_endpoint",
    "xks_proxy_uri_path",
    "xks_proxy_connectivity",
    "xks_proxy_vpc_endpoint_service_name",
)


def options_problem(params):
    """The first option problem, as one sentence, or None."""
    problem = empty_problem(params, ("custom_key_store_id", "custom_key_store_name", "proxy_address", "ca_bundle"))
    problem = problem or format_problem(params, SETTINGS[:2] + SETTINGS[3:])
    if problem:
        return problem
    vpc = params["xks_proxy_connectivity"] == "VPC_ENDPOINT_SERVICE"
    if params["xks_proxy_uri_endpoint"] and vpc and not params["xks_proxy_vpc_endpoint_service_name"]:
        return "xks_proxy_connectivity VPC_ENDPOINT_SERVICE needs xks_proxy_vpc_endpoint_service_name."
    if params["proxy_address"] is not None and parse_address(params["proxy_address"]) is None:
        return "proxy_address must be host:port, for example 10.0.1.4:443, got %s." % params["proxy_address"]
    if params["timeout"] <= 0:
        return "timeout must be greater than 0 seconds, got %g." % params["timeout"]
    if params["ca_bundle"]:
        return ca_bundle_problem(params["ca_bundle"])
    return None


def read_config(module):
    """The store's configuration: described by KMS, or from the options."""
    params = module.params
    if params["xks_proxy_uri_endpoint"]:
        return dict((name, params[name]) for name in SETTINGS)
    selector, label = store_selector(params["custom_key_store_id"], params["custom_key_store_name"])
    entry = describe_custom_key_store(module.client("kms"), selector, label)
    if entry is None:
        module.fail_json(msg="Custom key store %s not found in %s." % (label, module.region))
    if entry.get("CustomKeyStoreType") != "EXTERNAL_KEY_STORE":
        module.fail_json(
            msg="Custom key store %s is an AWS CloudHSM key store: the XKS preflight checks external key stores only."
            % label
        )
    return store_config(entry)


def main():
    argument_spec = dict(
        custom_key_store_id=dict(type="str"),
        custom_key_store_name=dict(type="str"),
        xks_proxy_uri_endpoint=dict(type="str"),
        xks_proxy_uri_path=dict(type="str"),
        xks_proxy_connectivity=dict(
            type="str", choices=["PUBLIC_ENDPOINT", "VPC_ENDPOINT_SERVICE"], default="PUBLIC_ENDPOINT"
        ),
        xks_proxy_vpc_endpoint_service_name=dict(type="str"),
        xks_proxy_authentication_credential=dict(
            type="dict",
            no_log=True,
            options=dict(
                access_key_id=dict(type="str", required=True, no_log=True),
                raw_secret_access_key=dict(type="str", required=True, no_log=True),
            ),
        ),
        ca_bundle=dict(type="path"),
        proxy_address=dict(type="str"),
        timeout=dict(type="float", default=5),
    )
    module = CustomKeyStoreModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["custom_key_store_id", "custom_key_store_name", "xks_proxy_uri_endpoint"]],
        required_one_of=[["custom_key_store_id", "custom_key_store_name", "xks_proxy_uri_endpoint"]],
        required_by={"xks_proxy_uri_endpoint": "xks_proxy_uri_path"},
        supports_check_mode=True,
    )
    params = module.params
    module.fail_on_problem(options_problem(params))
    try:
        config = read_config(module)
        vpc = config["xks_proxy_connectivity"] == "VPC_ENDPOINT_SERVICE"
        result = preflight(
            config,
            module.region,
            ec2_client=module.client("ec2") if vpc else None,
            credential=params["xks_proxy_authentication_credential"],
            ca_bundle=params["ca_bundle"],
            address=parse_address(params["proxy_address"]) if params["proxy_address"] else None,
            timeout=params["timeout"],
        )
    except (AnsibleKMSError, AnsibleEC2ProbeError) as error:
        module.fail_aws_error(error)
    config.pop("access_key_id", None)  # masked by no_log in any case; not needed in the result
    module.exit_json(changed=False, custom_key_store=config, region=module.region, **result)


if __name__ == "__main__":
    main()
