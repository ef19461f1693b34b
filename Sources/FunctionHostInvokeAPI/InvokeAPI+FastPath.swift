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
        var declaredLength: Int
        /// `Event`: queued and answered `202` once committed; otherwise run and answered `200`.
        var isEvent: Bool
    }

    /// The fast path's invocation for `head`, or `nil` when the route must answer it: anything but
    /// `POST /2015-03-31/functions/NAME/invocations` naming a served function by name without
    /// qualifier, of invocation type `RequestResponse` or `Event`, with a declared body within that
    /// type's limit, no `Expect`, no client context, and `Connection` not `close`.
    func fastInvocation(for head: HTTPRequest) -> FastInvocation? {
        let isEvent: Bool
        switch head.headerFields[.amzInvocationType] {
        case nil, "RequestResponse": isEvent = false
        case "Event": isEvent = true
        default: return nil
        }
        let limit = isEvent ? Self.maximumAsyncPayload : Self.maximumSyncPayload
        guard head.method == .post, let path = head.path, let name = Self.invokedName(path),
            let entry = catalog.entry(named: String(name)), entry.configuration.publishedLayers.isEmpty,
            let length = head.headerFields[.contentLength].flatMap({ Int($0) }), (0...limit).contains(length),
            head.headerFields[.transferEncoding] == nil, head.headerFields[.expect] == nil,
            head.headerFields[.connection] != "close", head.headerFields[.amzClientContext] == nil,
            head.headerFields[.amzLogType].map({ $0 == "None" || $0 == "Tail" }) ?? true
        else { return nil }
        return FastInvocation(function: entry.configuration, head: head, declaredLength: length, isEvent: isEvent)
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
        let fields = invocation.head.headerFields
        return InvocationRequest(
            requestID: Self.newRequestID(), payload: payload,
            invokedFunctionARN: account.functionARN(invocation.function.functionName, qualifier: nil),
            traceID: fields[.amznTraceID] ?? InvocationIdentifiers.traceHeader(), tenantID: fields[.amzTenantID],
            wantsLogTail: !invocation.isEvent && fields[.amzLogType] == "Tail")
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
