"""fnhost managed Python runtime.

Imported by ``bootstrap.py``, which the host starts as ``<python3.X> -S -s
/some/path/bootstrap.py`` with the function code directory as cwd.  Speaks the
Lambda Runtime API (2018-06-01) on ``AWS_LAMBDA_RUNTIME_API`` and runs the
handler named by ``_HANDLER``.

Self-contained, standard library only, Python 3.9 - 3.13.  It must not depend on
where this file lives: the host copies it into a build resource folder.

A cold start pays for every module imported here, so this file imports only what
the first invoke needs, and it is a module so that it loads from the bytecode the
host compiles once (``RuntimeInterpreters``) instead of being compiled at every
start as a script is. The interpreter starts without ``site`` (no scan of the
host's site-packages ``.pth`` files), ``sys.path`` is built as Lambda lays it out
(``_setup_sys_path``), the Runtime API is spoken over ``_socket`` (``http.client``
would pull in ``email`` and ``ssl``), JSON goes through ``_json`` (see ``_to_json``),
``logging`` is configured when user code first imports it, and ``decimal`` and
``traceback`` are only used once the user code has loaded them or failed.
"""

import _json
import _socket
import os
import sys
import time

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


_LOG_LEVEL_ALIASES = {"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}


def _setup_logging(logging):
    """Lambda's root handler: level from AWS_LAMBDA_LOG_LEVEL, the request id on every line."""

    class _RequestIdFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _current_request_id
            return True

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


class _LoggingSetupLoader(object):
    """Runs the ``logging`` package's own loader, then ``_setup_logging``."""

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _setup_logging(module)


class _LoggingSetupFinder(object):
    """Configures logging the moment anything first imports it (a post-import hook):
    handlers that never log do not pay for importing it at start-up."""

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            spec = find_spec(name, path, target) if find_spec else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _LoggingSetupLoader(spec.loader)
                return spec
        return None


def _setup_logging_on_import():
    if "logging" in sys.modules:
        _setup_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _LoggingSetupFinder())


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


# The json module's own C accelerators (``_json``), driven directly: ``import json``
# costs a cold start ~11 ms because it compiles regular expressions (``re``, ``enum``,
# ``collections``) that only its pure-Python fallbacks and error paths use. Output is
# byte for byte what ``json`` produces, since ``json`` runs these same functions; any
# input the fast path does not accept goes to ``json.loads`` for the exact result or error.


def _default(o):
    # Only a loaded decimal module can have made a Decimal.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(o, decimal.Decimal):
        if o.is_nan():
            return float("nan")
        if o.is_finite() and o == o.to_integral_value():
            return int(o)
        return float(o)
    if isinstance(o, bytes):
        # Nested bytes are encoded as UTF-8 text, like simplejson does for awslambdaric.
        return o.decode("utf-8")
    raise TypeError("Object of type %s is not JSON serializable" % o.__class__.__name__)


def _keeps_non_ascii(execution_env):
    """Whether results keep non-ASCII characters unescaped: on python3.12 and later, as awslambdaric does."""
    prefix = "AWS_Lambda_python3."
    if not execution_env or not execution_env.startswith(prefix):
        return False
    minor = execution_env[len(prefix):]
    return minor.isdigit() and int(minor) >= 12


_ENCODE_STRING = (
    _json.encode_basestring
    if _keeps_non_ascii(os.environ.get("AWS_EXECUTION_ENV"))
    else _json.encode_basestring_ascii
)


def _to_json(obj):
    """``json.dumps(obj, default=_default)``, with ensure_ascii as awslambdaric sets it."""
    encode = _json.make_encoder({}, _default, _ENCODE_STRING, None, ": ", ", ", False, False, True)
    return "".join(encode(obj, 0))


class _DecoderSettings(object):
    """What ``_json.make_scanner`` reads from a ``json.JSONDecoder``: its defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__


_scan_once = _json.make_scanner(_DecoderSettings())
_JSON_SPACE = " \t\n\r"


def _from_json(data):
    """``json.loads(data)`` for ``str`` or ``bytes``."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        start = len(text) - len(text.lstrip(_JSON_SPACE))
        value, end = _scan_once(text, start)
        if not text[end:].strip(_JSON_SPACE) and not text.startswith("\ufeff"):
            return value
    except Exception:
        pass
    # Not plain UTF-8 JSON (another encoding, a BOM) or not JSON at all: json's own answer.
    import json

    return json.loads(data)


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
        return _from_json(body)
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
    import traceback

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
        return _from_json(value)
    except Exception as e:
        raise Fault(CONTEXT_UNMARSHAL_ERROR, "Unable to parse {} JSON: {}".format(what, e))


# --------------------------------------------------------------------------------------
# Runtime API client


class _ProtocolError(Exception):
    """The Runtime API's answer could not be read as HTTP/1.1."""


class _Response(object):
    """An answer of the Runtime API: status and headers (names compared case-insensitively)."""

    __slots__ = ["status", "_headers"]

    def __init__(self, status, headers):
        self.status = status
        self._headers = headers

    def getheader(self, name, default=None):
        return self._headers.get(name.lower(), default)


class RuntimeAPIClient(object):
    """One persistent HTTP/1.1 connection to the Runtime API, no timeout."""

    def __init__(self, address):
        self._address = address
        host, _, port = address.rpartition(":")
        self._host_port = (host.strip("[]") or "127.0.0.1", int(port))
        self._sock = None
        self._buffer = b""

    def _close(self):
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._buffer = b""

    def _connect(self):
        host, port = self._host_port
        # A bytes host: a str one would load the idna codec (and with it ``re``).
        family, kind, proto, _, address = _socket.getaddrinfo(host.encode("ascii"), port, 0, _socket.SOCK_STREAM)[0]
        sock = _socket.socket(family, kind, proto)
        try:
            sock.connect(address)
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        except BaseException:
            sock.close()
            raise
        self._sock = sock

    def _drop_if_stale(self):
        # A kept-alive connection the server has closed reads as EOF; reconnect
        # instead of finding out half-way through a request.
        if self._sock is None:
            return
        try:
            self._sock.recv(1, _socket.MSG_PEEK | _socket.MSG_DONTWAIT)
        except BlockingIOError:
            return  # open, nothing pending: healthy
        except OSError:
            pass
        self._close()

    def _read_more(self):
        chunk = self._sock.recv(65536)
        if not chunk:
            raise _ProtocolError("connection closed by the Runtime API")
        self._buffer += chunk

    def _read_until(self, marker):
        while True:
            at = self._buffer.find(marker)
            if at >= 0:
                line, self._buffer = self._buffer[:at], self._buffer[at + len(marker):]
                return line
            if len(self._buffer) > 65536:
                raise _ProtocolError("header section too long")
            self._read_more()

    def _read_exactly(self, count):
        while len(self._buffer) < count:
            self._read_more()
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _read_response(self):
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise _ProtocolError("bad status line %r" % head[0])
        headers = {}
        for line in head[1:]:
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            pieces = []
            while True:
                size = int(self._read_until(b"\r\n").split(b";", 1)[0], 16)
                if size == 0:
                    while self._read_until(b"\r\n"):
                        pass  # trailers
                    break
                pieces.append(self._read_exactly(size))
                self._read_until(b"\r\n")
            body = b"".join(pieces)
        elif "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit():
                raise _ProtocolError("bad Content-Length %r" % length)
            body = self._read_exactly(int(length))
        else:
            while True:
                try:
                    self._read_more()
                except _ProtocolError:
                    break
            body, self._buffer = self._buffer, b""
            self._close()
        if headers.get("connection", "").lower() == "close":
            self._close()
        return int(parts[1]), _Response(int(parts[1]), headers), body

    def _send(self, method, path, body, headers):
        lines = ["%s %s%s HTTP/1.1" % (method, API_PREFIX, path), "Host: %s" % self._address,
                 "User-Agent: %s" % _USER_AGENT]
        for name, value in headers.items():
            lines.append("%s: %s" % (name, value))
        if body is not None:
            lines.append("Content-Length: %d" % len(body))
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if body:
            # One send for a small answer (no extra packet); a large body is not copied.
            if len(body) <= 65536:
                self._sock.sendall(request + body)
            else:
                self._sock.sendall(request)
                self._sock.sendall(body)
        else:
            self._sock.sendall(request)

    def _roundtrip(self, method, path, body=None, headers=None):
        last_error = None
        for _ in range(2):
            self._drop_if_stale()
            try:
                if self._sock is None:
                    self._connect()
                try:
                    self._send(method, path, body, headers or {})
                except ConnectionRefusedError:
                    raise
                except OSError:
                    # The server may have answered early (e.g. 413) and stopped
                    # reading; try to read that answer before giving up.
                    pass
                return self._read_response()
            except ConnectionRefusedError:
                self._close()
                raise RuntimeAPIGone("connection to %s refused" % self._address)
            except (OSError, ValueError, _ProtocolError) as e:
                self._close()
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
    """Lambda's layout: the function, the layers, the standard library, then the
    runtime's own packages (where Lambda's Python finds its bundled boto3).

    The interpreter runs with ``-S``: the runtime's packages are the interpreter's
    site-packages directories, put on the path as they are, without running their
    ``.pth`` files (Lambda's layer directories are not site directories either) and
    without the user's own site-packages.
    """
    # Running as a script put this file's directory first on sys.path; user code
    # must not see the runtime's folder.
    script_dir = os.path.realpath(os.path.dirname(_THIS_FILE))
    if sys.path and sys.path[0] and os.path.realpath(sys.path[0]) == script_dir:
        del sys.path[0]
    layer_site = "/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2]
    wanted = [task_root, layer_site, "/opt/python"]
    sys.path[:] = wanted + [p for p in sys.path if p not in wanted]
    if sys.flags.no_site:
        import site  # with -S, importing it runs nothing: it only knows the directories

        sys.path += [p for p in site.getsitepackages() if p not in sys.path and os.path.isdir(p)]
        _install_exit_builtins()


def _install_exit_builtins():
    """``exit()`` and ``quit()``, which ``site`` would have installed."""
    import builtins
    import _sitebuiltins

    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")


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
        name = modname.replace("/", ".")
        __import__(name)
        module = sys.modules[name]
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


def main():
    """Runs the runtime until the Runtime API goes away; the process's exit status."""
    _unbuffer_std_streams()
    _setup_logging_on_import()

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
