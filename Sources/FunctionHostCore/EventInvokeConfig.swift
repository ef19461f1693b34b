import Foundation
import Synchronization

/// A function's asynchronous-invocation settings (`EventInvokeConfig`): retries, maximum event
/// age and the `OnSuccess` / `OnFailure` destinations.
///
/// `nil` fields are unset and take Lambda's defaults (``defaultMaximumRetryAttempts``,
/// ``defaultMaximumEventAgeInSeconds``, no destination). Ranges are checked by whoever builds
/// one (template loader, control plane): retries 0–2, event age 60–21600 s.
public struct EventInvokeConfig: Sendable, Hashable {
    public static let defaultMaximumRetryAttempts = 2
    public static let defaultMaximumEventAgeInSeconds = 21600
    public static let retryAttemptsRange = 0...2
    public static let eventAgeRange = 60...21600

    public var maximumRetryAttempts: Int?
    public var maximumEventAgeInSeconds: Int?
    /// Destination ARN (SQS queue or Lambda function) for successful events.
    public var onSuccess: String?
    /// Destination ARN (SQS queue or Lambda function) for events that finally failed.
    public var onFailure: String?
    /// When the configuration was last put or updated.
    public var lastModified: Date

    public init(
        maximumRetryAttempts: Int? = nil, maximumEventAgeInSeconds: Int? = nil, onSuccess: String? = nil,
        onFailure: String? = nil, lastModified: Date = Date()
    ) {
        self.maximumRetryAttempts = maximumRetryAttempts
        self.maximumEventAgeInSeconds = maximumEventAgeInSeconds
        self.onSuccess = onSuccess
        self.onFailure = onFailure
        self.lastModified = lastModified
    }

    public var effectiveMaximumRetryAttempts: Int { maximumRetryAttempts ?? Self.defaultMaximumRetryAttempts }
    public var effectiveMaximumEventAgeInSeconds: Int {
        maximumEventAgeInSeconds ?? Self.defaultMaximumEventAgeInSeconds
    }
}

/// The live `EventInvokeConfig` of every served function: seeded from the template, changed by
/// `Put/Update/DeleteFunctionEventInvokeConfig`, read by the async dispatcher before each decision.
///
/// Thread-safe. Changes made through the API last until the host stops (the template is the
/// source of truth at start-up). Functions are named by their function name.
public final class EventInvokeConfigRegistry: Sendable {
    private let configs: Mutex<[String: EventInvokeConfig]>

    public init(_ functions: [FunctionConfiguration]) {
        var configs: [String: EventInvokeConfig] = [:]
        for function in functions {
            if let config = function.eventInvokeConfig { configs[function.functionName] = config }
        }
        self.configs = Mutex(configs)
    }

    /// The function's configuration, or `nil` when none is set (defaults apply).
    public func config(of functionName: String) -> EventInvokeConfig? {
        configs.withLock { $0[functionName] }
    }

    /// Sets (or with `nil` removes) the function's configuration.
    public func setConfig(_ config: EventInvokeConfig?, of functionName: String) {
        configs.withLock { $0[functionName] = config }
    }
}
