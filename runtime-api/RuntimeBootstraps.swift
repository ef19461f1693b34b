import Foundation

/// Where the bootstraps of the managed runtimes (`python/`, `node/`) are installed: beside
/// the `fnhost` executable, in its resource bundle.
public enum RuntimeBootstraps {
    /// `python/bootstrap.py`, run by the resolved `python3.X` interpreter.
    public static var python: String { path("python/bootstrap.py") }
    /// `python/fnhost_lambda_runtime.py`, the module `bootstrap.py` imports (compiled once per interpreter).
    public static var pythonRuntime: String { path("python/fnhost_lambda_runtime.py") }
    /// `node/bootstrap.mjs`, run by the resolved `node` executable.
    public static var node: String { path("node/bootstrap.mjs") }

    private static func path(_ relative: String) -> String {
        Bundle.module.bundleURL.appendingPathComponent(relative).path
    }
}
