"""Test fixture: reports what the function can see and do from inside its sandbox.

The event is a mapping of probes; the result maps each probe to its outcome:
  {"exists": [path, ...]}         {path: true|false}
  {"read": path}                  the file's text, or "ERRNO_NAME"
  {"write": [path, text]}         "ok" or "ERRNO_NAME"
  {"import": module}              the module's VALUE attribute, or "ImportError"
  {"which": name}                 shutil.which(name)
  {"syscalls": true}              {"mount": "EPERM"|..., "ptrace": ...}: errno of mount(2), ptrace(2)
  {"uid": true}                   [uid, gid]
  {"fill_tmp": true}              writes 1 MB blocks to /tmp until an error: its errno name, and MB written
  {"grandchild": true}            starts a detached (setsid) `sleep 600`; its pid
  {"env": [name, ...]}            {name: os.environ.get(name)}
  {"exit": code}                  os._exit(code) before answering
"""

import ctypes
import errno
import importlib
import os
import shutil
import subprocess


def _errno_name(error):
    return errno.errorcode.get(error.errno, str(error.errno))


def _syscall_errno(call):
    ctypes.set_errno(0)
    result = call()
    return "ok" if result == 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))


def handler(event, context):
    result = {}
    if "exists" in event:
        result["exists"] = {path: os.path.exists(path) for path in event["exists"]}
    if "read" in event:
        try:
            with open(event["read"]) as handle:
                result["read"] = handle.read()
        except OSError as error:
            result["read"] = _errno_name(error)
    if "write" in event:
        path, text = event["write"]
        try:
            with open(path, "w") as handle:
                handle.write(text)
            result["write"] = "ok"
        except OSError as error:
            result["write"] = _errno_name(error)
    if "import" in event:
        try:
            result["import"] = importlib.import_module(event["import"]).VALUE
        except ImportError:
            result["import"] = "ImportError"
    if "which" in event:
        result["which"] = shutil.which(event["which"])
    if event.get("syscalls"):
        libc = ctypes.CDLL(None, use_errno=True)
        result["syscalls"] = {
            "mount": _syscall_errno(lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
            "ptrace": _syscall_errno(lambda: libc.ptrace(16, os.getppid(), 0, 0)),  # PTRACE_ATTACH
            "unshare": _syscall_errno(lambda: libc.unshare(0x00020000)),  # CLONE_NEWNS
        }
    if event.get("uid"):
        result["uid"] = [os.getuid(), os.getgid()]
    if event.get("fill_tmp"):
        block = b"x" * (1024 * 1024)
        written = 0
        try:
            with open("/tmp/fill", "wb") as handle:
                while written < 20 * 1024:
                    handle.write(block)
                    handle.flush()
                    written += 1
            result["fill_tmp"] = ["no error", written]
        except OSError as error:
            result["fill_tmp"] = [_errno_name(error), written]
        finally:
            os.remove("/tmp/fill")
    if event.get("grandchild"):
        child = subprocess.Popen(["sleep", "600"], start_new_session=True)
        result["grandchild"] = child.pid
    if "env" in event:
        result["env"] = {name: os.environ.get(name) for name in event["env"]}
    if "exit" in event:
        os._exit(int(event["exit"]))
    return result
