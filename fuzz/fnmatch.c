/* Fuzzes fnmatch: input = flags byte, pattern, NUL, name. The compiled and one-shot matchers
 * must agree, and agree with regexec() of st_fnmatch_translate() (an independent matcher);
 * with flags, patterns without brackets must agree with glibc's fnmatch(3). */
#include <fnmatch.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "systools/systools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    int flags = data[0] & 7;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    const char *pat = text;
    const char *name = text + strlen(text) + (strlen(text) < size - 1); /* after the NUL, or "" */

    st_fnmatch_pattern *p = st_fnmatch_pattern_compile(pat, 0);
    if (!p)
        abort();
    int m = st_fnmatch_pattern_match(p, name);
    if (m < 0 || m != st_fnmatchcase(name, pat))
        abort();
    st_fnmatch_pattern_free(p);
    if (strlen(pat) <= 64 && strlen(name) <= 256) {
        char *re = st_fnmatch_translate(pat);
        regex_t r;
        if (!re || regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
            abort();
        if ((regexec(&r, name, 0, NULL, 0) == 0) != m)
            abort();
        regfree(&r);
        st_free(re);
    }
    if (flags && !strchr(pat, '[')) {
        static const int map[][2] = {{ST_FNMATCH_CASEFOLD, FNM_CASEFOLD}, {ST_FNMATCH_PATHNAME, FNM_PATHNAME},
                                     {ST_FNMATCH_PERIOD, FNM_PERIOD}};
        int gflags = FNM_NOESCAPE;
        for (int k = 0; k < 3; k++)
            if (flags & map[k][0])
                gflags |= map[k][1];
        p = st_fnmatch_pattern_compile(pat, flags);
        if (!p)
            abort();
        if (st_fnmatch_pattern_match(p, name) != (fnmatch(pat, name, gflags) == 0)) /* -1 differs too */
            abort();
        st_fnmatch_pattern_free(p);
    }
    free(text);
    return 0;
}
