"""fnhost managed Python runtime bootstrap.

Started by the host as ``<python3.X> /some/path/bootstrap.py`` with the function
code directory as cwd.  Speaks the Lambda Runtime API (2018-06-01) on
``AWS_LAMBDA_RUNTIME_API`` and runs the handler named by ``_HANDLER``.

Self-contained, standard library only, Python 3.9 - 3.13.  It must not depend on
where this file lives: the host copies it into a build resource folder.
"""

import decimal
import http.client
import importlib
import json
import logging
import math
import os
import socket
import sys
import time
import traceback

API_PREFIX = "/2018-06-01"

# Runtime API headers.
H_REQUEST_ID = "Lambda-Runtime-Aws-Request-Id"
H_DEADLINE_MS = "Lambda-Runtime-Deadline-Ms"
H_FUNCTION_ARN = "Lambda-Runtime-Invoked-Function-Arn"
H_TRACE_ID = "Lambda-Runtime-Trace-Id"
H_CLIENT_CONTEXT = "Lambda-Runtime-Client-Context"
H_COGNITO_IDENTITY = "Lambda-Runtime-Cognito-Identity"
H_TENANT_ID = "Lambda-Runtime-Aws-Tenant-Id"
H_INVOCATION_ID = "Lambda-Runtime-Invocation-Id"
H_ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"

# Error types used by AWS's Python runtime (awslambdaric).
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

_THIS_FILE = os.path.abspath(__file__)
_USER_AGENT = "fnhost-python-runtime/1 (python/%d.%d.%d)" % sys.version_info[:3]

# Request id shown in log lines; updated for every invoke.
_current_request_id = ""


class Fault(Exception):
    """A runtime-detected failure with an AWS error type (not a user exception)."""

    def __init__(self, error_type, message, stack_trace=None):
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []


class RuntimeAPIGone(Exception):
    """The Runtime API refused the connection: the host is gone."""


# --------------------------------------------------------------------------------------
# stdout / logging


class _FlushingStream(object):
    """Wraps a text stream so every write reaches the host at once."""

    def __init__(self, stream):
        self._stream = stream

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def write(self, text):
        n = self._stream.write(text)
        self._stream.flush()
        return n

    def writelines(self, lines):
        self._stream.writelines(lines)
        self._stream.flush()


def _unbuffer_std_streams():
    if os.environ.get("PYTHONUNBUFFERED"):
        return
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not getattr(stream, "write_through", False):
            setattr(sys, name, _FlushingStream(stream))


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _current_request_id
        return True


_LOG_LEVEL_ALIASES = {"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}


def _setup_logging():
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)

    level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "INFO").strip().upper()
    level = _LOG_LEVEL_ALIASES.get(level, level)
    if level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        root.setLevel(level)
    else:
        root.setLevel(logging.INFO)


def _write_stdout(text):
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except Exception:
        pass


def _runtime_log(message):
    """Diagnostics of the runtime itself (not of the user's code)."""
    _write_stdout("[ERROR] fnhost-python-runtime: %s\n" % message)


def _log_error(error):
    """Print an error the way Lambda's Python runtime logs it."""
    line = "[ERROR]"
    if error.get("errorType"):
        line += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            line += ":"
        line += " " + error["errorMessage"]
    lines = [line, "Traceback (most recent call last):"]
    for frame in error.get("stackTrace") or []:
        if frame == "":
            lines.append("")
        else:
            lines.extend(frame.splitlines())
    _write_stdout("\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------
# JSON


class _ResultEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return math.nan
            if o.is_finite() and o == o.to_integral_value():
                return int(o)
            return float(o)
        if isinstance(o, bytes):
            # Nested bytes are encoded as UTF-8 text, like simplejson does for awslambdaric.
            return o.decode("utf-8")
        return json.JSONEncoder.default(self, o)


def _keeps_non_ascii(execution_env):
    """Whether results keep non-ASCII characters unescaped: on python3.12 and later, as awslambdaric does."""
    prefix = "AWS_Lambda_python3."
    if not execution_env or not execution_env.startswith(prefix):
        return False
    minor = execution_env[len(prefix):]
    return minor.isdigit() and int(minor) >= 12


def _make_encoder():
    return _ResultEncoder(ensure_ascii=not _keeps_non_ascii(os.environ.get("AWS_EXECUTION_ENV")))


_encoder = _make_encoder()


def _to_json(obj):
    return _encoder.encode(obj)


def _marshal_result(result):
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return _to_json(result).encode("utf-8"), "application/json"
    except Exception as e:
        raise Fault(MARSHAL_ERROR, "Unable to marshal response: {}".format(e))


def _unmarshal_event(body, content_type):
    media_type = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as e:
        raise Fault(UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(e))


def _make_error(message, error_type, stack_trace, request_id=""):
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id or "",
        "stackTrace": stack_trace or [],
    }


def _format_user_traceback(tb):
    """Frames as traceback.format_list gives them, minus this file's leading frames."""
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    start = 0
    while start < len(frames) and os.path.abspath(frames[start][0]) == _THIS_FILE:
        start += 1
    if start < len(frames):
        frames = frames[start:]
    return traceback.format_list(frames)


def _error_from_exception(exc, request_id=""):
    if isinstance(exc, Fault):
        return _make_error(exc.message, exc.error_type, exc.stack_trace, request_id)
    return _make_error(
        str(exc),
        type(exc).__name__,
        _format_user_traceback(exc.__traceback__),
        request_id,
    )


# --------------------------------------------------------------------------------------
# Context


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __init__(self, data=None):
        data = data if isinstance(data, dict) else {}
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client(object):
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    def __init__(self, data):
        for name in self.__slots__:
            setattr(self, name, data.get(name))

    def __repr__(self):
        return "Client([%s])" % ",".join(
            "%s=%s" % (name, getattr(self, name)) for name in self.__slots__
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __init__(self, data):
        self.custom = data.get("custom")
        self.env = data.get("env")
        client = data.get("client")
        self.client = Client(client) if isinstance(client, dict) else client

    def __repr__(self):
        return "ClientContext([custom=%s,env=%s,client=%s])" % (
            self.custom,
            self.env,
            self.client,
        )


def _memory_size():
    value = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


class LambdaContext(object):
    def __init__(
        self,
        request_id,
        deadline_ms,
        invoked_function_arn,
        client_context=None,
        identity=None,
        tenant_id=None,
    ):
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = _memory_size()
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = (
            ClientContext(client_context) if isinstance(client_context, dict) else None
        )
        self.identity = CognitoIdentity(identity)
        self.tenant_id = tenant_id
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        _write_stdout(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
            "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
            "invoked_function_arn=%s,client_context=%s,identity=%s,tenant_id=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


def _parse_json_header(value, what):
    try:
        return json.loads(value)
    except Exception as e:
        raise Fault(CONTEXT_UNMARSHAL_ERROR, "Unable to parse {} JSON: {}".format(what, e))


# --------------------------------------------------------------------------------------
# Runtime API client


class RuntimeAPIClient(object):
    """One persistent HTTP/1.1 connection to the Runtime API, no timeout."""

    def __init__(self, address):
        self._address = address
        self._conn = http.client.HTTPConnection(address, timeout=None)

    def _drop_if_stale(self):
        # A kept-alive connection the server has closed reads as EOF; reconnect
        # instead of finding out half-way through a request.
        sock = self._conn.sock
        flags = getattr(socket, "MSG_DONTWAIT", None)
        if sock is None or flags is None:
            return
        try:
            sock.recv(1, socket.MSG_PEEK | flags)
        except BlockingIOError:
            return  # open, nothing pending: healthy
        except OSError:
            pass
        self._conn.close()

    def _roundtrip(self, method, path, body=None, headers=None):
        all_headers = {"User-Agent": _USER_AGENT}
        if headers:
            all_headers.update(headers)
        last_error = None
        for _ in range(2):
            self._drop_if_stale()
            try:
                try:
                    self._conn.request(method, API_PREFIX + path, body=body, headers=all_headers)
                except ConnectionRefusedError:
                    raise
                except (OSError, http.client.HTTPException):
                    # The server may have answered early (e.g. 413) and stopped
                    # reading; try to read that answer before giving up.
                    pass
                response = self._conn.getresponse()
                data = response.read()
                return response.status, response, data
            except ConnectionRefusedError:
                self._conn.close()
                raise RuntimeAPIGone("connection to %s refused" % self._address)
            except (OSError, http.client.HTTPException) as e:
                self._conn.close()
                last_error = e
        raise last_error

    def next_invocation(self):
        return self._roundtrip("GET", "/runtime/invocation/next")

    def post_response(self, request_id, body, content_type, invocation_id):
        headers = {"Content-Type": content_type}
        if invocation_id is not None:
            headers[H_INVOCATION_ID] = invocation_id
        return self._roundtrip(
            "POST", "/runtime/invocation/%s/response" % request_id, body, headers
        )

    def post_error(self, request_id, error, error_type, invocation_id):
        headers = {"Content-Type": "application/json", H_ERROR_TYPE: error_type}
        if invocation_id is not None:
            headers[H_INVOCATION_ID] = invocation_id
        return self._roundtrip(
            "POST",
            "/runtime/invocation/%s/error" % request_id,
            _to_json(error).encode("utf-8"),
            headers,
        )

    def post_init_error(self, error):
        headers = {
            "Content-Type": "application/json",
            H_ERROR_TYPE: error.get("errorType") or "Runtime.Unknown",
        }
        return self._roundtrip(
            "POST", "/runtime/init/error", _to_json(error).encode("utf-8"), headers
        )


# --------------------------------------------------------------------------------------
# Init


def _setup_sys_path(task_root):
    # Running as a script put this file's directory first on sys.path; user code
    # must not see the runtime's folder.
    script_dir = os.path.realpath(os.path.dirname(_THIS_FILE))
    if sys.path and sys.path[0] and os.path.realpath(sys.path[0]) == script_dir:
        del sys.path[0]
    layer_site = "/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2]
    wanted = [task_root, layer_site, "/opt/python"]
    sys.path[:] = wanted + [p for p in sys.path if p not in wanted]


def _load_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise Fault(MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, e))

    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise Fault(
                BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise Fault(IMPORT_MODULE_ERROR, "Unable to import module '{}': {}".format(modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise Fault(
            USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(modname, e),
            trace,
        )

    try:
        return getattr(module, fname)
    except AttributeError:
        raise Fault(HANDLER_NOT_FOUND, "Handler '{}' missing on module '{}'".format(fname, modname))


# --------------------------------------------------------------------------------------
# Invoke loop


def _set_trace_id(trace_id):
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)


def _handle_invocation(client, handler, response, body):
    global _current_request_id

    request_id = response.getheader(H_REQUEST_ID) or ""
    invocation_id = response.getheader(H_INVOCATION_ID)
    _current_request_id = request_id
    _set_trace_id(response.getheader(H_TRACE_ID))

    error = None
    error_header = "Unhandled"
    try:
        try:
            deadline_ms = int(response.getheader(H_DEADLINE_MS) or "0")
        except ValueError:
            deadline_ms = 0
        client_context = response.getheader(H_CLIENT_CONTEXT)
        identity = response.getheader(H_COGNITO_IDENTITY)
        context = LambdaContext(
            request_id,
            deadline_ms,
            response.getheader(H_FUNCTION_ARN),
            _parse_json_header(client_context, "Client Context") if client_context else None,
            _parse_json_header(identity, "Cognito Identity") if identity else None,
            response.getheader(H_TENANT_ID),
        )
        event = _unmarshal_event(body, response.getheader("Content-Type"))
        result = handler(event, context)
        payload, content_type = _marshal_result(result)
    except Exception as e:
        error = _error_from_exception(e, request_id)
        if isinstance(e, Fault):
            error_header = e.error_type

    if error is not None:
        _log_error(error)
        status, _, reply = client.post_error(request_id, error, error_header, invocation_id)
        what = "error"
    else:
        status, _, reply = client.post_response(request_id, payload, content_type, invocation_id)
        what = "response"
    if not 200 <= status < 300:
        _runtime_log(
            "Runtime API rejected the %s for request %s: HTTP %d %s"
            % (what, request_id, status, reply.decode("utf-8", "replace").strip())
        )


def _run():
    _unbuffer_std_streams()
    _setup_logging()

    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    _setup_sys_path(task_root)

    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        _runtime_log("AWS_LAMBDA_RUNTIME_API is not set")
        return 1
    client = RuntimeAPIClient(address)

    handler_name = os.environ.get("_HANDLER")
    if handler_name is None and len(sys.argv) > 1:
        handler_name = sys.argv[1]
    try:
        handler = _load_handler(handler_name or "")
    except Exception as e:
        error = _error_from_exception(e)
        _log_error(error)
        try:
            status, _, reply = client.post_init_error(error)
            if not 200 <= status < 300:
                _runtime_log(
                    "Runtime API rejected the init error: HTTP %d %s"
                    % (status, reply.decode("utf-8", "replace").strip())
                )
        except Exception as post_error:
            _runtime_log("could not report the init error: %s" % post_error)
        return 1

    while True:
        try:
            status, response, body = client.next_invocation()
        except RuntimeAPIGone as e:
            _runtime_log("Runtime API is gone (%s); exiting" % e)
            return 1
        except Exception as e:
            _runtime_log("failed to get the next invocation: %r; exiting" % e)
            return 1
        if status != 200:
            _runtime_log(
                "failed to get the next invocation: HTTP %d %s; exiting"
                % (status, body.decode("utf-8", "replace").strip())
            )
            return 1
        try:
            _handle_invocation(client, handler, response, body)
        except RuntimeAPIGone as e:
            _runtime_log("Runtime API is gone (%s); exiting" % e)
            return 1
        except Exception as e:
            # Failing to deliver one answer must not take the runtime down.
            _runtime_log("failed to deliver the invocation result: %r" % e)


if __name__ == "__main__":
    sys.exit(_run())
