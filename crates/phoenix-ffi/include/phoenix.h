/* C ABI of the Phoenix network stack (crate phoenix-ffi).
 * One PhoenixHost is one computer's whole network stack, driven with the JSON lines of the stdio
 * host protocol (docs/stdio-host.md): feed one input line, get back every output line it caused,
 * joined with '\n', the last being {"out":"deadline",...}. Strings are NUL-terminated UTF-8.
 *
 * Errors are return values: a null argument gives NULL; a panic inside the library never
 * unwinds into C, it makes the function return NULL (and the host answers NULL from then on).
 * Freeing a host or a string twice, or passing a pointer this library did not return, is
 * undefined behaviour; debug builds of the library detect it and abort with a message. */
#ifndef PHOENIX_H
#define PHOENIX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct PhoenixHost PhoenixHost;

/* A computer with ID `id`, modems given as comma-separated device paths ("/top,/back"; may be
 * NULL), router mode if `router` != 0, randomness seeded by `seed`. NULL if `modems` is not UTF-8. */
PhoenixHost *phoenix_host_new(uint32_t id, const char *modems, int router, uint64_t seed);

/* Destroys a computer (NULL is ignored). Freeing it twice is undefined behaviour. */
void phoenix_host_free(PhoenixHost *host);

/* Feeds one JSON input line (without its newline); returns the output lines (free with
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
