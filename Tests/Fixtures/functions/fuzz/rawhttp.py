"""Raw HTTP/1.1 over a socket and the mutations the fuzz suite (Tests/fuzz/fuzz.py) applies.

Shared by the fuzzer on the serve port and by the hostile worker (``hostile_runtime.py``) that
fuzzes its own Runtime API, so both judge a response the same way. Standard library only.

``exchange`` sends bytes the caller built exactly as given and reads one response. Its
``Outcome.kind`` is ``answered`` (a complete response), ``closed`` (the server closed or reset
the connection, possibly mid-response) or ``timeout`` (neither within the bound: a hang).
"""

from __future__ import annotations

import json
import random
import socket
import time
from dataclasses import dataclass

#: A response body larger than this is read and dropped, not kept.
KEEP_BODY = 64 * 1024


@dataclass
class Outcome:
    """What one request got back."""

    kind: str  # answered | closed | timeout
    status: int | None = None
    headers: dict[str, str] | None = None
    body: bytes = b""
    error_type: str = ""  # x-amzn-ErrorType or the JSON body's __type, when there is one
    seconds: float = 0.0

    def status_class(self) -> str:
        return f"{self.status // 100}xx" if self.kind == "answered" and self.status else self.kind


class _Reader:
    """Buffered reads against one overall deadline."""

    def __init__(self, connection: socket.socket, deadline: float):
        self.connection, self.deadline, self.buffer = connection, deadline, b""

    def fill(self) -> bool:
        """Reads more; False at EOF. Raises ``TimeoutError`` past the deadline."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.connection.settimeout(remaining)
        try:
            chunk = self.connection.recv(65536)
        except socket.timeout as error:
            raise TimeoutError from error
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def until(self, marker: bytes, limit: int = 1 << 20) -> bytes | None:
        while marker not in self.buffer:
            if len(self.buffer) > limit or not self.fill():
                return None
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def exactly(self, count: int, keep: bool = True) -> bytes | None:
        kept = b""
        while count > 0:
            if not self.buffer and not self.fill():
                return None
            take = self.buffer[:count]
            self.buffer = self.buffer[count:]
            count -= len(take)
            if keep and len(kept) < KEEP_BODY:
                kept += take
        return kept


def read_response(connection: socket.socket, deadline: float, head_request: bool = False) -> Outcome:
    """Reads one response (skipping 1xx); ``closed`` if the connection ends before it is complete."""
    reader = _Reader(connection, deadline)
    try:
        while True:
            head = reader.until(b"\r\n\r\n")
            if head is None:
                return Outcome("closed")
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
                return Outcome("closed", body=head[:200])
            status = int(parts[1])
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
            if 100 <= status < 200:
                continue
            break
        body: bytes | None = b""
        if head_request or status in (204, 304):
            pass
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size_line = reader.until(b"\r\n")
                if size_line is None:
                    return Outcome("closed", status, headers)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    reader.until(b"\r\n")
                    break
                chunk = reader.exactly(size + 2)
                if chunk is None:
                    return Outcome("closed", status, headers)
                if len(body) < KEEP_BODY:
                    body += chunk[:-2]
        elif "content-length" in headers:
            body = reader.exactly(int(headers["content-length"]))
            if body is None:
                return Outcome("closed", status, headers)
        else:
            while reader.fill():
                pass
            body = reader.buffer[:KEEP_BODY]
        return Outcome("answered", status, headers, body, _error_type(headers, body) if status >= 400 else "")
    except TimeoutError:
        return Outcome("timeout")
    except (ConnectionError, OSError, ValueError):
        return Outcome("closed")


def _error_type(headers: dict[str, str], body: bytes) -> str:
    if headers.get("x-amzn-errortype"):
        return headers["x-amzn-errortype"].split(":")[0]
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    if isinstance(document, dict):
        value = document.get("__type") or document.get("Type") or document.get("errorType") or ""
        return str(value).split("#")[-1]
    return ""


def exchange(host: str, port: int, data: bytes, timeout: float, half_close: bool = False,
             head_request: bool = False) -> Outcome:
    """Sends ``data`` on a new connection, optionally shuts down the write side, reads one response.

    The whole exchange (connect, send, read) must finish within ``timeout`` seconds.
    """
    started = time.monotonic()
    deadline = started + timeout
    try:
        connection = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return Outcome("closed", seconds=time.monotonic() - started)
    try:
        try:
            connection.settimeout(max(0.01, deadline - time.monotonic()))
            connection.sendall(data)
            if half_close:
                connection.shutdown(socket.SHUT_WR)
        except socket.timeout:
            outcome = Outcome("timeout")
        except OSError:
            # The server may answer (and close) before it read everything: read what it said.
            outcome = read_response(connection, deadline, head_request)
            if outcome.kind == "timeout":
                outcome = Outcome("closed")
        else:
            outcome = read_response(connection, deadline, head_request)
    finally:
        connection.close()
    outcome.seconds = time.monotonic() - started
    return outcome


# Building requests -------------------------------------------------------------------------------


def http_request(method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"",
                 framing: str = "length") -> bytes:
    """A well-formed request; ``framing`` is ``length`` (Content-Length), ``chunked`` or ``none``."""
    lines = [f"{method} {target} HTTP/1.1".encode("utf-8", "surrogatepass"), b"Host: 127.0.0.1"]
    lines += [f"{name}: {value}".encode("utf-8", "surrogatepass") for name, value in headers]
    if framing == "length":
        lines.append(b"Content-Length: " + str(len(body)).encode())
    elif framing == "chunked":
        lines.append(b"Transfer-Encoding: chunked")
        body = (f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n") if body else b"0\r\n\r\n"
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@dataclass
class RawRequest:
    """Bytes to send, and how: ``half_close`` shuts down the write side after them."""

    data: bytes
    half_close: bool = False
    head_request: bool = False
    note: str = ""


STRINGS = [
    "", " ", "-1", "0", "1", "-2147483649", "2147483648", "9223372036854775807", "9223372036854775808",
    "-9223372036854775809", "1e308", "NaN", "Infinity", "0x10", "1.5", "null", "true", "[]", "{}",
    "%00", "%", "%zz", "%2F", "../..", "/", "\\", "\u0000", "\u202e", "\ud800", "é", "😀", "$LATEST", "$",
    "a" * 65, "a" * 257, "a" * 4096, "' OR 1=1 --", "${jndi:x}", "\r\n", "\r\nX-Injected: 1",
    "arn:aws:lambda:us-east-1:123456789012:function:", "arn:aws:sqs:us-east-1:123456789012:",
]

NUMBERS = [0, -1, 1, 2, 10, 60, 255, 256, 1000, 43200, 43201, 65535, 262144, 262145, 1209600,
           2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, 1.5, -0.0,
           1e308]


class Mutator:
    """Structured mutations driven by one seeded ``random.Random``."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def huge(self) -> str:
        return self.rng.choice("aZ%9\u00e9/") * self.rng.choice([1024, 8192, 65536, 300_000])

    def string(self) -> str:
        r = self.rng.random()
        if r < 0.5:
            return self.rng.choice(STRINGS)
        if r < 0.6:
            return self.huge()
        if r < 0.8:
            return "".join(chr(self.rng.choice([self.rng.randrange(32, 127), self.rng.randrange(0, 0x800)]))
                           for _ in range(self.rng.randrange(1, 40)))
        return str(self.rng.choice(NUMBERS))

    def header_value(self) -> str:
        """A header value that HTTP allows (so the request reaches its handler), now and then not."""
        if self.chance(0.15):
            return self.string()
        value = self.rng.choice([v for v in STRINGS if v.isprintable() and v.isascii()] + [str(self.number())])
        return value if self.chance(0.8) else value * self.rng.choice([10, 500, 5000])

    def number(self):
        return self.rng.choice(NUMBERS) if self.chance(0.7) else self.rng.randrange(-(2**40), 2**40)

    def value(self, depth: int = 0):
        """Any JSON value (of a random type)."""
        kinds = ["string", "number", "bool", "null", "list", "object"] if depth < 4 else ["string", "number", "null"]
        kind = self.rng.choice(kinds)
        if kind == "string":
            return self.string()
        if kind == "number":
            return self.number()
        if kind == "bool":
            return self.chance(0.5)
        if kind == "null":
            return None
        if kind == "list":
            return [self.value(depth + 1) for _ in range(self.rng.randrange(0, 4))]
        return {self.string()[:40]: self.value(depth + 1) for _ in range(self.rng.randrange(0, 4))}

    def mutate_text(self, text: str) -> str:
        if not text or self.chance(0.2):
            return self.string()
        position = self.rng.randrange(len(text) + 1)
        op = self.rng.randrange(5)
        if op == 0:
            return text[:position] + self.string() + text[position:]
        if op == 1:
            return text[:position]
        if op == 2:
            return text[:position] + text[position + 1:]
        if op == 3:
            return text * self.rng.choice([2, 50, 2000])
        return text[:position] + chr(self.rng.randrange(0, 0x3000)) + text[position + 1:]

    def mutate_json(self, document):
        """A copy of ``document`` with a field removed, retyped, renamed or a field added."""
        if isinstance(document, dict) and document and self.chance(0.85):
            document = dict(document)
            key = self.rng.choice(list(document))
            op = self.rng.randrange(6)
            if op == 0:
                del document[key]
            elif op == 1:
                document[key] = self.value()
            elif op == 2:
                document[key] = self.mutate_json(document[key])
            elif op == 3:
                document[self.mutate_text(key)] = document.pop(key)
            elif op == 4:
                document[self.string()[:60]] = self.value()
            else:
                document[key] = self.number() if self.chance(0.5) else self.string()
            return document
        if isinstance(document, list) and document and self.chance(0.8):
            document = list(document)
            op = self.rng.randrange(4)
            index = self.rng.randrange(len(document))
            if op == 0:
                document[index] = self.mutate_json(document[index])
            elif op == 1:
                document = document * self.rng.choice([2, 11, 200])
            elif op == 2:
                del document[index]
            else:
                document.append(self.value())
            return document
        if isinstance(document, str):
            return self.mutate_text(document)
        return self.value()

    def deep(self) -> bytes:
        depth = self.rng.choice([64, 1000, 10_000, 100_000])
        opener, closer = self.rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
        tail = closer * depth if self.chance(0.7) else closer * self.rng.randrange(depth)
        return opener * depth + b"1" + tail

    def broken_json(self, valid: bytes) -> bytes:
        """Bytes that RFC 8259 rejects (or barely accepts), derived from ``valid``."""
        options = [
            lambda: valid[: self.rng.randrange(len(valid) + 1)],
            lambda: valid + b",",
            lambda: valid.replace(b"}", b",}", 1),
            lambda: b"[1,]",
            lambda: b"{'a': 1}",
            lambda: b"\xff\xfe" + valid,
            lambda: valid.replace(b'"', b"", 1),
            lambda: b"NaN",
            lambda: b'{"a":1}{"b":2}',
            lambda: b'"\\ud800"',
            lambda: b'{"a":"\\u00"}',
            lambda: b"1e999999",
            lambda: b"-",
            lambda: bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 200))),
            lambda: b'{"a":' + b"1" * 100_000 + b"}",
            lambda: b'{"' + b"k" * 70_000 + b'":1}',
            lambda: b"{" + b",".join(b'"k%d":%d' % (i, i) for i in range(20_000)) + b"}",
            self.deep,
        ]
        return self.rng.choice(options)()

    def body(self, valid: bytes) -> bytes:
        """A body for a request whose valid form is ``valid``: mostly a structured mutation of it."""
        r = self.rng.random()
        if r < 0.55:
            try:
                return json.dumps(self.mutate_json(json.loads(valid))).encode("utf-8", "surrogatepass")
            except ValueError:
                return valid
        if r < 0.85:
            return self.broken_json(valid)
        if r < 0.92:
            return json.dumps(self.value()).encode("utf-8", "surrogatepass")
        return valid

    def header_block(self) -> list[tuple[str, str]]:
        """Extra hostile headers (usually none)."""
        headers = []
        for _ in range(self.rng.choice([0] * 7 + [1, 1, 2])):
            r = self.rng.random()
            if r < 0.3:
                headers.append((self.rng.choice(["X-Amz-Target", "Content-Type", "Expect", "Connection",
                                                 "Content-Encoding", "Transfer-Encoding", "Authorization",
                                                 "X-Amz-Date", "Accept", "Upgrade"]), self.header_value()[:300]))
            elif r < 0.5:
                headers.append(("X-Fuzz", "v" * self.rng.choice([1000, 9000, 70_000, 200_000])))
            elif r < 0.6:
                headers += [(f"X-Many-{i}", "v") for i in range(self.rng.choice([100, 1000, 5000]))]
            elif r < 0.8:
                headers.append((self.string()[:100] or "X", self.header_value()[:300]))
            else:
                headers.append(("Expect", "100-continue"))
        return headers

    def frame(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> RawRequest:
        """Serialises a request, sometimes with hostile framing (Content-Length, chunking, truncation)."""
        r = self.rng.random()
        if r < 0.80:
            return RawRequest(http_request(method, target, headers, body))
        if r < 0.84:
            return RawRequest(http_request(method, target, headers, body, "chunked"))
        if r < 0.86:
            chunked = http_request(method, target, headers, body, "chunked")
            cut = chunked[: self.rng.randrange(chunked.index(b"\r\n\r\n") + 4, len(chunked) + 1)]
            return RawRequest(cut, half_close=True, note="truncated chunked body")
        if r < 0.88:
            bad = self.rng.choice([b"zz", b"-1", b"ffffffffffffffffffff", b"1;" + b"e" * 10000, b"", b"0x10"])
            head = http_request(method, target, headers, b"", "none")
            return RawRequest(head[:-2] + b"Transfer-Encoding: chunked\r\n\r\n" + bad + b"\r\n" + body[:10],
                              half_close=True, note="bad chunk size")
        if r < 0.92:
            value = self.rng.choice(["-1", "abc", "1e3", " 5", "18446744073709551616", "99999999999999999999",
                                     str(len(body) + 1000), str(max(0, len(body) - 1)), "0", "+5", "0x10"])
            head = http_request(method, target, headers + [("Content-Length", value)], b"", "none")
            return RawRequest(head + body, half_close=True, note=f"Content-Length: {value}")
        if r < 0.94:
            head = http_request(method, target, headers + [("Content-Length", str(len(body))),
                                                           ("Content-Length", str(len(body) + 7))], b"", "none")
            return RawRequest(head + body, half_close=True, note="two Content-Lengths")
        if r < 0.96:
            full = http_request(method, target, headers, body)
            return RawRequest(full[: self.rng.randrange(1, len(full))], half_close=True, note="truncated request")
        if r < 0.98:
            head = http_request(method, target, headers, b"", "none")
            return RawRequest(head + body, half_close=True, note="no framing, half-closed")
        garbage = self.rng.choice([
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello
            b"GET / HTTP/2.0\r\n\r\n", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"\r\n\r\n\r\n",
            b"GET " + b"/" * 100_000 + b" HTTP/1.1\r\n\r\n", b"POST / HTTP/1.1\r\nHost: x\r\n\x00: y\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b" folded\r\n" + b"\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ])
        return RawRequest(garbage, half_close=True, note="garbage")
