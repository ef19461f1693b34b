"""Hot reload on ``fnhost serve`` (issue 12): a saved change is what the next invoke runs.

Each test copies a small SAM project into a temporary directory (so it can edit it), serves it,
and edits files the way an editor saves them. Waits are polls with a bounded deadline.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from conftest import invoke_json, lambda_client, start_host, wait_for

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Reloaded:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Timeout: 10
      Layers: [!Ref Shared]
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
"""

APP = """\
import time

import shared


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {{"version": {version}, "layer": shared.VALUE}}
"""


def project(root: Path, template: str = TEMPLATE) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "layer" / "python").mkdir(parents=True)
    (root / "template.yaml").write_text(template)
    save(root / "src" / "app.py", APP.format(version=1))
    save(root / "layer" / "python" / "shared.py", "VALUE = 'layer 1'\n")
    return root / "template.yaml"


def save(path: Path, text: str):
    """Writes as editors do: a new file renamed over the old one."""
    scratch = path.with_name(path.name + ".tmp-save")
    scratch.write_text(text)
    scratch.replace(path)


def version_within(client, expected, seconds):
    """Invokes until the function answers ``expected`` (a dict subset); returns seconds it took."""
    start = time.monotonic()

    def current():
        _, body = invoke_json(client, "Reloaded", {})
        return all(body.get(key) == value for key, value in expected.items())

    wait_for(current, seconds, interval=0.02, what=f"the function to answer {expected}")
    return time.monotonic() - start


def test_a_saved_change_reaches_the_next_invoke_within_a_second(tmp_path):
    host = start_host(project(tmp_path / "project"), tmp_path / "host")
    try:
        client = lambda_client(host.endpoint)
        assert invoke_json(client, "Reloaded", {})[1] == {"version": 1, "layer": "layer 1"}

        save(tmp_path / "project" / "src" / "app.py", APP.format(version=2))
        version_within(client, {"version": 2}, 1.0)
        wait_for(lambda: "reloaded Reloaded: code changed" in host.stderr(), 2, what="the reload log line")

        save(tmp_path / "project" / "layer" / "python" / "shared.py", "VALUE = 'layer 2'\n")
        version_within(client, {"version": 2, "layer": "layer 2"}, 1.0)
        wait_for(lambda: "reloaded Reloaded: layer changed" in host.stderr(), 2, what="the layer reload log line")
    finally:
        assert host.terminate() == 0


def test_in_flight_invocations_finish_on_the_old_code(tmp_path):
    host = start_host(project(tmp_path / "project"), tmp_path / "host")
    try:
        client = lambda_client(host.endpoint)
        slow = {}
        thread = threading.Thread(target=lambda: slow.update(invoke_json(client, "Reloaded", {"sleep": 1.5})[1]))
        thread.start()
        wait_for(lambda: "START RequestId" in host.log_text("Reloaded"), 10, what="the slow invocation to start")
        save(tmp_path / "project" / "src" / "app.py", APP.format(version=2))
        version_within(client, {"version": 2}, 1.0)
        thread.join(timeout=15)
        assert slow == {"version": 1, "layer": "layer 1"}
    finally:
        assert host.terminate() == 0


def test_no_watch_keeps_the_running_code(tmp_path):
    host = start_host(project(tmp_path / "project"), tmp_path / "host", "--no-watch")
    try:
        client = lambda_client(host.endpoint)
        assert invoke_json(client, "Reloaded", {})[1]["version"] == 1
        save(tmp_path / "project" / "src" / "app.py", APP.format(version=2))
        # The warm worker keeps the module it imported; without watching nothing replaces it.
        for _ in range(5):
            assert invoke_json(client, "Reloaded", {})[1]["version"] == 1
        assert "reloaded" not in host.stderr()
    finally:
        assert host.terminate() == 0


ADDED = """\
  Added:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Layers: [!Ref Shared]
"""


def test_a_template_change_reloads_the_catalog_and_a_broken_one_keeps_it(tmp_path):
    template = project(tmp_path / "project")
    host = start_host(template, tmp_path / "host")
    try:
        client = lambda_client(host.endpoint)
        assert invoke_json(client, "Reloaded", {})[1]["version"] == 1

        save(template, TEMPLATE + ADDED)

        def names():
            try:
                return {function["FunctionName"] for function in client.list_functions()["Functions"]}
            except Exception:  # the port is rebound while the host restarts
                return set()

        wait_for(lambda: names() == {"Reloaded", "Added"}, 10, what="the added function in ListFunctions")
        assert invoke_json(client, "Added", {})[1] == {"version": 1, "layer": "layer 1"}
        assert "reloading: the template changed" in host.stderr()

        save(template, TEMPLATE.replace("Timeout: 10", "Timeout: 0"))
        wait_for(lambda: "the changed template does not load" in host.stderr(), 5, what="the invalid template's error")
        assert "property Timeout" in host.stderr()
        assert names() == {"Reloaded", "Added"}
        assert invoke_json(client, "Added", {})[1]["version"] == 1
    finally:
        assert host.terminate() == 0


def test_a_template_reload_lets_invocations_in_flight_finish(tmp_path):
    template = project(tmp_path / "project")
    host = start_host(template, tmp_path / "host")
    try:
        client = lambda_client(host.endpoint)
        slow = {}
        thread = threading.Thread(target=lambda: slow.update(invoke_json(client, "Reloaded", {"sleep": 1.5})[1]))
        thread.start()
        wait_for(lambda: "START RequestId" in host.log_text("Reloaded"), 10, what="the slow invocation to start")
        save(template, TEMPLATE + ADDED)
        thread.join(timeout=15)
        assert slow == {"version": 1, "layer": "layer 1"}
        wait_for(lambda: "again, with the reloaded template" in host.stdout(), 10, what="the restarted host")
    finally:
        assert host.terminate() == 0


def test_provisioned_workers_are_replaced_with_the_new_code(tmp_path):
    provisioned = TEMPLATE.replace(
        "      Layers: [!Ref Shared]\n",
        "      Layers: [!Ref Shared]\n      AutoPublishAlias: live\n"
        "      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 1}\n")
    host = start_host(project(tmp_path / "project", provisioned), tmp_path / "host")
    try:
        client = lambda_client(host.endpoint)
        status = client.get_provisioned_concurrency_config(FunctionName="Reloaded", Qualifier="live")
        assert status["AllocatedProvisionedConcurrentExecutions"] == 1
        assert invoke_json(client, "Reloaded", {})[1]["version"] == 1
        save(tmp_path / "project" / "src" / "app.py", APP.format(version=2))
        version_within(client, {"version": 2}, 1.0)
        wait_for(lambda: client.get_provisioned_concurrency_config(
            FunctionName="Reloaded", Qualifier="live")["AllocatedProvisionedConcurrentExecutions"] == 1,
            5, what="the provisioned worker to be started again")
    finally:
        assert host.terminate() == 0
