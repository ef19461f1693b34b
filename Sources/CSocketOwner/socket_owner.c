// One SOCK_DIAG_BY_FAMILY request for exactly one socket (no dump): a few microseconds, done
// once per Runtime API connection. Needs no privilege; the kernel answers for sockets of this
// network namespace only.
#define _GNU_SOURCE
#include "socket_owner.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int ask(int netlink, uint32_t local_address, uint16_t local_port, uint32_t remote_address,
               uint16_t remote_port, uint32_t *uid) {
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.request.sdiag_family = AF_INET;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ~0U;
    // The kernel looks the socket up as the receiver of a packet from dst to src: src is its local end.
    message.request.id.idiag_src[0] = local_address;
    message.request.id.idiag_sport = local_port;
    message.request.id.idiag_dst[0] = remote_address;
    message.request.id.idiag_dport = remote_port;
    message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t sent;
    do {
        sent = sendto(netlink, &message, sizeof message, 0, (struct sockaddr *)&kernel, sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) return -errno;

    // The answer is one inet_diag_msg (plus attributes we did not ask for) or an error.
    long aligned[2048 / sizeof(long)];
    ssize_t received;
    do {
        received = recv(netlink, aligned, sizeof aligned, 0);
    } while (received < 0 && errno == EINTR);
    if (received < 0) return -errno;
    for (struct nlmsghdr *reply = (struct nlmsghdr *)aligned; NLMSG_OK(reply, (size_t)received);
         reply = NLMSG_NEXT(reply, received)) {
        if (reply->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *error = NLMSG_DATA(reply);
            return reply->nlmsg_len >= NLMSG_LENGTH(sizeof *error) && error->error != 0 ? error->error : -EPROTO;
        }
        if (reply->nlmsg_type == SOCK_DIAG_BY_FAMILY && reply->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
            const struct inet_diag_msg *socket_info = NLMSG_DATA(reply);
            *uid = socket_info->idiag_uid;
            return 0;
        }
    }
    return -EPROTO;
}

int fnhost_tcp_socket_owner(uint32_t local_address, uint16_t local_port, uint32_t remote_address,
                            uint16_t remote_port, uint32_t *uid) {
    int netlink = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (netlink < 0) return -errno;
    int status = ask(netlink, local_address, local_port, remote_address, remote_port, uid);
    close(netlink);
    return status;
}
