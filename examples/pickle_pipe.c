/* Values through pipes to a Python reader and back: we write pickles to the child's stdin,
 * it answers each with a pickled dict on its stdout. Several pickles share one stream:
 * st_pickle_load() stops right after each STOP, as pickle.load() does in Python.
 *
 * The child is CPython ($ST_PYTHON3, else python3 on PATH). Without one, the child falls
 * back to doing the same in C with this library (saying so on stderr), so the output is the
 * same either way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systools/systools.h>

/* For each value read: {'type': type name, 'repr': repr(value), 'echo': value}. */
static const char READER[] =
    "import pickle, sys\n"
    "inp, out = sys.stdin.buffer, sys.stdout.buffer\n"
    "while True:\n"
    "    try:\n"
    "        v = pickle.load(inp)\n"
    "    except EOFError:\n"
    "        break\n"
    "    pickle.dump({'type': type(v).__name__, 'repr': repr(v), 'echo': v}, out, protocol=4)\n"
    "    out.flush()\n";

static int fail(void)
{
    fprintf(stderr, "%s: %s\n", st_error_last()->type, st_error_message());
    return 1;
}

/* The C stand-in for READER. */
static int c_reader(void)
{
    st_value *v;
    while ((v = st_pickle_load(0, NULL)) != NULL) {
        st_value *reply = st_value_dict();
        st_value_dict_set_steal(reply, st_value_str("type"), st_value_str(st_value_type_name(v)));
        char *text = st_value_repr(v);
        st_value_dict_set_steal(reply, st_value_str("repr"), st_value_str(text));
        st_free(text);
        st_value_dict_set_steal(reply, st_value_str("echo"), v);
        int rc = st_pickle_dump(reply, 4, 1);
        st_value_unref(reply);
        if (rc)
            return fail();
    }
    return st_error_code() == ST_EEOF ? 0 : fail();
}

/* (frozenset({7}), bytearray(b'buf'), [[], {}, ()]): no literal for the first two. */
static st_value *make_mixed(void)
{
    st_value *fs = st_value_frozenset();
    st_value_set_add_steal(fs, st_value_int(7));
    st_value *items[3] = {fs, st_value_bytearray("buf", 3), st_value_parse("[[], {}, ()]")};
    return st_value_tuple_steal(3, items);
}

int main(void)
{
    int to_child[2], from_child[2];
    if (pipe(to_child) || pipe(from_child))
        return 1;
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        close(to_child[0]);
        close(to_child[1]);
        close(from_child[0]);
        close(from_child[1]);
        const char *py = getenv("ST_PYTHON3");
        execlp(py && *py ? py : "python3", "python3", "-c", READER, (char *)NULL);
        fprintf(stderr, "pickle_pipe: no CPython found, the reader is C\n");
        _exit(c_reader());
    }
    close(to_child[0]);
    close(from_child[1]);

    static const char *const literals[] = {
        "None",
        "[1, -2, 3.25, 'héllo', b'\\x00\\xff', True]",
        "{'name': 'Zoë', 'sizes': (1, 1180591620717411303424), 'tags': {1, 2, 3}}",
    };
    st_value *shared = st_value_list(); /* a list that contains itself, sent too */
    st_value_list_append(shared, shared);
    for (size_t i = 0; i < 5; i++) {
        st_value *v = i < 3 ? st_value_parse(literals[i]) : i == 3 ? make_mixed() : st_value_ref(shared);
        int proto = (int)i % 2 ? ST_PICKLE_HIGHEST_PROTOCOL : 2;
        if (!v || st_pickle_dump(v, proto, to_child[1]))
            return fail();
        st_value *reply = st_pickle_load(from_child[0], NULL);
        if (!reply)
            return fail();
        char *text = st_value_repr(reply);
        printf("sent with protocol %d, got back: %s\n", proto, text);
        st_free(text);
        st_value *echo = st_value_dict_get_str(reply, "echo");
        char *a = st_value_repr(v), *b = st_value_repr(echo);
        printf("  echo is %s\n", strcmp(a, b) == 0 ? "the same value" : "DIFFERENT");
        st_free(a);
        st_free(b);
        if (st_value_kind(echo) == ST_VALUE_LIST)
            st_value_clear(echo); /* break the self-reference so it is freed */
        st_value_unref(reply);
        st_value_unref(v);
    }
    st_value_clear(shared);
    st_value_unref(shared);
    close(to_child[1]); /* the reader sees EOF and exits */
    int status;
    waitpid(pid, &status, 0);
    close(from_child[0]);
    printf("reader exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
