# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The info modules' RETURN documents every key they return when AWS fills every member of its answer.

The answer is made from botocore's model (every member of the output shape, recursively), so a
member that AWS adds to the model, and the module passes on, fails here until RETURN describes it.
"""

import datetime

import pytest
import yaml
from ansible_collections.awskms.custom_key_store.plugins.module_utils.modules import CustomKeyStoreModule
from ansible_collections.awskms.custom_key_store.plugins.modules import cloudhsm_cluster_info
from ansible_collections.awskms.custom_key_store.plugins.modules import kms_custom_key_store_info
from ansible_collections.awskms.custom_key_store.tests.unit.plugins import stubs

# Keys every module result may carry, documented by Ansible rather than by each module.
COMMON_KEYS = {"changed", "invocation", "warnings", "deprecations"}


def full_value(shape):
    """A value of a botocore shape with every member set (the first enum value for enum strings)."""
    if shape.type_name == "structure":
        return {name: full_value(member) for name, member in shape.members.items()}
    if shape.type_name == "list":
        return [full_value(shape.member)]
    if shape.type_name == "map":
        return {"key": full_value(shape.value)}
    if shape.type_name == "timestamp":
        return datetime.datetime(2026, 11, 2, 9, 30, tzinfo=datetime.timezone.utc)
    if shape.type_name == "boolean":
        return True
    if shape.type_name in ("integer", "long"):
        return max(shape.metadata.get("min", 1), 1)
    if shape.enum:
        return shape.enum[0]
    return "x" * max(shape.metadata.get("min", 1), 1)


def undocumented(value, documented, path=""):
    """Key paths in a returned value that its RETURN entries (`documented`) do not describe."""
    if isinstance(value, list):
        return [found for item in value for found in undocumented(item, documented, path + "[]")]
    if not isinstance(value, dict):
        return []
    missing = []
    for key, item in value.items():
        entry = documented.get(key)
        if entry is None:
            missing.append(path + "." + key if path else key)
        elif entry.get("contains"):
            missing += undocumented(item, entry["contains"], (path + "." + key) if path else key)
    return missing


def full_answer(client, operation, list_key):
    """The operation's answer with one entry that has every member of the model set, and no next page."""
    model = client.meta.service_model.operation_model(operation).output_shape
    entry = full_value(model.members[list_key].member)
    return {list_key: [entry]}


@pytest.fixture
def stubbed_client(monkeypatch, request):
    client, stubber = request.getfixturevalue(request.param)
    monkeypatch.setattr(CustomKeyStoreModule, "client", lambda self, service, **kwargs: client)
    return client, stubber


@pytest.mark.parametrize(
    "stubbed_client, module, method, list_key, result_key",
    [
        ("cloudhsm", cloudhsm_cluster_info, "describe_clusters", "Clusters", "clusters"),
        ("kms", kms_custom_key_store_info, "describe_custom_key_stores", "CustomKeyStores", "custom_key_stores"),
    ],
    indirect=["stubbed_client"],
)
def test_every_returned_key_is_documented(stubbed_client, capsys, module, method, list_key, result_key):
    client, stubber = stubbed_client
    stubber.add_response(method, full_answer(client, client.meta.method_to_api_mapping[method], list_key), {})

    result = stubs.run_module(module.main, capsys)

    assert len(result[result_key]) == 1
    returned = {key: value for key, value in result.items() if key not in COMMON_KEYS}
    assert undocumented(returned, yaml.safe_load(module.RETURN)) == []
