import FunctionHostCore

/// Everything `fnhost serve` and `fnhost invoke` are configured with, snapshotted once.
public struct HostConfiguration: Sendable {
    public var templatePath: String
    public var host: String
    public var port: Int
    public var stateDirectory: String
    public var account: AccountContext
    public var parameterOverrides: [String: String]
    /// Where function logs are echoed: 1 (stdout) for `serve`, 2 (stderr) for a local `invoke`.
    public var consoleDescriptor: Int32

    public init(
        templatePath: String = "template.yaml", host: String = "127.0.0.1", port: Int = 3001,
        stateDirectory: String = ".fnhost", account: AccountContext = AccountContext(),
        parameterOverrides: [String: String] = [:], consoleDescriptor: Int32 = 1
    ) {
        self.templatePath = templatePath
        self.host = host
        self.port = port
        self.stateDirectory = stateDirectory
        self.account = account
        self.parameterOverrides = parameterOverrides
        self.consoleDescriptor = consoleDescriptor
    }

    var logDirectory: String { stateDirectory + "/logs" }
}
