/*
 * lambda_runtime.c - minimal C client for the AWS Lambda Runtime API (2018-06-01), on libcurl.
 * See lambda_runtime.h.
 */
#include "lambda_runtime.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LR_LOG_PREFIX "lambda_runtime: "
#define LR_API_PATH "/2018-06-01/runtime/"
/* At most this much of a server's error body is quoted on stderr. */
#define LR_MAX_QUOTED_BODY 1024
/* Content-Length values above this are not used to pre-size the payload buffer. */
#define LR_MAX_PRESIZE ((size_t)16 << 20)

/* Headers of GET /next that are kept. */
enum {
    HX_REQUEST_ID,
    HX_DEADLINE_MS,
    HX_FUNCTION_ARN,
    HX_TRACE_ID,
    HX_CLIENT_CONTEXT,
    HX_COGNITO_IDENTITY,
    HX_TENANT_ID,
    HX_INVOCATION_ID,
    HX_CONTENT_TYPE,
    HX_COUNT
};

static const char *const known_headers[HX_COUNT] = {
    [HX_REQUEST_ID] = "Lambda-Runtime-Aws-Request-Id",
    [HX_DEADLINE_MS] = "Lambda-Runtime-Deadline-Ms",
    [HX_FUNCTION_ARN] = "Lambda-Runtime-Invoked-Function-Arn",
    [HX_TRACE_ID] = "Lambda-Runtime-Trace-Id",
    [HX_CLIENT_CONTEXT] = "Lambda-Runtime-Client-Context",
    [HX_COGNITO_IDENTITY] = "Lambda-Runtime-Cognito-Identity",
    [HX_TENANT_ID] = "Lambda-Runtime-Aws-Tenant-Id",
    [HX_INVOCATION_ID] = "Lambda-Runtime-Invocation-Id",
    [HX_CONTENT_TYPE] = "Content-Type",
};

#define HX_ABSENT ((size_t)-1)

/* Request header lines of the POSTs (see post()). */
enum { RH_CONTENT_TYPE, RH_EXPECT, RH_INVOCATION_ID, RH_ERROR_TYPE, RH_COUNT };

struct lr_client {
    CURL *curl;
    char *next_url;   /* http://<api>/2018-06-01/runtime/invocation/next */
    lr_buffer url;    /* scratch: URL of the current POST; starts with base_len bytes of base */
    size_t base_len;  /* length of "http://<api>/2018-06-01/runtime/" */
    lr_buffer resp;   /* body of a POST's response */
    lr_buffer scratch; /* JSON error document */

    /* Request headers of the POSTs: lines in client-owned buffers, chained through nodes[]. */
    lr_buffer hdr_line[RH_COUNT];
    struct curl_slist nodes[RH_COUNT];

    /* Where the callbacks of the running transfer put their data. */
    lr_buffer *sink;        /* response body */
    lr_buffer *header_sink; /* kept header values (GET /next only), else NULL */
    size_t header_off[HX_COUNT];

    char errbuf[CURL_ERROR_SIZE];
};

/* ---- buffers ---------------------------------------------------------------------------- */

static int buf_reserve(lr_buffer *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > ((size_t)-1) / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

/* Append n bytes and keep the buffer NUL-terminated (the NUL is not counted in len). */
static int buf_append(lr_buffer *b, const void *data, size_t n)
{
    if (n + 1 < n || b->len + n + 1 < b->len || buf_reserve(b, b->len + n + 1) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static int buf_append_str(lr_buffer *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

static void buf_free(lr_buffer *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- small helpers ---------------------------------------------------------------------- */

static int ascii_lower(int ch)
{
    return (ch >= 'A' && ch <= 'Z') ? ch + ('a' - 'A') : ch;
}

/* Case-insensitive comparison of name[0..len) with the NUL-terminated `want`. */
static int header_name_is(const char *name, size_t len, const char *want)
{
    size_t i = 0;
    for (; i < len; i++) {
        if (want[i] == '\0' || ascii_lower((unsigned char)name[i]) != ascii_lower((unsigned char)want[i]))
            return 0;
    }
    return want[i] == '\0';
}

static int is_space_or_tab(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one.  p is NUL-terminated. */
static size_t utf8_seq_len(const unsigned char *p)
{
    unsigned char c0 = p[0];
    if (c0 < 0x80)
        return 1;
#define CONT(x) ((x) >= 0x80 && (x) <= 0xBF)
    if (c0 >= 0xC2 && c0 <= 0xDF)
        return CONT(p[1]) ? 2 : 0;
    if (c0 >= 0xE0 && c0 <= 0xEF) {
        unsigned char lo = 0x80, hi = 0xBF;
        if (c0 == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c0 == 0xED)
            hi = 0x9F; /* surrogates */
        return (p[1] >= lo && p[1] <= hi && CONT(p[2])) ? 3 : 0;
    }
    if (c0 >= 0xF0 && c0 <= 0xF4) {
        unsigned char lo = 0x80, hi = 0xBF;
        if (c0 == 0xF0)
            lo = 0x90; /* overlong */
        else if (c0 == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
        return (p[1] >= lo && p[1] <= hi && CONT(p[2]) && CONT(p[3])) ? 4 : 0;
    }
#undef CONT
    return 0;
}

/* Append s as the contents of a JSON string (without quotes). */
static int json_escape(lr_buffer *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        /* Copy the longest run that needs no escaping in one go. */
        const unsigned char *run = p;
        size_t n;
        while (*p >= 0x20 && *p != '"' && *p != '\\' && (n = utf8_seq_len(p)) != 0)
            p += n;
        if (p > run && buf_append(b, run, (size_t)(p - run)) != 0)
            return -1;
        if (!*p)
            break;

        char esc[8];
        const char *e = esc;
        size_t elen = 2;
        esc[0] = '\\';
        switch (*p) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (*p < 0x20) {
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 0xF];
                elen = 6;
            } else {
                e = "\\ufffd"; /* invalid UTF-8 byte */
                elen = 6;
            }
        }
        if (buf_append(b, e, elen) != 0)
            return -1;
        p++;
    }
    return 0;
}

/* Set header line `name: value`; CR/LF in value (which would end the header) become spaces. */
static int set_header_line(lr_buffer *b, const char *name, const char *value)
{
    b->len = 0;
    if (buf_append_str(b, name) != 0 || buf_append(b, ": ", 2) != 0)
        return -1;
    size_t start = b->len;
    if (buf_append_str(b, value) != 0)
        return -1;
    for (size_t i = start; i < b->len; i++) {
        if (b->data[i] == '\r' || b->data[i] == '\n')
            b->data[i] = ' ';
    }
    return 0;
}

/* Append s to a URL, percent-encoding everything but RFC 3986 unreserved characters. */
static int url_append_segment(lr_buffer *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            if (buf_append(b, p, 1) != 0)
                return -1;
        } else {
            char enc[3] = {'%', hex[ch >> 4], hex[ch & 0xF]};
            if (buf_append(b, enc, 3) != 0)
                return -1;
        }
    }
    return 0;
}

static void report_oom(const char *what)
{
    fprintf(stderr, LR_LOG_PREFIX "%s: out of memory\n", what);
}

/* ---- libcurl callbacks ------------------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    lr_client *c = userdata;
    size_t n = size * nmemb;
    if (c->sink && buf_append(c->sink, data, n) != 0)
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    return n;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *userdata)
{
    lr_client *c = userdata;
    size_t n = size * nitems;
    lr_buffer *h = c->header_sink;
    if (!h)
        return n;

    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* Status line: a new header block starts (a 1xx interim response may precede it). */
        h->len = 0;
        for (int i = 0; i < HX_COUNT; i++)
            c->header_off[i] = HX_ABSENT;
        if (c->sink)
            c->sink->len = 0;
        return n;
    }

    const char *colon = memchr(line, ':', n);
    if (!colon)
        return n; /* blank line ending the block, or garbage */
    size_t name_len = (size_t)(colon - line);
    while (name_len && is_space_or_tab(line[name_len - 1]))
        name_len--;
    const char *value = colon + 1;
    const char *end = line + n;
    while (value < end && is_space_or_tab(*value))
        value++;
    while (end > value && (end[-1] == '\r' || end[-1] == '\n' || is_space_or_tab(end[-1])))
        end--;
    size_t value_len = (size_t)(end - value);

    if (header_name_is(line, name_len, "Content-Length")) {
        /* Pre-size the payload buffer so a large event is received without re-allocations. */
        char num[32];
        if (c->sink && value_len > 0 && value_len < sizeof num) {
            memcpy(num, value, value_len);
            num[value_len] = '\0';
            char *stop;
            errno = 0;
            unsigned long long cl = strtoull(num, &stop, 10);
            if (errno == 0 && *stop == '\0' && cl <= LR_MAX_PRESIZE &&
                buf_reserve(c->sink, (size_t)cl + 1) != 0)
                return 0;
        }
        return n;
    }

    for (int i = 0; i < HX_COUNT; i++) {
        if (header_name_is(line, name_len, known_headers[i])) {
            size_t off = h->len;
            /* Store the value NUL-terminated; the NUL is kept as part of the arena. */
            if (buf_append(h, value, value_len) != 0)
                return 0;
            h->len++;
            c->header_off[i] = off;
            break;
        }
    }
    return n;
}

/* ---- transfers -------------------------------------------------------------------------- */

/* Run the prepared transfer; on success store the HTTP status. */
static int perform(lr_client *c, const char *method, const char *url, long *status)
{
    c->errbuf[0] = '\0';
    CURLcode rc = curl_easy_perform(c->curl);
    c->sink = NULL;
    c->header_sink = NULL;
    if (rc != CURLE_OK) {
        fprintf(stderr, LR_LOG_PREFIX "%s %s: %s\n", method, url,
                c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        return -1;
    }
    *status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

static void report_status(const char *method, const char *url, long status, const lr_buffer *body)
{
    size_t n = body->len;
    while (n && (body->data[n - 1] == '\n' || body->data[n - 1] == '\r'))
        n--;
    if (n > LR_MAX_QUOTED_BODY)
        n = LR_MAX_QUOTED_BODY;
    fprintf(stderr, LR_LOG_PREFIX "%s %s: HTTP %ld%s%.*s\n", method, url, status, n ? ": " : "",
            (int)n, n ? body->data : "");
}

/*
 * POST <base><path>[<segment>/<suffix>] with the given body and headers.  segment (the request
 * id) is percent-encoded; invocation_id / error_type are sent only when non-empty.
 */
static int post(lr_client *c, const char *path, const char *segment, const char *suffix,
                const char *body, size_t len, const char *content_type,
                const char *invocation_id, const char *error_type)
{
    /* URL: reuse the base that lr_open() left at the start of the buffer. */
    c->url.len = c->base_len;
    if (buf_append_str(&c->url, path) != 0 ||
        (segment && (url_append_segment(&c->url, segment) != 0 || buf_append_str(&c->url, suffix) != 0))) {
        report_oom("POST");
        return -1;
    }

    /*
     * Headers.  libcurl only reads the CURLOPT_HTTPHEADER list during the transfer, so the nodes
     * and lines are client-owned and reused instead of being rebuilt with curl_slist_append().
     */
    struct curl_slist *last = &c->nodes[RH_EXPECT]; /* Content-Type -> Expect is fixed */
    if (set_header_line(&c->hdr_line[RH_CONTENT_TYPE], "Content-Type",
                        (content_type && *content_type) ? content_type : "application/json") != 0)
        goto oom;
    c->nodes[RH_CONTENT_TYPE].data = c->hdr_line[RH_CONTENT_TYPE].data;
    if (invocation_id && *invocation_id) {
        if (set_header_line(&c->hdr_line[RH_INVOCATION_ID], "Lambda-Runtime-Invocation-Id", invocation_id) != 0)
            goto oom;
        c->nodes[RH_INVOCATION_ID].data = c->hdr_line[RH_INVOCATION_ID].data;
        last->next = &c->nodes[RH_INVOCATION_ID];
        last = last->next;
    }
    if (error_type && *error_type) {
        if (set_header_line(&c->hdr_line[RH_ERROR_TYPE], "Lambda-Runtime-Function-Error-Type", error_type) != 0)
            goto oom;
        c->nodes[RH_ERROR_TYPE].data = c->hdr_line[RH_ERROR_TYPE].data;
        last->next = &c->nodes[RH_ERROR_TYPE];
        last = last->next;
    }
    last->next = NULL;

    c->resp.len = 0;
    c->sink = &c->resp;
    c->header_sink = NULL;
    curl_easy_setopt(c->curl, CURLOPT_URL, c->url.data);
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, (body && len) ? body : "");
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, &c->nodes[RH_CONTENT_TYPE]);

    long status;
    if (perform(c, "POST", c->url.data, &status) != 0)
        return -1;
    if (status < 200 || status > 299) {
        report_status("POST", c->url.data, status, &c->resp);
        return -1;
    }
    return 0;

oom:
    report_oom("POST");
    return -1;
}

/* ---- public API ------------------------------------------------------------------------- */

lr_client *lr_open(void)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api || !*api) {
        fprintf(stderr, LR_LOG_PREFIX "AWS_LAMBDA_RUNTIME_API is not set\n");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, LR_LOG_PREFIX "curl_global_init failed\n");
        return NULL;
    }
    lr_client *c = calloc(1, sizeof *c);
    if (!c) {
        curl_global_cleanup();
        report_oom("lr_open");
        return NULL;
    }

    /* Base URL; AWS_LAMBDA_RUNTIME_API is host:port, but tolerate a scheme and a trailing '/'. */
    size_t api_len = strlen(api);
    while (api_len && api[api_len - 1] == '/')
        api_len--;
    lr_buffer next = {0};
    int bad = (strstr(api, "://") ? 0 : buf_append_str(&c->url, "http://")) != 0 ||
              buf_append(&c->url, api, api_len) != 0 || buf_append_str(&c->url, LR_API_PATH) != 0 ||
              buf_append(&next, c->url.data, c->url.len) != 0 ||
              buf_append_str(&next, "invocation/next") != 0;
    c->base_len = c->url.len;
    c->next_url = next.data;
    if (bad) {
        report_oom("lr_open");
        lr_close(c);
        return NULL;
    }

    /* Fixed part of the POST header list: "Content-Type: ..." -> "Expect:" (no 100-continue). */
    static char expect_line[] = "Expect:";
    c->nodes[RH_EXPECT].data = expect_line;
    c->nodes[RH_CONTENT_TYPE].next = &c->nodes[RH_EXPECT];

    c->curl = curl_easy_init();
    if (!c->curl) {
        fprintf(stderr, LR_LOG_PREFIX "curl_easy_init failed\n");
        lr_close(c);
        return NULL;
    }
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_PROXY, "");  /* never route the Runtime API through $http_proxy */
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L); /* /next long-polls: no overall timeout */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "fnhost-lambda-c/1");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    return c;
}

int lr_next(lr_client *c, lr_invocation *out)
{
    if (!c || !out) {
        fprintf(stderr, LR_LOG_PREFIX "lr_next: NULL argument\n");
        return -1;
    }
    lr_buffer *payload = &out->priv_payload;
    lr_buffer *headers = &out->priv_headers;
    payload->len = 0;
    headers->len = 0;
    for (int i = 0; i < HX_COUNT; i++)
        c->header_off[i] = HX_ABSENT;

    c->sink = payload;
    c->header_sink = headers;
    curl_easy_setopt(c->curl, CURLOPT_URL, c->next_url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);

    long status;
    int rc = perform(c, "GET", c->next_url, &status);
    /* Even on failure, leave the payload as a valid empty/partial NUL-terminated string. */
    if (buf_append(payload, "", 0) != 0) {
        report_oom("GET");
        rc = -1;
    }
    if (rc != 0)
        return -1;
    if (status < 200 || status > 299) {
        report_status("GET", c->next_url, status, payload);
        return -1;
    }

    const char *v[HX_COUNT];
    for (int i = 0; i < HX_COUNT; i++)
        v[i] = c->header_off[i] == HX_ABSENT ? NULL : headers->data + c->header_off[i];
    if (!v[HX_REQUEST_ID] || !*v[HX_REQUEST_ID]) {
        fprintf(stderr, LR_LOG_PREFIX "GET %s: response has no %s header\n", c->next_url,
                known_headers[HX_REQUEST_ID]);
        return -1;
    }
    out->request_id = v[HX_REQUEST_ID];
    out->deadline_ms = v[HX_DEADLINE_MS] ? (int64_t)strtoll(v[HX_DEADLINE_MS], NULL, 10) : 0;
    out->invoked_function_arn = v[HX_FUNCTION_ARN];
    out->trace_id = v[HX_TRACE_ID];
    out->client_context = v[HX_CLIENT_CONTEXT];
    out->cognito_identity = v[HX_COGNITO_IDENTITY];
    out->tenant_id = v[HX_TENANT_ID];
    out->invocation_id = v[HX_INVOCATION_ID];
    out->content_type = v[HX_CONTENT_TYPE];
    out->payload = payload->data;
    out->payload_len = payload->len;
    return 0;
}

static int check_invocation(const char *fn, const lr_client *c, const lr_invocation *inv)
{
    if (!c || !inv || !inv->request_id || !*inv->request_id) {
        fprintf(stderr, LR_LOG_PREFIX "%s: no client or no invocation (call lr_next first)\n", fn);
        return -1;
    }
    return 0;
}

int lr_respond(lr_client *c, const lr_invocation *inv, const char *body, size_t len,
               const char *content_type)
{
    if (check_invocation("lr_respond", c, inv) != 0)
        return -1;
    return post(c, "invocation/", inv->request_id, "/response", body, len, content_type,
                inv->invocation_id, NULL);
}

/* {"errorMessage":"...","errorType":"...","stackTrace":[]} into c->scratch. */
static int build_error_body(lr_client *c, const char *error_type, const char *error_message)
{
    lr_buffer *b = &c->scratch;
    b->len = 0;
    if (buf_append_str(b, "{\"errorMessage\":\"") != 0 || json_escape(b, error_message) != 0 ||
        buf_append_str(b, "\",\"errorType\":\"") != 0 || json_escape(b, error_type) != 0 ||
        buf_append_str(b, "\",\"stackTrace\":[]}") != 0) {
        report_oom("error body");
        return -1;
    }
    return 0;
}

int lr_fail(lr_client *c, const lr_invocation *inv, const char *error_type,
            const char *error_message)
{
    if (check_invocation("lr_fail", c, inv) != 0 || build_error_body(c, error_type, error_message) != 0)
        return -1;
    return post(c, "invocation/", inv->request_id, "/error", c->scratch.data, c->scratch.len,
                "application/json", inv->invocation_id, error_type);
}

int lr_init_error(lr_client *c, const char *error_type, const char *error_message)
{
    if (!c) {
        fprintf(stderr, LR_LOG_PREFIX "lr_init_error: NULL client\n");
        return -1;
    }
    if (build_error_body(c, error_type, error_message) != 0)
        return -1;
    return post(c, "init/error", NULL, NULL, c->scratch.data, c->scratch.len, "application/json",
                NULL, error_type);
}

void lr_invocation_free(lr_invocation *inv)
{
    if (!inv)
        return;
    buf_free(&inv->priv_headers);
    buf_free(&inv->priv_payload);
    memset(inv, 0, sizeof *inv);
}

void lr_close(lr_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->next_url);
    buf_free(&c->url);
    buf_free(&c->resp);
    buf_free(&c->scratch);
    for (int i = 0; i < RH_COUNT; i++)
        buf_free(&c->hdr_line[i]);
    free(c);
    curl_global_cleanup();
}
