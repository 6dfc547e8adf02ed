# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two EC2 calls the XKS preflight makes, answered from the world's VPC endpoint services.

EC2 speaks AWS's Query protocol: a form-encoded POST (``Action=DescribeVpcEndpointServiceConfigurations&
Version=2016-11-15&...``) answered with XML. Only DescribeVpcEndpointServiceConfigurations and
DescribeVpcEndpointServicePermissions are served; their shapes (element names, ``item`` lists) are read
from botocore's ``ec2`` model, so botocore parses the answers as it parses EC2's. Each
``entities.VpcEndpointService`` is shown as its owner sees it (the emulator's one account):
``ServiceId`` is the ``vpce-svc-...`` tail of its name, as in AWS's names.
"""

import functools
import uuid
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.session

from .errors import AwsError
from .errors import ValidationError

EC2 = "ec2"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
XML_CONTENT_TYPE = "text/xml;charset=UTF-8"
XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"
FILTERS = ("service-name", "service-id", "service-state")


class Ec2Error(AwsError):
    service = EC2


class InvalidVpcEndpointServiceIdNotFound(Ec2Error):
    code = "InvalidVpcEndpointServiceId.NotFound"


class InvalidParameterValue(Ec2Error):
    code = "InvalidParameterValue"


@functools.lru_cache(maxsize=None)
def model():
    return botocore.session.get_session().get_service_model(EC2)


def is_query_request(content_type, target):
    """An EC2 Query request: form-encoded and without the X-Amz-Target of JSON 1.1."""
    return not target and (content_type or "").split(";")[0].strip() == FORM_CONTENT_TYPE


def parse(raw_body):
    """(operation name, parameters) of a Query request: ServiceId.N and Filter.N.Name / Filter.N.Value.M."""
    form = dict(
        (name, values[-1]) for name, values in parse_qs(raw_body.decode("utf-8"), keep_blank_values=True).items()
    )
    operation = form.pop("Action", None)
    form.pop("Version", None)
    if operation not in OPERATIONS:
        raise InvalidParameterValue("The emulator serves only %s of EC2." % " and ".join(sorted(OPERATIONS)))
    params = {}
    filters = {}
    for name, value in form.items():
        parts = name.split(".")
        if parts[0] == "ServiceId" and len(parts) == 2:
            params.setdefault("ServiceIds", []).append(value)
        elif parts[0] == "Filter" and len(parts) >= 3:
            entry = filters.setdefault(parts[1], {"Values": []})
            if parts[2] == "Name":
                entry["Name"] = value
            else:
                entry["Values"].append(value)
        else:
            params[name] = value
    if filters:
        params["Filters"] = list(filters.values())
    return operation, params


def render(operation, result):
    """The XML answer of an operation, element names from botocore's output shape."""
    shape = model().operation_model(operation).output_shape
    body = "".join(_element(member, result[name]) for name, member in shape.members.items() if name in result)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns="%s"><requestId>%s</requestId>%s</%sResponse>'
        % (operation, XMLNS, uuid.uuid4(), body, operation)
    ).encode("utf-8")


def render_error(error):
    """EC2's error document (HTTP 400)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code><Message>%s</Message>'
        "</Error></Errors><RequestID>%s</RequestID></Response>"
        % (escape(error.code), escape(error.message), uuid.uuid4())
    ).encode("utf-8")


def _element(shape, value):
    name = shape.serialization.get("name", shape.name)
    return "<%s>%s</%s>" % (name, _content(shape, value), name)


def _content(shape, value):
    if shape.type_name == "structure":
        return "".join(_element(member, value[key]) for key, member in shape.members.items() if key in value)
    if shape.type_name == "list":
        return "".join("<item>%s</item>" % _content(shape.member, item) for item in value)
    if shape.type_name == "boolean":
        return "true" if value else "false"
    return escape(str(value))


# ---------------------------------------------------------------------------
# The world's VPC endpoint services, as EC2 describes them
# ---------------------------------------------------------------------------


def service_id(service_name):
    return service_name.rsplit(".", 1)[-1]


def configuration(world, service):
    """A ServiceConfiguration (botocore shape) for a world's VPC endpoint service."""
    network = service.load_balancer_type == "network"
    balancer = "arn:aws:elasticloadbalancing:%s:%s:loadbalancer/%s/xks/%s" % (
        world.region,
        world.account_id,
        "net" if network else "gwy",
        service_id(service.service_name)[-12:],
    )
    entry = {
        "ServiceType": [{"ServiceType": "Interface" if network else "GatewayLoadBalancer"}],
        "ServiceId": service_id(service.service_name),
        "ServiceName": service.service_name,
        "ServiceState": "Available",
        "AvailabilityZones": [world.region + chr(ord("a") + index) for index in range(service.availability_zones)],
        "AcceptanceRequired": service.acceptance_required,
        "ManagesVpcEndpoints": False,
        "NetworkLoadBalancerArns" if network else "GatewayLoadBalancerArns": [balancer],
    }
    dns_name = private_dns_name(world, service)
    if dns_name:
        entry["PrivateDnsName"] = dns_name
        entry["PrivateDnsNameConfiguration"] = {
            "State": "verified" if service.private_dns_verified else "pendingVerification",
            "Type": "TXT",
            "Value": "vpce:%s" % service_id(service.service_name),
            "Name": "_%s" % service_id(service.service_name),
        }
    return entry


def private_dns_name(world, service):
    """The service's private DNS name; unset (None), the host of the endpoint of the store that uses it."""
    if service.private_dns_name is not None:
        return service.private_dns_name
    for store in world.stores.values():
        xks_config = store.xks or {}
        if xks_config.get("vpc_service_name") == service.service_name:
            return xks_config["uri_endpoint"].split("://", 1)[-1]
    return None


def _service_by_id(world, wanted):
    for service in world.vpc_endpoint_services.values():
        if service_id(service.service_name) == wanted:
            return service
    raise InvalidVpcEndpointServiceIdNotFound("The VPC endpoint service ID '%s' does not exist." % wanted)


def describe_vpc_endpoint_service_configurations(world, params):
    """DescribeVpcEndpointServiceConfigurations: the account's services, by ServiceIds and Filters, one page."""
    services = list(world.vpc_endpoint_services.values())
    if params.get("ServiceIds"):
        services = [_service_by_id(world, wanted) for wanted in params["ServiceIds"]]
    entries = [configuration(world, service) for service in services]
    keys = {"service-name": "ServiceName", "service-id": "ServiceId", "service-state": "ServiceState"}
    for entry_filter in params.get("Filters", []):
        if entry_filter.get("Name") not in keys:
            raise InvalidParameterValue(
                "The filter '%s' is not supported by the emulator; use one of %s."
                % (entry_filter.get("Name"), ", ".join(FILTERS))
            )
        key = keys[entry_filter["Name"]]
        entries = [entry for entry in entries if entry[key] in entry_filter["Values"]]
    if "MaxResults" in params and not params["MaxResults"].isdigit():
        raise ValidationError("MaxResults must be a number.")
    return {"ServiceConfigurations": entries}


def describe_vpc_endpoint_service_permissions(world, params):
    """DescribeVpcEndpointServicePermissions: the KMS principal of the Region when the service allows it."""
    if not params.get("ServiceId"):
        raise InvalidParameterValue("The request must contain the parameter ServiceId.")
    service = _service_by_id(world, params["ServiceId"])
    principals = []
    if service.kms_principal_allowed:
        principals.append(
            {
                "PrincipalType": "Service",
                "Principal": "cks.kms.%s.amazonaws.com" % world.region,
                "ServicePermissionId": "vpce-svc-perm-%s" % service_id(service.service_name)[-12:],
                "ServiceId": service_id(service.service_name),
            }
        )
    return {"AllowedPrincipals": principals}


OPERATIONS = {
    "DescribeVpcEndpointServiceConfigurations": describe_vpc_endpoint_service_configurations,
    "DescribeVpcEndpointServicePermissions": describe_vpc_endpoint_service_permissions,
}
