// What the function's own process gets just before exec: Lambda's rlimits, an unprivileged
// uid/gid, no_new_privs and a seccomp deny-list. Runs in the launcher's child, single-threaded.
#define _GNU_SOURCE
#include "launch.h"

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

// Far above any real account's uid and below 2^31; adding the launcher's pid (at most 2^22) gives
// every live worker its own uid, so workers cannot signal each other and RLIMIT_NPROC, which
// counts per uid, caps one worker rather than all of them together.
enum { SANDBOX_UID_BASE = 2000000000 };

uid_t sandbox_uid(void) { return (uid_t)SANDBOX_UID_BASE + (uid_t)getpid(); }

// Denied with EPERM. Names are resolved by libseccomp for the running architecture; a name the
// architecture does not have is skipped (it cannot be called there either).
static const char *const denied[] = {
    "mount", "umount", "umount2", "pivot_root", "chroot", "ptrace", "process_vm_readv", "process_vm_writev",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
    "bpf", "perf_event_open", "unshare", "setns", "keyctl", "add_key", "request_key", "open_by_handle_at",
    "userfaultfd", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "quotactl",
    // The new mount API reaches the same places as mount(2).
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
};

// clone(2) creating a namespace would undo the point of denying unshare (a user namespace
// grants a fresh set of capabilities over it).
static const unsigned long namespace_flags[] = {
    CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP,
};

static void set_limit(int resource, rlim_t value, const char *name) {
    struct rlimit current;
    if (getrlimit(resource, &current) != 0) fail("cannot read %s: %s", name, strerror(errno));
    // An unprivileged launcher cannot raise a hard limit; never ask for more than there is.
    rlim_t wanted = current.rlim_max != RLIM_INFINITY && current.rlim_max < value ? current.rlim_max : value;
    struct rlimit limit = {wanted, wanted};
    if (setrlimit(resource, &limit) != 0) fail("cannot set %s: %s", name, strerror(errno));
}

static void load_filter(void) {
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
    if (filter == NULL) fail("cannot create the seccomp filter");
    for (size_t index = 0; index < sizeof denied / sizeof denied[0]; index++) {
        int number = seccomp_syscall_resolve_name(denied[index]);
        if (number == __NR_SCMP_ERROR) continue;
        int status = seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), number, 0);
        if (status != 0) fail("cannot deny %s: %s", denied[index], strerror(-status));
    }
    int clone = seccomp_syscall_resolve_name("clone");
    for (size_t index = 0; index < sizeof namespace_flags / sizeof namespace_flags[0]; index++) {
        unsigned long flag = namespace_flags[index];
        int status = seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), clone, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
        if (status != 0) fail("cannot restrict clone: %s", strerror(-status));
    }
    // clone3 passes its flags in memory, which seccomp cannot inspect. ENOSYS (not EPERM) makes
    // glibc and other runtimes fall back to clone(2), whose flags the rules above do check.
    int clone3 = seccomp_syscall_resolve_name("clone3");
    if (clone3 != __NR_SCMP_ERROR) {
        int status = seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), clone3, 0);
        if (status != 0) fail("cannot restrict clone3: %s", strerror(-status));
    }
    int status = seccomp_load(filter);
    if (status != 0) fail("cannot load the seccomp filter: %s", strerror(-status));
    seccomp_release(filter);
}

void restrict_child(uid_t uid, int filter) {
    set_limit(RLIMIT_NOFILE, 1024, "RLIMIT_NOFILE");
    if (uid != 0) {
        // RLIMIT_NPROC counts every process of the real uid: only meaningful with a uid of the worker's own.
        set_limit(RLIMIT_NPROC, 1024, "RLIMIT_NPROC");
        if (setgroups(0, NULL) != 0) fail("cannot drop supplementary groups: %s", strerror(errno));
        if (setresgid(uid, uid, uid) != 0) fail("cannot change to gid %u: %s", (unsigned)uid, strerror(errno));
        if (setresuid(uid, uid, uid) != 0) fail("cannot change to uid %u: %s", (unsigned)uid, strerror(errno));
    }
    if (filter) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("cannot set no_new_privs: %s", strerror(errno));
        load_filter();
    }
}
