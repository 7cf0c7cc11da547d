/* Fuzzes the SYSTOOLS_PATH list parser: no crash, and the entries it returns are exactly the
 * non-empty colon-separated pieces of the input, in order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/sys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    st__strv sv = ST__STRV_INIT;
    if (st__sys_path_parse(text, &sv) == 0) {
        const char *p = text;
        for (size_t i = 0; i < sv.len; i++) {
            while (*p == ':')
                p++;
            size_t len = strcspn(p, ":");
            if (len != strlen(sv.v[i]) || memcmp(p, sv.v[i], len) != 0)
                abort();
            p += len;
        }
        while (*p == ':')
            p++;
        if (*p)
            abort(); /* a piece was dropped */
    }
    st__strv_free(&sv);
    free(text);
    return 0;
}
