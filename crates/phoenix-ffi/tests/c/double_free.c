/* Compiled and run by tests/c_abi.rs: frees a string twice, which debug builds of the library
 * must catch (abort with a message) instead of corrupting the heap. */
#include <stddef.h>
#include "phoenix.h"

int main(void) {
    PhoenixHost *h = phoenix_host_new(1, NULL, 0, 1);
    char *out = phoenix_host_input(h, "{\"op\":\"time\",\"at\":1}");
    phoenix_string_free(out);
    phoenix_string_free(out);
    phoenix_host_free(h);
    return 0;
}
