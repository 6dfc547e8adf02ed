# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator as a program (``python -m emulator``) and the AWS CLI as a real client of it."""

import importlib.util
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest
from ansible_collections.awskms.custom_key_store.tests import emulator
from ansible_collections.awskms.custom_key_store.tests.emulator import client
from ansible_collections.awskms.custom_key_store.tests.emulator import server

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(emulator.__file__)))


def spawn(*args):
    env = dict(os.environ, PYTHONPATH=TESTS_DIR, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.Popen(
        [sys.executable, "-m", "emulator"] + list(args),
        env=env,
        cwd=TESTS_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def first_line(process, timeout=10.0):
    ready, _unused, _unused2 = select.select([process.stdout], [], [], timeout)
    assert ready, "the emulator printed nothing within %s s" % timeout
    return process.stdout.readline().decode("utf-8")


def stop(process, signum):
    process.send_signal(signum)
    try:
        _stdout, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return process.returncode, stderr.decode("utf-8")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_cli_starts_fast_prints_one_line_and_exits_cleanly(tmp_path, signum):
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            [
                {"region": "us-east-1", "clusters": [{"name": "demo"}]},
                {"region": "eu-west-1", "clusters": [{"name": "other"}]},
            ]
        )
    )
    started = time.monotonic()
    process = spawn(
        "--port",
        "0",
        "--seed",
        str(seed),
        "--connect-seconds",
        "0.25",
        "--hsm-delete-seconds",
        "0",
        "--hsms-quota",
        "12",
        "--custom-key-store-request-rate-quota",
        "5",
    )
    try:
        line = first_line(process)
        assert time.monotonic() - started < 5  # interpreter + botocore start; the emulator itself adds little
        assert line.startswith("emulator listening on http://127.0.0.1:") and line.endswith("\n")
        control = client.EmulatorClient(line.split()[-1])
        assert control.health() == {"ok": True}
        assert [c["name"] for c in control.world("eu-west-1")["clusters"]] == ["other"]
        assert control.settings() == {
            "connect_seconds": 0.25,
            "disconnect_seconds": 1.0,
            "hsm_create_seconds": 3.0,
            "hsm_delete_seconds": 0.0,
            "custom_key_stores_quota": 10,
            "hsms_per_cluster_quota": 28,
            "hsms_quota": 12,
            "custom_key_store_request_rate_quota": 5,
            "xks_probe_timeout_seconds": 2.0,
        }
    finally:
        returncode, stderr = stop(process, signum)
    assert returncode == 0
    assert stderr == ""


def test_cli_refuses_a_bad_seed_with_one_line(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"clusters": [{"name": "demo", "colour": "red"}]}))
    process = spawn("--port", "0", "--seed", str(seed))
    _stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "colour" in stderr.decode("utf-8") and "Traceback" not in stderr.decode("utf-8")


def test_cli_reports_a_busy_port():
    with server.start() as handle:
        process = spawn("--port", str(handle.port))
        _stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 1
    assert "Traceback" not in stderr.decode("utf-8")


# ---------------------------------------------------------------------------
# The AWS CLI against the emulator
# ---------------------------------------------------------------------------


def aws_cli_command():
    if importlib.util.find_spec("awscli") is not None:
        return [sys.executable, "-m", "awscli"]
    if shutil.which("aws"):
        return [shutil.which("aws")]
    return None


@pytest.fixture(scope="module")
def cli():
    command = aws_cli_command()
    if command is None:
        pytest.skip("the AWS CLI is not installed")
    with server.start(connect_seconds=0.1) as handle:
        control = client.EmulatorClient(handle.url)
        control.seed(
            {
                "clusters": [{"name": "demo", "hsms": [{"availability_zone": "us-east-1a"}]}],
                "custom_key_stores": [{"name": "cli-store", "cluster": "demo"}],
            }
        )
        env = dict(
            os.environ,
            AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
            AWS_SECRET_ACCESS_KEY="not-a-secret",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_PAGER="",
        )

        def run(*args):
            return subprocess.run(
                command + ["--endpoint-url", handle.url, "--output", "json"] + list(args),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                timeout=60,
                check=False,
            )

        yield run


def test_aws_cli_describes_custom_key_stores(cli):
    result = cli("kms", "describe-custom-key-stores")
    assert result.returncode == 0, result.stderr
    stores = json.loads(result.stdout.decode("utf-8"))["CustomKeyStores"]
    assert [store["CustomKeyStoreName"] for store in stores] == ["cli-store"]


def test_aws_cli_sees_the_modelled_error(cli):
    result = cli("kms", "connect-custom-key-store", "--custom-key-store-id", "cks-00000000000000000")
    assert result.returncode != 0
    assert "CustomKeyStoreNotFoundException" in result.stderr.decode("utf-8")


def test_aws_cli_describes_clusters(cli):
    result = cli("cloudhsmv2", "describe-clusters")
    assert result.returncode == 0, result.stderr
    clusters = json.loads(result.stdout.decode("utf-8"))["Clusters"]
    assert len(clusters) == 1 and len(clusters[0]["Hsms"]) == 1


def test_start_process_runs_the_emulator_on_a_free_port_with_the_options_given():
    process, url = client.start_process("--connect-seconds", "0.25")
    try:
        control = client.EmulatorClient(url)
        assert control.health() == {"ok": True}
        assert control.settings()["connect_seconds"] == 0.25
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_start_process_exits_with_the_emulator_s_own_line_when_it_cannot_start(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"clusters": "nope"}')
    with pytest.raises(SystemExit) as exit_info:
        client.start_process("--seed", str(bad))
    assert str(exit_info.value).startswith("the emulator did not start (it said ''")
