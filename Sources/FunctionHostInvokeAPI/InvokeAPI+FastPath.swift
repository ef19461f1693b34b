import FunctionHostCore
import HTTPTypes
import NIOCore

extension InvokeAPI {
    /// A plain invoke, as SDKs and `fnhost load` send it, that the serve port runs without the
    /// router (``InvokeFastPath``): a synchronous one when a warm worker is free, an `Event` when
    /// the queue accepts it. Everything else, and these too when they cannot start at once, takes
    /// the route in `InvokeAPI+Invoke.swift`, which answers the same.
    struct FastInvocation {
        var function: FunctionConfiguration
        var head: HTTPRequest
        var headers: FastHeaders
        var declaredLength: Int
        /// `Event`: queued and answered `202` once committed; otherwise run and answered `200`.
        var isEvent: Bool
    }

    /// The request headers the fast path reads, from one pass over them (a subscript scans every
    /// field for its name and joins what it finds into a new string; this ran ten times per invoke).
    struct FastHeaders {
        var invocationType: String?
        var contentLength: String?
        var logType: String?
        var traceID: String?
        var tenantID: String?
        /// `Transfer-Encoding`, `Expect`, a client context, `Connection: close`, or one of the
        /// headers above twice: the route answers these.
        var leftToRoute = false

        init(_ fields: HTTPFields) {
            for field in fields {
                switch field.name {
                case .amzInvocationType: Self.take(field, into: &invocationType, &leftToRoute)
                case .contentLength: Self.take(field, into: &contentLength, &leftToRoute)
                case .amzLogType: Self.take(field, into: &logType, &leftToRoute)
                case .amznTraceID: Self.take(field, into: &traceID, &leftToRoute)
                case .amzTenantID: Self.take(field, into: &tenantID, &leftToRoute)
                case .transferEncoding, .expect, .amzClientContext: leftToRoute = true
                case .connection where field.value == "close": leftToRoute = true
                default: break
                }
            }
        }

        private static func take(_ field: HTTPField, into value: inout String?, _ leftToRoute: inout Bool) {
            if value == nil { value = field.value } else { leftToRoute = true }
        }
    }

    /// The fast path's invocation for `head`, or `nil` when the route must answer it: anything but
    /// `POST /2015-03-31/functions/NAME/invocations` naming a served function by name without
    /// qualifier, of invocation type `RequestResponse` or `Event`, with a declared body within that
    /// type's limit, no `Expect`, no client context, and `Connection` not `close`.
    func fastInvocation(for head: HTTPRequest) -> FastInvocation? {
        let headers = FastHeaders(head.headerFields)
        let isEvent: Bool
        switch headers.invocationType {
        case nil, "RequestResponse": isEvent = false
        case "Event": isEvent = true
        default: return nil
        }
        let limit = isEvent ? Self.maximumAsyncPayload : Self.maximumSyncPayload
        guard !headers.leftToRoute, head.method == .post, let path = head.path, let name = Self.invokedName(path),
            let entry = catalog.entry(named: String(name)), entry.configuration.publishedLayers.isEmpty,
            let length = headers.contentLength.flatMap({ Int($0) }), (0...limit).contains(length),
            headers.logType.map({ $0 == "None" || $0 == "Tail" }) ?? true
        else { return nil }
        return FastInvocation(function: entry.configuration, head: head, headers: headers, declaredLength: length, isEvent: isEvent)
    }

    /// NAME in `/2015-03-31/functions/NAME/invocations` (or with a trailing slash) when it is a
    /// plain function name: no query, percent-escape, ARN or qualifier.
    private static func invokedName(_ path: String) -> Substring? {
        let prefix = "/2015-03-31/functions/".utf8
        let suffix = "/invocations".utf8
        var rest = Substring(path).utf8
        guard rest.starts(with: prefix) else { return nil }
        rest = rest.dropFirst(prefix.count)
        if rest.last == UInt8(ascii: "/") { rest = rest.dropLast() }
        guard rest.count > suffix.count, rest.suffix(suffix.count).elementsEqual(suffix) else { return nil }
        let name = rest.dropLast(suffix.count)
        guard name.allSatisfy(Self.isNameByte) else { return nil }
        return Substring(name)
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }

    /// The request for the function, or `nil` when the body is not JSON (the route answers that).
    func request(for invocation: FastInvocation, body: ByteBuffer) -> InvocationRequest? {
        let payload = body.readableBytes > 0 ? body : ByteBuffer(string: "{}")
        guard (try? StrictJSON.validate(payload)) != nil else { return nil }
        let headers = invocation.headers
        return InvocationRequest(
            requestID: Self.newRequestID(), payload: payload,
            invokedFunctionARN: account.functionARN(invocation.function.functionName, qualifier: nil),
            traceID: headers.traceID ?? InvocationIdentifiers.traceHeader(), tenantID: headers.tenantID,
            wantsLogTail: !invocation.isEvent && headers.logType == "Tail")
    }

    /// The route's `200` for `result`, head and body.
    static func response(to request: InvocationRequest, _ result: InvocationResult) -> (HTTPResponse, ByteBuffer) {
        var fields = HTTPFields()
        fields.reserveCapacity(7)
        fields.append(HTTPField(name: .amznRequestID, value: request.requestID))
        addResultHeaders(of: result, to: &fields)
        fields.append(HTTPField(name: .contentLength, value: String(result.payload.readableBytes)))
        fields.append(HTTPField(name: .date, value: HTTPDate.now()))
        return (HTTPResponse(status: .ok, headerFields: fields), result.payload)
    }
}
