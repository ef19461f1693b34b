import ServiceLifecycle

extension QueueEngine: Service {
    /// Waits for graceful shutdown, then ends every long poll (they answer with no messages), so
    /// the HTTP server can drain at once instead of holding shutdown for up to 20 s.
    /// List it after the HTTP server in the `ServiceGroup`, so it is shut down before the server.
    public func run() async throws {
        try? await gracefulShutdown()
        signals.close()
    }
}
