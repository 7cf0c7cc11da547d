/* people: the classic records database on a shelf. The first run adds three people; a later
 * run finds them in the file, updates a field and adds a fourth in one transaction; every
 * run lists them. The file is Python's: `shelve.open("people.db")` reads it in CPython 3.13.
 *
 *   people --new people.db    start over (flag "n": any old file is replaced)
 *   people people.db          open the file, creating it when missing (flag "c") */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systools/shelve.h>
#include <systools/systools.h>

static int fail(const char *what)
{
    fprintf(stderr, "people: %s: %s: %s\n", what, st_error_last()->type, st_error_message());
    return 1;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists every record, by key (the file's own order changes as records are rewritten). */
static int list(st_shelf *db)
{
    const char **keys = st_shelf_keys(db);
    if (!keys)
        return fail("keys");
    size_t n = 0;
    while (keys[n])
        n++;
    qsort(keys, n, sizeof *keys, cmp_keys);
    printf("%zu people:\n", n);
    for (size_t i = 0; i < n; i++) {
        st_value *rec = st_shelf_get(db, keys[i]); /* a fresh copy, unpickled */
        if (!rec)
            return fail(keys[i]);
        char *text = st_value_repr(rec);
        printf("  %-6s %s\n", keys[i], text);
        st_free(text);
        st_value_unref(rec);
    }
    st_strv_free(keys);
    return 0;
}

static int add(st_shelf *db, const char *key, const char *literal)
{
    st_value *rec = st_value_parse(literal);
    int rc = rec ? st_shelf_set(db, key, rec) : -1;
    st_value_unref(rec);
    return rc ? fail(key) : 0;
}

/* Later runs: as with Python's shelve without writeback, a record is read, changed and
 * stored back whole. On dbm.sqlite3 the update and the addition commit together or not at all;
 * the other backends (a build without SQLite) have no transactions, as Python's shelve. */
static int update(st_shelf *db, int txn)
{
    if (txn && st_shelf_begin(db))
        return fail("begin");
    st_value *grace = st_shelf_get(db, "grace");
    if (!grace)
        return fail("grace");
    st_value_dict_set_steal(grace, st_value_str("job"), st_value_str("rear admiral"));
    int rc = st_shelf_set(db, "grace", grace);
    st_value_unref(grace);
    if (rc)
        rc = fail("grace");
    else
        rc = add(db, "linus", "{'name': 'Linus Torvalds', 'born': 1969, 'job': 'kernel hacker'}");
    if (rc) {
        if (txn)
            st_shelf_abort(db); /* neither change is kept */
        return rc;
    }
    if (txn && st_shelf_commit(db))
        return fail("commit");
    printf("updated grace's job, added linus\n");
    return 0;
}

int main(int argc, char **argv)
{
    int fresh = argc == 3 && strcmp(argv[1], "--new") == 0;
    if (argc != 2 && !fresh) {
        fprintf(stderr, "usage: people [--new] FILE\n");
        return 2;
    }
    const char *path = argv[argc - 1];
    st_shelf *db = st_shelve_open(path, fresh ? "n" : "c", NULL);
    if (!db)
        return fail(path);
    ssize_t n = st_shelf_len(db);
    if (n < 0)
        return fail("len");
    const char *backend = st_dbm_whichdb(path);
    printf("%s: %s, %zd people in it\n", path, backend, n);
    int rc;
    if (n == 0) {
        rc = add(db, "ada", "{'name': 'Ada Lovelace', 'born': 1815, 'job': 'mathematician'}") ||
             add(db, "grace", "{'name': 'Grace Hopper', 'born': 1906, 'job': 'programmer'}") ||
             add(db, "alan", "{'name': 'Alan Turing', 'born': 1912, 'job': 'logician'}");
        if (!rc)
            printf("added ada, grace and alan\n");
    } else {
        rc = update(db, strcmp(backend, "dbm.sqlite3") == 0);
    }
    rc = rc || list(db);
    int closed = st_shelf_close(db); /* syncs, closes the file; the handle stays */
    st_shelf_free(db);
    if (closed)
        return fail("close");
    if (!rc && !fresh)
        printf("read it from Python 3.13: python3 -c \"import shelve; "
               "print(dict(shelve.open('%s', 'r')))\"\n", path);
    return rc;
}
