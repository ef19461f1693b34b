/*
 * floor: the smallest HTTP/1.1 server worth measuring against, the floor of a loopback HTTP
 * exchange on this machine.  One thread, epoll, non-blocking sockets, keep-alive, pipelining.
 * It parses only what framing needs (the header end and Content-Length) and answers every
 * request with "200 OK" and the request's own body (so `{}` comes back as `{}`, like the C
 * no-op behind fnhost).  No HTTP framework: what it costs is the kernel's socket path plus a
 * few hundred instructions.
 *
 *   floor [PORT]    (0 or nothing: a free port) prints "floor listening on http://127.0.0.1:PORT"
 *
 * Built by bench/run with the system C compiler; loopback only; runs until SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"

#define BUFFER_SIZE 65536
#define MAX_EVENTS 256

struct connection {
    int fd;
    size_t used;
    char in[BUFFER_SIZE];
    char out[BUFFER_SIZE];
};

static volatile sig_atomic_t stopping;

static void on_signal(int signo) { (void)signo; stopping = 1; }

/* Answers every complete request in the buffer; returns -1 when the connection must close. */
static int serve(struct connection *c)
{
    size_t offset = 0, out_len = 0;
    for (;;) {
        char *start = c->in + offset;
        size_t available = c->used - offset;
        char *header_end = memmem(start, available, "\r\n\r\n", 4);
        if (!header_end)
            break;
        long body = content_length(start, header_end + 2);
        size_t header_len = (size_t)(header_end - start) + 4;
        if (body < 0 || body > BUFFER_SIZE / 2)
            return -1;
        if (available < header_len + (size_t)body)
            break;
        char head[128];
        int head_len = snprintf(head, sizeof head,
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %ld\r\n\r\n", body);
        if (out_len + (size_t)head_len + (size_t)body > sizeof c->out)
            break;
        memcpy(c->out + out_len, head, (size_t)head_len);
        memcpy(c->out + out_len + head_len, start + header_len, (size_t)body);
        out_len += (size_t)head_len + (size_t)body;
        offset += header_len + (size_t)body;
    }
    if (offset == 0 && c->used == sizeof c->in)
        return -1; /* a header block larger than the buffer */
    memmove(c->in, c->in + offset, c->used - offset);
    c->used -= offset;
    size_t sent = 0;
    while (sent < out_len) {
        ssize_t n = send(c->fd, c->out + sent, out_len - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1; /* a client that does not read its answers is not one we measure */
        }
        sent += (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction action = {.sa_handler = on_signal};
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4096) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
        perror("floor: listen");
        return 2;
    }
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    printf("floor listening on http://127.0.0.1:%d\n", ntohs(address.sin_port));
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    while (!stopping) {
        int ready = epoll_wait(epoll, events, MAX_EVENTS, 500);
        for (int i = 0; i < ready; i++) {
            struct connection *c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    struct connection *fresh = malloc(sizeof *fresh);
                    if (!fresh) {
                        close(fd);
                        continue;
                    }
                    fresh->fd = fd;
                    fresh->used = 0;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event add = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = fresh};
                    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &add);
                }
                continue;
            }
            int done = 0;
            for (;;) {
                ssize_t n = recv(c->fd, c->in + c->used, sizeof c->in - c->used, 0);
                if (n > 0) {
                    c->used += (size_t)n;
                    if (serve(c) != 0) {
                        done = 1;
                        break;
                    }
                    continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    break;
                if (n < 0 && errno == EINTR)
                    continue;
                done = 1; /* EOF or error */
                break;
            }
            if (done) {
                close(c->fd); /* also removes it from the epoll set */
                free(c);
            }
        }
    }
    return 0;
}
