import Crypto
import Foundation

/// The functions a host serves, looked up the way callers name them, with the metadata the
/// control plane reports (code size and hash, revision, last modification).
public struct FunctionCatalog: Sendable {
    /// A function and what `GetFunction` says about it.
    public struct Entry: Sendable {
        public var configuration: FunctionConfiguration
        public var codeSize: Int
        /// Base64 SHA-256 over the code directory's file list (paths, sizes, modification times).
        public var codeSha256: String
        public var revisionID: String
        /// `YYYY-MM-DDThh:mm:ss.sss+0000`.
        public var lastModified: String
    }

    public let entries: [Entry]
    private let byName: [String: Int]

    public init(_ functions: [FunctionConfiguration], loadedAt date: Date = Date()) {
        let lastModified = LambdaLogFormat.timestamp(date).dropLast() + "+0000"
        entries = functions.map { function in
            let digest = Self.digest(directory: function.codeDirectory)
            return Entry(
                configuration: function, codeSize: digest.size, codeSha256: digest.sha256,
                revisionID: UUID().uuidString.lowercased(), lastModified: String(lastModified))
        }
        var byName: [String: Int] = [:]
        for (index, entry) in entries.enumerated() {
            byName[entry.configuration.logicalID] = index
        }
        for (index, entry) in entries.enumerated() {
            byName[entry.configuration.functionName] = index
        }
        self.byName = byName
    }

    /// Finds a function by its name (or, as `sam local` allows, its logical id).
    public func entry(named name: String) -> Entry? {
        byName[name].map { entries[$0] }
    }

    public var functions: [FunctionConfiguration] { entries.map(\.configuration) }

    private static func digest(directory: String) -> (size: Int, sha256: String) {
        var hasher = SHA256()
        var size = 0
        let keys: [URLResourceKey] = [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey]
        let files = FileManager.default.enumerator(
            at: URL(fileURLWithPath: directory), includingPropertiesForKeys: keys)
        let urls = (files?.compactMap { $0 as? URL } ?? []).sorted { $0.path < $1.path }
        for url in urls {
            guard let values = try? url.resourceValues(forKeys: Set(keys)), values.isRegularFile == true else { continue }
            let fileSize = values.fileSize ?? 0
            size += fileSize
            let stamp = values.contentModificationDate?.timeIntervalSince1970 ?? 0
            hasher.update(data: Data("\(url.path)\0\(fileSize)\0\(stamp)\n".utf8))
        }
        return (size, Data(hasher.finalize()).base64EncodedString())
    }
}

/// Accepts `Event` invocations for later execution (the seam between the Invoke API and the queue).
public protocol AsyncInvocationSink: Sendable {
    /// Returns once the event is accepted; throws if it cannot be.
    func enqueue(_ function: FunctionConfiguration, _ request: InvocationRequest) async throws

    /// The same for callers on an event loop, without a task: when the sink takes events now,
    /// returns true and `completion` gets the outcome once the event is accepted or could not be
    /// (on any thread); otherwise returns false, calls nothing, and the caller takes
    /// ``enqueue(_:_:)``.
    func enqueueIfAccepting(
        _ function: FunctionConfiguration, _ request: InvocationRequest,
        completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) -> Bool
}

extension AsyncInvocationSink {
    /// Sinks that need a task never take the event-loop path.
    public func enqueueIfAccepting(
        _ function: FunctionConfiguration, _ request: InvocationRequest,
        completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) -> Bool {
        false
    }
}
