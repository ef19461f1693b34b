// The worker's private root filesystem: a fresh tmpfs holding only what a function may see.
//
//   /var/task     the function's code, read-only        /tmp      a private disk volume, or a tmpfs of the given size
//   /opt          the merged layers, read-only           /proc     a new procfs, other users' processes hidden
//   /var/runtime  fnhost's runtime bootstraps, read-only /dev      null, zero, full, random, urandom, fd links
//   /var/lang/lib shared libraries of a language runtime (the host's Swift runtime), read-only
//   /usr /bin /sbin /lib* /etc and each --expose DIR     read-only binds of the host's
//   /bin/sh       bash, as on Amazon Linux (a host whose /bin/sh is dash gets bash bound over
//                 the file /bin/sh resolves to, inside the worker's mount namespace only)
//
// Everything else of the host (the checkout, its /tmp, the state dir, home directories) is
// simply absent: after pivot_root the old root is detached.
//
// Built in two steps. prepare_root builds and enters what every function gets: the system
// directories, /proc and /dev (a standby launcher does this before its order, so the mount
// namespace's copy, the binds, pivot_root's walk over every task and the old root's detach are
// off the cold start). finish_root brings in the function's own directories: it steps back into
// the host's mount namespace, takes a detached copy of each (open_tree), returns and attaches
// them (move_mount), as the host's /tmp volume is attached. While a standby waits it holds only
// its fresh root and a reference to the host's namespace, never a copy of the host's mounts.
#define _GNU_SOURCE
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// Host entries every runtime needs. Where one is a symlink (merged /usr: /lib -> usr/lib) the
// same symlink is recreated instead of a bind.
static const char *const system_entries[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc"};
enum { SYSTEM_ENTRY_COUNT = sizeof system_entries / sizeof system_entries[0] };

// No tty: a worker has no controlling terminal, and the developer's terminal is not its business.
static const char *const device_nodes[] = {"null", "zero", "full", "random", "urandom"};

// The staging point for the new root. Its host content is shadowed while the root is built, so
// every system source is opened (O_PATH) before it is mounted over and bound through /proc/self/fd.
static const char staging[] = "/tmp";

// Between prepare_root and finish_root: the host's mount namespace, the directory the launcher
// started in (relative paths of the plan resolve there) and the worker's own namespace.
static int host_namespace = -1, host_directory = -1, worker_namespace = -1;

/// `mkdir -p` relative to the current directory (the staging root); existing directories are fine,
/// even on a read-only bind (a path exposed inside /usr, say).
static void make_directories(const char *relative, mode_t mode) {
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", relative) >= (int)sizeof path) fail("path too long: %s", relative);
    for (char *slash = strchr(path + 1, '/');; slash = strchr(slash + 1, '/')) {
        if (slash != NULL) *slash = '\0';
        if (mkdir(path, slash != NULL ? 0755 : mode) != 0) {
            struct stat existing;
            if (stat(path, &existing) != 0 || !S_ISDIR(existing.st_mode)) {
                fail("cannot create %s in the worker's root: %s", path, strerror(errno));
            }
        }
        if (slash == NULL) return;
        *slash = '/';
    }
}

static int open_source(const char *path) {
    int descriptor = open(path, O_PATH | O_CLOEXEC);
    if (descriptor < 0) fail("cannot open %s: %s", path, strerror(errno));
    return descriptor;
}

/// Read-only, nosuid, nodev and private (nothing the host mounts below its source shows up in
/// the worker) for `target` and every mount below it.
static void make_read_only(const char *target) {
    struct mount_attr attributes = {
        .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, .propagation = MS_PRIVATE};
    if (mount_setattr(AT_FDCWD, target, AT_RECURSIVE, &attributes, sizeof attributes) == 0) return;
    // Kernels before 5.12: one remount, which covers the top mount only.
    if (mount(NULL, target, NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0) {
        fail("cannot make %s read-only: %s", target, strerror(errno));
    }
}

/// A detached copy of the host's `path` and every mount below it, taken in the host's namespace.
static int copy_tree(const char *path) {
    int tree = open_tree(host_directory, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (tree < 0) fail("cannot open %s: %s", path, strerror(errno));
    return tree;
}

/// Attaches the detached copy `tree` of `name` at `target` (relative to the worker's root), read-only.
static void attach_read_only(int tree, const char *name, const char *target) {
    if (move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0) {
        fail("cannot bind %s at /%s: %s", name, target, strerror(errno));
    }
    close(tree);
    make_read_only(target);
}

/// Binds the directory open as `source` at `target` (relative to the staging root), read-only.
static void bind_read_only(int source, const char *name, const char *target) {
    char through[64];
    snprintf(through, sizeof through, "/proc/self/fd/%d", source);
    if (mount(through, target, NULL, MS_BIND | MS_REC, NULL) != 0) {
        fail("cannot bind %s at /%s: %s", name, target, strerror(errno));
    }
    make_read_only(target);
}

static void mount_proc(void) {
    make_directories("proc", 0555);
    const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    // hidepid: the function (another uid) sees only its own processes, not the launcher's nor other workers'.
    if (mount("proc", "proc", "proc", flags, "hidepid=invisible") == 0) return;
    if (mount("proc", "proc", "proc", flags, "hidepid=2") == 0) return;
    if (mount("proc", "proc", "proc", flags, NULL) != 0) fail("cannot mount /proc: %s", strerror(errno));
}

static void mount_dev(void) {
    make_directories("dev", 0755);
    if (mount("fnhost-dev", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") != 0) {
        fail("cannot mount /dev: %s", strerror(errno));
    }
    for (size_t index = 0; index < sizeof device_nodes / sizeof device_nodes[0]; index++) {
        char host[64], target[64];
        snprintf(host, sizeof host, "/dev/%s", device_nodes[index]);
        snprintf(target, sizeof target, "dev/%s", device_nodes[index]);
        if (access(host, F_OK) != 0) continue;
        int placeholder = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (placeholder < 0) fail("cannot create /%s: %s", target, strerror(errno));
        close(placeholder);
        if (mount(host, target, NULL, MS_BIND, NULL) != 0) fail("cannot bind %s: %s", host, strerror(errno));
    }
    const char *const links[][2] = {
        {"/proc/self/fd", "dev/fd"}, {"/proc/self/fd/0", "dev/stdin"},
        {"/proc/self/fd/1", "dev/stdout"}, {"/proc/self/fd/2", "dev/stderr"},
    };
    for (size_t index = 0; index < sizeof links / sizeof links[0]; index++) {
        if (symlink(links[index][0], links[index][1]) != 0) fail("cannot link /%s: %s", links[index][1], strerror(errno));
    }
    // Only the tmpfs turns read-only; the device binds on it keep their own (writable) mounts.
    if (mount(NULL, "dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) != 0) {
        fail("cannot make /dev read-only: %s", strerror(errno));
    }
}

/// The file /bin/sh resolves to on the host, relative to the root (`usr/bin/dash`), when that
/// is not bash and bash exists; else NULL. `bash` gets the open bash binary.
static const char *shell_to_replace(char resolved[PATH_MAX], int *bash) {
    char bash_path[PATH_MAX];
    *bash = -1;
    if (realpath("/bin/sh", resolved) == NULL || realpath("/bin/bash", bash_path) == NULL) return NULL;
    if (strcmp(resolved, bash_path) == 0) return NULL;
    *bash = open_source(bash_path);
    return resolved + 1;
}

void prepare_root(void) {
    host_namespace = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    host_directory = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (host_namespace < 0 || host_directory < 0) fail("cannot hold the host's namespace: %s", strerror(errno));
    if (unshare(CLONE_NEWNS) != 0) fail("cannot enter a mount namespace: %s", strerror(errno));
    worker_namespace = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (worker_namespace < 0) fail("cannot hold the worker's namespace: %s", strerror(errno));
    // Nothing mounted from here on may propagate back to the host.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("cannot make mounts private: %s", strerror(errno));
    // Open every source before the staging tmpfs shadows whatever lives under /tmp (and after
    // unshare: a bind source must be a mount of the caller's own namespace).
    int system[SYSTEM_ENTRY_COUNT];
    char system_links[SYSTEM_ENTRY_COUNT][PATH_MAX];
    for (int index = 0; index < SYSTEM_ENTRY_COUNT; index++) {
        char host[64];
        snprintf(host, sizeof host, "/%s", system_entries[index]);
        struct stat entry;
        system[index] = -1;
        system_links[index][0] = '\0';
        if (lstat(host, &entry) != 0) continue;
        if (S_ISLNK(entry.st_mode)) {
            ssize_t length = readlink(host, system_links[index], PATH_MAX - 1);
            if (length < 0) fail("cannot read the link %s: %s", host, strerror(errno));
            system_links[index][length] = '\0';
        } else if (S_ISDIR(entry.st_mode)) {
            system[index] = open_source(host);
        }
    }

    char shell_path[PATH_MAX];
    int bash = -1;
    const char *shell = shell_to_replace(shell_path, &bash);

    if (mount("fnhost-root", staging, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0) {
        fail("cannot mount the worker's root: %s", strerror(errno));
    }
    if (chdir(staging) != 0) fail("cannot enter the worker's root: %s", strerror(errno));

    for (int index = 0; index < SYSTEM_ENTRY_COUNT; index++) {
        const char *name = system_entries[index];
        if (system_links[index][0] != '\0') {
            if (symlink(system_links[index], name) != 0) fail("cannot link /%s: %s", name, strerror(errno));
        } else if (system[index] >= 0) {
            make_directories(name, 0755);
            bind_read_only(system[index], name, name);
            close(system[index]);
        }
    }
    if (shell != NULL) {
        bind_read_only(bash, "/bin/bash", shell);
        close(bash);
    }
    mount_proc();
    mount_dev();

    // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only the new root.
    if (syscall(SYS_pivot_root, ".", ".") != 0) fail("cannot pivot into the worker's root: %s", strerror(errno));
    if (umount2(".", MNT_DETACH) != 0) fail("cannot detach the host's root: %s", strerror(errno));
    if (chdir("/") != 0) fail("cannot enter /: %s", strerror(errno));
}

void finish_root(const struct root_plan *plan) {
    // The plan's directories, copied in the host's namespace (setns puts the launcher at its root,
    // and back at the worker's).
    if (setns(host_namespace, CLONE_NEWNS) != 0) fail("cannot return to the host's namespace: %s", strerror(errno));
    int task_root = copy_tree(plan->task_root);
    int opt = plan->opt != NULL ? copy_tree(plan->opt) : -1;
    int runtime_dir = plan->runtime_dir != NULL ? copy_tree(plan->runtime_dir) : -1;
    int lang_lib = plan->lang_lib != NULL ? copy_tree(plan->lang_lib) : -1;
    int exposed[16];
    for (int index = 0; index < plan->expose_count; index++) {
        if (plan->expose[index][0] != '/') fail("--expose needs an absolute path, got %s", plan->expose[index]);
        exposed[index] = copy_tree(plan->expose[index]);
    }
    int linked[32];
    for (int index = 0; index < plan->link_count; index++) {
        if (plan->link_target[index][0] != '/') fail("--link-target needs an absolute target, got %s", plan->link_target[index]);
        linked[index] = copy_tree(plan->link_source[index]);
    }
    if (setns(worker_namespace, CLONE_NEWNS) != 0) fail("cannot enter the worker's namespace: %s", strerror(errno));
    close(host_namespace);
    close(host_directory);
    close(worker_namespace);

    for (int index = 0; index < plan->expose_count; index++) {
        const char *relative = plan->expose[index] + strspn(plan->expose[index], "/");
        if (*relative == '\0') fail("--expose / would expose the whole host");
        make_directories(relative, 0755);
        attach_read_only(exposed[index], plan->expose[index], relative);
    }
    make_directories("var/task", 0755);
    attach_read_only(task_root, plan->task_root, "var/task");
    make_directories("opt", 0755);
    if (opt >= 0) attach_read_only(opt, plan->opt, "opt");
    if (runtime_dir >= 0) {
        make_directories("var/runtime", 0755);
        attach_read_only(runtime_dir, plan->runtime_dir, "var/runtime");
    }
    if (lang_lib >= 0) {
        make_directories("var/lang/lib", 0755);
        attach_read_only(lang_lib, plan->lang_lib, "var/lang/lib");
    }
    for (int index = 0; index < plan->link_count; index++) {
        const char *relative = plan->link_target[index] + strspn(plan->link_target[index], "/");
        if (*relative == '\0') fail("--link-target cannot replace /");
        struct stat source;
        if (fstat(linked[index], &source) != 0) fail("cannot read %s: %s", plan->link_source[index], strerror(errno));
        if (S_ISDIR(source.st_mode)) {
            make_directories(relative, 0755);
        } else {
            char parent[PATH_MAX];
            snprintf(parent, sizeof parent, "%s", relative);
            char *slash = strrchr(parent, '/');
            if (slash != NULL) {
                *slash = '\0';
                make_directories(parent, 0755);
            }
            int placeholder = open(relative, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
            if (placeholder < 0) fail("cannot create /%s: %s", relative, strerror(errno));
            close(placeholder);
        }
        attach_read_only(linked[index], plan->link_source[index], relative);
    }
    make_directories("tmp", 01777);
    if (plan->tmp_mount >= 0) {
        // Made nosuid, nodev and noatime by the host; attached here only, so no other namespace holds it.
        if (move_mount(plan->tmp_mount, "", AT_FDCWD, "tmp", MOVE_MOUNT_F_EMPTY_PATH) != 0) {
            fail("cannot attach the /tmp volume: %s", strerror(errno));
        }
        close(plan->tmp_mount);
    } else {
        char tmp_options[64];
        snprintf(tmp_options, sizeof tmp_options, "mode=1777,size=%ldm", plan->tmp_megabytes);
        if (mount("fnhost-tmp", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, tmp_options) != 0) {
            fail("cannot mount /tmp: %s", strerror(errno));
        }
    }
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0) {
        fail("cannot make / read-only: %s", strerror(errno));
    }
    if (chdir("/var/task") != 0) fail("cannot enter /var/task: %s", strerror(errno));
}
