// What the function's own process gets just before exec: Lambda's rlimits, an unprivileged
// uid/gid, no_new_privs and the seccomp policy (an allow-list plus argument checks). Runs in the launcher's child, single-threaded.
#define _GNU_SOURCE
#include "launch.h"

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

// Far above any real account's uid and below 2^31; adding the launcher's pid (at most 2^22) gives
// every live worker its own uid, so workers cannot signal each other and RLIMIT_NPROC, which
// counts per uid, caps one worker rather than all of them together.
enum { SANDBOX_UID_BASE = 2000000000 };

uid_t sandbox_uid(void) { return (uid_t)SANDBOX_UID_BASE + (uid_t)getpid(); }

// Above every sandbox uid (pids stay below 2^22, PID_MAX_LIMIT), and as unique.
uid_t bystander_uid(void) { return sandbox_uid() + (1U << 22); }

// The seccomp policy is two filters; the kernel applies both and the stricter answer wins.
//
// The allow-list (default ENOSYS, so a libc that tries a syscall newer than this list falls back
// to an older one): what language runtimes, shells and their children call. Modelled on Docker's
// default profile without what a function never needs (ptrace, process_vm_*, kcmp, pidfd_getfd,
// keyrings, bpf, perf, userfaultfd, io_uring, namespaces, mounts, modules, clocks, swap, reboot,
// acct, quotas, mknod, chroot). Names the architecture lacks are skipped.
static const char *const allowed[] = {
    // processes and threads
    "fork", "vfork", "clone", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid",
    "kill", "tkill", "tgkill", "getpid", "getppid", "gettid", "getpgid", "getpgrp", "setpgid", "getsid", "setsid",
    "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "arch_prctl", "set_thread_area",
    "get_thread_area", "prctl", "prlimit64", "getrlimit", "ugetrlimit", "setrlimit", "getrusage", "times",
    "getpriority", "setpriority", "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
    "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_rr_get_interval", "sched_getattr", "getcpu", "capget", "capset",
    "pidfd_open", "pidfd_send_signal", "personality", "seccomp", "restart_syscall", "ioprio_get", "ioprio_set",
    // identity (the worker's own uid only: no privilege to change it)
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid", "setgid",
    "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid",
    // signals
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "signalfd", "signalfd4", "pause", "alarm",
    "getitimer", "setitimer",
    // memory
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock", "mlock2", "munlock",
    "mlockall", "munlockall", "membarrier", "memfd_create", "pkey_alloc", "pkey_free", "pkey_mprotect",
    "map_shadow_stack", "remap_file_pages",
    // files and directories
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "open", "openat", "openat2", "creat", "close", "close_range", "lseek", "dup", "dup2", "dup3", "fcntl",
    "flock", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "ftruncate", "truncate", "fallocate",
    "fadvise64", "readahead", "sendfile", "splice", "tee", "vmsplice", "copy_file_range", "ioctl", "stat",
    "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat", "faccessat2",
    "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir", "rename", "renameat", "renameat2", "link",
    "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "readlink", "readlinkat", "getdents",
    "getdents64", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "fchownat", "lchown",
    "umask", "utime", "utimes", "utimensat", "futimesat", "getxattr", "lgetxattr", "fgetxattr", "listxattr",
    "llistxattr", "flistxattr", "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
    "fremovexattr", "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "pipe", "pipe2",
    "eventfd", "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
    // waiting and time
    "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
    "epoll_pwait", "epoll_pwait2", "futex", "futex_waitv", "futex_wait", "futex_wake", "futex_requeue",
    "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time", "timer_create",
    "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
    // sockets (families are checked by the argument filter)
    "socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername",
    "getsockopt", "setsockopt", "shutdown", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
    "recvmmsg",
    // System V and POSIX IPC (namespaced per user of the host, harmless between uids)
    "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget", "msgsnd",
    "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    // the machine
    "uname", "sysinfo", "getrandom", "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents",
    "io_pgetevents", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    // aarch64 and 32-bit spellings of the above
    "fstatat64", "fcntl64", "_llseek", "mmap2", "stat64", "fstat64", "lstat64", "statfs64", "fstatfs64",
    "ftruncate64", "truncate64", "sendfile64", "fadvise64_64", "clock_gettime64", "clock_nanosleep_time64",
    "futex_time64", "ppoll_time64", "pselect6_time64", "recvmmsg_time64", "semtimedop_time64",
    "timer_settime64", "timer_gettime64", "timerfd_settime64", "timerfd_gettime64", "utimensat_time64",
    "io_pgetevents_time64", "rt_sigtimedwait_time64", "sched_rr_get_interval_time64", "getuid32", "geteuid32",
    "getgid32", "getegid32", "getresuid32", "getresgid32", "getgroups32", "_newselect", "sigreturn",
    "sigprocmask", "send", "recv", "socketcall", "ipc",
};

// Refused with EPERM by name (not ENOSYS: a probe, and a curious developer, should see "not permitted").
static const char *const denied[] = {
    "mount", "umount", "umount2", "pivot_root", "chroot", "ptrace", "process_vm_readv", "process_vm_writev",
    "process_madvise", "kcmp", "pidfd_getfd", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "bpf", "perf_event_open", "unshare", "setns", "keyctl",
    "add_key", "request_key", "open_by_handle_at", "userfaultfd", "acct", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "quotactl", "quotactl_fd", "mknod", "mknodat", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "fanotify_init", "lookup_dcookie", "syslog", "sethostname",
    "setdomainname", "vhangup", "iopl", "ioperm", "nfsservctl", "uselib", "move_pages", "migrate_pages",
    "mbind", "set_mempolicy", "get_kernel_syms", "query_module", "create_module",
    // The new mount API reaches the same places as mount(2).
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
};

// The argument filter (default allow) refuses, with EPERM, calls of allowed syscalls whose
// arguments reach too far.
//
// clone(2) creating a namespace would undo the point of denying unshare (a user namespace
// grants a fresh set of capabilities over it).
static const unsigned long namespace_flags[] = {
    CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP,
};

// ioctls that act on a terminal beyond the caller's own output: TIOCSTI pushes bytes into a
// terminal's input queue (typed into the developer's shell: CVE-2017-5226), TIOCLINUX can read
// and write a Linux console. Workers have no controlling terminal (their own session) either.
static const unsigned long denied_ioctls[] = {TIOCSTI, TIOCLINUX};

// Socket families a function needs: AF_UNIX, AF_INET, AF_INET6, and AF_NETLINK for NETLINK_ROUTE
// only (getifaddrs). Everything else (AF_PACKET, AF_VSOCK, AF_ALG, AF_KEY, AF_XDP, sock_diag, ...) is refused.
static const int denied_families_below_netlink[] = {3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15};

// personality(2) values that change nothing a sandbox relies on (Linux, its 32-bit variants, and
// the query); others (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ...) get ENOSYS from the allow-list.
static const unsigned long harmless_personalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

static void set_limit(int resource, rlim_t value, const char *name) {
    struct rlimit current;
    if (getrlimit(resource, &current) != 0) fail("cannot read %s: %s", name, strerror(errno));
    // An unprivileged launcher cannot raise a hard limit; never ask for more than there is.
    rlim_t wanted = current.rlim_max != RLIM_INFINITY && current.rlim_max < value ? current.rlim_max : value;
    struct rlimit limit = {wanted, wanted};
    if (setrlimit(resource, &limit) != 0) fail("cannot set %s: %s", name, strerror(errno));
}

static int resolve(const char *name) { return seccomp_syscall_resolve_name(name); }

static void add_rule(scmp_filter_ctx filter, uint32_t action, const char *name, unsigned count,
                     const struct scmp_arg_cmp *comparisons) {
    int number = resolve(name);
    if (number == __NR_SCMP_ERROR) return;
    int status = seccomp_rule_add_array(filter, action, number, count, comparisons);
    if (status != 0) fail("cannot add the seccomp rule for %s: %s", name, strerror(-status));
}

// Has libseccomp sort a filter's syscalls into a binary tree instead of one comparison after
// another. Loading the allow-list was 0.4 ms of every cold start: the kernel runs a new filter
// for every syscall number to find those it always allows (its action cache), which costs the
// list's length each time; a function's syscalls then also take a few comparisons, not hundreds.
static void optimize(scmp_filter_ctx filter) {
    int status = seccomp_attr_set(filter, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (status != 0) fail("cannot have libseccomp build a binary tree: %s", strerror(-status));
}

// The two filters, in the order they are loaded: first the argument filter (while seccomp(2) is
// still unrestricted), then the allow-list.
static void build_filters(scmp_filter_ctx filters[2]) {
    scmp_filter_ctx arguments = seccomp_init(SCMP_ACT_ALLOW);
    if (arguments == NULL) fail("cannot create the seccomp argument filter");
    optimize(arguments);
    for (size_t index = 0; index < sizeof namespace_flags / sizeof namespace_flags[0]; index++) {
        struct scmp_arg_cmp flag = SCMP_A0(SCMP_CMP_MASKED_EQ, namespace_flags[index], namespace_flags[index]);
        add_rule(arguments, SCMP_ACT_ERRNO(EPERM), "clone", 1, &flag);
    }
    for (size_t index = 0; index < sizeof denied_ioctls / sizeof denied_ioctls[0]; index++) {
        // The kernel reads the request as a 32-bit int: compare only those bits.
        struct scmp_arg_cmp request = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, denied_ioctls[index]);
        add_rule(arguments, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &request);
    }
    for (size_t index = 0; index < sizeof denied_families_below_netlink / sizeof denied_families_below_netlink[0]; index++) {
        struct scmp_arg_cmp family = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)denied_families_below_netlink[index]);
        add_rule(arguments, SCMP_ACT_ERRNO(EPERM), "socket", 1, &family);
    }
    // Above AF_NETLINK (and any value with bits beyond the int the kernel reads) nothing is needed.
    struct scmp_arg_cmp above_netlink = SCMP_A0(SCMP_CMP_GT, AF_NETLINK);
    add_rule(arguments, SCMP_ACT_ERRNO(EPERM), "socket", 1, &above_netlink);
    struct scmp_arg_cmp netlink_not_route[] = {SCMP_A0(SCMP_CMP_EQ, AF_NETLINK), SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE)};
    add_rule(arguments, SCMP_ACT_ERRNO(EPERM), "socket", 2, netlink_not_route);

    scmp_filter_ctx allow_list = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
    if (allow_list == NULL) fail("cannot create the seccomp allow-list");
    optimize(allow_list);
    for (size_t index = 0; index < sizeof allowed / sizeof allowed[0]; index++) {
        if (strcmp(allowed[index], "personality") == 0) continue;
        add_rule(allow_list, SCMP_ACT_ALLOW, allowed[index], 0, NULL);
    }
    for (size_t index = 0; index < sizeof harmless_personalities / sizeof harmless_personalities[0]; index++) {
        struct scmp_arg_cmp persona = SCMP_A0(SCMP_CMP_EQ, harmless_personalities[index]);
        add_rule(allow_list, SCMP_ACT_ALLOW, "personality", 1, &persona);
    }
    for (size_t index = 0; index < sizeof denied / sizeof denied[0]; index++) {
        add_rule(allow_list, SCMP_ACT_ERRNO(EPERM), denied[index], 0, NULL);
    }
    // clone3 is left out on purpose: it passes its flags in memory, which seccomp cannot inspect,
    // and its ENOSYS makes glibc and other runtimes fall back to clone(2), whose flags are checked.
    filters[0] = arguments;
    filters[1] = allow_list;
}

// The compiled policy (--export-seccomp writes it, --seccomp-program reads it): the magic, the
// instruction count of each filter as a little-endian uint32, then both filters' sock_filter
// instructions in load order, exactly as libseccomp generated them for this machine.
static const char program_magic[8] = {'F', 'N', 'S', 'E', 'C', 'C', '0', '1'};
enum { PROGRAM_HEADER = sizeof program_magic + 2 * sizeof(uint32_t) };

// The program --export-seccomp writes and --seccomp-program loads: both filters, in load order.
static struct sock_filter program[2 * BPF_MAXINSNS];
static uint32_t program_counts[2];

// Puts what libseccomp generates for `filter` into `into`; returns its instruction count.
static uint32_t generate(scmp_filter_ctx filter, struct sock_filter *into) {
    int scratch = memfd_create("fnhost-seccomp", MFD_CLOEXEC);
    if (scratch < 0) fail("cannot create a memory file: %s", strerror(errno));
    int status = seccomp_export_bpf(filter, scratch);
    if (status != 0) fail("cannot export the seccomp policy: %s", strerror(-status));
    off_t size = lseek(scratch, 0, SEEK_END);
    if (size <= 0 || size % sizeof(struct sock_filter) != 0 || size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
        fail("libseccomp generated a program of %lld bytes", (long long)size);
    }
    if (pread(scratch, into, (size_t)size, 0) != size) fail("cannot read the generated policy: %s", strerror(errno));
    close(scratch);
    return (uint32_t)(size / sizeof(struct sock_filter));
}

static void write_all(int out, const void *bytes, size_t length) {
    const char *next = bytes;
    while (length > 0) {
        ssize_t written = write(out, next, length);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) fail("cannot write the seccomp program: %s", strerror(errno));
        next += written;
        length -= (size_t)written;
    }
}

void export_policy(int out) {
    scmp_filter_ctx filters[2];
    build_filters(filters);
    program_counts[0] = generate(filters[0], program);
    program_counts[1] = generate(filters[1], program + program_counts[0]);
    seccomp_release(filters[0]);
    seccomp_release(filters[1]);
    write_all(out, program_magic, sizeof program_magic);
    write_all(out, program_counts, sizeof program_counts);
    write_all(out, program, (program_counts[0] + program_counts[1]) * sizeof(struct sock_filter));
}

void read_policy(int descriptor) {
    static unsigned char buffer[PROGRAM_HEADER + sizeof program];
    size_t length = 0;
    for (;;) {
        ssize_t count = pread(descriptor, buffer + length, sizeof buffer - length, (off_t)length);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) fail("cannot read the seccomp program: %s", strerror(errno));
        if (count == 0 || length + (size_t)count == sizeof buffer) {
            length += (size_t)count;
            break;
        }
        length += (size_t)count;
    }
    if (length < PROGRAM_HEADER || memcmp(buffer, program_magic, sizeof program_magic) != 0) {
        fail("descriptor %d holds no seccomp program", descriptor);
    }
    memcpy(program_counts, buffer + sizeof program_magic, sizeof program_counts);
    size_t total = (size_t)program_counts[0] + program_counts[1];
    if (program_counts[0] == 0 || program_counts[1] == 0 || program_counts[0] > BPF_MAXINSNS ||
        program_counts[1] > BPF_MAXINSNS || length != PROGRAM_HEADER + total * sizeof(struct sock_filter)) {
        fail("descriptor %d holds a damaged seccomp program", descriptor);
    }
    memcpy(program, buffer + PROGRAM_HEADER, total * sizeof(struct sock_filter));
}

static void load_policy(void) {
    if (program_counts[0] == 0) {
        // No compiled program was given: build the policy here (the sandbox probe does this).
        scmp_filter_ctx filters[2];
        build_filters(filters);
        for (int index = 0; index < 2; index++) {
            int status = seccomp_load(filters[index]);
            if (status != 0) fail("cannot load the seccomp %s: %s", index == 0 ? "argument filter" : "allow-list", strerror(-status));
            seccomp_release(filters[index]);
        }
        return;
    }
    struct sock_filter *next = program;
    for (int index = 0; index < 2; index++) {
        struct sock_fprog filter = {.len = (unsigned short)program_counts[index], .filter = next};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter) != 0) {
            fail("cannot load the seccomp %s: %s", index == 0 ? "argument filter" : "allow-list", strerror(errno));
        }
        next += program_counts[index];
    }
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
        load_policy();
    }
}
