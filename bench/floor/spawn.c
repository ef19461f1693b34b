/*
 * spawn: the reference for a cold start, a bare fork+exec of a function's bootstrap measured the
 * way fnhost measures Init Duration: from the spawn until the runtime's first
 * GET /2018-06-01/runtime/invocation/next arrives.  No launcher, no sandbox, no cgroup, no
 * Runtime API server beyond accepting that one connection: what remains is the kernel's
 * fork+exec, the dynamic loader and the runtime's own start-up.
 *
 *   spawn BOOTSTRAP COUNT    prints {"samples": N, "init_ms": [...]} on stdout
 *
 * Each sample: listen on 127.0.0.1:0, posix_spawn BOOTSTRAP with AWS_LAMBDA_RUNTIME_API set to
 * that address, accept, read until the request line, note the time, SIGKILL and reap the child.
 * Built by bench/run; every wait has a 10 s limit.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Waits for fd to be readable for at most 10 s. */
static int wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 10000) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: spawn BOOTSTRAP COUNT\n");
        return 2;
    }
    const char *bootstrap = argv[1];
    int count = atoi(argv[2]);
    printf("{\"samples\": %d, \"init_ms\": [", count);
    for (int i = 0; i < count; i++) {
        int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in address = {.sin_family = AF_INET};
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 8) != 0 ||
            getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
            perror("spawn: listen");
            return 1;
        }
        char api[64];
        snprintf(api, sizeof api, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", ntohs(address.sin_port));
        char *child_env[] = {api, "PATH=/usr/bin:/bin", "LAMBDA_TASK_ROOT=/tmp", "_HANDLER=noop", NULL};
        char *child_argv[] = {(char *)bootstrap, NULL};
        pid_t pid;
        double start = now_ms();
        if (posix_spawn(&pid, bootstrap, NULL, NULL, child_argv, child_env) != 0) {
            perror("spawn: posix_spawn");
            return 1;
        }
        double elapsed = -1;
        if (wait_readable(listener) == 0) {
            int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            char buffer[1024];
            size_t used = 0;
            while (connection >= 0 && used < sizeof buffer - 1 && wait_readable(connection) == 0) {
                ssize_t n = recv(connection, buffer + used, sizeof buffer - 1 - used, 0);
                if (n <= 0)
                    break;
                used += (size_t)n;
                buffer[used] = 0;
                if (strstr(buffer, "\r\n")) {
                    if (strstr(buffer, "GET /2018-06-01/runtime/invocation/next"))
                        elapsed = now_ms() - start;
                    break;
                }
            }
            if (connection >= 0)
                close(connection);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(listener);
        if (elapsed < 0) {
            fprintf(stderr, "spawn: %s did not ask for /next within 10 s\n", bootstrap);
            return 1;
        }
        printf("%s%.3f", i ? ", " : "", elapsed);
    }
    printf("]}\n");
    return 0;
}
