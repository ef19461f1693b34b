import FunctionHostCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension InvokeAPI {
    /// Page size `ListFunctions` uses when the caller gives no `MaxItems` (the service's cap too).
    static let listPageSize = 50

    /// `GET /2015-03-31/functions`: paginated with `Marker` / `MaxItems`.
    func listFunctions(_ request: Request) -> Response {
        let requestID = Self.newRequestID()
        let query = request.uri.queryParameters
        let marker: String? = query.get("Marker").map { String($0) }
        let maxItems: String? = query.get("MaxItems").map { String($0) }
        guard let start = marker.map({ Int($0) }) ?? 0, (0...catalog.entries.count).contains(start) else {
            return LambdaAPIError.invalidParameter("Invalid Marker: \(marker ?? "")").response(requestID: requestID)
        }
        guard let requested = maxItems.map({ Int($0) }) ?? Self.listPageSize, (1...10_000).contains(requested) else {
            return LambdaAPIError.validation(
                value: maxItems ?? "", field: "maxItems",
                constraint: "Member must have value less than or equal to 10000 and greater than or equal to 1"
            ).response(requestID: requestID)
        }
        let pageSize = min(requested, Self.listPageSize)
        let page = catalog.entries[start..<min(start + pageSize, catalog.entries.count)]
        struct Listing: Encodable {
            var Functions: [FunctionConfigurationDocument]
            var NextMarker: String?
        }
        let next = page.endIndex < catalog.entries.count ? String(page.endIndex) : nil
        let functions = page.map { entry in
            var document = FunctionConfigurationDocument(entry, account: account)
            document.State = nil
            document.LastUpdateStatus = nil
            return document
        }
        return Self.json(Listing(Functions: functions, NextMarker: next), requestID: requestID)
    }

    /// `GET /2015-03-31/functions/{name}` and `…/{name}/configuration`.
    func getFunction(_ request: Request, _ context: ServeRequestContext, configurationOnly: Bool) -> Response {
        let requestID = Self.newRequestID()
        do throws(LambdaAPIError) {
            let (entry, _) = try resolveFunction(request, context)
            let configuration = FunctionConfigurationDocument(entry, account: account)
            if configurationOnly { return Self.json(configuration, requestID: requestID) }
            struct Code: Encodable {
                var RepositoryType = "S3"
                var Location: String
            }
            struct Concurrency: Encodable { var ReservedConcurrentExecutions: Int }
            struct Function: Encodable {
                var Configuration: FunctionConfigurationDocument
                var Code: Code
                var Concurrency: Concurrency?
            }
            let location = URL(fileURLWithPath: entry.configuration.codeDirectory).absoluteString
            let reserved = concurrency?.reservedConcurrency(of: entry.configuration.functionName)
            return Self.json(
                Function(
                    Configuration: configuration, Code: Code(Location: location),
                    Concurrency: reserved.map { Concurrency(ReservedConcurrentExecutions: $0) }),
                requestID: requestID)
        } catch {
            return error.response(requestID: requestID)
        }
    }

    /// `GET /2016-08-19/account-settings`.
    func accountSettings() -> Response {
        struct Limits: Encodable {
            var TotalCodeSize = 80_530_636_800
            var CodeSizeUnzipped = 262_144_000
            var CodeSizeZipped = 52_428_800
            var ConcurrentExecutions: Int
            var UnreservedConcurrentExecutions: Int
        }
        struct Usage: Encodable {
            var TotalCodeSize: Int
            var FunctionCount: Int
        }
        struct Settings: Encodable {
            var AccountLimit: Limits
            var AccountUsage: Usage
        }
        let usage = Usage(
            TotalCodeSize: catalog.entries.reduce(0) { $0 + $1.codeSize }, FunctionCount: catalog.entries.count)
        let limits = Limits(
            ConcurrentExecutions: concurrency?.accountLimit ?? 1000,
            UnreservedConcurrentExecutions: concurrency?.unreservedConcurrency() ?? 1000)
        return Self.json(Settings(AccountLimit: limits, AccountUsage: usage), requestID: Self.newRequestID())
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, requestID: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.amznRequestID] = requestID
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
