/*
 * relay: the floor of an invoke, the smallest host worth measuring fnhost against.  One thread,
 * epoll, non-blocking sockets.  It listens for clients (HTTP/1.1 keep-alive) and for function
 * processes speaking the Lambda Runtime API (`GET .../invocation/next`, `POST
 * .../invocation/ID/response`), starts those processes itself (the same bootstrap fnhost runs,
 * e.g. the C no-op) and relays each client request's body to a parked `/next` and the function's
 * response back to its client.  A request that finds no parked `/next` starts a worker of its own
 * while fewer than MAX_WORKERS exist and waits for that worker's first `/next`, as a Lambda
 * invoke waits for the environment started for it (a cold start: posix_spawn, the bootstrap's
 * own start-up, its first `/next`); beyond MAX_WORKERS it waits for whichever worker is free
 * first.  With START_LIMIT, at most that many workers start at once (fnhost's policy): a request
 * that finds none idle and no start free waits for whichever comes first, a worker that finished
 * or a start of its own once one is free.  No sandbox, no cgroup, no logs, no limits: what
 * is left is two loopback HTTP exchanges, two process wake-ups and the spawns, the part of an
 * invoke no host can avoid.
 *
 *   relay BOOTSTRAP [MAX_WORKERS [START_LIMIT]]
 *                                   (default 1, no limit) starts one worker and prints
 *                                   "relay listening on http://127.0.0.1:PORT" once it asked for
 *                                   its first event
 *
 * Built by bench/run with the system C compiler; loopback only; runs until SIGTERM/SIGINT, then
 * kills its workers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http.h"

#define BUFFER_SIZE 65536
#define MAX_DESCRIPTORS 16384
#define MAX_PROCESSES 4096

extern char **environ;

enum kind { CLIENT, RUNTIME };

struct connection {
    int fd;
    enum kind kind;
    int fresh; /* a runtime connection whose first `/next` is still to come: a new worker's */
    size_t used;
    char in[BUFFER_SIZE];
};

/* A client request waiting for a parked `/next`, in arrival order. */
struct waiting {
    int client;
    long length;
    struct waiting *next;
    char body[];
};

/* Requests waiting: those that started a worker of their own (for new workers' first `/next`)
 * and those that found every worker started (for any). */
struct queue {
    struct waiting *first, *last;
};

static struct connection *connections[MAX_DESCRIPTORS];
/* The client each delivered request id answers, by id modulo the table (ids are handed out in order). */
static int answer_to[MAX_DESCRIPTORS];
static int parked[MAX_PROCESSES]; /* runtime connections holding a `/next`, most recent last */
static int parked_count;
static struct queue claimed, unclaimed;
static pid_t workers[MAX_PROCESSES];
static int worker_count, max_workers = 1;
static int starting, start_limit = MAX_PROCESSES; /* workers whose first `/next` is still to come, and their limit */
static char *bootstrap;
static volatile sig_atomic_t stopping;
static int epoll_fd;
static unsigned long request_number;

static void on_signal(int signo) { (void)signo; stopping = 1; }

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

static void start_worker(void)
{
    pid_t pid;
    char *argv[] = {bootstrap, NULL};
    if (posix_spawn(&pid, bootstrap, NULL, NULL, argv, environ) != 0) {
        perror("relay: spawn");
        exit(1);
    }
    workers[worker_count++] = pid;
    starting++;
}

/* Hands `body` to the most recently parked `/next` and remembers whom its response answers. */
static void deliver(int client, const char *body, long length)
{
    int runtime = parked[--parked_count];
    unsigned long id = ++request_number;
    char head[512];
    int head_length = snprintf(head, sizeof head,
        "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r%lu\r\nLambda-Runtime-Deadline-Ms: 9999999999999\r\n"
        "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:relay\r\n"
        "Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\nContent-Type: application/json\r\n"
        "Content-Length: %ld\r\n\r\n", id, length);
    answer_to[id % MAX_DESCRIPTORS] = client;
    write_all(runtime, head, (size_t)head_length);
    write_all(runtime, body, (size_t)length);
}

static void enqueue(struct queue *q, int client, const char *body, long length)
{
    struct waiting *w = malloc(sizeof *w + (size_t)length);
    w->client = client;
    w->length = length;
    w->next = NULL;
    memcpy(w->body, body, (size_t)length);
    if (q->last)
        q->last->next = w;
    else
        q->first = w;
    q->last = w;
}

/* Delivers the oldest request of `q` to the `/next` just parked; 0 when `q` is empty. */
static int deliver_oldest(struct queue *q)
{
    struct waiting *w = q->first;
    if (w == NULL)
        return 0;
    q->first = w->next;
    if (q->first == NULL)
        q->last = NULL;
    deliver(w->client, w->body, w->length);
    free(w);
    return 1;
}

/* A client's request: delivered at once when a `/next` is parked, else it starts a worker of its
 * own and waits for it, or waits for any when every worker (or every start) is taken. */
static void submit(int client, const char *body, long length)
{
    if (parked_count > 0) {
        deliver(client, body, length);
    } else if (worker_count < max_workers && starting < start_limit) {
        enqueue(&claimed, client, body, length);
        start_worker();
    } else {
        enqueue(&unclaimed, client, body, length);
    }
}

/* A `/next` arrived on `c`: a new worker frees its start for the oldest request waiting for any
 * worker and takes the oldest request that started one; any worker takes the oldest that started
 * none; otherwise it parks. */
static void park(struct connection *c)
{
    parked[parked_count++] = c->fd;
    int fresh = c->fresh;
    c->fresh = 0;
    if (fresh) {
        starting--;
        struct waiting *w = unclaimed.first;
        if (w != NULL && worker_count < max_workers) {
            unclaimed.first = w->next;
            if (unclaimed.first == NULL)
                unclaimed.last = NULL;
            enqueue(&claimed, w->client, w->body, w->length);
            free(w);
            start_worker();
        }
        if (deliver_oldest(&claimed))
            return;
    }
    deliver_oldest(&unclaimed);
}

/* `POST .../invocation/rID/response` (or `/error`): the answer for the client of request ID. */
static void answer(const char *start, const char *body, long length)
{
    const char *id_text = strstr(start, "/invocation/r");
    int client = -1;
    if (id_text) {
        unsigned long id = strtoul(id_text + 13, NULL, 10);
        client = answer_to[id % MAX_DESCRIPTORS];
        answer_to[id % MAX_DESCRIPTORS] = -1;
    }
    if (client < 0)
        return;
    char head[128];
    int head_length = snprintf(head, sizeof head,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %ld\r\n\r\n", length);
    write_all(client, head, (size_t)head_length);
    write_all(client, body, (size_t)length);
}

/* One complete request on `c`: [start, body + length). */
static void handle(struct connection *c, const char *start, const char *body, long length)
{
    if (c->kind == CLIENT) {
        submit(c->fd, body, length);
    } else if (strncmp(start, "GET ", 4) == 0) {
        park(c);
    } else {
        static const char accepted[] = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";
        write_all(c->fd, accepted, sizeof accepted - 1);
        answer(start, body, length);
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
        *header_end = '\0'; /* so the request line and headers read as one string */
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
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, size) != 0 || listen(fd, 4096) != 0
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
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (fd >= MAX_DESCRIPTORS) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct connection *c = malloc(sizeof *c);
        c->fd = fd;
        c->kind = kind;
        c->fresh = kind == RUNTIME;
        c->used = 0;
        connections[fd] = c;
        struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
    }
}

/* Forgets `fd` wherever it is still named, so a later connection on the same number is not confused with it. */
static void drop(int fd)
{
    for (int i = 0; i < parked_count; i++) {
        if (parked[i] == fd)
            parked[i--] = parked[--parked_count];
    }
    for (int i = 0; i < MAX_DESCRIPTORS; i++) {
        if (answer_to[i] == fd)
            answer_to[i] = -1;
    }
    for (struct queue *q = &claimed; q; q = q == &claimed ? &unclaimed : NULL) {
        for (struct waiting *w = q->first; w; w = w->next) {
            if (w->client == fd)
                w->client = -1;
        }
    }
    free(connections[fd]);
    connections[fd] = NULL;
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4 || (argc >= 3 && (max_workers = atoi(argv[2])) < 1) || max_workers > MAX_PROCESSES
        || (argc == 4 && (start_limit = atoi(argv[3])) < 1)) {
        fprintf(stderr, "usage: relay BOOTSTRAP [MAX_WORKERS (1-%d) [START_LIMIT]]\n", MAX_PROCESSES);
        return 2;
    }
    bootstrap = argv[1];
    struct rlimit files = {MAX_DESCRIPTORS, MAX_DESCRIPTORS};
    setrlimit(RLIMIT_NOFILE, &files);
    for (int i = 0; i < MAX_DESCRIPTORS; i++)
        answer_to[i] = -1;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN); /* no zombies: the workers' exits are not waited for */
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    int clients = listen_on_loopback();
    int runtime = listen_on_loopback();

    char api[64];
    snprintf(api, sizeof api, "127.0.0.1:%d", port_of(runtime));
    setenv("AWS_LAMBDA_RUNTIME_API", api, 1);
    setenv("_HANDLER", "relay", 1);
    start_worker();
    int announced = 0;

    struct epoll_event events[256];
    while (!stopping) {
        if (!announced && parked_count > 0) {
            printf("relay listening on http://127.0.0.1:%d\n", port_of(clients));
            fflush(stdout);
            announced = 1;
        }
        int ready = epoll_wait(epoll_fd, events, 256, 1000);
        for (int i = 0; i < ready; i++) {
            int fd = events[i].data.fd;
            if (fd == clients || fd == runtime) {
                accept_from(fd, fd == clients ? CLIENT : RUNTIME);
                continue;
            }
            struct connection *c = connections[fd];
            if (c == NULL)
                continue;
            ssize_t count = read(fd, c->in + c->used, BUFFER_SIZE - c->used);
            if (count <= 0 || (c->used += (size_t)count, serve(c) != 0))
                drop(fd);
        }
    }
    for (int i = 0; i < worker_count; i++)
        kill(workers[i], SIGKILL);
    return 0;
}
