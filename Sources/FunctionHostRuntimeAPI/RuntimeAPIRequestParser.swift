import Glibc
import NIOCore

/// One request of a function process to its Runtime API, as read off its connection: the call,
/// the few headers the Runtime API reads, and the whole body.
struct RuntimeAPIMessage {
    /// `nil` for a method and path the Runtime API does not serve.
    var call: RuntimeAPIRequest?
    var keepAlive: Bool
    var contentType: String?
    var errorType: String?
    var responseMode: String?
    /// `nil` when the body was over ``RuntimeMailbox/maximumResponseSize``: it was read and dropped.
    var body: ByteBuffer?
}

/// A request a function process sent that is not HTTP/1 as the Runtime API reads it.
struct RuntimeAPIParseError: Error {
    var reason: String
}

/// Reads a Runtime API connection's requests from its bytes (HTTP/1.0 and 1.1, `Content-Length`
/// or chunked bodies), keeping of each head only what ``RuntimeAPIMessage`` holds: no string per
/// header, and a `Content-Length` body is a slice of the bytes read, not a copy. Two of these
/// requests run on every invoke, so they are read here rather than by a general HTTP decoder.
///
/// Strict, as the other end is the function's code and may be hostile: lines end in CRLF, a
/// header block is at most ``maximumHeadBytes``, no folded lines, no `Transfer-Encoding` other
/// than `chunked` nor one beside a `Content-Length`, and no conflicting lengths. Each is a
/// ``RuntimeAPIParseError``, after which the connection is answered 400 and closed. A body over
/// the response limit is read to its end and dropped, so the connection stays in step.
struct RuntimeAPIRequestParser {
    enum Event {
        case request(RuntimeAPIMessage)
        /// The head asked for `100 Continue` before its body (libcurl does for large bodies).
        case expectsContinue
        /// The connection ended in the middle of this request's body.
        case truncated(RuntimeAPIRequest?)
    }

    /// As NIO's HTTP decoder allowed.
    static let maximumHeadBytes = 80 * 1024

    private enum State {
        /// Looking for the end of a head; the bytes before `scanned` hold none.
        case head(scanned: Int)
        /// A `Content-Length` body with `remaining` bytes still to come.
        case body(RuntimeAPIMessage, remaining: Int)
        /// A chunked body: the next chunk's size line, its data, the CRLF after the data, or the trailers.
        case chunkSize(RuntimeAPIMessage, size: Int)
        case chunkData(RuntimeAPIMessage, remaining: Int, size: Int)
        case chunkEnd(RuntimeAPIMessage, size: Int)
        case trailers(RuntimeAPIMessage, scanned: Int)
    }

    private var state = State.head(scanned: 0)

    /// The next event in `buffer`, consuming its bytes; `nil` when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws(RuntimeAPIParseError) -> Event? {
        while true {
            switch state {
            case .head(let scanned):
                guard let end = Self.find(Self.headEnd, in: buffer, from: scanned) else {
                    guard buffer.readableBytes <= Self.maximumHeadBytes else { throw .init(reason: "header block too large") }
                    state = .head(scanned: max(0, buffer.readableBytes - 3))
                    return nil
                }
                guard end + 4 <= Self.maximumHeadBytes else { throw .init(reason: "header block too large") }
                let head = try buffer.withUnsafeReadableBytes { Self.parseHead(UnsafeRawBufferPointer(rebasing: $0[..<(end + 2)])) }.get()
                buffer.moveReaderIndex(forwardBy: end + 4)
                var message = head.message
                switch head.length {
                case .chunked:
                    message.body = ByteBuffer()
                    state = .chunkSize(message, size: 0)
                case .fixed(let length):
                    if length <= RuntimeMailbox.maximumResponseSize { message.body = ByteBuffer() }
                    state = .body(message, remaining: length)
                }
                if head.expectsContinue { return .expectsContinue }
            case .body(var message, let remaining):
                if message.body != nil {
                    guard let body = buffer.readSlice(length: remaining) else { return nil }
                    message.body = body
                } else {
                    let dropped = min(remaining, buffer.readableBytes)
                    buffer.moveReaderIndex(forwardBy: dropped)
                    guard dropped == remaining else {
                        state = .body(message, remaining: remaining - dropped)
                        return nil
                    }
                }
                state = .head(scanned: 0)
                return .request(message)
            case .chunkSize(let message, let size):
                guard let end = Self.find(Self.lineEnd, in: buffer, from: 0) else {
                    guard buffer.readableBytes <= 1024 else { throw .init(reason: "chunk size line too long") }
                    return nil
                }
                let chunk = try buffer.withUnsafeReadableBytes { Self.parseChunkSize(UnsafeRawBufferPointer(rebasing: $0[..<end])) }.get()
                buffer.moveReaderIndex(forwardBy: end + 2)
                state = chunk == 0 ? .trailers(message, scanned: 0) : .chunkData(message, remaining: chunk, size: size)
            case .chunkData(var message, let remaining, let size):
                let taken = min(remaining, buffer.readableBytes)
                guard taken > 0 else { return nil }
                // The state lets go of its copy of the body first, so appending does not copy it.
                state = .head(scanned: 0)
                var part = buffer.readSlice(length: taken)!
                let total = size.addingReportingOverflow(taken)
                if total.overflow || total.partialValue > RuntimeMailbox.maximumResponseSize {
                    message.body = nil
                } else {
                    message.body?.writeBuffer(&part)
                }
                let size = total.overflow ? Int.max : total.partialValue
                state = taken == remaining ? .chunkEnd(message, size: size) : .chunkData(message, remaining: remaining - taken, size: size)
            case .chunkEnd(let message, let size):
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == Self.crlf else { throw .init(reason: "chunk not followed by CRLF") }
                state = .chunkSize(message, size: size)
            case .trailers(let message, let scanned):
                // Trailers are read and dropped; the block ends with an empty line.
                if buffer.readableBytesView.starts(with: Self.lineEnd) {
                    buffer.moveReaderIndex(forwardBy: 2)
                    state = .head(scanned: 0)
                    return .request(message)
                }
                guard let end = Self.find(Self.headEnd, in: buffer, from: scanned) else {
                    guard buffer.readableBytes <= Self.maximumHeadBytes else { throw .init(reason: "trailers too large") }
                    state = .trailers(message, scanned: max(0, buffer.readableBytes - 3))
                    return nil
                }
                buffer.moveReaderIndex(forwardBy: end + 4)
                state = .head(scanned: 0)
                return .request(message)
            }
        }
    }

    /// At the connection's end: the request whose body it cut off, if any (told once).
    mutating func end() -> Event? {
        defer { state = .head(scanned: 0) }
        switch state {
        case .head:
            return nil
        case .body(let message, _), .chunkSize(let message, _), .chunkData(let message, _, _), .chunkEnd(let message, _),
            .trailers(let message, _):
            return .truncated(message.call)
        }
    }

    // MARK: The head

    private enum Length {
        case fixed(Int)
        case chunked
    }

    private static let crlf = UInt16(0x0D0A)
    private static let lineEnd: [UInt8] = [0x0D, 0x0A]
    private static let headEnd: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]

    private struct Head {
        var message: RuntimeAPIMessage
        var length: Length
        var expectsContinue: Bool
    }

    /// `head` runs from the request line through the CRLF of its last header line. Raw bytes and
    /// offsets throughout: this runs twice per invoke.
    private static func parseHead(_ head: UnsafeRawBufferPointer) -> Result<Head, RuntimeAPIParseError> {
        var lines = LineReader(head)
        guard let requestLine = lines.next(),
            let firstSpace = head[requestLine].firstIndex(of: 0x20),
            let secondSpace = head[(firstSpace + 1)..<requestLine.upperBound].firstIndex(of: 0x20)
        else { return .failure(.init(reason: "malformed request line")) }
        let method = UnsafeRawBufferPointer(rebasing: head[requestLine.lowerBound..<firstSpace])
        let target = UnsafeRawBufferPointer(rebasing: head[(firstSpace + 1)..<secondSpace])
        let version = UnsafeRawBufferPointer(rebasing: head[(secondSpace + 1)..<requestLine.upperBound])
        guard !method.isEmpty, method.allSatisfy(isTokenByte), !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return .failure(.init(reason: "malformed request line")) }
        let isHTTP11: Bool
        if version.equals("HTTP/1.1") {
            isHTTP11 = true
        } else if version.equals("HTTP/1.0") {
            isHTTP11 = false
        } else {
            return .failure(.init(reason: "not HTTP/1.0 or HTTP/1.1"))
        }
        var message = RuntimeAPIMessage(call: RuntimeAPIRequest(method: method, path: target), keepAlive: isHTTP11)

        var contentLength: Int?
        var chunked = false
        var expectsContinue = false
        var connectionClose = false
        var connectionKeepAlive = false
        while let line = lines.next() {
            guard let colon = head[line].firstIndex(of: UInt8(ascii: ":")) else {
                return .failure(.init(reason: "header line without a colon"))
            }
            let name = UnsafeRawBufferPointer(rebasing: head[line.lowerBound..<colon])
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else { return .failure(.init(reason: "malformed header name")) }
            let value = trimmed(UnsafeRawBufferPointer(rebasing: head[(colon + 1)..<line.upperBound]))
            guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
                return .failure(.init(reason: "control byte in a header value"))
            }
            switch name.count {
            case 14 where equalsIgnoringCase(name, "content-length"):
                guard !value.isEmpty, value.count <= 18, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    return .failure(.init(reason: "malformed Content-Length"))
                }
                let length = value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                guard contentLength == nil || contentLength == length else { return .failure(.init(reason: "conflicting Content-Length")) }
                contentLength = length
            case 17 where equalsIgnoringCase(name, "transfer-encoding"):
                guard equalsIgnoringCase(value, "chunked"), !chunked else { return .failure(.init(reason: "unsupported Transfer-Encoding")) }
                chunked = true
            case 10 where equalsIgnoringCase(name, "connection"):
                for token in value.split(separator: UInt8(ascii: ",")) {
                    let token = trimmed(UnsafeRawBufferPointer(rebasing: token))
                    if equalsIgnoringCase(token, "close") { connectionClose = true }
                    if equalsIgnoringCase(token, "keep-alive") { connectionKeepAlive = true }
                }
            case 6 where equalsIgnoringCase(name, "expect"):
                expectsContinue = isHTTP11 && equalsIgnoringCase(value, "100-continue")
            case 12 where equalsIgnoringCase(name, "content-type"):
                if message.contentType == nil { message.contentType = String(decoding: value, as: UTF8.self) }
            case 34 where equalsIgnoringCase(name, "lambda-runtime-function-error-type"):
                if message.errorType == nil { message.errorType = String(decoding: value, as: UTF8.self) }
            case 37 where equalsIgnoringCase(name, "lambda-runtime-function-response-mode"):
                if message.responseMode == nil { message.responseMode = String(decoding: value, as: UTF8.self) }
            default:
                break
            }
        }
        guard !(chunked && contentLength != nil) else { return .failure(.init(reason: "both Transfer-Encoding and Content-Length")) }
        message.keepAlive = !connectionClose && (isHTTP11 || connectionKeepAlive)
        let hasBody = chunked || (contentLength ?? 0) > 0
        return .success(Head(message: message, length: chunked ? .chunked : .fixed(contentLength ?? 0), expectsContinue: expectsContinue && hasBody))
    }

    /// A chunk's size from its line (`1a` or `1a;extension=value`).
    private static func parseChunkSize(_ line: UnsafeRawBufferPointer) -> Result<Int, RuntimeAPIParseError> {
        let digits = trimmed(UnsafeRawBufferPointer(rebasing: line[..<(line.firstIndex(of: UInt8(ascii: ";")) ?? line.count)]))
        guard !digits.isEmpty, digits.count <= 15 else { return .failure(.init(reason: "malformed chunk size")) }
        var size = 0
        for byte in digits {
            guard let digit = hexValue(byte) else { return .failure(.init(reason: "malformed chunk size")) }
            size = size * 16 + digit
        }
        return .success(size)
    }

    // MARK: Bytes

    /// The offset of `pattern` in `buffer`'s readable bytes at or after `start`.
    private static func find(_ pattern: [UInt8], in buffer: ByteBuffer, from start: Int) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            guard bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return nil }
            var index = start
            let last = bytes.count - pattern.count
            while index <= last {
                guard let found = memchr(bytes.baseAddress! + index, Int32(pattern[0]), last - index + 1) else { return nil }
                index = bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
                if pattern.indices.allSatisfy({ bytes[index + $0] == pattern[$0] }) { return index }
                index += 1
            }
            return nil
        }
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else {
            return UnsafeRawBufferPointer(rebasing: bytes[0..<0])
        }
        return UnsafeRawBufferPointer(rebasing: bytes[first...last])
    }

    /// Compares with `lowercase`, ASCII letters of `bytes` in either case.
    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        for index in 0..<bytes.count {
            let byte = bytes[index]
            if (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) != lowercase.utf8Start[index] { return false }
        }
        return true
    }

    /// RFC 9110's `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "!"), UInt8(ascii: "#")...UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"),
            UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}

/// The CRLF-ended lines of a head, as offsets into it. A bare LF stays inside its line, where the
/// checks on names and values refuse it.
private struct LineReader {
    private let head: UnsafeRawBufferPointer
    private var start = 0

    init(_ head: UnsafeRawBufferPointer) {
        self.head = head
    }

    mutating func next() -> Range<Int>? {
        guard start < head.count else { return nil }
        var index = start
        while index + 1 < head.count {
            if head[index] == 0x0D, head[index + 1] == 0x0A {
                defer { start = index + 2 }
                return start..<index
            }
            index += 1
        }
        defer { start = head.count }
        return start..<head.count
    }
}

/// ``RuntimeAPIRequestParser`` at the front of a Runtime API connection's pipeline.
struct RuntimeAPIRequestDecoder: ByteToMessageDecoder {
    typealias InboundOut = RuntimeAPIRequestParser.Event

    private var parser = RuntimeAPIRequestParser()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let event: RuntimeAPIRequestParser.Event?
        do {
            event = try parser.next(&buffer)
        } catch {
            // A body that stops making sense is an answer cut off.
            if let end = parser.end() { context.fireChannelRead(wrapInboundOut(end)) }
            throw error
        }
        guard let event else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(event))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if let end = parser.end() { context.fireChannelRead(wrapInboundOut(end)) }
        return .needMoreData
    }
}
