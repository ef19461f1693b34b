// fnhost-launch: the post-exec launcher every fnhost worker starts through.
//
// The host is multithreaded, so no host code runs between fork and exec; everything a
// worker needs set up happens here, single-threaded, after this program's own exec:
//
//   fnhost-launch [--task-root DIR [--sandbox [SANDBOX OPTIONS]] | --chdir DIR]
//                 [--seccomp | --seccomp-program FD] [--cgroup DIR]... [--lifeline FD] -- PROGRAM [ARG...]
//   fnhost-launch [--cgroup DIR]... [--lifeline FD] [--seccomp | --seccomp-program FD] [--fresh-root] --standby FD
//   fnhost-launch --export-seccomp
//
//   --task-root DIR  enter a private mount namespace, bind DIR read-only at /var/task
//                    and make /var/task the working directory.
//   --sandbox        with --task-root: instead of the host's root, pivot into a fresh root that
//                    holds only /var/task, /opt, /var/runtime, a private /tmp, /proc, a minimal
//                    /dev and read-only /usr, /bin, /sbin, /lib*, /etc (root.c); and run PROGRAM
//                    as a uid/gid of its own (2000000000 + the launcher's pid) with
//                    RLIMIT_NPROC 1024. Needs root. Its options:
//       --opt DIR          bound read-only at /opt (the merged layers); else /opt is empty
//       --runtime-dir DIR  bound read-only at /var/runtime
//       --lang-lib DIR     bound read-only at /var/lang/lib (dynamically linked Swift functions
//                          find the host's Swift runtime there through LD_LIBRARY_PATH)
//       --link-target SOURCE TARGET
//                          a directory or file outside the code that a symlink in it leads to,
//                          bound read-only at TARGET, where the link resolves inside the sandbox
//                          (`sam build --build-in-source` links node_modules); up to 32
//       --expose DIR       a host directory bound read-only at the same path (an interpreter's
//                          install prefix); may be repeated
//       --tmp-size MB      size of the private /tmp (default 512): a tmpfs
//       --tmp-mount FD     a prepared disk volume (the host's ScratchVolumes), a detached mount
//                          (fsmount) attached at /tmp instead; in a standby order, the descriptor
//                          passed with the order (SCM_RIGHTS), whatever number FD says
//   --chdir DIR      where namespaces are unavailable: run in DIR as it is.
//   --seccomp        set no_new_privs and load the seccomp policy (restrict.c: an allow-list, EPERM for
//                    dangerous syscalls and arguments such as TIOCSTI); works unprivileged.
//   --seccomp-program FD
//                    --seccomp with the policy already compiled: FD holds what --export-seccomp wrote
//                    (compiling it with libseccomp costs each start ~2 ms of CPU; loading it, microseconds).
//   --export-seccomp writes the compiled seccomp policy to stdout and exits: the host runs this once.
//   --cgroup DIR     join the cgroup DIR (write our pid to DIR/cgroup.procs) before anything
//                    else starts, so the whole tree is accounted there; may be repeated
//                    (one per hierarchy, e.g. cgroup v1 memory and cpu).
//   --lifeline FD    the read end of a pipe whose write end only the host holds: when it
//                    reports EOF the host is gone, and the whole worker tree is killed.
//   --standby FD     a launcher started ahead of need: join the cgroups now (that waits for an RCU
//                    grace period, 5-40 ms), read a --seccomp-program given with it, close every other
//                    inherited descriptor, then read the order from FD until EOF: the remaining
//                    options, `--` and PROGRAM [ARG...], then the environment, each string NUL-terminated
//                    and each list ended by an empty string. Everything else happens after the order, as
//                    for a launcher started with those arguments. EOF without an order: exit 0.
//   --fresh-root     with --standby: before the order, also build and enter the part of the sandbox's
//                    root that is the same for every function (root.c's prepare_root) and fork the
//                    function's process, already under its uid, rlimits and seccomp policy, to wait
//                    beside it. The order must then be a --sandbox one: it only attaches the
//                    function's own directories (finish_root) and hands that process its program.
//
// PROGRAM always gets RLIMIT_NOFILE 1024, as on Lambda.
//
// The launcher stays as the parent of PROGRAM (a subreaper, and still root: the function, under
// another uid, can neither signal nor trace it) and runs PROGRAM in a process group of its own. It
// ends the worker — the function's group, then (sandboxed) every process of the worker's uid, then
// whatever is left below it — when PROGRAM ends, when the lifeline reports EOF, and when the host
// asks with SIGTERM (timeout, eviction, shutdown: the host spawns the launcher with SIGTERM
// blocked, so a request that arrives while the root is still being built waits until the function
// exists). It then ends with PROGRAM's exit status or signal, so the host sees what the function did
// (SIGKILL when the host ended it). Sandboxed, it is exempt from the memory cgroup's OOM killer
// (oom_score_adj -1000, where it has CAP_SYS_RESOURCE), so an OOM kill takes the function, not the
// launcher that must clean up.
// A worker is these two processes and whatever the function starts. Launcher failures print one
// `fnhost-launch: ...` line and exit with status 121.

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"

void fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fputs("fnhost-launch: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(LAUNCH_FAILURE);
}

// Ignored dispositions and blocked masks survive exec; start with clean ones, but for SIGTERM, the
// host's request to end the worker, which stays blocked until the launcher reads it from a signalfd.
static void reset_signals(void) {
    struct sigaction action = {0};
    action.sa_handler = SIG_DFL;
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        sigaction(signal_number, &action, NULL);
    }
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, SIGTERM);
    sigprocmask(SIG_SETMASK, &only, NULL);
}

// Descriptors the host leaked without close-on-exec must not reach the function; nor may a
// standby launcher hold another worker's pipe or socket while it waits. close_range skips free
// slots in a bitmap; reading /proc/self/fd instead walks every slot of a descriptor table as large
// as the host's, which in a burst of 1,000 workers was a quarter of each launcher's CPU. The
// directory walk stays for kernels before 5.9. Keeps 0-2, `keep` and `also` (each may be -1).
static void close_other_descriptors(int keep, int also) {
    int low = keep < also ? keep : also, high = keep < also ? also : keep;
    unsigned int next = 3;
    int kept[2] = {low, high};
    int failed = 0;
    for (int index = 0; index < 2 && !failed; index++) {
        if (kept[index] < (int)next) continue;
        if ((unsigned int)kept[index] > next) failed = close_range(next, (unsigned int)kept[index] - 1, 0) != 0;
        next = (unsigned int)kept[index] + 1;
    }
    if (!failed && close_range(next, ~0U, 0) == 0) return;
    DIR *directory = opendir("/proc/self/fd");
    if (directory == NULL) return;
    int own = dirfd(directory);
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL) {
        int fd = atoi(entry->d_name);
        if (fd > 2 && fd != own && fd != keep && fd != also) close(fd);
    }
    closedir(directory);
}

static void join_cgroup(const char *directory) {
    char path[4096];
    snprintf(path, sizeof path, "%s/cgroup.procs", directory);
    FILE *procs = fopen(path, "w");
    if (procs == NULL) fail("cannot join cgroup %s: %s", directory, strerror(errno));
    int written = fprintf(procs, "%d\n", (int)getpid());
    if (fclose(procs) != 0 || written < 0) fail("cannot join cgroup %s: %s", directory, strerror(errno));
}

static void mount_task_root(const char *task_root) {
    if (mkdir("/var/task", 0755) != 0 && errno != EEXIST) fail("cannot create /var/task: %s", strerror(errno));
    if (unshare(CLONE_NEWNS) != 0) fail("cannot enter a mount namespace: %s", strerror(errno));
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("cannot make mounts private: %s", strerror(errno));
    if (mount(task_root, "/var/task", NULL, MS_BIND | MS_REC, NULL) != 0) {
        fail("cannot bind %s at /var/task: %s", task_root, strerror(errno));
    }
    if (mount(NULL, "/var/task", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC, NULL) != 0) {
        fail("cannot make /var/task read-only: %s", strerror(errno));
    }
    if (chdir("/var/task") != 0) fail("cannot enter /var/task: %s", strerror(errno));
}

// Kills every descendant: as a subreaper the launcher inherits orphans, so killing its
// children and reaping until none are left reaches the whole tree.
static void kill_descendants(void) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    for (;;) {
        int found = 0;
        FILE *children = fopen(path, "r");
        if (children != NULL) {
            int pid;
            while (fscanf(children, "%d", &pid) == 1) {
                kill(pid, SIGKILL);
                found = 1;
            }
            fclose(children);
        }
        while (waitpid(-1, NULL, WNOHANG) > 0) {
        }
        if (!found) return;
        usleep(200);
    }
}

// Sends SIGKILL to every process of the worker's `uid`, wherever it went (setsid, double fork); the
// kernel's kill(-1) reaches them all at once, however fast they fork. It checks the sender's real and
// effective uid against each target's real and saved uid, so the launcher sends it with its effective
// uid set to the worker's and its real uid to a bystander uid no process has: never 0 (that would reach
// every root process) and never the worker's (the worker could then signal the launcher while it
// kills). The saved uid stays 0, to become root again.
static void kill_uid(uid_t uid) {
    if (setresuid(bystander_uid(), uid, 0) == 0) kill(-1, SIGKILL);
    if (setresuid(0, 0, 0) != 0) fail("cannot become root again: %s", strerror(errno));
}

// Ends the worker: the function's process group, then (sandboxed: `uid` is not 0) every process of
// its uid, then whatever is still below the launcher, reaped until nothing is.
static void end_worker(pid_t function, uid_t uid) {
    kill(-function, SIGKILL);
    if (uid != 0) kill_uid(uid);
    kill_descendants();
}

// Makes the launcher the one process of its memory cgroup that the OOM killer never picks: it must
// outlive the function to end the rest of the worker; the function does not inherit it. Needs
// CAP_SYS_RESOURCE, which some containers withhold even from root: there the launcher keeps the
// host's score and, far smaller than any runtime, is still the OOM killer's last choice.
static void shield_from_oom_killer(void) {
    int descriptor = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (descriptor < 0) return;
    ssize_t written = write(descriptor, "-1000", 5); // EACCES without CAP_SYS_RESOURCE
    (void)written;
    close(descriptor);
}

// Ends the launcher the way the program ended, so the host can tell exit codes from signals.
static void exit_like(int status) {
    if (WIFEXITED(status)) exit(WEXITSTATUS(status));
    int signal_number = WTERMSIG(status);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(signal_number, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, signal_number);
    sigprocmask(SIG_UNBLOCK, &only, NULL);
    kill(getpid(), signal_number);
    exit(128 + signal_number);
}

static long parse_megabytes(const char *text) {
    char *end;
    long value = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value < 1 || value > 1024 * 1024) fail("bad --tmp-size %s", text);
    return value;
}

// What the arguments ask for.
struct launch_options {
    const char *task_root;
    int sandbox;
    int filter;
    struct root_plan plan;
    const char *directory;
    const char *cgroups[8];
    int cgroup_count;
    int lifeline;
    int standby;
    int fresh_root;
    char **program; // after `--`, or NULL
};

// Reads the options in `arguments` (up to `--`, or to the end) into `options`.
static void parse_options(int count, char **arguments, struct launch_options *options) {
    struct root_plan *plan = &options->plan;
    int index = 0;
    for (; index < count && strcmp(arguments[index], "--") != 0; index++) {
        const char *argument = arguments[index];
        int values = count - index - 1;
        if (strcmp(argument, "--task-root") == 0 && values >= 1) {
            options->task_root = arguments[++index];
        } else if (strcmp(argument, "--sandbox") == 0) {
            options->sandbox = 1;
        } else if (strcmp(argument, "--seccomp") == 0) {
            options->filter = 1;
        } else if (strcmp(argument, "--seccomp-program") == 0 && values >= 1) {
            // Read now: the descriptor is closed with the other inherited ones.
            read_policy(atoi(arguments[++index]));
            options->filter = 1;
        } else if (strcmp(argument, "--opt") == 0 && values >= 1) {
            plan->opt = arguments[++index];
        } else if (strcmp(argument, "--runtime-dir") == 0 && values >= 1) {
            plan->runtime_dir = arguments[++index];
        } else if (strcmp(argument, "--lang-lib") == 0 && values >= 1) {
            plan->lang_lib = arguments[++index];
        } else if (strcmp(argument, "--link-target") == 0 && values >= 2 && plan->link_count < 32) {
            plan->link_source[plan->link_count] = arguments[++index];
            plan->link_target[plan->link_count++] = arguments[++index];
        } else if (strcmp(argument, "--expose") == 0 && values >= 1 && plan->expose_count < 16) {
            plan->expose[plan->expose_count++] = arguments[++index];
        } else if (strcmp(argument, "--tmp-size") == 0 && values >= 1) {
            plan->tmp_megabytes = parse_megabytes(arguments[++index]);
        } else if (strcmp(argument, "--tmp-mount") == 0 && values >= 1) {
            plan->tmp_mount = atoi(arguments[++index]);
        } else if (strcmp(argument, "--chdir") == 0 && values >= 1) {
            options->directory = arguments[++index];
        } else if (strcmp(argument, "--cgroup") == 0 && values >= 1 && options->cgroup_count < 8) {
            options->cgroups[options->cgroup_count++] = arguments[++index];
        } else if (strcmp(argument, "--lifeline") == 0 && values >= 1) {
            options->lifeline = atoi(arguments[++index]);
        } else if (strcmp(argument, "--fresh-root") == 0) {
            options->fresh_root = 1;
        } else if (strcmp(argument, "--standby") == 0 && values >= 1 && options->standby < 0) {
            options->standby = atoi(arguments[++index]);
        } else {
            fail("unknown argument %s", argument);
        }
    }
    if (index + 1 < count) options->program = &arguments[index + 1];
}

// Largest order a standby launcher accepts: Lambda's 4 KB of variables, long paths and arguments.
enum { ORDER_LIMIT = 1024 * 1024 };

// The order as read: a standby's, and in its function's process the program and environment.
static char order[ORDER_LIMIT];

// A standby launcher's order: its remaining arguments and then its environment, each string
// NUL-terminated and each list ended by an empty string. Splits `text` in place.
static char **split_order(char *text, size_t length, int *argument_count, char ***environment) {
    static char *pointers[16384];
    size_t used = 0;
    int list = 0;
    size_t start = 0;
    *argument_count = -1;
    for (size_t position = 0; position < length; position++) {
        if (text[position] != '\0') continue;
        if (used + 1 >= sizeof pointers / sizeof pointers[0]) fail("the standby order has too many strings");
        if (position == start) {
            pointers[used++] = NULL;
            if (list++ == 0) *argument_count = (int)used - 1;
            if (list == 2) {
                if (position + 1 != length) fail("the standby order has data after its environment");
                *environment = &pointers[*argument_count + 1];
                return pointers;
            }
        } else {
            pointers[used++] = &text[start];
        }
        start = position + 1;
    }
    fail("the standby order is incomplete");
}

// Reads from `descriptor` into `buffer`; a descriptor passed along (SCM_RIGHTS) goes to `*passed`
// (more than one, or any with `passed` NULL, is refused). Like read(2) otherwise.
static ssize_t receive(int descriptor, char *buffer, size_t size, int *passed) {
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec part = {.iov_base = buffer, .iov_len = size};
    struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space};
    ssize_t count = recvmsg(descriptor, &message, MSG_CMSG_CLOEXEC);
    if (count < 0) return count;
    if (message.msg_flags & MSG_CTRUNC) fail("the standby order passed more descriptors than it may");
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        if (header->cmsg_len != CMSG_LEN(sizeof(int)) || passed == NULL || *passed >= 0) {
            fail("the standby order passed more descriptors than it may");
        }
        memcpy(passed, CMSG_DATA(header), sizeof(int));
    }
    return count;
}

// Reads `descriptor` into `order` until EOF (with `receive`); returns the length.
static size_t receive_order(int descriptor, int *passed) {
    size_t length = 0;
    for (;;) {
        ssize_t count = receive(descriptor, order + length, sizeof order - length, passed);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) fail("cannot read the standby order: %s", strerror(errno));
        if (count == 0) return length;
        length += (size_t)count;
        if (length == sizeof order) fail("the standby order is longer than %d bytes", ORDER_LIMIT);
    }
}

// Waits for a standby launcher's order on `descriptor` (until EOF) and reads it into `options`;
// the /tmp volume comes with it as a passed descriptor.
static void await_order(int descriptor, struct launch_options *options) {
    int passed = -1;
    size_t length = receive_order(descriptor, &passed);
    // The host closed the pipe without an order: it no longer needs this launcher.
    if (length == 0) exit(0);
    close(descriptor);
    int count;
    char **environment;
    char **arguments = split_order(order, length, &count, &environment);
    parse_options(count, arguments, options);
    if ((options->plan.tmp_mount >= 0) != (passed >= 0)) fail("--tmp-mount in a standby order needs one passed descriptor");
    options->plan.tmp_mount = passed;
    environ = environment;
}

// Becomes the subreaper of everything the function starts and watches SIGCHLD (the function or a
// descendant ended) and SIGTERM (the host ends the worker) through the returned signalfd, so
// neither is lost before the launcher reads it.
static int watch_signals(void) {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail("cannot become a subreaper: %s", strerror(errno));
    sigset_t watched_signals;
    sigemptyset(&watched_signals);
    sigaddset(&watched_signals, SIGCHLD);
    sigaddset(&watched_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &watched_signals, NULL);
    int signals = signalfd(-1, &watched_signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signals < 0) fail("cannot watch signals: %s", strerror(errno));
    return signals;
}

// Reads the program and environment a standby's function process waits for (send_program) from
// `descriptor` until EOF, in the order's encoding; exits when the launcher closed it unsent.
static char **receive_program(int descriptor) {
    size_t length = receive_order(descriptor, NULL);
    if (length == 0) _exit(LAUNCH_FAILURE);
    close(descriptor);
    int count;
    char **program = split_order(order, length, &count, &environ);
    if (count < 1) fail("no program to execute");
    return program;
}

// Hands a standby's waiting function process its program and the order's environment.
static void send_program(int descriptor, char **program) {
    static char text[ORDER_LIMIT];
    size_t length = 0;
    char **lists[2] = {program, environ};
    for (int list = 0; list < 2; list++) {
        for (char **string = lists[list]; *string != NULL; string++) {
            size_t size = strlen(*string) + 1;
            if (length + size + 2 > sizeof text) fail("the program is longer than %d bytes", ORDER_LIMIT);
            memcpy(text + length, *string, size);
            length += size;
        }
        text[length++] = '\0';
    }
    for (size_t sent = 0; sent < length;) {
        ssize_t count = send(descriptor, text + sent, length - sent, MSG_NOSIGNAL);
        if (count < 0 && errno == EINTR) continue;
        // EPIPE: the function's process is gone; its SIGCHLD ends the worker.
        if (count < 0) break;
        sent += (size_t)count;
    }
    close(descriptor);
}

// Forks the function's process: a process group of its own, restricted (restrict_child: rlimits,
// `uid`, seccomp) and killed with the launcher. It executes `program`, or, with `program` NULL,
// first waits on the socket pair `waiting` for its program and environment (a standby's function
// process, forked before the order, so the order finds it restricted already; else NULL).
static pid_t fork_function(uid_t uid, int filter, char **program, const int waiting[2]) {
    pid_t launcher = getpid();
    pid_t child = fork();
    if (child < 0) fail("cannot fork: %s", strerror(errno));
    if (child == 0) {
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        restrict_child(uid, filter);
        // Should anything SIGKILL the launcher after all, the function does not outlive it (set after the
        // uid change, which clears it; the launcher is single-threaded, so its one thread is its life).
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != launcher) _exit(LAUNCH_FAILURE);
        if (program == NULL) {
            // It holds nothing of the launcher's while it waits (the host's namespace, the order's socket).
            close_other_descriptors(waiting[0], -1);
            program = receive_program(waiting[0]);
            if (chdir("/var/task") != 0) fail("cannot enter /var/task: %s", strerror(errno));
        }
        execvp(program[0], program);
        fail("cannot execute %s: %s", program[0], strerror(errno));
    }
    // Also here, so the group exists whichever of the two runs first.
    setpgid(child, child);
    return child;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--export-seccomp") == 0) {
        export_policy(STDOUT_FILENO);
        return 0;
    }
    struct launch_options options = {.plan = {.tmp_megabytes = 512, .tmp_mount = -1}, .lifeline = -1, .standby = -1};
    parse_options(argc - 1, argv + 1, &options);
    int joined = 0;
    int signals = -1;
    pid_t child = -1;
    int program_socket[2] = {-1, -1};
    if (options.standby >= 0) {
        // Joining a cgroup waits for an RCU grace period (5-40 ms here); a standby launcher does it
        // before it is needed, then waits for the rest of its arguments and its environment.
        if (options.program != NULL) fail("--standby takes its program from the order");
        for (; joined < options.cgroup_count; joined++) join_cgroup(options.cgroups[joined]);
        // Whatever else it inherited (another worker's pipe or socket, caught in the host between a
        // pipe and its close-on-exec) must not stay open for as long as it waits.
        close_other_descriptors(options.lifeline, options.standby);
        // Its signals too (64 calls), and the root every function gets, so the order finds only
        // the function's own part of the sandbox left to do.
        reset_signals();
        if (options.fresh_root) {
            prepare_root();
            // The function's process too, restricted as a --sandbox order's must be: the order only
            // hands it its program once the root is finished.
            signals = watch_signals();
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, program_socket) != 0) {
                fail("cannot create a socket pair: %s", strerror(errno));
            }
            child = fork_function(sandbox_uid(), options.filter, NULL, program_socket);
            close(program_socket[0]);
        }
        await_order(options.standby, &options);
        if (options.fresh_root && !options.sandbox) fail("a --fresh-root standby takes only --sandbox orders");
    } else if (options.fresh_root) {
        fail("--fresh-root needs --standby");
    }
    if (options.program == NULL) {
        fail("usage: fnhost-launch [--task-root DIR [--sandbox [--opt DIR] [--runtime-dir DIR] [--lang-lib DIR] "
             "[--expose DIR]... [--link-target SOURCE TARGET]... "
             "[--tmp-size MB | --tmp-mount FD]] | --chdir DIR] [--seccomp | --seccomp-program FD] [--cgroup DIR]... "
             "[--lifeline FD] [[--fresh-root] --standby FD] -- PROGRAM [ARG...]");
    }
    const char *task_root = options.task_root;
    int sandbox = options.sandbox;
    int filter = options.filter;
    struct root_plan plan = options.plan;
    const char *directory = options.directory;
    int lifeline = options.lifeline;
    if (sandbox && task_root == NULL) fail("--sandbox needs --task-root");
    if (!sandbox && (plan.opt != NULL || plan.runtime_dir != NULL || plan.lang_lib != NULL || plan.expose_count > 0 ||
                     plan.link_count > 0 || plan.tmp_mount >= 0)) {
        fail("--opt, --runtime-dir, --lang-lib, --expose and --link-target need --sandbox");
    }
    char **program = options.program;

    for (; joined < options.cgroup_count; joined++) join_cgroup(options.cgroups[joined]);
    if (options.standby < 0) {
        // A standby did both before it waited (since then it has opened only what it holds on purpose).
        reset_signals();
        close_other_descriptors(lifeline, plan.tmp_mount);
    }
    if (lifeline >= 0 && fcntl(lifeline, F_SETFD, FD_CLOEXEC) != 0) fail("bad lifeline descriptor %d", lifeline);
    uid_t uid = 0;
    if (sandbox) {
        plan.task_root = task_root;
        if (!options.fresh_root) prepare_root();
        finish_root(&plan);
        uid = sandbox_uid();
    } else if (task_root != NULL) {
        mount_task_root(task_root);
    }
    if (directory != NULL && chdir(directory) != 0) fail("cannot enter %s: %s", directory, strerror(errno));
    if (child > 0) {
        send_program(program_socket[1], program);
    } else {
        signals = watch_signals();
        child = fork_function(uid, filter, program, NULL);
    }
    if (sandbox) shield_from_oom_killer();

    struct pollfd watched[2] = {{.fd = signals, .events = POLLIN}, {.fd = lifeline, .events = POLLIN}};
    for (;;) {
        if (poll(watched, lifeline >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            fail("poll failed: %s", strerror(errno));
        }
        if (lifeline >= 0 && watched[1].revents != 0) {
            char byte;
            if (read(lifeline, &byte, 1) <= 0) {
                // The host is gone: nothing of this worker may outlive it.
                end_worker(child, uid);
                _exit(LAUNCH_FAILURE);
            }
        }
        if (watched[0].revents != 0) {
            int ending = 0;
            struct signalfd_siginfo info;
            while (read(signals, &info, sizeof info) == sizeof info) {
                if (info.ssi_signo == SIGTERM) ending = 1;
            }
            int status;
            pid_t ended;
            while ((ended = waitpid(-1, &status, WNOHANG)) > 0) {
                if (ended == child) {
                    end_worker(child, uid);
                    exit_like(status);
                }
            }
            if (ending) {
                // The function first, so its status says it was killed (unless it ended on its own just before).
                kill(child, SIGKILL);
                while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
                }
                end_worker(child, uid);
                exit_like(status);
            }
        }
    }
}
