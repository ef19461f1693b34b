import FunctionHostCore
import FunctionHostSupervisor
import Logging
import ServiceLifecycle

/// Hot reload for `fnhost serve`: watches every function's code directory, its layers and the
/// template (``FileWatcher``), and when a save changes code or a layer, drains the functions
/// concerned (in-flight invocations finish on the old workers; new ones get fresh workers;
/// provisioned workers are replaced), after preparing merged layers again when a layer changed.
/// One log line says what was reloaded. When the template changes, ``loadTemplate`` loads it:
/// if that works, `run()` returns once the invocations in flight have finished (at most the
/// longest function timeout) so the host restarts with the new catalog; if not, the error is
/// logged and the running functions keep serving.
struct HotReloader: Service {
    let plan: ReloadPlan
    let supervisor: Supervisor
    /// Where merged layers go, when the sandbox merges them; `nil` when workers see layer sources directly.
    let layerCache: LayerCache?
    let layerLists: [[String]]
    let logger: Logger
    /// How long a template reload waits for invocations in flight: the longest function timeout.
    let longestTimeout: Duration
    /// Loads the changed template into the host that replaces this one; returns its warnings.
    let loadTemplate: @Sendable () throws -> [String]

    func run() async throws {
        let watcher = try FileWatcher(directories: plan.watchedDirectories, excluding: plan.ignored)
        for warning in watcher.warnings { logger.warning("\(warning)") }
        await withTaskCancellationOrGracefulShutdownHandler {
            for await batch in watcher.changes {
                let actions = plan.actions(for: batch)
                if actions.templateChanged, reloadTemplate() {
                    await waitForInvocationsInFlight()
                    break
                }
                await apply(actions)
            }
        } onCancelOrGracefulShutdown: {
            watcher.stop()
        }
        watcher.stop()
    }

    /// True when the changed template loads and the host should restart with it.
    private func reloadTemplate() -> Bool {
        do {
            let warnings = try loadTemplate()
            for warning in warnings { logger.warning("\(warning)") }
            logger.info("reloading: the template changed", metadata: ["file.path": "\(plan.templates[0])"])
            return true
        } catch {
            logger.error("the changed template does not load; still serving the previous one: \(error)")
            return false
        }
    }

    /// Lets running invocations finish on the old host before it stops, for at most `longestTimeout`.
    private func waitForInvocationsInFlight() async {
        let deadline = ContinuousClock.now.advanced(by: longestTimeout)
        while supervisor.invocationsInFlight > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private func apply(_ actions: ReloadPlan.Actions) async {
        guard !actions.drain.isEmpty else { return }
        var layerRoots: [[String]: String]?
        if actions.layersChanged, let layerCache {
            do {
                layerRoots = try layerCache.prepare(layerLists)
            } catch {
                logger.error(
                    "cannot merge the changed layers; keeping the running workers", metadata: ["error": "\(error)"])
                return
            }
        }
        let roots = layerRoots
        await withDiscardingTaskGroup { group in
            for name in actions.drain {
                group.addTask { await supervisor.drain(name, layerRoots: roots) }
            }
        }
        logger.info(
            "reloaded \(actions.drain.joined(separator: ", ")): \(actions.layersChanged ? "layer" : "code") changed",
            metadata: ["file.paths": "\(actions.paths.prefix(5))"])
    }
}
