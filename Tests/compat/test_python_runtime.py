"""fnhost's managed Python runtime as a function sees it: Lambda's sys.path, no `site`, logging."""

import re

from conftest import decode_log_result, invoke_json


def test_sys_path_is_lambdas_layout_without_site(fixture_lambda):
    _, body = invoke_json(fixture_lambda, "Instructed", {"interpreter": True})
    path = body["path"]
    version = re.search(r"python3\.\d+", " ".join(path)).group(0)
    # The function, then the layers, as on Lambda.
    assert path[:3] == ["/var/task", f"/opt/python/lib/{version}/site-packages", "/opt/python"]
    # Started with -S: the host's .pth files never ran, and no user site-packages is on the path.
    assert body["no_site"] == 1
    assert not any("/.local/" in entry for entry in path)
    # The standard library comes before the interpreter's own packages (Lambda's bundled boto3 slot),
    # which are last.
    stdlib = path.index(f"{body['prefix']}/lib/{version}")
    packages = path.index(f"{body['prefix']}/lib/{version}/site-packages")
    assert 3 <= stdlib < packages == len(path) - 1
    # The runtime speaks HTTP without http.client and leaves decimal to the user.
    assert "http.client" not in body["preloaded"] and "decimal" not in body["preloaded"]


def test_logging_imported_inside_the_handler_gets_lambdas_format(fixture_lambda):
    response, _ = invoke_json(fixture_lambda, "Instructed", {"log": "logged-by-the-handler"}, LogType="Tail")
    request_id = response["ResponseMetadata"]["RequestId"]
    log = decode_log_result(response)
    # [INFO]  2026-01-01T00:00:00.000Z  <request id>  message, as Lambda's Python runtime formats it.
    assert re.search(
        rf"^\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{re.escape(request_id)}\tlogged-by-the-handler$",
        log, re.MULTILINE), log
