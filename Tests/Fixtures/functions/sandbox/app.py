"""Test fixture: reports what the function can see and do from inside its sandbox.

The event is a mapping of probes; the result maps each probe to its outcome:
  {"exists": [path, ...]}         {path: true|false}
  {"read": path}                  the file's text, or "ERRNO_NAME"
  {"write": [path, text]}         "ok" or "ERRNO_NAME"
  {"import": module}              the module's VALUE attribute, or "ImportError"
  {"which": name}                 shutil.which(name)
  {"syscalls": true}              {"mount": "EPERM"|..., "ptrace": ...}: errno of mount(2), ptrace(2)
  {"escapes": true}               {name: "ok"|"ERRNO"} for each syscall, socket family and flag the seccomp policy refuses
  {"uid": true}                   [uid, gid]
  {"fill_tmp": true}              writes 1 MB blocks to /tmp until an error: its errno name, and MB written;
                                  "tmp_mount": the filesystem type /tmp is mounted with
  {"grandchild": true}            starts a detached (setsid) `sleep 600`; its pid
  {"orphan": true}                a detached `sleep 600` whose parent shell has exited: [its pid, its parent's pid]
                                  (the launcher, a subreaper, adopts it)
  {"self": true}                  [getpid(), getppid()]
  {"sleep": seconds}              sleeps that long before answering
  {"env": [name, ...]}            {name: os.environ.get(name)}
  {"terminal": true}              {"sid": getsid(0), "dev_tty": "ok"|"ERRNO", "tiocsti": {fd: "ok"|"ERRNO"}, "tioclinux": ...}
  {"runtime_apis": true|[port]}   every other loopback listener in /proc/net/tcp (or these ports), sent `GET /next`:
                                  {port: the first line of its answer, or "closed" when it hung up unanswered}
  {"exit": code}                  os._exit(code) before answering
"""

import concurrent.futures
import ctypes
import errno
import fcntl
import importlib
import os
import shutil
import socket
import subprocess
import time

# (x86_64 number, aarch64 number, arguments) of syscalls the sandbox must refuse; the arguments are
# harmless or invalid, so where a call is not filtered it fails with EINVAL/EFAULT/EBADF or succeeds.
ESCAPES = {
    "io_uring_setup": (425, 425, (1, 0)),
    "personality_no_randomize": (135, 92, (0x0040000,)),
    "kcmp": (312, 272, (1, 1, 0, 0, 0)),
    "pidfd_getfd": (438, 438, (-1, 0, 0)),
    "process_vm_readv": (310, 270, (1, 0, 0, 0, 0, 0)),
    "add_key": (248, 217, (0, 0, 0, 0, 0)),
    "request_key": (249, 218, (0, 0, 0, 0)),
    "keyctl": (250, 219, (0, 0)),
    "bpf": (321, 280, (0, 0, 0)),
    "perf_event_open": (298, 241, (0, 0, -1, -1, 0)),
    "userfaultfd": (323, 282, (0,)),
    "umount2": (166, 39, (0, 0)),
    "fsopen": (430, 430, (0, 0)),
    "open_tree": (428, 428, (-1, 0, 0)),
    "pivot_root": (155, 41, (0, 0)),
    "chroot": (161, 51, (0,)),
    "setns": (308, 268, (-1, 0)),
    "unshare_user": (272, 97, (0x10000000,)),
    "ptrace": (101, 117, (0, 0, 0, 0)),
    "kexec_load": (246, 104, (0, 0, 0, 0)),
    "init_module": (175, 105, (0, 0, 0)),
    "finit_module": (313, 273, (-1, 0, 0)),
    "reboot": (169, 142, (0, 0, 0, 0)),
    "swapon": (167, 224, (0, 0)),
    "acct": (163, 89, (0,)),
    "mknod": (None, None, ()),
}
SOCKETS = {"AF_VSOCK": (40, socket.SOCK_STREAM, 0), "AF_PACKET": (17, socket.SOCK_RAW, 0),
           "AF_ALG": (38, socket.SOCK_SEQPACKET, 0), "AF_NETLINK_SOCK_DIAG": (16, socket.SOCK_RAW, 4)}

TIOCSTI = 0x5412
TIOCLINUX = 0x541C


def _errno_name(error):
    return errno.errorcode.get(error.errno, str(error.errno))


def _syscall_errno(call):
    ctypes.set_errno(0)
    result = call()
    return "ok" if result == 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))


def _ioctl_errno(fd, request, argument):
    try:
        fcntl.ioctl(fd, request, argument)
        return "ok"
    except OSError as error:
        return _errno_name(error)


def _terminal():
    try:
        os.close(os.open("/dev/tty", os.O_RDWR))
        dev_tty = "ok"
    except OSError as error:
        dev_tty = _errno_name(error)
    return {
        "sid": os.getsid(0),
        "dev_tty": dev_tty,
        "tiocsti": {fd: _ioctl_errno(fd, TIOCSTI, b"x") for fd in (0, 1, 2)},
        "tioclinux": {fd: _ioctl_errno(fd, TIOCLINUX, b"\x0b") for fd in (0, 1, 2)},
    }


def _escapes():
    libc = ctypes.CDLL(None, use_errno=True)
    arm = os.uname().machine == "aarch64"
    result = {}
    for name, (x86, aarch64, arguments) in ESCAPES.items():
        if name == "mknod":
            try:
                os.mknod("/tmp/device", 0o600 | 0o020000, os.makedev(1, 3))
                result[name] = "ok"
            except OSError as error:
                result[name] = _errno_name(error)
            continue
        number = aarch64 if arm else x86
        result[name] = _syscall_errno(lambda: libc.syscall(number, *[ctypes.c_long(a) for a in arguments]))
    for name, (family, kind, protocol) in SOCKETS.items():
        try:
            socket.socket(family, kind, protocol).close()
            result[name] = "ok"
        except OSError as error:
            result[name] = _errno_name(error)
    try:
        socket.socket(16, socket.SOCK_RAW, 0).close()
        result["AF_NETLINK_ROUTE"] = "ok"
    except OSError as error:
        result["AF_NETLINK_ROUTE"] = _errno_name(error)
    # A thread (clone without namespace flags) still starts.
    import threading
    box = []
    thread = threading.Thread(target=lambda: box.append(1))
    thread.start()
    thread.join()
    result["thread"] = "ok" if box else "failed"
    return result


def _loopback_listeners():
    own = int(os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)[1])
    ports = set()
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A" and address == "0100007F" and int(port, 16) != own:
                ports.add(int(port, 16))
    return sorted(ports)


def _ask_next(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
            connection.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                answer += chunk
            return answer.decode("latin-1") if answer else "closed"
    except ConnectionResetError:
        return "closed"
    except OSError as error:
        return type(error).__name__


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
        with open("/proc/self/mounts") as mounts:
            result["tmp_mount"] = next((line.split()[2] for line in mounts if line.split()[1] == "/tmp"), "none")
    if event.get("grandchild"):
        child = subprocess.Popen(["sleep", "600"], start_new_session=True)
        result["grandchild"] = child.pid
    if event.get("orphan"):
        shell = subprocess.run(["sh", "-c", "setsid sleep 600 > /dev/null 2>&1 & echo $!"], capture_output=True, text=True)
        orphan = int(shell.stdout)
        with open(f"/proc/{orphan}/stat") as stat:
            parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        result["orphan"] = [orphan, parent]
    if event.get("self"):
        result["self"] = [os.getpid(), os.getppid()]
    if "sleep" in event:
        time.sleep(float(event["sleep"]))
    if "env" in event:
        result["env"] = {name: os.environ.get(name) for name in event["env"]}
    if event.get("escapes"):
        result["escapes"] = _escapes()
    if event.get("terminal"):
        result["terminal"] = _terminal()
    if event.get("runtime_apis"):
        # The ports given, else every listener; in parallel: other programs' listeners may accept and never answer.
        ports = event["runtime_apis"] if isinstance(event["runtime_apis"], list) else _loopback_listeners()[:64]
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            result["runtime_apis"] = dict(zip(map(str, ports), pool.map(_ask_next, ports)))
    if "exit" in event:
        os._exit(int(event["exit"]))
    return result
