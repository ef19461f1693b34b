import FunctionHostCore

/// Host-wide facts every worker is started with, fixed at start-up.
public struct WorkerSettings: Sendable {
    /// Path of the `fnhost-launch` executable.
    public var launcher: String
    /// Read end of the lifeline pipe, inherited by every launcher (see ``Lifeline``).
    public var lifeline: Int32
    /// Whether workers get a private mount namespace with their code at `/var/task` (needs root).
    public var isolateTaskRoot: Bool
    public var account: AccountContext
    public var interpreters: RuntimeInterpreters
    public var credentials: [String: String]

    public init(
        launcher: String, lifeline: Int32, isolateTaskRoot: Bool, account: AccountContext,
        interpreters: RuntimeInterpreters, credentials: [String: String]
    ) {
        self.launcher = launcher
        self.lifeline = lifeline
        self.isolateTaskRoot = isolateTaskRoot
        self.account = account
        self.interpreters = interpreters
        self.credentials = credentials
    }
}
