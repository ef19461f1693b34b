// Who owns the other end of a loopback TCP connection, asked of the kernel through the
// socket-diag netlink interface (the interface `ss -e` uses). The Runtime API uses it to admit
// only a worker's own processes: each sandboxed worker runs as a uid of its own.
#ifndef FNHOST_SOCKET_OWNER_H
#define FNHOST_SOCKET_OWNER_H

#include <stdint.h>

/// Finds the TCP socket whose local end is `local_address:local_port` and whose remote end is
/// `remote_address:remote_port` (IPv4, network byte order: as `sockaddr_in` holds them) in this
/// network namespace, and stores the uid that created it in `*uid`.
/// Returns 0, or a negative errno: -ENOENT when no such socket exists (it closed meanwhile).
int fnhost_tcp_socket_owner(uint32_t local_address, uint16_t local_port, uint32_t remote_address,
                            uint16_t remote_port, uint32_t *uid);

#endif
