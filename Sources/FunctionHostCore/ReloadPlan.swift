/// What `fnhost serve` watches for hot reload, and what a batch of changed paths means: which
/// functions to drain, whether merged layers must be rebuilt, whether the template changed.
///
/// Pure: the watcher reports paths, this decides, the host acts.
public struct ReloadPlan: Sendable {
    /// What one batch of changes asks for.
    public struct Actions: Sendable, Hashable {
        /// Functions (by name) whose workers must be replaced, in catalog order.
        public var drain: [String] = []
        /// A layer changed: merged layer directories must be prepared again before draining.
        public var layersChanged = false
        /// The template (or a nested template) changed: the catalog must be loaded again.
        public var templateChanged = false
        /// The changed paths, for the log line.
        public var paths: [String] = []

        public var isEmpty: Bool { drain.isEmpty && !templateChanged }
    }

    /// Files whose change reloads the catalog.
    public var templates: [String]
    /// Directories whose changes never count: the state directory (logs, merged layers, inline
    /// code), which sits inside the code directory of a function with `CodeUri: .`.
    public var ignored: [String]
    private var functions: [(name: String, code: String, layers: [String])]

    public init(templates: [String], functions: [FunctionConfiguration], ignoring ignored: [String] = []) {
        self.templates = templates
        self.ignored = ignored
        self.functions = functions.map { ($0.functionName, $0.codeDirectory, $0.layers) }
    }

    /// Directories to watch, recursively: code directories and layer sources (a .zip layer's directory).
    public var watchedDirectories: [String] {
        var seen: Set<String> = []
        var directories: [String] = []
        for path in functions.flatMap({ [$0.code] + $0.layers }) + templates {
            let directory = path.hasSuffix(".zip") || templates.contains(path) ? Self.parent(of: path) : path
            if seen.insert(directory).inserted { directories.append(directory) }
        }
        return directories
    }

    /// Paths that never mean a change of code: bytecode caches and editors' scratch files.
    public static func isNoise(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return path.contains("/__pycache__/") || path.hasSuffix("/__pycache__") || name.hasSuffix(".pyc")
            || name.hasSuffix(".swp") || name.hasSuffix(".swx") || name.hasSuffix("~") || name.hasPrefix(".#")
            || name == "4913"
    }

    /// The actions for a batch of changed paths.
    public func actions(for changed: [String]) -> Actions {
        var actions = Actions()
        let paths = changed.filter { path in !Self.isNoise(path) && !ignored.contains { Self.path(path, isWithin: $0) }
        }
        actions.paths = paths
        var drain: Set<String> = []
        for path in paths {
            if templates.contains(path) { actions.templateChanged = true }
            for function in functions {
                if Self.path(path, isWithin: function.code) { drain.insert(function.name) }
                if function.layers.contains(where: { Self.path(path, isWithin: $0) }) {
                    drain.insert(function.name)
                    actions.layersChanged = true
                }
            }
        }
        actions.drain = functions.map(\.name).filter(drain.contains)
        return actions
    }

    static func path(_ path: String, isWithin root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
