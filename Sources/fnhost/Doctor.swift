import ArgumentParser
import Foundation
import Logging
import FunctionHostSupervisor

/// `fnhost doctor`: what this machine supports for limits and sandboxing.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what this machine supports: cgroup v1/v2 memory and cpu, namespaces, seccomp, pidfd.")

    func run() throws {
        let logger = FnHost.bootstrap(level: .warning)
        let support = MachineSupport.probe(logger: logger)
        for finding in support.findings {
            print("\(finding.available ? "yes" : "no ")  \(finding.feature.padding(toLength: 18, withPad: " ", startingAt: 0))  \(finding.detail)")
        }
        print("in force: \(support.memory)")
        // The worker sandbox as the host will run it (issue 4): one line per protection, ok or OFF.
        if let launcher = LauncherLocation.path() {
            for line in SandboxCapabilities.probe(launcher: launcher).doctorLines { print(line) }
            let disk = ScratchVolumes.unavailability()
            print("sandbox: \(disk == nil ? "ok " : "OFF") /tmp on disk, not memory (\(disk ?? "loop-mounted ext4 per worker"))")
        } else {
            print("sandbox: OFF fnhost-launch not found")
        }
    }
}
