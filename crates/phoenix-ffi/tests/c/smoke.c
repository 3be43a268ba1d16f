/* Compiled and run by tests/c_abi.rs: drives one computer through the C ABI. */
#include <stdio.h>
#include <string.h>
#include "phoenix.h"

static int check(const char *what, char *out, const char *needle) {
    int ok = out != NULL && strstr(out, needle) != NULL;
    printf("%s: %s\n", what, ok ? "ok" : "MISSING");
    if (!ok) printf("  output was: %s\n", out ? out : "(null)");
    phoenix_string_free(out);
    return ok;
}

int main(void) {
    PhoenixHost *h = phoenix_host_new(7, "/top", 0, 42);
    if (!h) { puts("no host"); return 1; }
    int ok = 1;
    ok &= check("ipconfig", phoenix_host_input(h,
        "{\"op\":\"syscall\",\"id\":1,\"pid\":1,\"root\":true,\"name\":\"ipconfig\","
        "\"args\":[\"/top\",{\"ip\":\"10.0.0.7\",\"netmask\":24}]}"),
        "\"result\":[{\"ip\":\"10.0.0.7\",\"netmask\":24,\"up\":true}]");
    ok &= check("malformed line", phoenix_host_input(h, "not json"), "\"out\":\"error\"");
    ok &= check("permission", phoenix_host_input(h,
        "{\"op\":\"syscall\",\"id\":2,\"pid\":5,\"root\":false,\"name\":\"netevent\"}"),
        "\"error\":\"Permission denied\"");
    ok &= check("not UTF-8", phoenix_host_input(h, "{\"op\":\"time\",\"at\":1,\"x\":\"\xff\"}"),
        "not valid UTF-8");
    ok &= check("blank line", phoenix_host_input(h, ""), "\"out\":\"deadline\"");
    ok &= check("deadline", phoenix_host_input(h, "{\"op\":\"time\",\"at\":1000}"), "\"out\":\"deadline\"");
    if (phoenix_host_input(NULL, "x") != NULL) { puts("null host accepted"); ok = 0; }
    phoenix_host_free(h);
    phoenix_host_free(NULL);
    phoenix_string_free(NULL);
    return ok ? 0 : 1;
}
