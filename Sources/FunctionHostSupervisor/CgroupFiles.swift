import Foundation
import Glibc
import Synchronization

/// Small, synchronous helpers over cgroupfs: where the hierarchies are mounted, which cgroup
/// this process is in, and reading/writing control files (errors carry the path and errno).
enum CgroupFiles {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Mount points by filesystem type (`cgroup2`) or, for v1, by controller name (`memory`, `cpu`).
    static func mountPoints() -> (v2: String?, v1: [String: String]) {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return (nil, [:]) }
        var v2: String?
        var v1: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " ")
            let right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            let mountPoint = String(left[4])
            if right[0] == "cgroup2" {
                v2 = v2 ?? mountPoint
            } else if right[0] == "cgroup" {
                for option in right[2].split(separator: ",") where ["memory", "cpu"].contains(String(option)) {
                    v1[String(option)] = mountPoint
                }
            }
        }
        return (v2, v1)
    }

    /// This process's cgroup path in the v2 hierarchy (`0::/path`) or for a v1 controller.
    static func ownPath(controller: String?) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if let controller {
                if fields[1].split(separator: ",").contains(Substring(controller)) { return String(fields[2]) }
            } else if fields[0] == "0" && fields[1].isEmpty {
                return String(fields[2])
            }
        }
        return nil
    }

    static func write(_ value: String, to path: String) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let written = value.withCString { Glibc.write(descriptor, $0, strlen($0)) }
        guard written >= 0 else { throw Failure(description: "cannot write \(value) to \(path): \(String(cString: strerror(errno)))") }
    }

    static func read(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// The decimal number at the start of the open file `descriptor` (read again from offset 0,
    /// without allocating), or `nil`.
    static func readInteger(descriptor: Int32) -> Int? {
        guard descriptor >= 0 else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer -> Int? in
            let count = pread(descriptor, buffer.baseAddress, buffer.count, 0)
            guard count > 0 else { return nil }
            var value = 0
            var digits = 0
            for byte in buffer[..<count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { break }
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                value = shifted + Int(byte - UInt8(ascii: "0"))
                digits += 1
            }
            return digits > 0 ? value : nil
        }
    }

    /// The number after `key` in a flat-keyed file (`memory.events`, `memory.oom_control`).
    static func field(_ key: String, in path: String) -> Int? {
        guard let text = read(path) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Int(parts[1]) }
        }
        return nil
    }

    static func makeDirectory(_ path: String) throws(Failure) {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes a cgroup directory, retrying briefly while its last processes are being torn down;
    /// `killingMembers` SIGKILLs whatever process is still in it before each retry (a worker's
    /// cgroup only: one pass each time, so a process that forked meanwhile is found on the next).
    @discardableResult
    static func remove(_ path: String, patience: Duration = .milliseconds(500), killingMembers: Bool = false) -> Bool {
        let deadline = ContinuousClock.now.advanced(by: patience)
        while rmdir(path) != 0 {
            if errno == ENOENT { return true }
            guard errno == EBUSY, ContinuousClock.now < deadline else { return false }
            if killingMembers { killMembers(of: path) }
            usleep(2000)
        }
        return true
    }

    /// SIGKILLs every process listed in the cgroup's `cgroup.procs` (never this one).
    private static func killMembers(of path: String) {
        guard let listed = try? String(contentsOfFile: "\(path)/cgroup.procs", encoding: .utf8) else { return }
        for line in listed.split(separator: "\n") {
            guard let pid = pid_t(line), pid > 0, pid != getpid() else { continue }
            kill(pid, SIGKILL)
        }
    }

    private static let hostCount = Atomic<Int>(0)

    /// `fnhost-PID-N`: the directory of one host (several hosts may share a process, as tests do).
    static func newHostDirectoryName() -> String {
        "fnhost-\(getpid())-\(hostCount.add(1, ordering: .relaxed).newValue)"
    }

    /// Removes `fnhost-PID-N` directories under `parent` whose host process is gone (a host that
    /// was killed cannot clean up after itself), children first.
    static func removeStale(under parent: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for name in names where name.hasPrefix("fnhost-") {
            let pidText = name.dropFirst("fnhost-".count).prefix { $0 != "-" }
            guard let pid = Int32(pidText), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            let directory = "\(parent)/\(name)"
            let children = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for child in children where child.hasPrefix("w") {
                remove("\(directory)/\(child)", patience: .zero)
            }
            remove(directory, patience: .zero)
        }
    }
}
