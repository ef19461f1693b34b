// Mounting a filesystem image through a loop device: what backs a sandboxed worker's /tmp with
// disk (see ScratchVolumes in FunctionHostSupervisor). Needs root (CAP_SYS_ADMIN).
#ifndef FNHOST_LOOP_VOLUME_H
#define FNHOST_LOOP_VOLUME_H

/// Attaches the ext4 image at `image` to a free loop device (detached again by the kernel once
/// its last mount is gone) and mounts it at `target` (nosuid, nodev), whose root is then made
/// world-writable and sticky (mode 1777), as /tmp is.
/// Returns 0, or a negative errno.
int fnhost_loop_mount(const char *image, const char *target);

/// Copies the file `source` to a new file `destination` (mode 0600), writing only its data and
/// leaving its holes as holes: a fresh copy of a freshly made, mostly empty filesystem image.
/// Returns 0, or a negative errno (the partial destination is removed).
int fnhost_sparse_copy(const char *source, const char *destination);

/// Moves the calling process into a mount namespace of its own whose mounts receive the host's
/// (recursively slave): what it mounts afterwards is seen by nobody else and is gone when the
/// process and its children are (even after SIGKILL). Only a single-threaded process can do it.
/// Returns 0, or a negative errno (EINVAL: threads exist; EPERM: not root).
int fnhost_private_mount_namespace(void);

#endif
