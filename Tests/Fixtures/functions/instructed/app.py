"""Test fixture: a handler that does what its event tells it to (its init sleeps
INIT_SLEEP_SECONDS first, when set).

Instructions are applied in this order (any combination):
  {"print": ["line", ...]}  print each line
  {"allocate_mb": N}        touch N MB more of memory and keep it for the life of the process
  {"sleep": seconds}        time.sleep(seconds)
  {"exit": code}            os._exit(code)
  {"kill": "SIGKILL"}       kill this process with that signal (name or number)
  {"error": "message"}      raise ValueError(message)
  {"log": "message"}        import logging (first here, inside the handler) and log message at INFO
then the result is the first of:
  {"bytes": N}              a string of N 'x' characters
  {"env": true}             dict(os.environ) plus "cwd": os.getcwd()
  {"context": true}         every context field plus "remaining_ms"
  {"pid": true}             {"pid": os.getpid()}
  {"interpreter": true}     sys.path, sys.prefix, sys.flags.no_site and whether logging/decimal were loaded before
  otherwise                 {"echo": event}
"""

import os
import signal
import sys
import time

_KEPT = []

# A slow init phase, when the function's environment asks for one.
time.sleep(float(os.environ.get("INIT_SLEEP_SECONDS", "0")))


def _client_context(cc):
    if cc is None:
        return None
    client = cc.client
    if client is not None and not isinstance(client, dict):
        client = {
            name: getattr(client, name, None)
            for name in (
                "installation_id",
                "app_title",
                "app_version_name",
                "app_version_code",
                "app_package_name",
            )
        }
    return {"custom": cc.custom, "env": cc.env, "client": client}


def _identity(identity):
    if identity is None:
        return None
    return {
        "cognito_identity_id": identity.cognito_identity_id,
        "cognito_identity_pool_id": identity.cognito_identity_pool_id,
    }


def _context(context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": _identity(context.identity),
        "client_context": _client_context(context.client_context),
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


def handler(event, context):
    instructions = event if isinstance(event, dict) else {}
    preloaded = sorted(name for name in ("logging", "decimal", "http.client", "re") if name in sys.modules)

    for line in instructions.get("print") or []:
        print(line, flush=True)

    if "allocate_mb" in instructions:
        # Filled, not zero pages: every page is resident. Allocated in 8 MB steps so the peak is the total.
        for _ in range(int(instructions["allocate_mb"]) // 8):
            _KEPT.append(b"x" * (8 << 20))

    if "sleep" in instructions:
        time.sleep(float(instructions["sleep"]))

    if "exit" in instructions:
        os._exit(int(instructions["exit"]))

    if "kill" in instructions:
        sig = instructions["kill"]
        signum = int(sig) if isinstance(sig, int) else getattr(signal, str(sig))
        os.kill(os.getpid(), signum)

    if "error" in instructions:
        raise ValueError(instructions["error"])

    if "log" in instructions:
        import logging

        logging.getLogger("instructed").info(instructions["log"])

    if "bytes" in instructions:
        return "x" * int(instructions["bytes"])
    if instructions.get("env"):
        env = dict(os.environ)
        env["cwd"] = os.getcwd()
        return env
    if instructions.get("context"):
        return _context(context)
    if instructions.get("interpreter"):
        return {"path": sys.path, "prefix": sys.prefix, "no_site": sys.flags.no_site, "preloaded": preloaded}
    if instructions.get("pid"):
        return {"pid": os.getpid(), "initialization_type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")}
    return {"echo": event}
