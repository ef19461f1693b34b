/*
 * c-sleep: the C no-op (functions/c-noop/noop.c) that sleeps one second before answering "{}".
 * The function of the concurrency benchmark (bench/concurrency.py): 500 of them in flight at
 * once measure the host's fan-out, not the function.  Built by bench/run-concurrency into
 * bench/functions/c-sleep/build/bootstrap.
 */
#define _POSIX_C_SOURCE 200809L
#include "lambda_runtime.h"

#include <time.h>

int main(void)
{
    lr_client *c = lr_open();
    if (!c)
        return 1;

    static const char response[] = "{}";
    const struct timespec second = {1, 0};
    lr_invocation inv = LR_INVOCATION_INIT;
    while (lr_next(c, &inv) == 0) {
        struct timespec left = second;
        while (nanosleep(&left, &left) != 0) {
        }
        (void)lr_respond(c, &inv, response, sizeof response - 1, "application/json");
    }

    lr_invocation_free(&inv);
    lr_close(c);
    return 1;
}
