# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The world's external key store side: XKS proxies and VPC endpoint services, and what KMS finds
when it tests them.

Each XKS proxy the world registers (``entities.XksProxy``: the credential it accepts and its
conditions) is served, from the first time KMS contacts it, by a real ``xks_proxy`` server on
loopback. KMS's side is ``xks_proxy.probe``: a SigV4-signed GetHealthStatus over HTTPS with the
store's own credential, so a wrong credential really fails the proxy's signature check, a
certificate for another host really fails TLS verification, and so on. Before each probe the
running proxy is made to behave as the world says, so a test that changes the world changes the
next probe. A store with VPC_ENDPOINT_SERVICE connectivity is checked against its VPC endpoint
service (``entities.VpcEndpointService``), which is modelled, not run: at create and update, instead
of a probe, and at connect, before the probe.

Probes run while the emulator holds its lock (timers are lazy, see ``world``): a healthy proxy
answers in milliseconds, and a slow one costs at most the ``xks_probe_timeout_seconds`` setting.
"""

import os
import tempfile
import threading
from urllib.parse import urlsplit

from . import xks_proxy
from .entities import VPC_ENDPOINT_SERVICE
from .entities import VpcEndpointService
from .entities import XksProxy
from .errors import ControlError
from .errors import XksProxyIncorrectAuthenticationCredentialError
from .errors import XksProxyInvalidConfigurationError
from .errors import XksProxyInvalidResponseError
from .errors import XksProxyUriUnreachableError
from .errors import XksProxyVpcEndpointServiceInvalidConfigurationError
from .errors import XksProxyVpcEndpointServiceNotFoundError

VPC_NOT_FOUND = "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND"
VPC_INVALID_CONFIGURATION = "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION"
LOAD_BALANCER_TYPES = ("network", "gateway")

# Control-API fields of a proxy: (name, kind, choices). Conditions default to a healthy proxy.
PROXY_FIELDS = (
    ("access_key_id", "string", None),
    ("secret_access_key", "string", None),
    ("reachable", "boolean", None),
    ("invalid_configuration", "boolean", None),
    ("uri_path", "string", None),
    ("delay_seconds", "number", None),
    ("answer", "string", xks_proxy.ANSWERS),
    ("deny_access", "boolean", None),
    ("certificate", "string", xks_proxy.CERTIFICATES),
    ("ekm_health", "string", xks_proxy.EKM_HEALTH),
)
SERVICE_FIELDS = (
    ("kms_principal_allowed", "boolean", None),
    ("acceptance_required", "boolean", None),
    ("private_dns_name", "string", None),
    ("private_dns_verified", "boolean", None),
    ("load_balancer_type", "string", LOAD_BALANCER_TYPES),
    ("availability_zones", "integer", None),
)

# Create/UpdateCustomKeyStore's exception for each probe outcome (XKS spec, "KMS Considerations").
_CREATE_ERRORS = {
    "XksProxyUriUnreachableException": XksProxyUriUnreachableError,
    "XksProxyIncorrectAuthenticationCredentialException": XksProxyIncorrectAuthenticationCredentialError,
    "XksProxyInvalidConfigurationException": XksProxyInvalidConfigurationError,
    "XksProxyInvalidResponseException": XksProxyInvalidResponseError,
}
# ... and for each VPC endpoint service outcome (KMS API Reference, CreateCustomKeyStore and
# UpdateCustomKeyStore, Errors; KMS Developer Guide, "Troubleshooting external key stores").
_ENDPOINT_SERVICE_ERRORS = {
    VPC_NOT_FOUND: XksProxyVpcEndpointServiceNotFoundError,
    VPC_INVALID_CONFIGURATION: XksProxyVpcEndpointServiceInvalidConfigurationError,
}
_CREATE_MESSAGES = {
    xks_proxy.NOT_REACHABLE: "KMS cannot reach an XKS proxy at %s.",
    xks_proxy.TIMED_OUT: "The XKS proxy at %s did not answer in the time allotted.",
    xks_proxy.INVALID_TLS: "KMS cannot connect to the XKS proxy at %s: its TLS configuration is invalid.",
    xks_proxy.INVALID_CREDENTIALS: "The XKS proxy at %s does not accept this authentication credential.",
    xks_proxy.INVALID_CONFIGURATION: "The XKS proxy at %s does not serve the XKS Proxy API at this URI path.",
    xks_proxy.INVALID_RESPONSE: "KMS cannot interpret the response of the XKS proxy at %s.",
}


class ProxyServers:
    """The running proxies of one emulator, one per (Region, endpoint), started on first use.

    Shared by every World of the emulator and never copied with one (seeding snapshots worlds). One test
    CA, made at start, issues every proxy's certificates; ``ca_file`` holds its certificate, for clients
    (the XKS preflight's ``ca_bundle``) that are to trust it as KMS trusts its list of CAs.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._handles = {}
        self.ca = xks_proxy.TestCA()
        self._ca_file = None

    @property
    def ca_file(self):
        """The CA certificate's file (written on first use, removed by stop())."""
        with self._lock:
            if self._ca_file is None:
                handle, self._ca_file = tempfile.mkstemp(prefix="awskms-emulator-ca-", suffix=".pem")
                with os.fdopen(handle, "w") as ca_file:
                    ca_file.write(self.ca.pem)
            return self._ca_file

    def __deepcopy__(self, memo):
        return self

    def handle(self, region, uri_endpoint):
        """The running proxy for an endpoint (its certificates name the endpoint's host)."""
        with self._lock:
            handle = self._handles.get((region, uri_endpoint))
            if handle is None:
                handle = xks_proxy.start(
                    "/kms/xks/v1",
                    "",
                    "",
                    region,
                    host_name=urlsplit(uri_endpoint).hostname or xks_proxy.DEFAULT_HOST_NAME,
                    ca=self.ca,
                )
                self._handles[(region, uri_endpoint)] = handle
            return handle

    def stop(self):
        """Stop every running proxy and remove the CA file."""
        with self._lock:
            handles, self._handles = list(self._handles.values()), {}
        for handle in handles:
            handle.stop()
        with self._lock:
            ca_file, self._ca_file = self._ca_file, None
        if ca_file and os.path.exists(ca_file):
            os.remove(ca_file)


# ---------------------------------------------------------------------------
# Control API and seeding
# ---------------------------------------------------------------------------


def read_fields(fields, spec):
    """The fields of ``spec`` present in a control request, validated."""
    values = {}
    for name, kind, choices in spec:
        value = fields.get(name, kind, choices=choices)
        if value is not None:
            values[name] = value
    if not 0 <= values.get("delay_seconds", 0) <= 600:
        raise ControlError('"delay_seconds" in %s must be between 0 and 600.' % fields.what)
    if values.get("availability_zones", 0) < 0:
        raise ControlError('"availability_zones" in %s must be zero or more.' % fields.what)
    return values


def set_proxy(world, uri_endpoint, values, replace=False):
    """Register (``replace``: anew) or change the proxy at an endpoint; "" as uri_path means the store's path."""
    proxy = XksProxy(uri_endpoint) if replace else world.proxies.setdefault(uri_endpoint, XksProxy(uri_endpoint))
    for name, value in values.items():
        if name == "uri_path" and not value:
            value = None
        setattr(proxy, name, value)
    world.proxies[uri_endpoint] = proxy
    return proxy


def set_service(world, service_name, values, replace=False):
    """Register (``replace``: anew) or change a VPC endpoint service."""
    services = world.vpc_endpoint_services
    service = (
        VpcEndpointService(service_name)
        if replace
        else services.setdefault(service_name, VpcEndpointService(service_name))
    )
    for name, value in values.items():
        setattr(service, name, value)
    services[service_name] = service
    return service


def set_vpc_endpoint_service(world, fields):
    """vpc-endpoint-service: register, change or (``"state": "absent"``) remove a VPC endpoint service."""
    service_name = fields.get("service_name", "string", required=True)
    state = fields.get("state", "string", default="present", choices=("present", "absent"))
    values = read_fields(fields, SERVICE_FIELDS)
    fields.done()
    if state == "absent":
        world.vpc_endpoint_services.pop(service_name, None)
        return {"service_name": service_name, "state": "absent"}
    return set_service(world, service_name, values).dump()


def seed_service(world, fields):
    """One seeded VPC endpoint service; returns its name."""
    service_name = fields.get("service_name", "string", required=True)
    values = read_fields(fields, SERVICE_FIELDS)
    fields.done()
    set_service(world, service_name, values, replace=True)
    return service_name


def serve_proxy(world, fields):
    """serve-xks-proxy: run the proxy at an endpoint as the world says now; where it listens, and the CA to trust.

    ``uri_path``: the path of the store it serves (default: that of the store using the endpoint, else /kms/xks/v1).
    """
    uri_endpoint = fields.get("uri_endpoint", "string", required=True)
    uri_path = fields.get("uri_path", "string")
    fields.done()
    proxy = world.proxies.get(uri_endpoint)
    if proxy is None:
        raise ControlError("No XKS proxy is registered at %s in %s." % (uri_endpoint, world.region))
    if uri_path is None:
        stores = [store.xks for store in world.stores.values() if (store.xks or {}).get("uri_endpoint") == uri_endpoint]
        uri_path = stores[0]["uri_path"] if stores else "/kms/xks/v1"
    handle = behave(world, proxy, uri_path)
    return {
        "uri_endpoint": uri_endpoint,
        "address": "%s:%d" % handle.address,
        "ca_bundle": world.proxy_servers.ca_file,
    }


def seeded_store(world, config):
    """A seeded VPC_ENDPOINT_SERVICE store gets a conforming endpoint service unless one is seeded."""
    if config["connectivity"] == VPC_ENDPOINT_SERVICE:
        world.vpc_endpoint_services.setdefault(
            config["vpc_service_name"], VpcEndpointService(config["vpc_service_name"])
        )


# ---------------------------------------------------------------------------
# What KMS finds
# ---------------------------------------------------------------------------


def behave(world, proxy, uri_path):
    """The running proxy of a registered one, made to behave as the world says for a store at ``uri_path``."""
    handle = world.proxy_servers.handle(world.region, proxy.uri_endpoint)
    served_path = proxy.uri_path or uri_path
    if proxy.invalid_configuration:
        served_path += "/unconfigured"  # the proxy serves the XKS Proxy API somewhere else
    handle.state.update(
        uri_path=served_path,
        access_key_id=proxy.access_key_id or "",
        secret=proxy.secret_access_key or "",
        region=world.region,
        reachable=proxy.reachable,
        delay_seconds=proxy.delay_seconds,
        answer=proxy.answer,
        deny_access=proxy.deny_access,
        certificate=proxy.certificate,
        ekm_health=proxy.ekm_health,
    )
    return handle


def probe(world, config, operation):
    """GetHealthStatus to the store's proxy with the store's credential: None or a ConnectionErrorCode."""
    proxy = world.proxies.get(config["uri_endpoint"])
    if proxy is None:
        return xks_proxy.NOT_REACHABLE  # nothing listens at the endpoint
    handle = behave(world, proxy, config["uri_path"])
    return xks_proxy.probe(
        config["uri_endpoint"],
        config["uri_path"],
        config["access_key_id"],
        config["secret"],
        world.region,
        ca_bundle=handle.ca_pem,
        timeout=world.duration("xks_probe_timeout_seconds"),
        address=handle.address,
        kms_operation=operation,
    )


def check_at_create(world, config, operation):
    """Create/UpdateCustomKeyStore test a PUBLIC_ENDPOINT proxy and raise what KMS raises; the proxy of a
    VPC_ENDPOINT_SERVICE store is not contacted (its problems show at ConnectCustomKeyStore)."""
    if config["connectivity"] == VPC_ENDPOINT_SERVICE:
        return
    code = probe(world, config, operation)
    exception = xks_proxy.CREATE_EXCEPTIONS.get(code)
    # XKS_PROXY_ACCESS_DENIED has no create exception (a conforming proxy never denies GetHealthStatus):
    # the emulator's choice is to accept the store, which then fails at ConnectCustomKeyStore.
    if exception is not None:
        raise _CREATE_ERRORS[exception](_CREATE_MESSAGES[code] % (config["uri_endpoint"] + config["uri_path"]))


def connection_outcome(world, store):
    """None for CONNECTED, else the ConnectionErrorCode of an XKS store's connection right now."""
    if store.xks["connectivity"] == VPC_ENDPOINT_SERVICE:
        code = endpoint_service_problem(world, store.xks)
        if code is not None:
            return code
    return probe(world, store.xks, "ConnectCustomKeyStore")


def endpoint_service_problem(world, config):
    """The ConnectionErrorCode of a store's VPC endpoint service, or None when it meets KMS's requirements."""
    failure = endpoint_service_failure(world, config)
    return None if failure is None else failure[0]


def endpoint_service_failure(world, config):
    """(ConnectionErrorCode, the sentence saying why) for a store's VPC endpoint service, or None when it
    meets KMS's requirements (KMS API Reference, "CustomKeyStoresListEntry", and the KMS Developer Guide,
    "Troubleshooting external key stores"; see README.md, XKS outcomes)."""
    name = config.get("vpc_service_name")
    service = world.vpc_endpoint_services.get(name)
    # Without the KMS principal allowed, KMS cannot see the service at all: NOT_FOUND (emulator's choice).
    if service is None or not service.kms_principal_allowed:
        return VPC_NOT_FOUND, (
            "KMS cannot find VPC endpoint service %s in %s, or its Allow principals list does not include "
            "cks.kms.%s.amazonaws.com." % (name, world.region, world.region)
        )
    host = urlsplit(config["uri_endpoint"]).hostname
    dns_name = host if service.private_dns_name is None else service.private_dns_name
    shared = any(
        other is not service and other.private_dns_name == dns_name for other in world.vpc_endpoint_services.values()
    )
    requirements = (
        (service.load_balancer_type == "network", "use a network load balancer, not a gateway load balancer"),
        (service.availability_zones >= 2, "have a network load balancer in at least two Availability Zones"),
        (not service.acceptance_required, "not require acceptance of connection requests"),
        (bool(dns_name), "have a private DNS name"),
        (service.private_dns_verified, "have a private DNS name whose domain is verified"),
        (not shared, "have a private DNS name unique in the Region"),
        (dns_name == host, "have the host of XksProxyUriEndpoint (%s) as its private DNS name" % host),
    )
    for met, requirement in requirements:
        if not met:
            return VPC_INVALID_CONFIGURATION, "VPC endpoint service %s must %s." % (name, requirement)
    return None


def check_endpoint_service(world, config):
    """Create/UpdateCustomKeyStore of a VPC_ENDPOINT_SERVICE store check its endpoint service (not its proxy)."""
    failure = endpoint_service_failure(world, config)
    if failure is not None:
        code, message = failure
        raise _ENDPOINT_SERVICE_ERRORS[code](message)
