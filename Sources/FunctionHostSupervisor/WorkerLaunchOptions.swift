import Glibc

/// What one worker is started with beyond its function and the host-wide ``WorkerSettings``.
struct WorkerLaunchOptions: Sendable {
    /// `AWS_LAMBDA_INITIALIZATION_TYPE`: `on-demand` or `provisioned-concurrency`.
    var initializationType = "on-demand"
    /// The worker's memory (and CPU) control; `nil` runs it unconstrained.
    var resources: (any WorkerResources)?
    /// The worker's disk-backed `/tmp` (the launcher's `--tmp-mount`); `nil`: a tmpfs.
    var scratch: ScratchVolumes.Volume?
    /// A launcher already in `resources`' cgroups, waiting for its order; `nil`: spawn one.
    var standby: StandbyLauncher?

    /// Gives back what a worker that will not start was given: its launcher (with its cgroups) or its cgroups.
    func abandonLauncher() {
        if let standby { standby.discard() } else { resources?.release() }
    }
}

/// One worker's resource control: its cgroups, or an RSS watcher where none can be written.
///
/// Created before the worker starts; ``release()`` is called once its process tree is gone.
protocol WorkerResources: Sendable {
    /// Launcher arguments that place the worker under control (`--cgroup DIR`, repeatable), before `--`.
    var launchArguments: [String] { get }
    /// Called once with the worker's process tree, right after the spawn.
    func attach(_ process: WorkerProcess)
    /// The worker's peak memory so far in MB, or `nil` when this control cannot tell.
    func peakMegabytes() -> Int?
    /// Whether the memory limit killed the worker (checked when it has exited).
    func wasOutOfMemory() -> Bool
    /// Called right before the worker's launcher is spawned or given its order: the worker
    /// initialises with at least a whole CPU's share, as Lambda's init runs with burst CPU (a
    /// standby launcher waits at its memory's share: its preparation is background work).
    func initBegins()
    /// Called once the worker's init phase has ended (its runtime's first `/next`, or the
    /// failure): its memory's share from here on.
    func initEnded()
    /// Removes what was created for the worker (its cgroup directories).
    func release()
}

/// One invocation's figures as the REPORT line gave them, for metrics.
struct InvocationReport: Sendable {
    var duration: Double
    var initDuration: Double?
    /// MB; `nil` when nothing could be measured (an init that failed before it could be sampled).
    var maxMemory: Int?
    var failed: Bool
}
