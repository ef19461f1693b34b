/*
 * c-noop: a custom-runtime ("provided") function that answers every event with "{}" as fast as
 * it can.  Used as the baseline for the invoke-latency benchmark.
 *
 * Built by runtime-api/c/Makefile (`make -C runtime-api/c noop`) into
 * functions/c-noop/build/bootstrap.
 */
#include "lambda_runtime.h"

int main(void)
{
    lr_client *c = lr_open();
    if (!c)
        return 1;

    static const char response[] = "{}";
    lr_invocation inv = LR_INVOCATION_INIT;
    /*
     * Loop until /next fails (the host went away or rejected us).  A rejected /response (e.g.
     * the invoke already timed out) has been reported on stderr; just go on with the next event.
     */
    while (lr_next(c, &inv) == 0)
        (void)lr_respond(c, &inv, response, sizeof response - 1, "application/json");

    lr_invocation_free(&inv);
    lr_close(c);
    return 1;
}
