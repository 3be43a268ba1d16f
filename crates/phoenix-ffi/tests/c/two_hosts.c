/* Compiled and run by tests/c_abi.rs: two in-process computers driven through the C ABI, with
 * this program playing both the modem medium (transmit -> modem) and the hosts' TCP (the tcp_*
 * lines of docs/stdio-host.md). They ping, run a PSP exchange both ways with a close, then an
 * HTTP GET against a program's listen("http://...") and a WebSocket echo. Also checks the
 * version queries and the error codes for NULL and non-UTF-8 arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "phoenix.h"

#define MAXQ 4096
typedef struct { int to; char *line; } Item;
static Item queue[MAXQ];
static int qhead, qtail;
static PhoenixHost *hosts[2];
static char events[2][1 << 17];
static long listen_port[2][8], listen_id[2][8];
static int nlisten[2];
static long peer_conn[2][256]; /* conn -> the other host's conn, or -1 */
static char last_listen_address[64];
static int failures;

static void check(const char *what, int ok) {
    printf("%s: %s\n", what, ok ? "ok" : "MISSING");
    if (!ok) failures++;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) { puts("out of memory"); exit(2); }
    memcpy(d, s, n);
    return d;
}

static void push(int to, char *line) {
    if ((qtail + 1) % MAXQ == qhead) { puts("queue full"); exit(2); }
    queue[qtail].to = to;
    queue[qtail].line = line;
    qtail = (qtail + 1) % MAXQ;
}

static long num_field(const char *line, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

static char *send_line(int h, const char *line) {
    char *out = NULL;
    PhoenixStatus st = phoenix_host_send(hosts[h], line, &out);
    if (st != PHOENIX_OK || out == NULL) {
        printf("send failed: %s\n", phoenix_status_text(st));
        exit(2);
    }
    return out;
}

static void handle_output(int from, const char *out);

/* One output line of host `from`. */
static void handle_line(int from, const char *line) {
    char buf[1 << 16];
    int other = 1 - from;
    if (strstr(line, "\"out\":\"transmit\"")) {
        /* Same fields as the modem input; only the kind changes. */
        const char *k = strstr(line, "\"out\":\"transmit\"");
        snprintf(buf, sizeof buf, "%.*s\"op\":\"modem\"%s", (int)(k - line), line,
                 k + strlen("\"out\":\"transmit\""));
        push(other, dup_str(buf));
    } else if (strstr(line, "\"out\":\"event\"")) {
        strncat(events[from], line, sizeof events[from] - strlen(events[from]) - 2);
        strcat(events[from], "\n");
    } else if (strstr(line, "\"out\":\"tcp_listen\"")) {
        const char *a = strstr(line, "\"address\":\"");
        if (a) sscanf(a + strlen("\"address\":\""), "%63[^\"]", last_listen_address);
        listen_port[from][nlisten[from]] = num_field(line, "port");
        listen_id[from][nlisten[from]++] = num_field(line, "listener");
    } else if (strstr(line, "\"out\":\"tcp_connect\"")) {
        long conn = num_field(line, "conn"), port = num_field(line, "port"), lid = -1;
        for (int i = 0; i < nlisten[other]; i++)
            if (listen_port[other][i] == port) lid = listen_id[other][i];
        if (lid < 0) {
            snprintf(buf, sizeof buf,
                     "{\"op\":\"tcp_failed\",\"conn\":%ld,\"kind\":\"could_not_connect\"}", conn);
            push(from, dup_str(buf));
            return;
        }
        snprintf(buf, sizeof buf, "{\"op\":\"tcp_accept\",\"listener\":%ld,\"peer\":\"10.9.0.1\"}", lid);
        char *acc = send_line(other, buf);
        const char *a = strstr(acc, "\"out\":\"tcp_accepted\"");
        long theirs = a ? num_field(acc, "conn") : -1;
        check("tcp_accept answered with the stack's conn id", theirs >= 0 && theirs < 256);
        if (theirs >= 0 && theirs < 256 && conn < 256) {
            peer_conn[from][conn] = theirs;
            peer_conn[other][theirs] = conn;
        }
        handle_output(other, acc);
        phoenix_string_free(acc);
        snprintf(buf, sizeof buf, "{\"op\":\"tcp_connected\",\"conn\":%ld}", conn);
        push(from, dup_str(buf));
    } else if (strstr(line, "\"out\":\"tcp_send\"")) {
        /* {"conn":N,"data":D,"out":"tcp_send"}: keys are sorted, so D ends the line's middle. */
        long conn = num_field(line, "conn");
        const char *d = strstr(line, "\"data\":");
        const char *tail = ",\"out\":\"tcp_send\"}";
        size_t n = strlen(line);
        if (!d || n < strlen(tail) || conn < 0 || conn >= 256 || peer_conn[from][conn] < 0) return;
        d += strlen("\"data\":");
        int dlen = (int)(line + n - strlen(tail) - d);
        snprintf(buf, sizeof buf, "{\"op\":\"tcp_data\",\"conn\":%ld,\"data\":%.*s}",
                 peer_conn[from][conn], dlen, d);
        push(other, dup_str(buf));
    } else if (strstr(line, "\"out\":\"tcp_close\"")) {
        long conn = num_field(line, "conn");
        if (conn < 0 || conn >= 256 || peer_conn[from][conn] < 0) return;
        long theirs = peer_conn[from][conn];
        peer_conn[from][conn] = -1;
        peer_conn[other][theirs] = -1;
        snprintf(buf, sizeof buf, "{\"op\":\"tcp_closed\",\"conn\":%ld}", theirs);
        push(other, dup_str(buf));
    }
}

static void handle_output(int from, const char *out) {
    char *copy = dup_str(out);
    for (char *line = copy; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        handle_line(from, line);
        line = nl ? nl + 1 : NULL;
    }
    free(copy);
}

/* Delivers everything queued, and everything that causes, until quiet. */
static void run(void) {
    int rounds = 0;
    while (qhead != qtail) {
        Item it = queue[qhead];
        qhead = (qhead + 1) % MAXQ;
        if (++rounds > 100000) { puts("relay does not settle"); exit(2); }
        char *out = send_line(it.to, it.line);
        free(it.line);
        handle_output(it.to, out);
        phoenix_string_free(out);
    }
}

/* Sends `line` to host `h`, relays until quiet, returns a copy of the direct output. */
static char *call(int h, const char *line) {
    char *out = send_line(h, line);
    char *copy = dup_str(out);
    handle_output(h, out);
    phoenix_string_free(out);
    run();
    return copy;
}

static long first_result(const char *out) {
    const char *p = strstr(out, "\"result\":[");
    return p ? strtol(p + strlen("\"result\":["), NULL, 10) : -1;
}

static long request_handle(int h) {
    const char *p = strstr(events[h], "\"name\":\"network_request\"");
    return p ? num_field(p, "handle") : -1;
}

static char *method(int h, long handle, const char *name, const char *args) {
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"op\":\"method\",\"id\":1,\"pid\":1,\"handle\":%ld,\"method\":\"%s\",\"args\":%s}",
             handle, name, args);
    return call(h, buf);
}

static char *syscall(int h, const char *name, const char *args) {
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"op\":\"syscall\",\"id\":1,\"pid\":1,\"root\":true,\"name\":\"%s\",\"args\":%s}",
             name, args);
    return call(h, buf);
}

static int has(char *out, const char *needle) {
    int ok = out && strstr(out, needle) != NULL;
    if (!ok) printf("  wanted %s in: %s\n", needle, out ? out : "(null)");
    free(out);
    return ok;
}

int main(void) {
    char *out = NULL;
    memset(peer_conn, 0xff, sizeof peer_conn);

    /* Versions. */
    check("abi version", phoenix_abi_version() == PHOENIX_ABI_VERSION);
    check("protocol version", phoenix_protocol_version() == PHOENIX_PROTOCOL_VERSION);
    check("library version", strlen(phoenix_version()) > 0);

    /* Error codes. */
    PhoenixHost *bad = NULL;
    check("create: NULL config", phoenix_host_create(NULL, &bad, &out) == PHOENIX_ERR_NULL && !bad && !out);
    check("create: NULL out-pointer", phoenix_host_create("{\"id\":1}", NULL, &out) == PHOENIX_ERR_NULL);
    check("create: config not UTF-8", phoenix_host_create("{\"id\":1,\"modems\":[\"\xff\"]}", &bad, &out) == PHOENIX_ERR_UTF8 && !bad);
    PhoenixStatus st = phoenix_host_create("{\"modems\":[\"/top\"]}", &bad, &out);
    check("create: missing id", st == PHOENIX_ERR_CONFIG && !bad && out && strstr(out, "'id'"));
    phoenix_string_free(out);
    out = NULL;

    const char *configs[2] = {"{\"id\":1,\"modems\":[\"/top\"],\"seed\":1}",
                              "{\"id\":2,\"modems\":[\"/top\"],\"seed\":2}"};
    for (int i = 0; i < 2; i++) {
        char *boot = NULL;
        st = phoenix_host_create(configs[i], &hosts[i], &boot);
        check("create", st == PHOENIX_OK && hosts[i] != NULL);
        check("boot batch opens with hello",
              boot && strstr(boot, "\"out\":\"hello\"") && strstr(boot, "\"protocol\":1"));
        phoenix_string_free(boot);
    }
    check("send: NULL host", phoenix_host_send(NULL, "{}", &out) == PHOENIX_ERR_NULL && !out);
    check("send: NULL line", phoenix_host_send(hosts[0], NULL, &out) == PHOENIX_ERR_NULL && !out);
    check("send: NULL out-pointer", phoenix_host_send(hosts[0], "{}", NULL) == PHOENIX_ERR_NULL);
    check("send: line not UTF-8",
          phoenix_host_send(hosts[0], "{\"op\":\"time\",\"at\":\xc3\x28}", &out) == PHOENIX_ERR_UTF8 && !out);
    check("send: bad request is an error line",
          has(send_line(0, "{\"op\":\"fly\"}"), "\"out\":\"error\""));

    /* Addresses, then ping. */
    free(syscall(0, "ipconfig", "[\"/top\",{\"ip\":\"10.0.0.1\",\"netmask\":24}]"));
    free(syscall(1, "ipconfig", "[\"/top\",{\"ip\":\"10.0.0.2\",\"netmask\":24}]"));
    check("netevent", has(syscall(0, "netevent", "[true]"), "\"ok\":true"));
    free(syscall(0, "netcontrol", "[\"10.0.0.2\",\"ping\",\"from C\"]"));
    check("ping answered with pong", strstr(events[0], "\"messageType\":\"pong\"") != NULL);

    /* PSP both ways and close. */
    events[0][0] = events[1][0] = '\0';
    check("psp listen", has(syscall(1, "listen", "[\"psp://0.0.0.0:21\"]"), "\"result\":[]"));
    out = syscall(0, "connect", "[\"psp://10.0.0.2:21\"]");
    long client = first_result(out);
    free(out);
    long server = request_handle(1);
    check("psp connected", client >= 0 && server >= 0 && strstr(events[0], "\"status\":\"open\""));
    free(method(0, client, "write", "[\"hello from C\"]"));
    check("psp data to the server", has(method(1, server, "read", "[\"*a\"]"), "\"result\":[\"hello from C\"]"));
    free(method(1, server, "write", "[\"hi back\"]"));
    check("psp data to the client", has(method(0, client, "read", "[\"*a\"]"), "\"result\":[\"hi back\"]"));
    free(method(0, client, "close", "[]"));
    check("psp close reaches the server", strstr(events[1], "\"status\":\"closed\"") != NULL);

    /* HTTP GET against a program's listen, over the tcp_* lines. */
    events[0][0] = events[1][0] = '\0';
    free(syscall(1, "listen", "[\"http://127.0.0.1:8080\"]"));
    check("listen binds the URI's address", strcmp(last_listen_address, "127.0.0.1") == 0);
    out = syscall(0, "connect", "[\"http://server.test:8080/c\"]");
    long get = first_result(out);
    free(out);
    free(method(0, get, "write", "[]"));
    long req = request_handle(1);
    check("http request reaches the listener", req >= 0);
    check("http path", has(method(1, req, "path", "[]"), "\"result\":[\"/c\"]"));
    free(method(1, req, "write", "[\"hello http\"]"));
    free(method(1, req, "close", "[]"));
    check("http response body", has(method(0, get, "read", "[\"*a\"]"), "\"result\":[\"hello http\"]"));
    check("http response code", has(method(0, get, "responseCode", "[]"), "\"result\":[200,\"OK\"]"));

    /* WebSocket echo. */
    events[0][0] = events[1][0] = '\0';
    free(syscall(1, "listen", "[\"ws://0.0.0.0:8081\"]"));
    out = syscall(0, "connect", "[{\"url\":\"ws://server.test:8081/\",\"encoding\":\"utf8\"}]");
    long ws = first_result(out);
    free(out);
    long wss = request_handle(1);
    check("websocket open", ws >= 0 && wss >= 0);
    free(method(0, ws, "write", "[\"echo me\"]"));
    out = method(1, wss, "read", "[\"*a\"]");
    check("websocket message to the server", strstr(out, "\"result\":[\"echo me\"]") != NULL);
    free(out);
    free(method(1, wss, "write", "[\"echo me\"]"));
    check("websocket echo", has(method(0, ws, "read", "[\"*a\"]"), "\"result\":[\"echo me\"]"));
    free(method(0, ws, "close", "[]"));
    check("websocket close reaches the server", strstr(events[1], "\"status\":\"closed\"") != NULL);

    phoenix_host_free(hosts[0]);
    phoenix_host_free(hosts[1]);
    return failures ? 1 : 0;
}
