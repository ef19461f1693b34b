/*
 * lambda_runtime.h - minimal C client for the AWS Lambda Runtime API (2018-06-01), on libcurl.
 *
 * Typical loop:
 *
 *     lr_client *c = lr_open();                 // reads AWS_LAMBDA_RUNTIME_API
 *     if (!c) return 1;
 *     lr_invocation inv = LR_INVOCATION_INIT;   // must start zeroed; reused across calls
 *     while (lr_next(c, &inv) == 0) {
 *         lr_respond(c, &inv, "{}", 2, "application/json");
 *     }
 *     lr_invocation_free(&inv);
 *     lr_close(c);
 *
 * All functions that return int return 0 on success and -1 on failure; on failure a one-line
 * message is written to stderr.  A response with a non-2xx HTTP status is a failure (the status
 * and the server's body are included in the message).
 *
 * The client keeps one libcurl easy handle, so the TCP connection to the Runtime API stays
 * alive across calls.  Its buffers (and those of an lr_invocation that is passed to lr_next
 * again) are reused, so a steady-state next/respond loop does not allocate in this library.
 *
 * An lr_client is not thread-safe; use one per thread.
 */
#ifndef FNHOST_LAMBDA_RUNTIME_H
#define FNHOST_LAMBDA_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_client lr_client;

/* Growable byte buffer.  Private to the library; exposed only so lr_invocation can be a value. */
typedef struct lr_buffer {
    char *data;
    size_t len;
    size_t cap;
} lr_buffer;

/*
 * One event, as returned by GET /2018-06-01/runtime/invocation/next.
 *
 * All strings are NUL-terminated and owned by the invocation; they stay valid until the next
 * lr_next() on the same struct or lr_invocation_free().  Optional headers that the server did
 * not send are NULL.
 */
typedef struct lr_invocation {
    const char *request_id;           /* Lambda-Runtime-Aws-Request-Id (always set) */
    int64_t deadline_ms;              /* Lambda-Runtime-Deadline-Ms, Unix epoch ms (0 if absent) */
    const char *invoked_function_arn; /* Lambda-Runtime-Invoked-Function-Arn */
    const char *trace_id;             /* Lambda-Runtime-Trace-Id */
    const char *client_context;       /* Lambda-Runtime-Client-Context (JSON text) */
    const char *cognito_identity;     /* Lambda-Runtime-Cognito-Identity (JSON text) */
    const char *tenant_id;            /* Lambda-Runtime-Aws-Tenant-Id */
    const char *invocation_id;        /* Lambda-Runtime-Invocation-Id (echoed back on respond/fail) */
    const char *content_type;         /* Content-Type of the payload */
    char *payload;                    /* event bytes; NUL-terminated for convenience (never NULL) */
    size_t payload_len;               /* byte count, excluding that NUL */

    /* private */
    lr_buffer priv_headers;
    lr_buffer priv_payload;
} lr_invocation;

/* Initializer for an lr_invocation (equivalent to zeroing it). */
#define LR_INVOCATION_INIT {0}

/*
 * Connect-ready client for http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/.  No network traffic
 * happens here.  Returns NULL (after printing why) if the variable is unset or libcurl fails.
 */
lr_client *lr_open(void);

/*
 * Long-poll for the next event (no timeout).  `out` must be zeroed (LR_INVOCATION_INIT) before
 * its first use; passing the same struct again reuses its buffers.
 */
int lr_next(lr_client *c, lr_invocation *out);

/*
 * POST /runtime/invocation/{id}/response with `len` bytes of `body` (may be NULL when len is 0).
 * `content_type` NULL or "" means "application/json".
 */
int lr_respond(lr_client *c, const lr_invocation *inv, const char *body, size_t len,
               const char *content_type);

/*
 * POST /runtime/invocation/{id}/error with header Lambda-Runtime-Function-Error-Type: error_type
 * and body {"errorMessage":..,"errorType":..,"stackTrace":[]}.  NULL strings count as "";
 * an empty error_type sends no header.  Invalid UTF-8 in the strings becomes U+FFFD.
 */
int lr_fail(lr_client *c, const lr_invocation *inv, const char *error_type,
            const char *error_message);

/* POST /runtime/init/error (before the first lr_next), same header and body as lr_fail. */
int lr_init_error(lr_client *c, const char *error_type, const char *error_message);

/* Release the invocation's buffers and zero it (it may be reused afterwards). */
void lr_invocation_free(lr_invocation *inv);

/* Close the connection and free the client.  NULL is allowed. */
void lr_close(lr_client *c);

#ifdef __cplusplus
}
#endif

#endif /* FNHOST_LAMBDA_RUNTIME_H */
