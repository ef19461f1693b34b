import Foundation
import Glibc
import FunctionHost
import FunctionHostTesting
import Testing

private let template = Fixtures.root + "/sandbox/template.yaml"

/// Probed once: the sandbox needs root and mount namespaces; the syscall filter only seccomp.
private let sandbox = SandboxStatus.probe()
/// Set by `.ci/run` when it runs as root: a sandbox feature that falls back then fails its tests instead of skipping them.
private let sandboxRequired = ProcessInfo.processInfo.environment["FNHOST_REQUIRE_SANDBOX"] == "1"
private let fullSandbox = sandbox?.isFull == true || sandboxRequired
private let filtersSyscalls = sandbox?.filtersSyscalls == true || sandboxRequired
private let reason = "needs the full worker sandbox (root, mount namespaces): \(sandbox?.warning ?? "no fnhost-launch")"

/// True once `pid` no longer runs (absent, or a zombie waiting to be reaped).
private func processIsGone(_ pid: Int) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
}

/// The loopback ports this process listens on: `/proc/net/tcp` listeners whose socket inode is one of our descriptors.
private func ownLoopbackListeners() -> Set<String> {
    let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    let inodes = Set(
        descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
            .filter { $0.hasPrefix("socket:[") }.map { String($0.dropFirst(8).dropLast()) })
    // Read to the end: a busy machine's table is larger than one read of a procfs file.
    let table = FileHandle(forReadingAtPath: "/proc/net/tcp").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
    var ports: Set<String> = []
    for line in table.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: " ")
        guard fields.count > 9, fields[3] == "0A", inodes.contains(String(fields[9])),
            let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) })
        else { continue }
        ports.insert(String(port))
    }
    return ports
}

/// What `/proc/PID/stat` and `/proc/PID/status` say of one process.
private struct ProcessFacts {
    var pid: Int
    var parent: Int
    var group: Int
    var session: Int
    var uid: Int
    var oomScoreAdjustment: Int?

    /// Every process of the machine that is not a zombie.
    static func all() -> [ProcessFacts] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int($0) }.compactMap { read(pid: $0) }
    }

    static func read(pid: Int) -> ProcessFacts? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 4, fields[0] != "Z",
            let parent = Int(fields[1]), let group = Int(fields[2]), let session = Int(fields[3]),
            let uidLine = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }),
            let uid = uidLine.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        let adjustment = (try? String(contentsOfFile: "/proc/\(pid)/oom_score_adj", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return ProcessFacts(
            pid: pid, parent: parent, group: group, session: session, uid: uid, oomScoreAdjustment: adjustment)
    }
}

/// Whether this process (root, whose capabilities the launcher inherits) has capability number `bit` in effect.
private func hasCapability(_ bit: Int) -> Bool {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
        let mask = line.split(whereSeparator: \.isWhitespace).last.flatMap({ UInt64($0, radix: 16) })
    else { return false }
    return mask & (1 << UInt64(bit)) != 0
}

private func probe(_ host: TestHost, _ event: [String: Any], function: String = "Sandboxed") async throws
    -> [String: Any]
{
    let payload = String(decoding: try JSONSerialization.data(withJSONObject: event), as: UTF8.self)
    let answer = try await host.invoke(function, payload)
    #expect(answer.header("X-Amz-Function-Error") == nil, "\(answer.text)")
    return answer.json
}

/// Real workers inside the launcher's sandbox: what a function can see, write and call.
@Suite(.serialized) struct SandboxTests {
    /// `CAP_SYS_RESOURCE`'s bit in `/proc/PID/status`'s `CapEff`.
    static let sysResource = 24

    @Test func theFullSandboxIsAvailableWhereItIsRequired() {
        #expect(!sandboxRequired || sandbox?.isFull == true, "FNHOST_REQUIRE_SANDBOX=1: \(sandbox?.warning ?? "no fnhost-launch")")
    }

    @Test(.enabled(if: fullSandbox, Comment(rawValue: reason)))
    func aFunctionCannotUseAnotherWorkersRuntimeAPI() async throws {
        try await withFunctionHost(template: template) { host in
            // A warm neighbour: its runtime waits in GET /next on a listener the prober can find.
            _ = try await probe(host, ["uid": true], function: "Neighbour")
            // Only this process's listeners: other programs on the machine may run older hosts.
            let ours = ownLoopbackListeners()
            let result = try await probe(host, ["runtime_apis": ours.compactMap { Int($0) }])
            let answers = try #require(result["runtime_apis"] as? [String: String]).filter { ours.contains($0.key) }
            let served = answers.filter { $0.value.hasPrefix("HTTP/1.1 403") || $0.value.contains("Lambda-Runtime-") }
            #expect(served.isEmpty, "another worker's Runtime API answered a stranger: \(served)")
            #expect(answers.values.contains("closed"), "the neighbour's listener hangs up unanswered: \(answers)")
            let neighbour = try await probe(host, ["uid": true], function: "Neighbour")
            #expect(neighbour["uid"] != nil, "the neighbour still serves its own invocations")
        }
    }

    @Test(.enabled(if: fullSandbox, Comment(rawValue: reason)))
    func symlinksOutOfTheCodeResolveInsideTheSandbox() async throws {
        // The layout `sam build --build-in-source` leaves: links from the code to directories beside it.
        let project = FileManager.default.temporaryDirectory.appendingPathComponent("fnhost-links-\(UUID().uuidString)")
        let elsewhere = URL(fileURLWithPath: "/var/tmp/fnhost-links-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: project)
            try? FileManager.default.removeItem(at: elsewhere)
        }
        let code = project.appendingPathComponent("build/Fn")
        for directory in [code, project.appendingPathComponent("node_modules/left-pad"), elsewhere] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        try "relative".write(to: project.appendingPathComponent("node_modules/left-pad/index.txt"), atomically: true, encoding: .utf8)
        try "absolute".write(to: elsewhere.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        try #"{"file": true}"#.write(to: project.appendingPathComponent("settings.json"), atomically: true, encoding: .utf8)
        let links = [("node_modules", "../../node_modules"), ("shared", elsewhere.path), ("settings.json", "../../settings.json")]
        for (name, destination) in links {
            try FileManager.default.createSymbolicLink(atPath: code.appendingPathComponent(name).path, withDestinationPath: destination)
        }
        try """
            def handler(event, context):
                result = {}
                for path in event["read"]:
                    try:
                        with open(path) as handle:
                            result[path] = handle.read()
                    except OSError as error:
                        result[path] = type(error).__name__
                return result
            """.write(to: code.appendingPathComponent("app.py"), atomically: true, encoding: .utf8)
        let templatePath = project.appendingPathComponent("template.yaml").path
        try """
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Linked:
                Type: AWS::Serverless::Function
                Properties: {Runtime: python3.11, Handler: app.handler, CodeUri: build/Fn}
            """.write(toFile: templatePath, atomically: true, encoding: .utf8)
        try await withFunctionHost(template: templatePath) { host in
            let paths = ["/var/task/node_modules/left-pad/index.txt", "/var/task/shared/data.txt", "/var/task/settings.json"]
            let result = try await probe(host, ["read": paths], function: "Linked")
            #expect(result["/var/task/node_modules/left-pad/index.txt"] as? String == "relative")
            #expect(result["/var/task/shared/data.txt"] as? String == "absolute")
            #expect(result["/var/task/settings.json"] as? String == #"{"file": true}"#)
        }
    }

    @Test(.enabled(if: filtersSyscalls, Comment(rawValue: "needs seccomp: \(sandbox?.warning ?? "")")))
    func theSeccompPolicyRefusesEveryEscapeRoute() async throws {
        try await withFunctionHost(template: template) { host in
            let result = try await probe(host, ["escapes": true])
            let outcomes = try #require(result["escapes"] as? [String: String])
            #expect(outcomes.count == 32, "every probe ran: \(outcomes.keys.sorted())")
            let allowed: Set = ["AF_NETLINK_ROUTE", "thread", "personality_no_randomize"]
            for (name, outcome) in outcomes where !allowed.contains(name) {
                #expect(outcome == "EPERM", "\(name) must be refused with EPERM")
            }
            #expect(outcomes["personality_no_randomize"] == "ENOSYS", "only harmless personalities are allowed")
            #expect(outcomes["AF_NETLINK_ROUTE"] == "ok", "getifaddrs still works")
            #expect(outcomes["thread"] == "ok", "threads still start")
        }
    }

    @Test(.enabled(if: filtersSyscalls, Comment(rawValue: "needs seccomp: \(sandbox?.warning ?? "")")))
    func aWorkerHasNoTerminalAndCannotPushKeystrokes() async throws {
        try await withFunctionHost(template: template) { host in
            let result = try await probe(host, ["terminal": true])
            let terminal = try #require(result["terminal"] as? [String: Any])
            #expect(terminal["sid"] as? Int != Int(getsid(0)), "the worker runs in a session of its own")
            #expect(terminal["dev_tty"] as? String != "ok", "the worker has no controlling terminal")
            #expect(terminal["tiocsti"] as? [String: String] == ["0": "EPERM", "1": "EPERM", "2": "EPERM"])
            #expect(terminal["tioclinux"] as? [String: String] == ["0": "EPERM", "1": "EPERM", "2": "EPERM"])
        }
    }

    @Test(.enabled(if: fullSandbox, Comment(rawValue: reason)))
    func theHostsFilesAreNotVisible() async throws {
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let hostTemporary = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fnhost-sandbox-marker-\(UUID().uuidString)")
        try "host".write(to: hostTemporary, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: hostTemporary) }
        try await withFunctionHost(template: template) { host in
            let paths = [
                checkout, checkout + "/Package.swift", hostTemporary.path, host.stateDirectory, "/root/.pyenv/shims",
                "/var/task/app.py", "/usr/bin/env", "/etc/passwd",
            ]
            let result = try await probe(host, ["exists": paths, "uid": true])
            let exists = try #require(result["exists"] as? [String: Bool])
            #expect(exists[checkout] == false, "the project checkout must not be visible")
            #expect(exists[checkout + "/Package.swift"] == false)
            #expect(exists[hostTemporary.path] == false, "the host's /tmp must not be visible")
            #expect(exists[host.stateDirectory] == false, "the state directory must not be visible")
            #expect(exists["/root/.pyenv/shims"] == false, "home directories beyond a runtime's prefix must not be visible")
            #expect(exists["/var/task/app.py"] == true)
            #expect(exists["/usr/bin/env"] == true && exists["/etc/passwd"] == true)
            let ids = try #require(result["uid"] as? [Int])
            #expect(ids.count == 2 && ids[0] != 0 && ids[1] != 0, "the function must not run as root")
        }
    }

    @Test(.enabled(if: fullSandbox, Comment(rawValue: reason)))
    func codeIsReadOnlyAndTmpIsPrivateToOneWorker() async throws {
        try await withFunctionHost(template: template) { host in
            let readOnly = try await probe(host, ["write": ["/var/task/new.txt", "x"]])
            #expect(readOnly["write"] as? String == "EROFS")
            let opt = try await probe(host, ["write": ["/opt/new.txt", "x"]])
            #expect(opt["write"] as? String == "EROFS")
            let root = try await probe(host, ["write": ["/new.txt", "x"]])
            #expect(root["write"] as? String == "EROFS")

            let token = UUID().uuidString
            let written = try await probe(host, ["write": ["/tmp/marker", token]])
            #expect(written["write"] as? String == "ok")
            let warm = try await probe(host, ["read": "/tmp/marker"])
            #expect(warm["read"] as? String == token, "/tmp survives between warm invokes of one worker")
            let neighbour = try await probe(host, ["read": "/tmp/marker"], function: "Neighbour")
            #expect(neighbour["read"] as? String == "ENOENT", "another function has its own /tmp")
            #expect(!FileManager.default.fileExists(atPath: "/tmp/marker"), "the host's /tmp is not the function's")
        }
    }

    @Test(.enabled(if: fullSandbox, Comment(rawValue: reason)))
    func layersAreMergedAtOptLaterWinsAndImportable() async throws {
        try await withFunctionHost(template: template) { host in
            let layered = try await probe(
                host,
                [
                    "import": "shared", "read": "/opt/b-only.txt", "which": "layer-tool",
                    "exists": ["/opt/python/only_a.py", "/opt/bin/layer-tool"],
                ],
                function: "Layered")
            #expect(layered["import"] as? String == "b", "the later layer (the zip) wins")
            #expect(layered["read"] as? String == "b\n")
            #expect(layered["which"] as? String == "/opt/bin/layer-tool", "/opt/bin is on PATH")
            #expect(layered["exists"] as? [String: Bool] == ["/opt/python/only_a.py": true, "/opt/bin/layer-tool": true])
            let onlyA = try await probe(host, ["import": "only_a"], function: "Layered")
            #expect(onlyA["import"] as? String == "only a")

            let reversed = try await probe(host, ["import": "shared"], function: "LayeredReversed")
            #expect(reversed["import"] as? String == "a", "the later layer (the directory) wins")
            let none = try await probe(host, ["import": "shared", "exists": ["/opt/python"]])
            #expect(none["import"] as? String == "ImportError")
            #expect(none["exists"] as? [String: Bool] == ["/opt/python": false], "a function without layers has an empty /opt")

            let written = try await probe(host, ["write": ["/opt/python/shared.py", "VALUE = 'x'"]], function: "Layered")
            #expect(written["write"] as? String == "EROFS")
        }
    }

    @Test(.enabled(if: fullSandbox, Comment(rawValue: reason)))
    func aProvidedRuntimeStartsTheBootstrapOfItsLayer() async throws {
        try await withFunctionHost(template: template) { host in
            let answer = try await host.invoke("BootstrapFromLayer", #"{"k": 1}"#)
            #expect(answer.header("X-Amz-Function-Error") == nil, "\(answer.text)")
            #expect(answer.json["shell"] as? Bool == true)
        }
    }

    @Test(.enabled(if: filtersSyscalls, Comment(rawValue: "needs seccomp: \(sandbox?.warning ?? "")")))
    func mountPtraceAndUnshareFailWithEPERM() async throws {
        try await withFunctionHost(template: template) { host in
            let result = try await probe(host, ["syscalls": true])
            let calls = try #require(result["syscalls"] as? [String: String])
            #expect(calls["mount"] == "EPERM")
            #expect(calls["ptrace"] == "EPERM")
            #expect(calls["unshare"] == "EPERM")
        }
    }

    @Test(.enabled(if: fullSandbox, Comment(rawValue: reason)))
    func aSmallFunctionFillsItsDiskBackedTmpUntilENOSPC() async throws {
        try await withFunctionHost(template: template) { host in
            // 128 MB of memory, 512 MB of /tmp: the writes are disk, not memory, so no OOM kill.
            let result = try await probe(host, ["fill_tmp": true], function: "SmallMemory")
            let outcome = try #require(result["fill_tmp"] as? [Any])
            #expect(outcome.first as? String == "ENOSPC")
            let megabytes = try #require(outcome.last as? Int)
            #expect((505...520).contains(megabytes), "the default EphemeralStorage is 512 MB, wrote \(megabytes)")
            // Backed by the state directory's disk: a loop-mounted volume, not a tmpfs.
            let mounts = try #require(result["tmp_mount"] as? String)
            #expect(mounts.hasPrefix("ext4"), "/tmp is \(mounts)")
            // Mounted only in the worker's namespace: the host's (which every launcher copies) holds
            // none of its volumes, the worker's and the spare's alike.
            let hostMounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
            #expect(!hostMounts.contains(host.stateDirectory), "volumes mounted in the host's namespace")
            // The next worker of the function starts with an empty /tmp of its own.
            _ = try await probe(host, ["write": ["/tmp/fill", "left behind"]], function: "SmallMemory")
            _ = try await host.invoke("SmallMemory", #"{"exit": 1}"#)
            let fresh = try await probe(host, ["read": "/tmp/fill"], function: "SmallMemory")
            #expect(fresh["read"] as? String == "ENOENT")
        }
    }

    @Test(.enabled(if: fullSandbox, Comment(rawValue: reason)))
    func aSandboxedWorkerIsTheLauncherAndTheFunction() async throws {
        try await withFunctionHost(template: template) { host in
            let result = try await probe(host, ["uid": true, "self": true])
            let uid = try #require((result["uid"] as? [Int])?.first)
            let launcher = try #require((result["self"] as? [Int])?.last)
            // Everything of the worker: its session (the launcher leads it), its uid, its children.
            let worker = ProcessFacts.all().filter { $0.session == launcher || $0.uid == uid || $0.parent == launcher }
            #expect(worker.count == 2, "the worker's processes: \(worker)")
            let root = try #require(worker.first { $0.pid == launcher }, "the launcher: \(worker)")
            let function = try #require(worker.first { $0.pid != launcher }, "the function: \(worker)")
            #expect(root.uid == 0 && function.uid == uid)
            #expect(function.parent == launcher)
            // The function leads a process group of its own; the launcher's holds only the launcher.
            #expect(function.group == function.pid && root.group == launcher)
            // The OOM killer may take the function, never the launcher that ends the rest of the worker
            // (where the launcher may lower its score: CAP_SYS_RESOURCE, which some containers withhold).
            if hasCapability(Self.sysResource) { #expect(root.oomScoreAdjustment == -1000) }
            #expect((function.oomScoreAdjustment ?? -1000) > -1000)
        }
    }

    @Test(.enabled(if: fullSandbox, Comment(rawValue: reason)))
    func aWorkersOrphanDiesEvenWhenItsLauncherIsKilledFromOutside() async throws {
        try await withFunctionHost(template: template) { host in
            let result = try await probe(host, ["orphan": true, "self": true], function: "Brief")
            let orphan = try #require(result["orphan"] as? [Int])
            let launcher = try #require(result["self"] as? [Int])[1]
            #expect(!processIsGone(orphan[0]))
            // As the memory limit's OOM killer might: the launcher goes first, the function with it.
            kill(pid_t(launcher), SIGKILL)
            #expect(await eventually { processIsGone(launcher) })
            // The host replaces the worker (an invoke that reached the dead one before the host saw it
            // end fails as a runtime exit); the orphan, in the old worker's cgroup, goes with it.
            #expect(try await eventually { try await host.invoke("Brief", "{}").header("X-Amz-Function-Error") == nil })
            #expect(await eventually { processIsGone(orphan[0]) }, "the orphan must die with its worker's cgroup")
        }
    }

    @Test(.enabled(if: fullSandbox, Comment(rawValue: reason)))
    func aTimedOutWorkersOrphanDiesWithIt() async throws {
        try await withFunctionHost(template: template) { host in
            let result = try await probe(host, ["orphan": true, "self": true], function: "Brief")
            let orphan = try #require(result["orphan"] as? [Int])
            let function = try #require(result["self"] as? [Int])
            // Its shell is gone: the launcher adopted it, in a session of its own.
            #expect(orphan.count == 2 && orphan[1] == function[1], "orphan \(orphan), function \(function)")
            #expect(!processIsGone(orphan[0]))
            // `setsid` runs in the orphan after the shell named its pid: its session is its own once it did.
            #expect(await eventually { ProcessFacts.read(pid: orphan[0])?.session == orphan[0] })
            let timedOut = try await host.invoke("Brief", #"{"sleep": 5}"#)
            #expect(timedOut.json["errorType"] as? String == "Sandbox.Timedout", "\(timedOut.text)")
            #expect(await eventually { processIsGone(orphan[0]) }, "the orphan must die with its timed-out worker")
            #expect(await eventually { processIsGone(function[1]) }, "the launcher ends once its worker is gone")
        }
    }

    @Test(.enabled(if: fullSandbox, Comment(rawValue: reason)))
    func aWorkersGrandchildrenDieWithIt() async throws {
        let orphan = try await withFunctionHost(template: template) { host in
            // Killed with its worker when the function exits, though it left the function's process
            // group with setsid().
            let result = try await probe(host, ["grandchild": true])
            let grandchild = try #require(result["grandchild"] as? Int)
            #expect(!processIsGone(grandchild))
            let exited = try await host.invoke("Sandboxed", #"{"exit": 3}"#)
            #expect(exited.header("X-Amz-Function-Error") == "Unhandled")
            #expect(await eventually { processIsGone(grandchild) }, "the grandchild must die with its worker")

            let second = try await probe(host, ["grandchild": true])
            let orphan = try #require(second["grandchild"] as? Int)
            #expect(!processIsGone(orphan))
            // Host shutdown at the end of withFunctionHost asks the launcher to end the worker.
            return orphan
        }
        #expect(await eventually { processIsGone(orphan) }, "the grandchild must die when the host stops the worker")
    }
}
