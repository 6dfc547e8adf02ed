# -*- coding: utf-8 -*-

# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The XKS preflight: what KMS checks before it connects an external key store, checked from here first.

Two halves (README, "The XKS preflight"):

- the proxy (``probe_proxy``): GetHealthStatus of the XKS Proxy API (``POST <uri path>/health``),
  SigV4-signed with the store's credential (service ``kms-xks-proxy``, the store's Region), over HTTPS
  with certificate and host name verification, as KMS sends it at ConnectCustomKeyStore;
- the VPC endpoint service of a VPC_ENDPOINT_SERVICE store (``endpoint_service_checks``), from EC2's
  DescribeVpcEndpointServiceConfigurations and DescribeVpcEndpointServicePermissions, against the
  requirements the KMS Developer Guide lists.

Every check is a dict: ``name``, ``passed`` (True, False, or None when it was not checked), ``detail``
and ``remedy`` (one sentence; None for a check that passed). Nothing here changes anything, and the
secret access key is used only to sign: it is never part of a result.
"""

import datetime
import http.client
import json
import socket
import ssl
import time
import uuid
from urllib.parse import urlsplit

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    pass  # AnsibleAWSModule reports a missing SDK.

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

SERVICE = "kms-xks-proxy"
HEALTH = "/health"
PORT = 443  # KMS Developer Guide: "AWS KMS communicates with the external key store proxy on port 443."
EKM_HEALTH = ("ACTIVE", "DEGRADED", "UNAVAILABLE")

# The checks, in the order they run. The proxy checks stop at the first failure: what follows is not checked.
PROXY_CHECKS = (
    "proxy_reachable",
    "tls_certificate",
    "proxy_signature",
    "proxy_uri_path",
    "proxy_authorization",
    "proxy_health",
)
SERVICE_CHECKS = (
    "vpc_endpoint_service_available",
    "vpc_endpoint_service_interface",
    "network_load_balancer",
    "availability_zones",
    "acceptance_not_required",
    "kms_principal_allowed",
    "private_dns_name_matches_endpoint",
    "private_dns_name_verified",
    "private_dns_name_unique",
)

# The remedy of each failed check: KMS's remedy for the connection error code the failure would cause
# (KMS API Reference, "CustomKeyStoresListEntry"; KMS Developer Guide, "Troubleshooting external key stores").
REMEDIES = {
    "credential_matches_store": (
        "Pass the credential the store uses (its access key ID is in the store's description), or update the store "
        "to this credential with kms_custom_key_store."
    ),
    "proxy_reachable": (
        "Check xks_proxy_uri_endpoint and that the proxy runs and accepts HTTPS connections on port 443 from the "
        "network KMS reaches it from."
    ),
    "tls_certificate": (
        "Give the proxy a TLS certificate that is not expired, names the host of xks_proxy_uri_endpoint (for a VPC "
        "endpoint service, its private DNS name) and is issued by a certificate authority in the XKS Proxy API's "
        "Trusted Certificate Authorities list, served over TLS 1.2 or 1.3."
    ),
    "proxy_signature": (
        "Set the store's xks_proxy_authentication_credential to the credential the proxy accepts (kms_custom_key_store "
        "can change it while the store is connected)."
    ),
    "proxy_uri_path": "Set the store's xks_proxy_uri_path to the path the proxy serves the XKS Proxy API at.",
    "proxy_authorization": (
        "Make the proxy's authorization rules (or whatever stands in front of it) let KMS call GetHealthStatus, which "
        "the XKS Proxy API excludes from secondary authorization."
    ),
    "proxy_timed_out": (
        "Make the proxy answer within KMS's 250 ms timeout (KMS's Region close to the proxy and the proxy close to its "
        "external key manager), or notify the proxy's vendor if it keeps happening."
    ),
    "proxy_health": (
        "Fix the proxy so it answers GetHealthStatus as the XKS Proxy API specifies, with at least one external key "
        "manager that is not UNAVAILABLE, or notify the proxy's vendor."
    ),
    "vpc_endpoint_service_available": (
        "Check xks_proxy_vpc_endpoint_service_name, the Region and the account (run with the credentials of the "
        "service's owner), and wait until the service is Available."
    ),
    "vpc_endpoint_service_interface": "Use a VPC endpoint service for interface endpoints.",
    "network_load_balancer": "Put a network load balancer, not a gateway load balancer, behind the VPC endpoint service.",
    "availability_zones": (
        "Connect the endpoint service's network load balancer to subnets in at least two Availability Zones."
    ),
    "acceptance_not_required": (
        "Turn off acceptance of connection requests on the VPC endpoint service (KMS cannot wait for a manual acceptance)."
    ),
    "kms_principal_allowed": "Add the KMS service principal {principal} to the VPC endpoint service's Allow principals list.",
    "private_dns_name_matches_endpoint": (
        "Give the VPC endpoint service the private DNS name {host}, or set the store's xks_proxy_uri_endpoint to "
        "https:// followed by the service's private DNS name."
    ),
    "private_dns_name_verified": (
        "Verify the domain of the private DNS name: publish the TXT record the service's PrivateDnsNameConfiguration "
        "names in the public domain, then wait until its state is verified."
    ),
    "private_dns_name_unique": "Give each external key store's VPC endpoint service its own private DNS name.",
}


def check(name, passed, detail, remedy=None):
    """One check result; a failed or skipped check carries its remedy (REMEDIES when none is given)."""
    if passed:
        remedy = None
    elif remedy is None:
        remedy = REMEDIES.get(name)
    return {"name": name, "passed": passed, "detail": detail, "remedy": remedy}


def not_checked(names, why, remedy=None):
    return [check(name, None, "Not checked: %s" % why, remedy or "Fix the checks that failed first.") for name in names]


def kms_principal(region):
    """The KMS service principal of a Region (KMS Developer Guide, "Configuring VPC endpoint service connectivity")."""
    return "cks.kms.%s.amazonaws.com" % region


# ---------------------------------------------------------------------------
# The proxy
# ---------------------------------------------------------------------------


def probe_proxy(uri_endpoint, uri_path, region, credential=None, ca_bundle=None, address=None, timeout=5.0):
    """GetHealthStatus to the proxy, as KMS sends it; returns (checks, facts).

    ``credential``: {"access_key_id", "raw_secret_access_key"} or None (then only reachability and TLS are
    checked). ``ca_bundle``: a file of trusted CA certificates (None: the system's). ``address``: (host, port)
    to connect to instead of the endpoint's host on port 443; TLS still verifies the endpoint's host name.
    ``facts`` holds ``certificate_not_after`` (ISO 8601) and ``certificate_days_left`` once a certificate was
    seen, and ``proxy_health`` (the answer, snake_case) when the proxy answered.
    """
    host = urlsplit(uri_endpoint).hostname
    target = address or (host, PORT)
    where = "%s (connecting to %s:%d)" % (host, target[0], target[1]) if address else "%s:%d" % (host, PORT)
    facts = {}
    try:
        raw = socket.create_connection(target, timeout=timeout)
    except OSError as error:
        return [check("proxy_reachable", False, "No connection to %s: %s." % (where, _reason(error)))] + not_checked(
            PROXY_CHECKS[1:], "the proxy is not reachable."
        ), facts
    try:
        raw.settimeout(timeout)
        tls = _client_context(ca_bundle).wrap_socket(raw, server_hostname=host)
    except ssl.SSLCertVerificationError as error:
        raw.close()
        facts.update(_unverified_certificate_dates(target, host, timeout))
        detail = "The certificate of %s does not verify: %s." % (where, error.verify_message or _reason(error))
        if "certificate_not_after" in facts:
            detail += " It is valid until %s." % facts["certificate_not_after"]
        checks = [
            check("proxy_reachable", True, "%s accepts connections." % where),
            check("tls_certificate", False, detail),
        ]
        return checks + not_checked(PROXY_CHECKS[2:], "the TLS handshake failed."), facts
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError, socket.timeout) as error:
        raw.close()
        detail = "%s closed or dropped the connection before the TLS handshake ended: %s." % (where, _reason(error))
        return [check("proxy_reachable", False, detail)] + not_checked(
            PROXY_CHECKS[1:], "the proxy is not reachable."
        ), facts
    except (ssl.SSLError, OSError) as error:
        raw.close()
        checks = [
            check("proxy_reachable", True, "%s accepts connections." % where),
            check("tls_certificate", False, "The TLS handshake with %s failed: %s." % (where, _reason(error))),
        ]
        return checks + not_checked(PROXY_CHECKS[2:], "the TLS handshake failed."), facts
    facts.update(_certificate_dates(tls.getpeercert()))
    checks = [
        check("proxy_reachable", True, "%s accepts connections." % where),
        check(
            "tls_certificate",
            True,
            "The certificate names %s and verifies (%s); it is valid until %s (%d days)."
            % (host, tls.version(), facts["certificate_not_after"], facts["certificate_days_left"]),
        ),
    ]
    if not credential:
        tls.close()
        skipped = not_checked(
            PROXY_CHECKS[2:],
            "no xks_proxy_authentication_credential was given (AWS never returns the secret access key).",
            "Pass xks_proxy_authentication_credential to check the signature, the URI path and the proxy's health.",
        )
        return checks + skipped, facts
    try:
        status, document, elapsed = _get_health_status(tls, host, uri_path, region, credential, timeout)
    except (socket.timeout, TimeoutError):
        return checks + _answer_checks(None, None, None, timeout), facts
    except (http.client.HTTPException, OSError) as error:
        detail = "The proxy's answer to GetHealthStatus is not HTTP: %s." % _reason(error)
        unread = not_checked(PROXY_CHECKS[2:5], "the proxy's answer could not be read.")
        return checks + unread + [check("proxy_health", False, detail)], facts
    finally:
        tls.close()
    if status == 200 and _is_health_answer(document):
        facts["proxy_health"] = _health_facts(document)
    return checks + _answer_checks(status, document, elapsed, timeout), facts


def _get_health_status(tls, host, uri_path, region, credential, timeout):
    """One SigV4-signed GetHealthStatus on an open TLS connection: (status, JSON document or None, seconds)."""
    body = json.dumps(
        {"requestMetadata": {"kmsRequestId": str(uuid.uuid4()), "kmsOperation": "ConnectCustomKeyStore"}}
    ).encode("utf-8")
    request = AWSRequest(
        method="POST",
        url="https://%s%s%s" % (host, uri_path, HEALTH),
        data=body,
        headers={"Content-Type": "application/json", "Host": host},
    )
    signer = Credentials(credential["access_key_id"], credential["raw_secret_access_key"])
    SigV4Auth(signer, SERVICE, region).add_auth(request)
    connection = http.client.HTTPConnection(host, PORT, timeout=timeout)
    connection.sock = tls
    started = time.monotonic()
    try:
        connection.request("POST", uri_path + HEALTH, body=body, headers=dict(request.headers.items()))
        response = connection.getresponse()
        status, payload = response.status, response.read()
    finally:
        connection.close()
    elapsed = time.monotonic() - started
    try:
        document = json.loads(payload.decode("utf-8"))
    except ValueError:
        document = None
    return status, (document if isinstance(document, dict) else None), elapsed


def _answer_checks(status, document, elapsed, timeout):
    """The checks an answer to GetHealthStatus decides (XKS Proxy API, GetHealthStatus and Error codes)."""
    if status is None:
        return not_checked(PROXY_CHECKS[2:5], "the proxy did not answer.") + [
            check(
                "proxy_health",
                False,
                "The proxy did not answer GetHealthStatus within %g s." % timeout,
                REMEDIES["proxy_timed_out"],
            )
        ]
    error_name = (document or {}).get("errorName") if status != 200 else None
    took = "%d ms" % round(elapsed * 1000)
    if error_name == "AuthenticationFailedException":
        return [
            check(
                "proxy_signature",
                False,
                "The proxy rejected the SigV4 signature (HTTP 401 AuthenticationFailedException).",
            )
        ] + not_checked(PROXY_CHECKS[3:], "the proxy did not accept the signature.")
    if error_name == "InvalidUriPathException":
        first = not_checked(["proxy_signature"], "the proxy refused the URI path first.", "Fix the URI path first.")
        detail = "The proxy serves no XKS Proxy API at this path (HTTP 404 InvalidUriPathException)."
        after = not_checked(PROXY_CHECKS[4:], "the URI path is wrong.")
        return first + [check("proxy_uri_path", False, detail)] + after
    checks = [
        check("proxy_signature", True, "The proxy accepted the SigV4 signature."),
        check("proxy_uri_path", True, "The proxy serves the XKS Proxy API at this path."),
    ]
    if error_name == "AccessDeniedException":
        detail = "The proxy denied GetHealthStatus (HTTP 403 AccessDeniedException)."
        return (
            checks + [check("proxy_authorization", False, detail)] + not_checked(["proxy_health"], "access was denied.")
        )
    checks.append(check("proxy_authorization", True, "The proxy let the request through."))
    if status != 200:
        if error_name == "DependencyTimeoutException":
            detail = "The proxy timed out waiting for its external key manager (HTTP %d %s)." % (status, error_name)
            return checks + [check("proxy_health", False, detail, REMEDIES["proxy_timed_out"])]
        shown = error_name or "an answer without an XKS Proxy API error"
        return checks + [check("proxy_health", False, "The proxy answered HTTP %d with %s." % (status, shown))]
    if not _is_health_answer(document):
        return checks + [
            check("proxy_health", False, "The proxy's answer is not a GetHealthStatus response (HTTP 200).")
        ]
    statuses = [entry["healthStatus"] for entry in document["ekmFleetDetails"]]
    summary = "fleet of %d, external key managers %s, answered in %s" % (
        document["xksProxyFleetSize"],
        ", ".join(statuses),
        took,
    )
    if all(status_ == "UNAVAILABLE" for status_ in statuses):
        detail = "The proxy reports every external key manager UNAVAILABLE (%s)." % summary
        return checks + [check("proxy_health", False, detail)]
    return checks + [check("proxy_health", True, "The proxy is healthy (%s)." % summary)]


def _is_health_answer(document):
    """A GetHealthStatus response as the XKS Proxy API specifies it."""
    if not isinstance(document, dict):
        return False
    size = document.get("xksProxyFleetSize")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        return False
    if not all(isinstance(document.get(name), str) for name in ("xksProxyVendor", "xksProxyModel", "ekmVendor")):
        return False
    details = document.get("ekmFleetDetails")
    if not isinstance(details, list) or not 1 <= len(details) <= 10:
        return False
    return all(isinstance(entry, dict) and entry.get("healthStatus") in EKM_HEALTH for entry in details)


def _health_facts(document):
    return {
        "xks_proxy_fleet_size": document["xksProxyFleetSize"],
        "xks_proxy_vendor": document["xksProxyVendor"],
        "xks_proxy_model": document["xksProxyModel"],
        "ekm_vendor": document["ekmVendor"],
        "ekm_fleet_details": [
            {"id": entry.get("id"), "model": entry.get("model"), "health_status": entry["healthStatus"]}
            for entry in document["ekmFleetDetails"]
        ],
    }


def _client_context(ca_bundle):
    """Certificate and host name verification, TLS 1.2 or later (KMS: "TLS 1.2 or 1.3")."""
    context = ssl.create_default_context(cafile=ca_bundle)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _certificate_dates(certificate):
    not_after = datetime.datetime.fromtimestamp(
        ssl.cert_time_to_seconds(certificate["notAfter"]), datetime.timezone.utc
    )
    return _dates(not_after)


def _dates(not_after):
    days_left = (not_after - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400
    return {"certificate_not_after": not_after.isoformat(), "certificate_days_left": int(days_left // 1)}


def _unverified_certificate_dates(target, host, timeout):
    """The notAfter of a certificate that does not verify (read without verification, to report it), or {}."""
    try:
        from cryptography import x509
    except ImportError:
        return {}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(target, timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                der = tls.getpeercert(binary_form=True)
        certificate = x509.load_der_x509_certificate(der)
    except (OSError, ValueError):
        return {}
    not_after = getattr(certificate, "not_valid_after_utc", None)
    if not_after is None:
        not_after = certificate.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return _dates(not_after)


def _reason(error):
    return " ".join(str(error).split()).rstrip(".") or type(error).__name__


def ca_bundle_problem(path):
    """A sentence when ``path`` is not a file of PEM certificates that TLS can trust, else None."""
    try:
        _client_context(path)
    except (ssl.SSLError, OSError, ValueError):
        return "ca_bundle must be a file of PEM CA certificates, got %s." % path
    return None


def parse_address(value):
    """(host, port) from "host:port", or None when the value is not of that form."""
    host, _sep, port = (value or "").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


# ---------------------------------------------------------------------------
# The VPC endpoint service
# ---------------------------------------------------------------------------


class AnsibleEC2ProbeError(AnsibleAWSError):
    pass


class EC2ProbeErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleEC2ProbeError


ec2_retry = AWSRetry.jittered_backoff(retries=5, delay=1, max_delay=10)


@EC2ProbeErrorHandler.common_error_handler("describe the VPC endpoint service configurations")
@ec2_retry
def describe_service_configurations(client):
    """Every VPC endpoint service configuration of the caller's account in the client's Region (all pages)."""
    paginator = client.get_paginator("describe_vpc_endpoint_service_configurations")
    return paginator.paginate().build_full_result()["ServiceConfigurations"]


@EC2ProbeErrorHandler.common_error_handler("describe the permissions of VPC endpoint service {service_id}")
@ec2_retry
def describe_service_permissions(client, service_id):
    paginator = client.get_paginator("describe_vpc_endpoint_service_permissions")
    return paginator.paginate(ServiceId=service_id).build_full_result()["AllowedPrincipals"]


def endpoint_service_checks(client, service_name, region, uri_endpoint):
    """The VPC endpoint service requirements of an external key store, checked with EC2's Describe calls."""
    configurations = describe_service_configurations(client)
    service = next((item for item in configurations if item.get("ServiceName") == service_name), None)
    permissions = describe_service_permissions(client, service["ServiceId"]) if service else []
    others = [item for item in configurations if item is not service]
    return evaluate_endpoint_service(service_name, service, permissions, others, region, uri_endpoint)


def evaluate_endpoint_service(service_name, service, permissions, others, region, uri_endpoint):
    """The checks for one service configuration (boto3 form, None when not found) and its allowed principals."""
    if service is None:
        detail = "The account has no VPC endpoint service %s in %s." % (service_name, region)
        return [check(SERVICE_CHECKS[0], False, detail)] + not_checked(SERVICE_CHECKS[1:], "the service was not found.")
    state = service.get("ServiceState")
    checks = [check(SERVICE_CHECKS[0], state == "Available", "VPC endpoint service %s is %s." % (service_name, state))]
    types = [item.get("ServiceType") for item in service.get("ServiceType", [])]
    checks.append(
        check(
            "vpc_endpoint_service_interface", "Interface" in types, "Service type: %s." % (", ".join(types) or "none")
        )
    )
    network, gateway = service.get("NetworkLoadBalancerArns", []), service.get("GatewayLoadBalancerArns", [])
    checks.append(
        check(
            "network_load_balancer",
            bool(network) and not gateway,
            "%d network and %d gateway load balancer(s)." % (len(network), len(gateway)),
        )
    )
    zones = service.get("AvailabilityZones") or service.get("AvailabilityZoneIds") or []
    checks.append(
        check("availability_zones", len(zones) >= 2, "Availability Zones: %s." % (", ".join(zones) or "none"))
    )
    acceptance = bool(service.get("AcceptanceRequired"))
    checks.append(
        check("acceptance_not_required", not acceptance, "Acceptance required: %s." % ("yes" if acceptance else "no"))
    )
    principal = kms_principal(region)
    allowed = [item.get("Principal") for item in permissions]
    checks.append(
        check(
            "kms_principal_allowed",
            principal in allowed or "*" in allowed,
            "Allowed principals: %s." % (", ".join(allowed) or "none"),
            REMEDIES["kms_principal_allowed"].format(principal=principal),
        )
    )
    host = urlsplit(uri_endpoint).hostname
    dns_name = service.get("PrivateDnsName")
    checks.append(
        check(
            "private_dns_name_matches_endpoint",
            dns_name == host,
            "Private DNS name: %s; proxy URI endpoint host: %s." % (dns_name or "none", host),
            REMEDIES["private_dns_name_matches_endpoint"].format(host=host),
        )
    )
    verification = (service.get("PrivateDnsNameConfiguration") or {}).get("State")
    checks.append(
        check(
            "private_dns_name_verified",
            bool(dns_name) and verification == "verified",
            "Domain verification state: %s." % (verification or "none"),
        )
    )
    sharing = sorted(item["ServiceName"] for item in others if dns_name and item.get("PrivateDnsName") == dns_name)
    detail = (
        "Also the private DNS name of %s." % ", ".join(sharing)
        if sharing
        else "No other VPC endpoint service of the account has this private DNS name."
    )
    checks.append(check("private_dns_name_unique", bool(dns_name) and not sharing, detail))
    return checks


# ---------------------------------------------------------------------------
# The preflight of one store
# ---------------------------------------------------------------------------


def store_config(entry):
    """What the preflight needs from a DescribeCustomKeyStores entry (boto3 form) of an external key store."""
    proxy = entry.get("XksProxyConfiguration") or {}
    return {
        "custom_key_store_id": entry.get("CustomKeyStoreId"),
        "custom_key_store_name": entry.get("CustomKeyStoreName"),
        "connection_state": entry.get("ConnectionState"),
        "xks_proxy_uri_endpoint": proxy.get("UriEndpoint"),
        "xks_proxy_uri_path": proxy.get("UriPath"),
        "xks_proxy_connectivity": proxy.get("Connectivity"),
        "xks_proxy_vpc_endpoint_service_name": proxy.get("VpcEndpointServiceName"),
        "xks_proxy_vpc_endpoint_service_owner": proxy.get("VpcEndpointServiceOwner"),
        "access_key_id": proxy.get("AccessKeyId"),
    }


def preflight(config, region, ec2_client=None, credential=None, ca_bundle=None, address=None, timeout=5.0):
    """Every check for one external key store configuration (see store_config); returns the module's result."""
    checks = []
    store_key_id = config.get("access_key_id")
    if credential and store_key_id:
        same = credential["access_key_id"] == store_key_id
        detail = "The credential's access key ID is %sthe store's." % ("" if same else "not ")
        checks.append(check("credential_matches_store", same, detail))
    facts = {}
    vpc = config["xks_proxy_connectivity"] == "VPC_ENDPOINT_SERVICE"
    if vpc:
        checks.extend(
            endpoint_service_checks(
                ec2_client, config["xks_proxy_vpc_endpoint_service_name"], region, config["xks_proxy_uri_endpoint"]
            )
        )
    if vpc and address is None:
        checks.extend(
            not_checked(
                PROXY_CHECKS,
                "the proxy of a VPC endpoint service store is reached through the service, not from here.",
                "Set proxy_address to an address this host reaches the proxy at (for example its load balancer) to check it.",
            )
        )
    else:
        proxy_checks, facts = probe_proxy(
            config["xks_proxy_uri_endpoint"],
            config["xks_proxy_uri_path"],
            region,
            credential=credential,
            ca_bundle=ca_bundle,
            address=address,
            timeout=timeout,
        )
        checks.extend(proxy_checks)
    failed = [item["name"] for item in checks if item["passed"] is False]
    skipped = [item["name"] for item in checks if item["passed"] is None]
    result = dict(facts, checks=checks, passed=not failed, failed_checks=failed, not_checked=skipped)
    result["msg"] = summary(checks, failed, skipped)
    return result


def summary(checks, failed, skipped):
    """One sentence: how many checks passed, and which failed first with its remedy."""
    ran = len(checks) - len(skipped)
    if failed:
        first = next(item for item in checks if item["passed"] is False)
        return "%d of %d checks failed (%s); first: %s %s" % (
            len(failed),
            ran,
            ", ".join(failed),
            first["detail"],
            first["remedy"],
        )
    sentence = "All %d checks passed." % ran
    if skipped:
        sentence += " Not checked: %s." % ", ".join(skipped)
    return sentence
