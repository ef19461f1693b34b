/*
 * relay: the floor of a warm invoke, the smallest host worth measuring fnhost against.  One
 * thread, epoll, non-blocking sockets.  It listens for clients (HTTP/1.1 keep-alive) and for one
 * function process speaking the Lambda Runtime API (`GET .../invocation/next`, `POST
 * .../invocation/ID/response`), starts that process (the same bootstrap fnhost runs, e.g. the C
 * no-op), and relays each client request's body to the parked `/next` and the function's
 * response back to the client.  No sandbox, no cgroup, no logs, no concurrency limit, one
 * invocation at a time: what is left is two loopback HTTP exchanges and two process wake-ups,
 * the part of an invoke no host can avoid.
 *
 *   relay BOOTSTRAP   prints "relay listening on http://127.0.0.1:PORT" once the function asked
 *                     for its first event
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
#include <sys/wait.h>
#include <unistd.h>

#define BUFFER_SIZE 65536
#define MAX_CONNECTIONS 64

enum kind { CLIENT, RUNTIME };

struct connection {
    int fd;
    enum kind kind;
    size_t used;
    char in[BUFFER_SIZE];
};

static struct connection *connections[MAX_CONNECTIONS];
static volatile sig_atomic_t stopping;
static int epoll_fd;

/* The event waiting for a `/next`, the `/next` waiting for an event, the client waiting for its answer. */
static char pending_body[BUFFER_SIZE];
static long pending_length = -1;
static int pending_client = -1;
static int parked_next = -1;
static int answering_client = -1;
static unsigned long request_number;

static void on_signal(int signo) { (void)signo; stopping = 1; }

static long content_length(const char *start, const char *end)
{
    static const char name[] = "\r\ncontent-length:";
    for (const char *p = start; p + sizeof name - 1 < end; p++) {
        if (strncasecmp(p, name, sizeof name - 1) == 0)
            return strtol(p + sizeof name - 1, NULL, 10);
    }
    return 0;
}

static int write_all(int fd, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, data, length);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return -1;
        data += written;
        length -= (size_t)written;
    }
    return 0;
}

/* Hands the pending event to the parked `/next`. */
static void deliver(void)
{
    if (pending_length < 0 || parked_next < 0)
        return;
    char head[512];
    int head_length = snprintf(head, sizeof head,
        "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r%lu\r\nLambda-Runtime-Deadline-Ms: 9999999999999\r\n"
        "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:relay\r\n"
        "Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\nContent-Type: application/json\r\n"
        "Content-Length: %ld\r\n\r\n", ++request_number, pending_length);
    write_all(parked_next, head, (size_t)head_length);
    write_all(parked_next, pending_body, (size_t)pending_length);
    answering_client = pending_client;
    pending_length = -1;
    pending_client = -1;
    parked_next = -1;
}

/* One complete request on `c`: [start, body_end). */
static void handle(struct connection *c, const char *start, const char *body, long length)
{
    if (c->kind == CLIENT) {
        memcpy(pending_body, body, (size_t)length);
        pending_length = length;
        pending_client = c->fd;
        deliver();
    } else if (strncmp(start, "GET ", 4) == 0) {
        parked_next = c->fd;
        deliver();
    } else {
        static const char accepted[] = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";
        write_all(c->fd, accepted, sizeof accepted - 1);
        char head[128];
        int head_length = snprintf(head, sizeof head,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %ld\r\n\r\n", length);
        if (answering_client >= 0) {
            write_all(answering_client, head, (size_t)head_length);
            write_all(answering_client, body, (size_t)length);
            answering_client = -1;
        }
    }
}

/* Handles every complete request in the buffer; -1 when the connection must close. */
static int serve(struct connection *c)
{
    size_t offset = 0;
    for (;;) {
        char *start = c->in + offset;
        size_t available = c->used - offset;
        char *header_end = memmem(start, available, "\r\n\r\n", 4);
        if (!header_end)
            break;
        long length = content_length(start, header_end + 2);
        size_t total = (size_t)(header_end + 4 - start) + (size_t)length;
        if (length < 0 || total > BUFFER_SIZE)
            return -1;
        if (total > available)
            break;
        handle(c, start, header_end + 4, length);
        offset += total;
    }
    memmove(c->in, c->in + offset, c->used - offset);
    c->used -= offset;
    return 0;
}

static int listen_on_loopback(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t size = sizeof address;
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, size) != 0 || listen(fd, 128) != 0
        || getsockname(fd, (struct sockaddr *)&address, &size) != 0) {
        perror("relay: listen");
        exit(1);
    }
    struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
    return fd;
}

static int port_of(int fd)
{
    struct sockaddr_in address;
    socklen_t size = sizeof address;
    getsockname(fd, (struct sockaddr *)&address, &size);
    return ntohs(address.sin_port);
}

static void accept_from(int listener, enum kind kind)
{
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    if (fd >= MAX_CONNECTIONS) {
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct connection *c = calloc(1, sizeof *c);
    c->fd = fd;
    c->kind = kind;
    connections[fd] = c;
    struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

static void drop(int fd)
{
    if (fd == parked_next)
        parked_next = -1;
    if (fd == answering_client)
        answering_client = -1;
    if (fd == pending_client) {
        pending_client = -1;
        pending_length = -1;
    }
    free(connections[fd]);
    connections[fd] = NULL;
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: relay BOOTSTRAP\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    int clients = listen_on_loopback();
    int runtime = listen_on_loopback();

    char api[64];
    snprintf(api, sizeof api, "127.0.0.1:%d", port_of(runtime));
    pid_t function = fork();
    if (function == 0) {
        setenv("AWS_LAMBDA_RUNTIME_API", api, 1);
        setenv("_HANDLER", "relay", 1);
        execl(argv[1], argv[1], (char *)NULL);
        perror("relay: exec");
        _exit(127);
    }
    int announced = 0;

    struct epoll_event events[64];
    while (!stopping) {
        if (!announced && parked_next >= 0) {
            printf("relay listening on http://127.0.0.1:%d\n", port_of(clients));
            fflush(stdout);
            announced = 1;
        }
        int ready = epoll_wait(epoll_fd, events, 64, 1000);
        for (int i = 0; i < ready; i++) {
            int fd = events[i].data.fd;
            if (fd == clients || fd == runtime) {
                accept_from(fd, fd == clients ? CLIENT : RUNTIME);
                continue;
            }
            struct connection *c = connections[fd];
            ssize_t count = read(fd, c->in + c->used, BUFFER_SIZE - c->used);
            if (count <= 0 || (c->used += (size_t)count, serve(c) != 0))
                drop(fd);
        }
    }
    kill(function, SIGKILL);
    waitpid(function, NULL, 0);
    return 0;
}
