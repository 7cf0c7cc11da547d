/* Bench: build, repr() and literal_eval() of a 100k-element nested structure, against CPython
 * 3.13 doing the same in one run (timed inside the interpreter). Prints the ratios; goals:
 * repr >= 3x, parse >= 10x faster than CPython. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "systools/systools.h"

#define RECORDS 10000 /* x 10 leaves = 100k elements */
#define ROUNDS 10

static const char *const python_script =
    "import ast, time\n"
    "def build():\n"
    "    return [{'id': i, 'name': 'user%d' % i, 'score': i * 0.37, 'big': 2 ** 70 + i,\n"
    "             'tags': ['a', 'b\\n', 'é'], 'ok': i % 2 == 0, 'pos': (i, -i)} for i in range(10000)]\n"
    "def best(f):\n"
    "    t = []\n"
    "    for _ in range(10):\n"
    "        s = time.perf_counter(); r = f(); t.append(time.perf_counter() - s)\n"
    "    return min(t), r\n"
    "tb, v = best(build)\n"
    "tr, text = best(lambda: repr(v))\n"
    "tp, back = best(lambda: ast.literal_eval(text))\n"
    "assert back == v\n"
    "print(tb, tr, tp, len(text.encode()))\n";

/* The constant strs (keys and tags) are made once and shared by every record, as CPython
 * shares the constants of its code. */
static st_value *build(void)
{
    static const char *const names[] = {"id", "name", "score", "big", "tags", "ok", "pos",
                                        "a", "b\n", "é"};
    st_value *keys[10];
    for (int k = 0; k < 10; k++)
        keys[k] = st_value_str(names[k]);
    st_value *list = st_value_list();
    char name[32];
    for (int i = 0; i < RECORDS; i++) {
        st_value *d = st_value_dict();
        snprintf(name, sizeof name, "user%d", i);
        unsigned char big[10] = {0};
        big[0] = (unsigned char)i;
        big[1] = (unsigned char)(i >> 8);
        big[8] = 0x40; /* 2**70 + i */
        st_value *pos[2] = {st_value_int(i), st_value_int(-i)};
        st_value *tags = st_value_list();
        for (int k = 7; k < 10; k++)
            st_value_list_append(tags, keys[k]);
        st_value *vals[7] = {st_value_int(i), st_value_str(name), st_value_float(i * 0.37),
                             st_value_int_from_bytes(big, sizeof big, 0), tags,
                             st_value_bool(i % 2 == 0), st_value_tuple_steal(2, pos)};
        for (int k = 0; k < 7; k++)
            st_value_dict_set_steal(d, st_value_ref(keys[k]), vals[k]);
        st_value_list_append_steal(list, d);
    }
    for (int k = 0; k < 10; k++)
        st_value_unref(keys[k]);
    return list;
}

int main(void)
{
    double tb = 1e9, tr = 1e9, tp = 1e9;
    st_value *v = NULL, *back = NULL;
    char *text = NULL;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = bench_now();
        st_value *nv = build();
        double t1 = bench_now();
        char *ntext = st_value_repr(nv);
        double t2 = bench_now();
        st_value *nback = st_value_parse(ntext);
        double t3 = bench_now();
        if (!nv || !ntext || !nback) {
            fprintf(stderr, "bench_value: %s\n", st_error_message());
            return 1;
        }
        tb = t1 - t0 < tb ? t1 - t0 : tb;
        tr = t2 - t1 < tr ? t2 - t1 : tr;
        tp = t3 - t2 < tp ? t3 - t2 : tp;
        st_value_unref(v);
        st_value_unref(back);
        st_free(text);
        v = nv;
        text = ntext;
        back = nback;
    }
    if (st_value_equal(v, back) != 1) {
        fprintf(stderr, "bench_value: parse(repr(v)) != v\n");
        return 1;
    }
    printf("value: %d records, %zu bytes of repr text\n", RECORDS, strlen(text));
    printf("  libsystools: build %.2f ms, repr %.2f ms, parse %.2f ms\n", tb * 1e3, tr * 1e3, tp * 1e3);

    char *out = bench_python(python_script, (const char *)NULL);
    double pb, pr, pp;
    size_t plen;
    if (!out || sscanf(out, "%lf %lf %lf %zu", &pb, &pr, &pp, &plen) != 4) {
        printf("  CPython 3.13 not available: no ratios\n");
    } else {
        printf("  CPython 3.13: build %.2f ms, repr %.2f ms, literal_eval %.2f ms (%zu bytes%s)\n",
               pb * 1e3, pr * 1e3, pp * 1e3, plen, plen == strlen(text) ? ", same text" : "");
        printf("  ratio (CPython / ours): build %.1fx, repr %.1fx (goal 3x), parse %.1fx (goal 10x)\n",
               pb / tb, pr / tr, pp / tp);
    }
    st_free(out);
    st_value_unref(v);
    st_value_unref(back);
    st_free(text);
    return 0;
}
