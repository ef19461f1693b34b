// Shared between the launcher's files: failure reporting and the sandbox steps.
#ifndef FNHOST_LAUNCH_H
#define FNHOST_LAUNCH_H

#include <sys/types.h>

/// Exit status of every launcher failure; the host reports the one-line message as the init error.
enum { LAUNCH_FAILURE = 121 };

/// Prints `fnhost-launch: MESSAGE` on stderr and exits with LAUNCH_FAILURE.
__attribute__((noreturn, format(printf, 1, 2))) void fail(const char *format, ...);

/// What the worker's private root filesystem holds of the function's own (see finish_root in root.c).
struct root_plan {
    const char *task_root;      // bound read-only at /var/task
    const char *opt;            // bound read-only at /opt, or NULL for an empty /opt
    const char *runtime_dir;    // bound read-only at /var/runtime, or NULL
    const char *lang_lib;       // bound read-only at /var/lang/lib (first on LD_LIBRARY_PATH), or NULL
    const char *expose[16];     // host directories bound read-only at the same path
    int expose_count;
    const char *link_source[32]; // what a symlink in the code leads to on the host (directory or file)...
    const char *link_target[32]; // ...bound read-only where that link resolves inside the sandbox
    int link_count;
    long tmp_megabytes;         // size of the private tmpfs at /tmp (when tmp_mount is -1)
    int tmp_mount;              // a detached mount of a disk volume, attached read-write at /tmp, or -1 for a tmpfs
};

/// Enters a new mount namespace and pivots into a fresh root holding what every function gets
/// (the host's system directories, /proc, /dev), still writable; cwd is /. Holds the host's
/// namespace for finish_root.
void prepare_root(void);

/// Attaches what `plan` names (copied in the host's namespace) to the root prepare_root built and
/// makes that root read-only; cwd is /var/task.
void finish_root(const struct root_plan *plan);

/// The unprivileged uid and gid a sandboxed worker runs as: unique while this launcher lives.
uid_t sandbox_uid(void);

/// A uid no process has, unique to this launcher: the real uid with which it kills the worker's uid.
uid_t bystander_uid(void);

/// Compiles the seccomp policy (restrict.c) and writes it to `out` in the form read_policy reads.
void export_policy(int out);

/// Reads a policy export_policy wrote from `descriptor` (at offset 0), for restrict_child to load
/// instead of compiling it; fails unless it is whole.
void read_policy(int descriptor);

/// In the child, just before exec: rlimits, then (if `uid` is not 0) the drop to that uid and gid,
/// then (if `filter`) no_new_privs and the seccomp policy (restrict.c): the one read_policy read, else
/// compiled here.
void restrict_child(uid_t uid, int filter);

#endif
