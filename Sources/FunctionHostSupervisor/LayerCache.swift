import Foundation
import Glibc

/// Merges each distinct, ordered list of layers (directories or .zip files) into one directory
/// that workers see read-only at `/opt`: built once, at start-up, and reused by every worker.
///
/// Merging follows Lambda: layers are applied lowest first and a later layer's file replaces an
/// earlier one's. A merged directory lives under `STATE_DIR/layers/KEY`, where KEY hashes the
/// sources' paths, sizes and modification times, so an unchanged list is reused across restarts
/// and an edited layer gets a fresh directory. Zips are extracted with `unzip` into a scratch
/// directory first, then merged like a directory; symlinks are copied as links, never followed,
/// so one layer cannot write through another's link. Throws ``Failure`` naming the layer.
public struct LayerCache: Sendable {
    /// A layer that could not be merged; `description` is one line.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let directory: String

    /// - Parameter directory: where merged layers are kept; made absolute, since the launcher binds it.
    public init(directory: String) {
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
    }

    /// The merged directory for every distinct non-empty list in `lists`.
    public func prepare(_ lists: some Sequence<[String]>) throws(Failure) -> [[String]: String] {
        var roots: [[String]: String] = [:]
        for layers in Set(lists) where !layers.isEmpty {
            roots[layers] = try merged(layers)
        }
        return roots
    }

    /// Builds (or finds) the merged directory of one list.
    func merged(_ layers: [String]) throws(Failure) -> String {
        let target = directory + "/" + Self.key(layers)
        if FileManager.default.fileExists(atPath: target) { return target }
        let partial = target + ".partial-\(getpid())"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(partial): \(error.localizedDescription)")
        }
        _ = chmod(partial, 0o755)
        for (index, layer) in layers.enumerated() {
            if layer.hasSuffix(".zip") {
                let scratch = partial + ".zip-\(index)"
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
                guard let executable = RuntimeInterpreters.findExecutable("unzip", in: searchPath) else {
                    throw Failure(description: "the layer \(layer) is a .zip and unzip is not on PATH (scripts/install-system-deps installs it)")
                }
                let unzip = ProcessSpawner.run([executable, "-qq", "-o", layer, "-d", scratch])
                guard unzip.status == 0 else {
                    throw Failure(
                        description: "cannot extract the layer \(layer): unzip exited with \(unzip.status): "
                            + unzip.output.split(separator: "\n").prefix(2).joined(separator: " "))
                }
                try merge(scratch, into: partial, layer: layer)
            } else {
                try merge(layer, into: partial, layer: layer)
            }
        }
        // Another host on the same state dir may have finished the same list first: either copy is right.
        if rename(partial, target) != 0 {
            try? FileManager.default.removeItem(atPath: partial)
            guard FileManager.default.fileExists(atPath: target) else {
                throw Failure(description: "cannot move the merged layers to \(target): \(String(cString: strerror(errno)))")
            }
        }
        return target
    }

    /// Copies the tree at `source` over `target`: the source's entries replace the target's.
    private func merge(_ source: String, into target: String, layer: String) throws(Failure) {
        guard let entries = FileManager.default.enumerator(atPath: source) else {
            throw Failure(description: "cannot read the layer \(layer)")
        }
        let manager = FileManager.default
        while let relative = entries.nextObject() as? String {
            let from = source + "/" + relative
            let to = target + "/" + relative
            var info = stat()
            guard lstat(from, &info) == 0 else { continue }
            var existing = stat()
            let exists = lstat(to, &existing) == 0
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            do {
                if isDirectory {
                    // A directory merges into a directory; anything else in its place is replaced.
                    if exists, (existing.st_mode & S_IFMT) == S_IFDIR { continue }
                    if exists { try manager.removeItem(atPath: to) }
                    try manager.createDirectory(atPath: to, withIntermediateDirectories: false)
                    _ = chmod(to, 0o755)
                } else {
                    if exists { try manager.removeItem(atPath: to) }
                    if (info.st_mode & S_IFMT) == S_IFLNK {
                        try manager.createSymbolicLink(
                            atPath: to, withDestinationPath: manager.destinationOfSymbolicLink(atPath: from))
                    } else if (info.st_mode & S_IFMT) == S_IFREG {
                        try manager.copyItem(atPath: from, toPath: to)
                        // Readable (and, if it was, executable) by the worker's uid, as Lambda extracts layers.
                        _ = chmod(to, (info.st_mode & 0o111) != 0 ? 0o755 : 0o644)
                    }
                }
            } catch {
                throw Failure(description: "cannot merge \(relative) of the layer \(layer): \(error.localizedDescription)")
            }
        }
    }

    /// A stable hash of the layers' paths and, for every file, its path, size and modification time.
    static func key(_ layers: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
        }
        for layer in layers {
            mix("layer\0\(layer)\0")
            var info = stat()
            if lstat(layer, &info) == 0 { mix("\(info.st_size)\0\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)\0") }
            guard let entries = FileManager.default.enumerator(atPath: layer) else { continue }
            while let relative = entries.nextObject() as? String {
                guard lstat(layer + "/" + relative, &info) == 0 else { continue }
                mix("\(relative)\0\(info.st_mode)\0\(info.st_size)\0\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)\0")
            }
        }
        return String(hash, radix: 16)
    }
}
