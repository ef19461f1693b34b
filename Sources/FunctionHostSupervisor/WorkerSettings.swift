import FunctionHostCore

/// Host-wide facts every worker is started with, fixed at start-up.
public struct WorkerSettings: Sendable {
    /// Path of the `fnhost-launch` executable.
    public var launcher: String
    /// Read end of the lifeline pipe, inherited by every launcher (see ``Lifeline``).
    public var lifeline: Int32
    /// How workers are confined: mount namespace and private root, uid, seccomp (see ``WorkerSandbox``).
    public var sandbox: WorkerSandbox
    public var account: AccountContext
    public var interpreters: RuntimeInterpreters
    public var credentials: [String: String]
    /// Where each sandboxed worker's disk-backed `/tmp` comes from; `nil`: a tmpfs of the `EphemeralStorage` size.
    public var scratch: ScratchVolumes?
    /// Launchers started ahead in their cgroups, taken by cold starts; `nil`: each worker spawns its own.
    public var standby: StandbyLaunchers?

    public init(
        launcher: String, lifeline: Int32, sandbox: WorkerSandbox, account: AccountContext,
        interpreters: RuntimeInterpreters, credentials: [String: String], scratch: ScratchVolumes? = nil
    ) {
        self.scratch = scratch
        self.launcher = launcher
        self.lifeline = lifeline
        self.sandbox = sandbox
        self.account = account
        self.interpreters = interpreters
        self.credentials = credentials
    }
}
