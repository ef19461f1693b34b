import Glibc

/// A deliberately minimal HTTP/1.1 client for latency measurement: one blocking keep-alive TCP
/// connection to `127.0.0.1` with `TCP_NODELAY`, requests encoded once up front, responses framed
/// by `Content-Length` and parsed no further than the status code.
///
/// The same client times fnhost and the echo reference, so both figures carry the same (small)
/// client overhead. A round trip does not allocate. Not thread-safe. Every failure (socket error,
/// early close, a response it cannot frame) throws ``BenchError``.
final class LoopbackHTTPClient {
    /// One response; offsets index the client's buffer and are valid until the next round trip.
    struct Response {
        var status: Int
        /// Bytes of status line and headers, including the blank line.
        var headLength: Int
        var bodyLength: Int
        var totalLength: Int { headLength + bodyLength }
    }

    /// What this client is, for the report.
    static let description =
        "fnhost-bench LoopbackHTTPClient (Swift, blocking socket, TCP_NODELAY, one keep-alive HTTP/1.1 connection, Content-Length framing)"

    private let descriptor: Int32
    private let buffer: UnsafeMutableRawBufferPointer

    init(port: Int, bufferSize: Int = 1 << 20) throws(BenchError) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw BenchError.system("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let error = BenchError.system("connect to 127.0.0.1:\(port)")
            close(descriptor)
            throw error
        }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.descriptor = descriptor
        self.buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        close(descriptor)
        buffer.deallocate()
    }

    /// Encodes a request once; send it as often as needed with ``roundTrip(_:)``.
    static func encode(post path: String, port: Int, headers: [(String, String)] = [], body: String) -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
        head += "Content-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + Array(body.utf8)
    }

    /// Writes `request` and reads exactly one response into the buffer.
    func roundTrip(_ request: [UInt8]) throws(BenchError) -> Response {
        try writeAll(request)
        return try readResponse()
    }

    /// The body of the last response.
    func body(of response: Response) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[response.headLength..<response.totalLength])
    }

    /// True when the last response's body is exactly `expected` (cheap: no allocation).
    func bodyEquals(_ response: Response, _ expected: [UInt8]) -> Bool {
        guard response.bodyLength == expected.count else { return false }
        let body = buffer.baseAddress! + response.headLength
        return expected.withUnsafeBytes { memcmp($0.baseAddress!, body, expected.count) == 0 }
    }

    /// The value of header `name` in the last response (slow path: allocates).
    func header(_ name: String, in response: Response) -> String? {
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<response.headLength]), as: UTF8.self)
        let wanted = name.lowercased() + ":"
        for line in head.split(separator: "\r\n").dropFirst() where line.lowercased().hasPrefix(wanted) {
            return String(line.dropFirst(wanted.count).drop(while: { $0 == " " || $0 == "\t" }))
        }
        return nil
    }

    /// The last response's head, as text (for the report).
    func headText(of response: Response) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<response.headLength]), as: UTF8.self)
    }

    private func writeAll(_ request: [UInt8]) throws(BenchError) {
        let failed = request.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    return true
                }
                offset += written
            }
            return false
        }
        if failed { throw BenchError.system("send") }
    }

    private func readResponse() throws(BenchError) -> Response {
        var received = 0
        var headLength = 0
        var expected = Int.max
        while received < expected {
            guard received < buffer.count else { throw BenchError("response larger than \(buffer.count) bytes") }
            let count = recv(descriptor, buffer.baseAddress! + received, buffer.count - received, 0)
            if count < 0 {
                if errno == EINTR { continue }
                throw BenchError.system("recv")
            }
            guard count > 0 else { throw BenchError("the server closed the connection after \(received) bytes") }
            let searchFrom = max(0, received - 3)
            received += count
            if headLength == 0, let end = findHeadEnd(from: searchFrom, to: received) {
                headLength = end
                expected = end + (try contentLength(headLength: end))
            }
        }
        guard received == expected else { throw BenchError("\(received - expected) unexpected bytes after a response") }
        return Response(status: try status(), headLength: headLength, bodyLength: expected - headLength)
    }

    /// Offset just past the first `\r\n\r\n` in `from..<to`, if any.
    private func findHeadEnd(from: Int, to: Int) -> Int? {
        let bytes = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var index = from
        while index + 3 < to {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    private func status() throws(BenchError) -> Int {
        let bytes = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        // "HTTP/1.1 200 "
        var status = 0
        for index in 9..<12 {
            let digit = Int(bytes[index]) - 48
            guard (0...9).contains(digit) else { throw BenchError("malformed status line") }
            status = status * 10 + digit
        }
        return status
    }

    private func contentLength(headLength: Int) throws(BenchError) -> Int {
        let bytes = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let name = Self.contentLengthName
        var lineStart = 0
        while lineStart < headLength {
            var lineEnd = lineStart
            while lineEnd < headLength, bytes[lineEnd] != 13 { lineEnd += 1 }
            if lineEnd - lineStart > name.count, Self.hasPrefixIgnoringCase(bytes + lineStart, name) {
                var value = 0
                var index = lineStart + name.count
                while index < lineEnd, bytes[index] == 32 || bytes[index] == 9 { index += 1 }
                guard index < lineEnd else { break }
                while index < lineEnd, bytes[index] >= 48, bytes[index] <= 57 {
                    value = value * 10 + Int(bytes[index]) - 48
                    index += 1
                }
                return value
            }
            lineStart = lineEnd + 2
        }
        throw BenchError("response without Content-Length (chunked responses are not supported)")
    }

    private static let contentLengthName = Array("content-length:".utf8)

    private static func hasPrefixIgnoringCase(_ bytes: UnsafePointer<UInt8>, _ lowercase: [UInt8]) -> Bool {
        for (offset, wanted) in lowercase.enumerated() {
            var byte = bytes[offset]
            if byte >= 65, byte <= 90 { byte += 32 }
            if byte != wanted { return false }
        }
        return true
    }
}

/// Nanoseconds on `CLOCK_MONOTONIC`.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
