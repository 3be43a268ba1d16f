/* C ABI of the Phoenix network stack (crate phoenix-ffi).
 * One PhoenixHost is one computer's whole network stack, driven with the JSON lines of the stdio
 * host protocol (docs/stdio-host.md): feed one input line, get back every output line it caused,
 * joined with '\n', the last being {"out":"deadline",...}. Strings are NUL-terminated UTF-8.
 *
 * Errors are return values: the functions returning PhoenixStatus say what went wrong (NULL
 * argument, string not UTF-8, bad configuration, poisoned host); the older functions return
 * NULL instead. A panic inside the library never unwinds into C: the call fails and the host
 * answers PHOENIX_ERR_POISONED / NULL from then on. Freeing a host or a string twice, or passing
 * a pointer this library did not return, is undefined behaviour; debug builds of the library
 * detect it and abort with a message.
 *
 * Ownership, for every pointer:
 *   - PhoenixHost *: created by phoenix_host_create/phoenix_host_new, owned by the caller until
 *     phoenix_host_free. One host must not be used from two threads at once; different hosts
 *     are independent.
 *   - char * returned (or stored through an out-pointer) by phoenix_host_create,
 *     phoenix_host_send and phoenix_host_input: owned by the caller, freed exactly once with
 *     phoenix_string_free (not free()).
 *   - const char * returned by phoenix_version and phoenix_status_text: static, owned by the
 *     library, never freed.
 *   - const char * arguments (config, modems, line): borrowed for the duration of the call
 *     only; the library keeps no pointer to them.
 *
 * Building: `cargo build -p phoenix-ffi` writes target/<profile>/phoenix-ffi.pc, so
 *   PKG_CONFIG_PATH=target/<profile> pkg-config --cflags --libs phoenix-ffi
 * gives the flags for this header and the library of that build; scripts/install-ffi.sh PREFIX
 * installs both with PREFIX/lib/pkgconfig/phoenix-ffi.pc. */
#ifndef PHOENIX_H
#define PHOENIX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this C ABI; phoenix_abi_version() returns the library's. They must be equal. */
#define PHOENIX_ABI_VERSION 1
/* The version of the JSON line protocol (the "protocol" of the "hello" line). */
#define PHOENIX_PROTOCOL_VERSION 1

typedef struct PhoenixHost PhoenixHost;

typedef enum PhoenixStatus {
    PHOENIX_OK = 0,
    PHOENIX_ERR_NULL = -1,     /* a required pointer argument was NULL */
    PHOENIX_ERR_UTF8 = -2,     /* a string argument is not UTF-8 */
    PHOENIX_ERR_CONFIG = -3,   /* phoenix_host_create: the configuration is not valid */
    PHOENIX_ERR_POISONED = -4  /* an internal error broke this host; free it */
} PhoenixStatus;

/* The C ABI version of the loaded library (compare with PHOENIX_ABI_VERSION). */
uint32_t phoenix_abi_version(void);

/* The line protocol version of the loaded library (compare with PHOENIX_PROTOCOL_VERSION). */
uint32_t phoenix_protocol_version(void);

/* The library's version, e.g. "0.1.0" (static; never free it). */
const char *phoenix_version(void);

/* A short text for a PhoenixStatus value (static; never free it). */
const char *phoenix_status_text(int status);

/* Creates a computer from a JSON configuration:
 *   {"id": N, "modems": ["/top", ...], "router": bool, "forward_ports": [P, ...], "seed": N,
 *    "http_server": bool, "psp_selective_ack": bool}   (only "id" is required)
 * On PHOENIX_OK, *out_host is the new host and *out_boot the boot batch ("hello" ... "deadline",
 * newline-separated; free it with phoenix_string_free). Otherwise *out_host is NULL; with
 * PHOENIX_ERR_CONFIG, *out_boot holds the reason (free it), else it is NULL. */
PhoenixStatus phoenix_host_create(const char *config, PhoenixHost **out_host, char **out_boot);

/* Feeds one JSON input line (UTF-8, without its newline). On PHOENIX_OK, *out_lines holds the
 * output lines it caused, newline-separated, the last being the deadline (free it with
 * phoenix_string_free); a line that is not a valid request is still PHOENIX_OK, answered with an
 * {"out":"error",...} line. PHOENIX_ERR_NULL, PHOENIX_ERR_UTF8 (the stack saw nothing) and
 * PHOENIX_ERR_POISONED leave *out_lines NULL. */
PhoenixStatus phoenix_host_send(PhoenixHost *host, const char *line, char **out_lines);

/* The older constructor: a computer with ID `id`, modems given as comma-separated device paths
 * ("/top,/back"; may be NULL), router mode if `router` != 0, randomness seeded by `seed`. NULL if
 * `modems` is not UTF-8. Its boot batch ("hello" ... "deadline") comes before the output of the
 * first phoenix_host_input call. */
PhoenixHost *phoenix_host_new(uint32_t id, const char *modems, int router, uint64_t seed);

/* Destroys a computer (NULL is ignored). Freeing it twice is undefined behaviour. */
void phoenix_host_free(PhoenixHost *host);

/* The older form of phoenix_host_send: feeds one JSON input line (without its newline); returns
 * the output lines (free with
 * phoenix_string_free), the last being the deadline. Every line is answered: one that is blank,
 * not UTF-8 or not a valid request gets an {"out":"error",...} line naming the problem, then
 * the deadline. NULL if an argument is NULL or the host was poisoned by an internal panic. */
char *phoenix_host_input(PhoenixHost *host, const char *line);

/* Frees a string returned by this library (NULL is ignored). Freeing it twice is undefined
 * behaviour. */
void phoenix_string_free(char *s);

#ifdef __cplusplus
}
#endif

#endif /* PHOENIX_H */
