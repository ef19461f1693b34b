#define _GNU_SOURCE
#include "loop_volume.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

/// Binds `image_fd` to a free loop device with autoclear; the device's open descriptor, or a
/// negative errno. Another thread or process may take the device `LOOP_CTL_GET_FREE` named first
/// (every one racing for a device is told the same number): retried, each time one of them wins.
static int attach(int image_fd, char device[32]) {
    int control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (control < 0) return -errno;
    int result = -EBUSY;
    for (int attempt = 0; attempt < 256 && result == -EBUSY; attempt++) {
        int number = ioctl(control, LOOP_CTL_GET_FREE);
        if (number < 0) {
            result = -errno;
            break;
        }
        snprintf(device, 32, "/dev/loop%d", number);
        int loop = open(device, O_RDWR | O_CLOEXEC);
        if (loop < 0) {
            result = -errno;
            break;
        }
        struct loop_config config;
        memset(&config, 0, sizeof config);
        config.fd = (unsigned int)image_fd;
        config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
        if (ioctl(loop, LOOP_CONFIGURE, &config) == 0) {
            close(control);
            return loop;
        }
        result = -errno;
        close(loop);
    }
    close(control);
    return result;
}

int fnhost_detached_ext4_available(void) {
    int context = fsopen("ext4", FSOPEN_CLOEXEC);
    if (context < 0) return -errno;
    close(context);
    return 0;
}

int fnhost_loop_volume(const char *image) {
    int image_fd = open(image, O_RDWR | O_CLOEXEC);
    if (image_fd < 0) return -errno;
    char device[32];
    int loop = attach(image_fd, device);
    close(image_fd);
    // The loop device holds the file open: its name is no longer needed, and no host that dies
    // from here on leaves it behind.
    unlink(image);
    if (loop < 0) return loop;
    int result = 0;
    int context = fsopen("ext4", FSOPEN_CLOEXEC);
    if (context < 0) result = -errno;
    if (result == 0 && fsconfig(context, FSCONFIG_SET_STRING, "source", device, 0) != 0) result = -errno;
    // The image is sparse: its inode tables read as zeros already, and writing zeros over them in
    // the background (ext4's lazy init) was most of a burst's disk traffic.
    if (result == 0 && fsconfig(context, FSCONFIG_SET_FLAG, "noinit_itable", NULL, 0) != 0) result = -errno;
    if (result == 0 && fsconfig(context, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) result = -errno;
    int volume = -1;
    if (result == 0) {
        volume = fsmount(context, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOATIME);
        if (volume < 0) result = -errno;
    }
    if (context >= 0) close(context);
    // Autoclear detaches the device when this last descriptor closes, unless the filesystem holds it.
    close(loop);
    if (result == 0) {
        int root = openat(volume, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0 || fchmod(root, 01777) != 0) result = -errno;
        if (root >= 0) close(root);
    }
    if (result != 0) {
        if (volume >= 0) close(volume);
        return result;
    }
    return volume;
}

int fnhost_sparse_copy(const char *source, const char *destination) {
    int in = open(source, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -errno;
    struct stat info;
    if (fstat(in, &info) != 0) {
        int error = -errno;
        close(in);
        return error;
    }
    int out = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        int error = -errno;
        close(in);
        return error;
    }
    int result = ftruncate(out, info.st_size) == 0 ? 0 : -errno;
    off_t offset = 0;
    while (result == 0 && offset < info.st_size) {
        off_t data = lseek(in, offset, SEEK_DATA);
        if (data < 0) {
            if (errno != ENXIO) result = -errno;  // ENXIO: only a hole is left
            break;
        }
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0) {
            result = -errno;
            break;
        }
        off_t from = data, to = data;
        while (from < hole) {
            ssize_t copied = copy_file_range(in, &from, out, &to, (size_t)(hole - from), 0);
            if (copied <= 0) {
                result = copied == 0 ? -EIO : -errno;
                break;
            }
        }
        offset = hole;
    }
    close(in);
    if (close(out) != 0 && result == 0) result = -errno;
    if (result != 0) unlink(destination);
    return result;
}

int fnhost_private_mount_namespace(void) {
    if (unshare(CLONE_NEWNS) != 0) return -errno;
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) return -errno;
    return 0;
}
