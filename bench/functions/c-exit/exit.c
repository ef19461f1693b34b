/*
 * c-exit: the C no-op (functions/c-noop/noop.c), plus one way out.  Used by the benchmark to
 * force cold starts in a running host.
 *
 * For the event {"exit":true} it _exit(0)s *before* answering.  The host then sees the runtime
 * exit while it holds the invocation (Runtime.ExitError), discards the environment, and starts
 * a fresh one for the next invoke: a deterministic cold start.  Answering first and exiting
 * afterwards would race: the host would put the worker back as idle and the next invoke could
 * reach it before its exit is noticed, failing that invoke instead of starting a new worker.
 * (A Timeout would work too, but costs at least a second per cold start.)
 *
 * Every other event is answered with "{}" exactly as c-noop does, and it links the same
 * libfnhost_lambda.a with the same flags, so its init (spawn -> first /next) is c-noop's.
 *
 * Built by bench/run into bench/functions/c-exit/build/bootstrap.
 */
#include "lambda_runtime.h"

#include <string.h>
#include <unistd.h>

int main(void)
{
    lr_client *c = lr_open();
    if (!c)
        return 1;

    static const char response[] = "{}";
    static const char exit_event[] = "{\"exit\":true}";
    lr_invocation inv = LR_INVOCATION_INIT;
    while (lr_next(c, &inv) == 0) {
        if (inv.payload_len == sizeof exit_event - 1 && memcmp(inv.payload, exit_event, inv.payload_len) == 0)
            _exit(0);
        (void)lr_respond(c, &inv, response, sizeof response - 1, "application/json");
    }

    lr_invocation_free(&inv);
    lr_close(c);
    return 1;
}
