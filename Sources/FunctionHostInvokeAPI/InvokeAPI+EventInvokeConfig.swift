import FunctionHostCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension InvokeAPI {
    /// `Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s)` (spec: runtime-and-invoke-api 5).
    /// Configurations apply to `$LATEST`; Put replaces, Update merges into an existing one.
    func addEventInvokeConfigRoutes(to router: Router<ServeRequestContext>) {
        guard let configs = eventInvokeConfigs else { return }
        let path = "/2019-09-25/functions/:name/event-invoke-config"
        router.put(RouterPath(path)) { request, context in
            await self.answer { requestID throws(LambdaAPIError) in
                let function = try self.resolveFunction(request, context).0.configuration
                let body = try await Self.readObject(request)
                let config = try Self.merge(body, into: EventInvokeConfig())
                configs.setConfig(config, of: function.functionName)
                return Self.json(self.document(config, of: function), requestID: requestID)
            }
        }
        router.post(RouterPath(path)) { request, context in
            await self.answer { requestID throws(LambdaAPIError) in
                let function = try self.resolveFunction(request, context).0.configuration
                let body = try await Self.readObject(request)
                guard var config = configs.config(of: function.functionName) else {
                    throw self.eventInvokeConfigNotFound(function)
                }
                config = try Self.merge(body, into: config)
                config.lastModified = Date()
                configs.setConfig(config, of: function.functionName)
                return Self.json(self.document(config, of: function), requestID: requestID)
            }
        }
        router.get(RouterPath(path)) { request, context in
            await self.answer { requestID throws(LambdaAPIError) in
                let function = try self.resolveFunction(request, context).0.configuration
                guard let config = configs.config(of: function.functionName) else {
                    throw self.eventInvokeConfigNotFound(function)
                }
                return Self.json(self.document(config, of: function), requestID: requestID)
            }
        }
        router.delete(RouterPath(path)) { request, context in
            await self.answer { requestID throws(LambdaAPIError) in
                let function = try self.resolveFunction(request, context).0.configuration
                guard configs.config(of: function.functionName) != nil else {
                    throw self.eventInvokeConfigNotFound(function)
                }
                configs.setConfig(nil, of: function.functionName)
                return Self.noContent(requestID: requestID)
            }
        }
        router.get(RouterPath(path + "/list")) { request, context in
            await self.answer { requestID throws(LambdaAPIError) in
                let function = try self.resolveFunction(request, context).0.configuration
                let items = configs.config(of: function.functionName).map { [self.document($0, of: function)] } ?? []
                return Self.json(EventInvokeConfigList(FunctionEventInvokeConfigs: items), requestID: requestID)
            }
        }
    }

    func eventInvokeConfigNotFound(_ function: FunctionConfiguration) -> LambdaAPIError {
        LambdaAPIError(
            status: .notFound, code: "ResourceNotFoundException",
            message: "The function \(account.functionARN(function.functionName, qualifier: "$LATEST")) doesn't have an EventInvokeConfig",
            messageKey: "Message")
    }

    func document(_ config: EventInvokeConfig, of function: FunctionConfiguration) -> EventInvokeConfigDocument {
        EventInvokeConfigDocument(
            LastModified: config.lastModified.timeIntervalSince1970,
            FunctionArn: account.functionARN(function.functionName, qualifier: "$LATEST"),
            MaximumRetryAttempts: config.maximumRetryAttempts, MaximumEventAgeInSeconds: config.maximumEventAgeInSeconds,
            DestinationConfig: .init(OnSuccess: .init(Destination: config.onSuccess), OnFailure: .init(Destination: config.onFailure)))
    }

    static func readObject(_ request: Request) async throws(LambdaAPIError) -> [String: Any] {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 64 * 1024)
        } catch {
            throw .invalidContent("Could not read the request body: \(error)")
        }
        if body.readableBytes == 0 { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw .invalidContent("Could not parse request body into json")
        }
        return object
    }

    /// Applies the fields present in `body` to `config` (Put starts from an empty one).
    static func merge(_ body: [String: Any], into config: EventInvokeConfig) throws(LambdaAPIError) -> EventInvokeConfig {
        var config = config
        func integer(_ key: String, _ range: ClosedRange<Int>) throws(LambdaAPIError) -> Int? {
            guard let raw = body[key] else { return nil }
            let field = key.prefix(1).lowercased() + key.dropFirst()
            guard let value = raw as? Int else {
                throw .validation(value: "\(raw)", field: field, constraint: "Member must be an integer")
            }
            if value < range.lowerBound {
                throw .validation(value: "\(value)", field: field, constraint: "Member must have value greater than or equal to \(range.lowerBound)")
            }
            if value > range.upperBound {
                throw .validation(value: "\(value)", field: field, constraint: "Member must have value less than or equal to \(range.upperBound)")
            }
            return value
        }
        if let value = try integer("MaximumRetryAttempts", EventInvokeConfig.retryAttemptsRange) {
            config.maximumRetryAttempts = value
        }
        if let value = try integer("MaximumEventAgeInSeconds", EventInvokeConfig.eventAgeRange) {
            config.maximumEventAgeInSeconds = value
        }
        if let destinations = body["DestinationConfig"] as? [String: Any] {
            func destination(_ key: String) throws(LambdaAPIError) -> String?? {
                guard let entry = destinations[key] as? [String: Any] else { return .none }
                guard let arn = entry["Destination"] as? String, !arn.isEmpty else { return .some(nil) }
                guard arn.hasPrefix("arn:aws:sqs:") || arn.hasPrefix("arn:aws:lambda:"), arn.count <= 350 else {
                    throw .invalidParameter(
                        "The destination ARN \(arn) is invalid: fnhost delivers to SQS queues and Lambda functions.")
                }
                return .some(arn)
            }
            if let onSuccess = try destination("OnSuccess") { config.onSuccess = onSuccess }
            if let onFailure = try destination("OnFailure") { config.onFailure = onFailure }
        }
        config.lastModified = Date()
        return config
    }
}

/// `FunctionEventInvokeConfig`: `LastModified` in epoch seconds; both destinations always present.
struct EventInvokeConfigDocument: Encodable {
    var LastModified: Double
    var FunctionArn: String
    var MaximumRetryAttempts: Int?
    var MaximumEventAgeInSeconds: Int?
    var DestinationConfig: Destinations

    struct Destinations: Encodable {
        var OnSuccess: Destination
        var OnFailure: Destination
    }

    struct Destination: Encodable {
        var Destination: String?
    }
}

/// `ListFunctionEventInvokeConfigsResponse`.
struct EventInvokeConfigList: Encodable {
    var FunctionEventInvokeConfigs: [EventInvokeConfigDocument]
}
