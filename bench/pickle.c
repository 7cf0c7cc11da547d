/* pickle: dumps and loads of 100k small records (dicts of str/int/float/list/bytes) with
 * protocol 4, against CPython 3.13's C pickler and unpickler on the same data. Best of 5, and
 * the first load alone: later loads reuse the memory blocks of the dropped results. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "systools/systools.h"

#define RECORDS 100000
#define ROUNDS 5

/* The same records as the Python script below builds: like there, the keys and the constant
 * strings are one object each, shared by every record. */
static st_value *make_records(void)
{
    static const char *const names[] = {"id", "name", "score", "tags", "blob", "a", "tag"};
    st_value *k[7];
    for (int i = 0; i < 7; i++)
        k[i] = st_value_str(names[i]);
    st_value *list = st_value_list();
    for (int i = 0; i < RECORDS; i++) {
        char name[32], blob[8];
        snprintf(name, sizeof name, "user%d", i);
        for (int k = 0; k < 8; k++)
            blob[k] = (char)((i + k) & 0xff);
        st_value *d = st_value_dict(), *tags = st_value_list();
        st_value_list_append(tags, k[5]);
        st_value_list_append(tags, k[6]);
        st_value_list_append_steal(tags, st_value_int(i % 7));
        st_value_dict_set_steal(d, st_value_ref(k[0]), st_value_int(i));
        st_value_dict_set_steal(d, st_value_ref(k[1]), st_value_str(name));
        st_value_dict_set_steal(d, st_value_ref(k[2]), st_value_float(i * 0.5));
        st_value_dict_set_steal(d, st_value_ref(k[3]), tags);
        st_value_dict_set_steal(d, st_value_ref(k[4]), st_value_bytes(blob, 8));
        st_value_list_append_steal(list, d);
    }
    for (int i = 0; i < 7; i++)
        st_value_unref(k[i]);
    return list;
}

static const char *const py_script =
    "import pickle, sys, time\n"
    "recs = [{'id': i, 'name': 'user%d' % i, 'score': i * 0.5, 'tags': ['a', 'tag', i % 7],\n"
    "         'blob': bytes((i + k) & 0xff for k in range(8))} for i in range(100000)]\n"
    "data = pickle.dumps(recs, 4)\n"
    "if sys.argv[1] == 'size':\n"
    "    print(len(data)); sys.exit()\n"
    "best = 1e9\n"
    "for _ in range(1 if sys.argv[1] == 'first' else 5):\n"
    "    t = time.perf_counter()\n"
    "    if sys.argv[1] == 'dumps':\n"
    "        pickle.dumps(recs, 4)\n"
    "    else:\n"
    "        pickle.loads(data)\n"
    "    best = min(best, time.perf_counter() - t)\n"
    "print(best)\n";

int main(void)
{
    st_value *recs = make_records();
    unsigned char *data = NULL;
    size_t len = 0;
    double dumps = 1e9, loads = 1e9, first = 0;
    for (int r = 0; r < ROUNDS; r++) {
        st_free(data);
        double t0 = bench_now();
        if (st_pickle_dumps(recs, 4, &data, &len))
            return 1;
        double t = bench_now() - t0;
        dumps = t < dumps ? t : dumps;
    }
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = bench_now();
        st_value *v = st_pickle_loads(data, len, NULL);
        double t = bench_now() - t0;
        if (!v)
            return 1;
        st_value_unref(v);
        loads = t < loads ? t : loads;
        first = r == 0 ? t : first;
    }

    double cdumps = bench_python_seconds(py_script, "dumps");
    double cloads = bench_python_seconds(py_script, "loads");
    double cfirst = bench_python_seconds(py_script, "first");
    double csize = bench_python_seconds(py_script, "size"); /* same pickle size: same data */

    printf("pickle protocol 4, %d records (%zu bytes; CPython's: %.0f), best of %d:\n", RECORDS,
           len, csize, ROUNDS);
    printf("  st_pickle_dumps  %.3f s\n  st_pickle_loads  %.3f s (first: %.3f s)\n", dumps, loads,
           first);
    if (cdumps > 0 && cloads > 0 && cfirst > 0) {
        printf("  CPython dumps    %.3f s   CPython/ours = %.2fx faster\n", cdumps, cdumps / dumps);
        printf("  CPython loads    %.3f s   CPython/ours = %.2fx faster\n", cloads, cloads / loads);
        printf("  first loads      %.3f s   CPython/ours = %.2fx faster\n", cfirst, cfirst / first);
    } else {
        printf("  CPython 3.13     not found, ratios skipped\n");
    }
    st_free(data);
    st_value_unref(recs);
    return 0;
}
