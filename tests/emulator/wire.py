# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS JSON 1.1 wire protocol: targets, regions, bodies, validation and error rendering.

Requests are checked against botocore's own service models, so the emulator refuses what
AWS would refuse instead of quietly accepting a call that fails against a real account.
botocore's ``ParamValidator`` skips maximum lengths, enums and patterns, hence the small
recursive validator below.
"""

import base64
import binascii
import functools
import json
import re

import botocore.session

from .errors import CLOUDHSM
from .errors import KMS
from .errors import SerializationError
from .errors import UnknownOperationError
from .errors import ValidationError

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
DEFAULT_REGION = "us-east-1"

# X-Amz-Target prefix -> botocore service name.
TARGET_PREFIXES = {"TrentService": KMS, "BaldrApiService": CLOUDHSM}

# Throttling codes a fault may use. The default is what KMS answers (KMS Developer Guide, "Throttling AWS KMS
# requests": "returns a ThrottlingException error"); CloudHSM documents no throttling code, and
# ThrottlingException is what botocore's retry handler expects of it. The others test a client's own handling.
THROTTLING_CODES = ("ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded")
DEFAULT_THROTTLING_CODE = "ThrottlingException"

REDACTED = "<redacted>"

_REGION_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")
_READ_PREFIXES = ("Describe", "List", "Get")
# Cryptographic operations that change no AWS resource (the request log does not count them as mutating).
_READ_ONLY_OPERATIONS = ("GenerateRandom",)


@functools.lru_cache(maxsize=None)
def _session():
    return botocore.session.get_session()


@functools.lru_cache(maxsize=None)
def service_model(service):
    """botocore's service model for ``kms`` or ``cloudhsmv2`` (loaded once)."""
    return _session().get_service_model(service)


@functools.lru_cache(maxsize=None)
def enum_values(service, shape_name):
    """The allowed values of an enum shape, as the installed botocore models them."""
    return tuple(service_model(service).shape_for(shape_name).enum)


def operation_names(service):
    """Every operation botocore models for a service."""
    return tuple(service_model(service).operation_names)


def is_mutating(operation):
    """Whether an operation may change AWS state: anything but Describe*, List*, Get* and GenerateRandom."""
    return not operation.startswith(_READ_PREFIXES) and operation not in _READ_ONLY_OPERATIONS


def parse_target(header):
    """Split ``X-Amz-Target`` into (service, botocore OperationModel) or raise UnknownOperationError."""
    expected = "expected TrentService.<Operation> or BaldrApiService.<Operation>"
    if not header:
        raise UnknownOperationError("The request has no X-Amz-Target header; %s." % expected)
    prefix, _dot, operation = header.partition(".")
    service = TARGET_PREFIXES.get(prefix)
    if service is None or not operation:
        raise UnknownOperationError("Unknown X-Amz-Target %r; %s." % (header, expected))
    model = service_model(service)
    if operation not in model.operation_names:
        raise UnknownOperationError("%s is not an operation of %s." % (operation, prefix))
    return service, model.operation_model(operation)


def region_from_authorization(header):
    """The region of a SigV4 credential scope, or the default region when unsigned."""
    match = _REGION_RE.search(header or "")
    return match.group(1) if match else DEFAULT_REGION


def parse_body(raw):
    """Decode a JSON 1.1 request body (empty means ``{}``) or raise SerializationException."""
    if not raw or not raw.strip():
        return {}
    try:
        params = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SerializationError("The request body is not valid JSON: %s." % exc)
    if not isinstance(params, dict):
        raise SerializationError("The request body must be a JSON object.")
    return params


def render_result(result):
    """Encode a successful response body."""
    return json.dumps(result, separators=(",", ":")).encode("utf-8")


def render_error(error):
    """Encode an ``errors.AwsError`` as (HTTP status, body) in the JSON 1.1 error format."""
    body = {"__type": error.code, "message": error.message}
    return error.status, json.dumps(body, separators=(",", ":")).encode("utf-8")


@functools.lru_cache(maxsize=None)
def sensitive_member_names():
    """Names of every input member either service model marks sensitive (passwords, XKS keys)."""
    names = {"KeyStorePassword", "RawSecretAccessKey"}
    for service in (KMS, CLOUDHSM):
        model = service_model(service)
        for operation in model.operation_names:
            shape = model.operation_model(operation).input_shape
            if shape is not None:
                _collect_sensitive(shape, names, set())
    return frozenset(names)


def _collect_sensitive(shape, names, seen):
    if shape.name in seen:
        return
    seen.add(shape.name)
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if member.metadata.get("sensitive"):
                names.add(name)
            _collect_sensitive(member, names, seen)
    elif shape.type_name == "list":
        _collect_sensitive(shape.member, names, seen)
    elif shape.type_name == "map":
        _collect_sensitive(shape.value, names, seen)


def redact(value):
    """A copy of request parameters with every sensitive member replaced by '<redacted>'.

    Works on any JSON value (also on requests that failed validation), by member name.
    """
    secret_names = sensitive_member_names()
    if isinstance(value, dict):
        return dict((key, REDACTED if key in secret_names else redact(item)) for key, item in value.items())
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


# ---------------------------------------------------------------------------
# Validation against the operation's input shape
# ---------------------------------------------------------------------------


def validate_input(operation_model, params):
    """Raise ValidationException listing every way ``params`` breaks the operation's input shape."""
    problems = []
    shape = operation_model.input_shape
    if shape is None:
        if params:
            problems.append("%s takes no parameters" % operation_model.name)
    else:
        _check(shape, params, "", problems, False)
    if problems:
        count = len(problems)
        raise ValidationError(
            "%d validation error%s detected: %s" % (count, "" if count == 1 else "s", "; ".join(problems))
        )


def _check(shape, value, path, problems, sensitive):
    sensitive = sensitive or bool(shape.metadata.get("sensitive"))
    checker = _CHECKERS.get(shape.type_name)
    if checker is not None:
        checker(shape, value, path, problems, sensitive)


def _join(path, name):
    return "%s.%s" % (path, name) if path else name


def _constraint(path, text, value=None, sensitive=True):
    shown = "" if sensitive or value is None else " %s" % _show(value)
    return "Value%s at '%s' failed to satisfy constraint: %s" % (shown, path or "<root>", text)


def _show(value):
    text = json.dumps(value)
    return text if len(text) <= 70 else text[:67] + "..."


def _check_structure(shape, value, path, problems, sensitive):
    if not isinstance(value, dict):
        problems.append(_constraint(path, "Member must be a structure (JSON object)", value, sensitive))
        return
    for name in shape.required_members:
        if value.get(name) is None:
            problems.append(
                "Value null at '%s' failed to satisfy constraint: Member must not be null" % _join(path, name)
            )
    for name, member_value in value.items():
        member = shape.members.get(name)
        if member is None:
            problems.append(
                "'%s' at '%s' is not a member of %s (members: %s)"
                % (name, path or "<root>", shape.name, ", ".join(shape.members) or "none")
            )
        elif member_value is not None:
            _check(member, member_value, _join(path, name), problems, sensitive)


def _check_length(shape, length, path, problems, value, sensitive):
    minimum = shape.metadata.get("min")
    maximum = shape.metadata.get("max")
    if minimum is not None and length < minimum:
        problems.append(
            _constraint(path, "Member must have length greater than or equal to %d" % minimum, value, sensitive)
        )
    if maximum is not None and length > maximum:
        problems.append(
            _constraint(path, "Member must have length less than or equal to %d" % maximum, value, sensitive)
        )


def _check_range(shape, number, path, problems, sensitive):
    minimum = shape.metadata.get("min")
    maximum = shape.metadata.get("max")
    if minimum is not None and number < minimum:
        problems.append(
            _constraint(path, "Member must have value greater than or equal to %s" % minimum, number, sensitive)
        )
    if maximum is not None and number > maximum:
        problems.append(
            _constraint(path, "Member must have value less than or equal to %s" % maximum, number, sensitive)
        )


@functools.lru_cache(maxsize=None)
def _compiled(pattern):
    """Compile a model pattern; None when it uses syntax Python lacks (such as \\p{L})."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _check_string(shape, value, path, problems, sensitive):
    if not isinstance(value, str):
        problems.append(_constraint(path, "Member must be a string", value, sensitive))
        return
    if shape.enum and value not in shape.enum:
        problems.append(
            _constraint(path, "Member must satisfy enum value set: [%s]" % ", ".join(shape.enum), value, sensitive)
        )
        return
    _check_length(shape, len(value), path, problems, value, sensitive)
    pattern = shape.metadata.get("pattern")
    regex = _compiled(pattern) if pattern else None
    # Model patterns are not implicitly anchored (they carry their own ^ and $ where meant).
    if regex is not None and not regex.search(value):
        problems.append(
            _constraint(path, "Member must satisfy regular expression pattern: %s" % pattern, value, sensitive)
        )


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_integer(shape, value, path, problems, sensitive):
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(_constraint(path, "Member must be an integer", value, sensitive))
        return
    _check_range(shape, value, path, problems, sensitive)


def _check_float(shape, value, path, problems, sensitive):
    if not _is_number(value):
        problems.append(_constraint(path, "Member must be a number", value, sensitive))
        return
    _check_range(shape, value, path, problems, sensitive)


def _check_boolean(shape, value, path, problems, sensitive):
    if not isinstance(value, bool):
        problems.append(_constraint(path, "Member must be a boolean", value, sensitive))


def _check_timestamp(shape, value, path, problems, sensitive):
    # JSON 1.1 sends timestamps as epoch seconds.
    if not _is_number(value):
        problems.append(_constraint(path, "Member must be a timestamp in epoch seconds", value, sensitive))


def _check_blob(shape, value, path, problems, sensitive):
    if not isinstance(value, str):
        problems.append(_constraint(path, "Member must be a base64-encoded string", value, sensitive))
        return
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        problems.append(_constraint(path, "Member must be valid base64", None, True))
        return
    _check_length(shape, len(decoded), path, problems, None, True)


def _check_list(shape, value, path, problems, sensitive):
    if not isinstance(value, list):
        problems.append(_constraint(path, "Member must be a list", value, sensitive))
        return
    _check_length(shape, len(value), path, problems, None, True)
    for index, item in enumerate(value):
        if item is None:
            problems.append(
                "Value null at '%s[%d]' failed to satisfy constraint: Member must not be null" % (path, index)
            )
        else:
            _check(shape.member, item, "%s[%d]" % (path, index), problems, sensitive)


def _check_map(shape, value, path, problems, sensitive):
    if not isinstance(value, dict):
        problems.append(_constraint(path, "Member must be a map (JSON object)", value, sensitive))
        return
    _check_length(shape, len(value), path, problems, None, True)
    for key, item in value.items():
        _check(shape.key, key, "%s (key %s)" % (path, _show(key)), problems, sensitive)
        if item is None:
            problems.append(
                "Value null at '%s' failed to satisfy constraint: Member must not be null" % _join(path, key)
            )
        else:
            _check(shape.value, item, _join(path, key), problems, sensitive)


_CHECKERS = {
    "structure": _check_structure,
    "list": _check_list,
    "map": _check_map,
    "string": _check_string,
    "integer": _check_integer,
    "long": _check_integer,
    "float": _check_float,
    "double": _check_float,
    "boolean": _check_boolean,
    "timestamp": _check_timestamp,
    "blob": _check_blob,
}
