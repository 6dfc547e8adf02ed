# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a region holds: CloudHSM clusters with their HSMs and ``kmsuser``, XKS proxies, and KMS
custom key stores; each renders itself in botocore's shape (``describe``) and for the control
API (``dump``, never a secret). No rules here: those live in ``kms`` and ``cloudhsm``.
"""

import base64
import re
import secrets
from collections import deque

from .wire import CLOUDHSM
from .wire import KMS
from .wire import enum_values

CONNECTED = "CONNECTED"
CONNECTING = "CONNECTING"
FAILED = "FAILED"
DISCONNECTED = "DISCONNECTED"
DISCONNECTING = "DISCONNECTING"
CONNECTION_STATES = (CONNECTED, CONNECTING, FAILED, DISCONNECTED, DISCONNECTING)

AWS_CLOUDHSM = "AWS_CLOUDHSM"
EXTERNAL_KEY_STORE = "EXTERNAL_KEY_STORE"
STORE_TYPES = (AWS_CLOUDHSM, EXTERNAL_KEY_STORE)

PUBLIC_ENDPOINT = "PUBLIC_ENDPOINT"
VPC_ENDPOINT_SERVICE = "VPC_ENDPOINT_SERVICE"
XKS_CONNECTIVITY = (PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE)

DEFAULT_KMSUSER_PASSWORD = "kmsPassw0rd"
DEFAULT_HSM_TYPE = "hsm1.medium"
KMSUSER_STATES = ("present", "absent", "locked", "logged_in", "logged_out")

HEX = "0123456789abcdef"
BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
STORE_ID_RE = re.compile(r"^cks-[0-9a-f]{17}$")
CLUSTER_ID_RE = re.compile(r"^cluster-[2-7a-z]{11,16}$")
HSM_ID_RE = re.compile(r"^hsm-[2-7a-z]{11,16}$")

_HSM_STATE_MESSAGES = {
    "CREATE_IN_PROGRESS": "Creating HSM.",
    "ACTIVE": "HSM is active.",
    "DEGRADED": "HSM is degraded.",
    "DELETE_IN_PROGRESS": "Deleting HSM.",
}


def connection_error_codes():
    """Every ConnectionErrorCode the installed botocore KMS model knows."""
    return enum_values(KMS, "ConnectionErrorCodeType")


def cluster_states():
    """Every CloudHSM cluster state in botocore's model."""
    return enum_values(CLOUDHSM, "ClusterState")


def hsm_states():
    """Every HSM state in botocore's model."""
    return enum_values(CLOUDHSM, "HsmState")


def new_id(prefix, alphabet, length):
    """A random AWS-looking id such as ``cks-`` + 17 hex characters."""
    return prefix + "".join(secrets.choice(alphabet) for _index in range(length))


def fake_pem(label):
    """A syntactically plausible PEM certificate; it only has to compare equal to itself."""
    body = base64.b64encode(("awskms emulator %s. " % label).encode("utf-8") * 3).decode("ascii")
    lines = [body[index : index + 64] for index in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(lines)


def same_pem(left, right):
    """Whether two PEM texts are the same certificate (whitespace ignored)."""
    return "".join((left or "").split()) == "".join((right or "").split())


class Hsm:
    """One HSM. ``pending`` is (deadline, next state) while it is created or deleted; None as
    the next state means the HSM disappears."""

    def __init__(self, cluster, availability_zone, eni_ip, state, hsm_id=None):
        self.hsm_id = hsm_id or new_id("hsm-", BASE32, 11)
        self.cluster_id = cluster.cluster_id
        self.hsm_type = cluster.hsm_type
        self.availability_zone = availability_zone
        self.subnet_id = cluster.subnets[availability_zone]
        self.eni_id = new_id("eni-", HEX, 17)
        self.eni_ip = eni_ip
        self.state = state
        self.pending = None

    def describe(self):
        """The botocore ``Hsm`` shape."""
        return {
            "HsmId": self.hsm_id,
            "AvailabilityZone": self.availability_zone,
            "ClusterId": self.cluster_id,
            "SubnetId": self.subnet_id,
            "EniId": self.eni_id,
            "EniIp": self.eni_ip,
            "HsmType": self.hsm_type,
            "State": self.state,
            "StateMessage": _HSM_STATE_MESSAGES.get(self.state, ""),
        }

    def dump(self):
        """Control-API view."""
        return {
            "hsm_id": self.hsm_id,
            "availability_zone": self.availability_zone,
            "subnet_id": self.subnet_id,
            "eni_id": self.eni_id,
            "eni_ip": self.eni_ip,
            "state": self.state,
        }


class KmsUser:
    """The cluster's ``kmsuser`` crypto user: present, absent, locked or logged in."""

    def __init__(self, state="present", password=DEFAULT_KMSUSER_PASSWORD):
        self.state = state
        self.password = password


class Cluster:
    """A CloudHSM v2 cluster with its subnets, HSMs and kmsuser.

    ``lineage`` stands for the backup history: clusters restored from each other's backups
    share it, which is what UpdateCustomKeyStore calls "related".
    """

    def __init__(self, cluster_id, name, subnets, created, seq):
        self.cluster_id = cluster_id
        self.name = name
        self.subnets = dict(subnets)
        self.created = created
        self.seq = seq
        self.state = "ACTIVE"
        self.hsm_type = DEFAULT_HSM_TYPE
        self.vpc_id = new_id("vpc-", HEX, 17)
        self.security_group = new_id("sg-", HEX, 17)
        self.lineage = cluster_id
        self.trust_anchor = None
        self.certificate = fake_pem("cluster certificate for %s" % cluster_id)
        self.invalid_configuration = False
        self.deleted_subnets = set()
        self.full_subnets = set()
        self.hsms = {}
        self.kmsuser = KmsUser()

    def live_availability_zones(self):
        """AZs whose subnet still exists."""
        return sorted(az for az, subnet in self.subnets.items() if subnet not in self.deleted_subnets)

    def active_hsms(self):
        """HSMs in state ACTIVE."""
        return [hsm for hsm in self.hsms.values() if hsm.state == "ACTIVE"]

    def subnet_prefix(self, subnet_id):
        """The fake /24 each subnet's ENI addresses come from (strings only, never contacted)."""
        index = sorted(self.subnets.values()).index(subnet_id)
        return "10.0.%d." % (index + 1)

    def free_ip(self, subnet_id):
        """The lowest unused address of a subnet (AWS reserves .0 to .3), or None when full."""
        used = set(hsm.eni_ip for hsm in self.hsms.values())
        prefix = self.subnet_prefix(subnet_id)
        for host in range(4, 255):
            if prefix + str(host) not in used:
                return prefix + str(host)
        return None

    def find_hsm(self, hsm_id=None, eni_id=None, eni_ip=None):
        """The HSM matching whichever selector is given, or None."""
        for hsm in self.hsms.values():
            if (
                (hsm_id and hsm.hsm_id == hsm_id)
                or (eni_id and hsm.eni_id == eni_id)
                or (eni_ip and hsm.eni_ip == eni_ip)
            ):
                return hsm
        return None

    def describe(self):
        """The botocore ``Cluster`` shape."""
        return {
            "ClusterId": self.cluster_id,
            "State": self.state,
            "StateMessage": "Cluster is %s." % self.state.lower().replace("_", " "),
            "HsmType": self.hsm_type,
            "SubnetMapping": dict(self.subnets),
            "VpcId": self.vpc_id,
            "SecurityGroup": self.security_group,
            "Hsms": [hsm.describe() for hsm in self.hsms.values()],
            "CreateTimestamp": self.created,
            "BackupPolicy": "DEFAULT",
            "BackupRetentionPolicy": {"Type": "DAYS", "Value": "90"},
            "Certificates": {"ClusterCertificate": self.certificate},
            "NetworkType": "IPV4",
            "Mode": "FIPS",
            "TagList": [{"Key": "Name", "Value": self.name}],
        }

    def dump(self):
        """Control-API view (no passwords)."""
        return {
            "cluster_id": self.cluster_id,
            "name": self.name,
            "state": self.state,
            "lineage": self.lineage,
            "vpc_id": self.vpc_id,
            "invalid_configuration": self.invalid_configuration,
            "subnets": [
                {
                    "availability_zone": az,
                    "subnet_id": subnet,
                    "deleted": subnet in self.deleted_subnets,
                    "full": subnet in self.full_subnets,
                }
                for az, subnet in sorted(self.subnets.items())
            ],
            "hsms": [hsm.dump() for hsm in self.hsms.values()],
            "active_hsm_count": len(self.active_hsms()),
            "kmsuser": {"state": self.kmsuser.state},
            "trust_anchor_certificate": self.trust_anchor,
        }


class XksProxy:
    """An external key store proxy at an endpoint, as the world sees it: the credential it accepts
    and its conditions. ``xks.py`` runs a real proxy that behaves this way when KMS probes it."""

    # Conditions with their healthy defaults (meanings: tests/emulator/README.md, seed documents).
    CONDITIONS = {
        "reachable": True,
        "invalid_configuration": False,
        "uri_path": None,
        "delay_seconds": 0,
        "answer": "health",
        "deny_access": False,
        "certificate": "valid",
        "ekm_health": "ACTIVE",
    }

    def __init__(self, uri_endpoint):
        self.uri_endpoint = uri_endpoint
        self.access_key_id = None
        self.secret_access_key = None
        for name, value in self.CONDITIONS.items():
            setattr(self, name, value)

    def dump(self):
        """Control-API view (no secret)."""
        view = {"uri_endpoint": self.uri_endpoint, "access_key_id": self.access_key_id}
        view.update((name, getattr(self, name)) for name in self.CONDITIONS)
        return view


class VpcEndpointService:
    """A VPC endpoint service in front of an XKS proxy, with the settings KMS requires of it."""

    # Settings with the defaults that meet KMS's requirements; ``private_dns_name`` None means the
    # host name of the endpoint of the store using the service ("" means the service has none).
    SETTINGS = {
        "kms_principal_allowed": True,
        "acceptance_required": False,
        "private_dns_name": None,
        "private_dns_verified": True,
        "load_balancer_type": "network",
        "availability_zones": 2,
    }

    def __init__(self, service_name):
        self.service_name = service_name
        for name, value in self.SETTINGS.items():
            setattr(self, name, value)

    def dump(self):
        """Control-API view."""
        view = {"service_name": self.service_name}
        view.update((name, getattr(self, name)) for name in self.SETTINGS)
        return view


class CustomKeyStore:
    """A KMS custom key store of either type, with its connection state machine.

    ``pending`` is (deadline, 'connect' | 'disconnect') while CONNECTING or DISCONNECTING;
    ``injected`` holds one-shot connection error codes queued through the control API.
    """

    def __init__(self, store_id, name, store_type, created, seq):
        self.store_id = store_id
        self.name = name
        self.store_type = store_type
        self.created = created
        self.seq = seq
        self.state = DISCONNECTED
        self.error_code = None
        self.history = []
        self.pending = None
        self.injected = deque()
        self.races = []
        self.kms_key_count = 0
        # AWS_CLOUDHSM
        self.cluster_id = None
        self.cluster_lineage = None
        self.trust_anchor = None
        self.password = None
        # EXTERNAL_KEY_STORE
        self.xks = {}

    def describe(self):
        """The botocore ``CustomKeyStoresListEntry`` shape (never a secret)."""
        entry = {
            "CustomKeyStoreId": self.store_id,
            "CustomKeyStoreName": self.name,
            "ConnectionState": self.state,
            "CreationDate": self.created,
            "CustomKeyStoreType": self.store_type,
        }
        if self.state == FAILED:
            entry["ConnectionErrorCode"] = self.error_code
        if self.store_type == AWS_CLOUDHSM:
            entry["CloudHsmClusterId"] = self.cluster_id
            entry["TrustAnchorCertificate"] = self.trust_anchor
        else:
            entry["XksProxyConfiguration"] = xks_describe(self.xks)
        return entry

    def dump(self, now):
        """Control-API view: state, pending transition, history; no secrets."""
        view = {
            "custom_key_store_id": self.store_id,
            "name": self.name,
            "type": self.store_type,
            "connection_state": self.state,
            "connection_error_code": self.error_code,
            "pending": None,
            "history": [dict(entry) for entry in self.history],
            "kms_key_count": self.kms_key_count,
            "queued_connection_errors": list(self.injected),
        }
        if self.pending:
            view["pending"] = {
                "transition": self.pending[1],
                "due_in_seconds": round(max(0.0, self.pending[0] - now), 3),
            }
        if self.store_type == AWS_CLOUDHSM:
            view["cluster_id"] = self.cluster_id
        else:
            view["xks_proxy_configuration"] = xks_describe(self.xks)
        return view


def xks_describe(xks):
    """The botocore ``XksProxyConfigurationType`` shape of a store's XKS settings (no secret)."""
    config = {
        "Connectivity": xks["connectivity"],
        "AccessKeyId": xks["access_key_id"],
        "UriEndpoint": xks["uri_endpoint"],
        "UriPath": xks["uri_path"],
    }
    if xks.get("vpc_service_name"):
        config["VpcEndpointServiceName"] = xks["vpc_service_name"]
    if xks.get("vpc_service_owner"):
        config["VpcEndpointServiceOwner"] = xks["vpc_service_owner"]
    return config
