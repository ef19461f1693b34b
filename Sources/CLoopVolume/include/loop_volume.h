// Mounting a filesystem image through a loop device: what backs a sandboxed worker's /tmp with
// disk (see ScratchVolumes in FunctionHostSupervisor). Needs root (CAP_SYS_ADMIN).
#ifndef FNHOST_LOOP_VOLUME_H
#define FNHOST_LOOP_VOLUME_H

/// Attaches the ext4 image at `image` to a free loop device, removes the file's name (the device
/// holds it) and mounts the filesystem detached (nosuid, nodev, noatime): in no mount namespace,
/// so no namespace copied from the caller's carries it, until a process attaches it with
/// move_mount(2) (the launcher, at a worker's /tmp). Its root is world-writable and sticky (mode
/// 1777), as /tmp is. The kernel frees filesystem, device and file once the returned descriptor
/// and every attachment are gone.
/// Returns the mount's descriptor (close-on-exec), or a negative errno.
int fnhost_loop_volume(const char *image);

/// Whether this kernel can make such a detached ext4 mount (fsopen(2) knows ext4; Linux 5.2 on).
/// Returns 0, or a negative errno (ENOSYS: no new mount API; ENODEV: no ext4).
int fnhost_detached_ext4_available(void);

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
