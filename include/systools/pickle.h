/**
 * @file systools/pickle.h
 * @brief CPython's pickle format: write what pickle.loads() reads, read what pickle.dumps()
 *        writes, safely; plain data, and with objects on any pickle, kept as data.
 */
#ifndef SYSTOOLS_PICKLE_H
#define SYSTOOLS_PICKLE_H

#include <stddef.h>
#include <stdio.h>

#include "common.h"
#include "value.h"

/**
 * @defgroup pickle pickle: CPython's pickle format
 * @brief Exchanges ::st_value trees (None, bool, int, float, str, bytes, bytearray, tuple,
 *        list, dict, set, frozenset, the standard library's datetime, Decimal, UUID, complex,
 *        OrderedDict, defaultdict, deque and Counter, with shared and recursive references;
 *        globals, objects and PickleBuffers) with Python programs through pickle protocols 0
 *        to 5.
 *
 * Dumping follows CPython 3.13's C pickler opcode for opcode (same memo, batching and
 * 64 KiB framing), so protocols 2 to 5 give the bytes pickle.dumps() gives for the same data
 * (on every platform: sets in 64-bit CPython's order, see the value module); the standard
 * library's types are written as their __reduce__/__reduce_ex__ make CPython write them
 * (datetime's bytes state, UUID through copyreg, deque and OrderedDict items after REDUCE),
 * at every protocol, Python 2's names below protocol 3 included. Differences: a datetime
 * loses its fold below protocol 4, as in CPython; two values CPython shares only because
 * they are one Python object (a timedelta given to two timezones, a defaultdict factory of
 * the caller's, a str that is also the interned name of a standard library value's class or
 * module) are written twice here.
 *
 * Loading never runs, imports or resolves code. With the default options it understands every
 * opcode CPython emits for plain data: the only globals accepted are the ones CPython itself
 * writes for plain data in old protocols (`builtins`/`__builtin__` set, frozenset, bytearray
 * and bytes, `_codecs encode`, and `copyreg`/`copy_reg _reconstructor` with one of those types
 * as both class and base), and the standard library types above (`datetime` date, time,
 * datetime, timedelta, timezone, `decimal Decimal`, `uuid UUID` with NEWOBJ or
 * `copyreg._reconstructor` and BUILD, `builtins complex`, `collections` OrderedDict,
 * defaultdict, deque and Counter, and builtins types as a defaultdict's factory, kept by
 * name), all called only with the arguments CPython's pickler gives them (and Python 2's list
 * of pairs for OrderedDict); any other is refused unless the caller's
 * st_pickle_load_options::allow_global accepts it.
 *
 * With st_pickle_load_options::objects on, every pickle CPython 3.13 writes loads, what is not
 * plain data kept as data: a GLOBAL or STACK_GLOBAL becomes an ::ST_VALUE_GLOBAL (below
 * protocol 3 with Python 2's names mapped to Python 3's, as Unpickler's fix_imports does; a
 * nested name, which CPython writes below protocol 4 as `getattr(Outer, 'Inner')`, becomes the
 * global `Outer.Inner`), REDUCE, NEWOBJ, NEWOBJ_EX, INST and OBJ an ::ST_VALUE_OBJECT, which
 * BUILD, APPEND(S) and SETITEM(S) fill (see st_value_object()); the REDUCE and POP that a
 * 6-item `__reduce__` writes for its state_setter become the object's state and state setter.
 * Dumping such values writes what CPython's save_reduce and save_global write for the original
 * objects (NEWOBJ or REDUCE by protocol and callable name, copyreg.__newobj__ below protocol
 * 2, memo, batches, Python 2 names below protocol 3, framing), so a pickle loads and dumps
 * back byte for byte at its protocol. An object's form is what its `__reduce_ex__` gave at
 * the protocol it was pickled with: dumped at another protocol it stays that reduce value
 * (a default `object.__reduce_ex__` would have chosen copyreg._reconstructor below protocol
 * 2, which the data cannot know). Not supported, each refused with a clear error: EXT1/2/4
 * (copyreg's extension registry, empty unless a program fills it), ADDITEMS on an object and
 * a second BUILD on one (CPython writes neither), and dumping NEWOBJ_EX below protocol 4
 * (CPython writes a functools.partial of `cls.__new__` there). CPython shares its interned
 * strs (attribute and global names) by identity: a value made in C must use one str value
 * where CPython's object would share an interned one for the bytes to match (loaded values
 * already share them).
 *
 * Persistent references (PERSID, BINPERSID) and protocol 5's out-of-band buffers
 * (NEXT_BUFFER, READONLY_BUFFER) go through st_pickle_dump_options::persistent_id and
 * buffer_callback when dumping, st_pickle_load_options::persistent_load and buffers when
 * loading, as CPython's Pickler and Unpickler have them; a PickleBuffer is an
 * ::ST_VALUE_PICKLEBUFFER (st_value_picklebuffer()), the one value that goes out of band, as
 * in Python.
 *
 * Bad input fails with ST_EFORMAT (pickle.UnpicklingError) and a message ending in
 * "(at offset N)", N the byte offset of the opcode at fault. Hostile input stays bounded with
 * objects on too: memo indexes by the input read (a huge LONG_BINPUT is refused, not
 * allocated), nesting by st_pickle_load_options::max_depth (objects count two levels: their
 * parts sit in a tuple or list), everything else by the input's size.
 *
 * @code
 * st_value *v = st_value_parse("{'name': 'Zoë', 'sizes': [1, 2.5, b'\\x00'], 'tags': {'a'}}");
 * unsigned char *data;
 * size_t len;
 * if (st_pickle_dumps(v, ST_PICKLE_DEFAULT_PROTOCOL, &data, &len) == 0) {
 *     st_value *back = st_pickle_loads(data, len, NULL);   // equal to v
 *     st_value_unref(back);
 *     st_free(data);
 * }
 * st_value_unref(v);
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The highest protocol (pickle.HIGHEST_PROTOCOL). */
#define ST_PICKLE_HIGHEST_PROTOCOL 5
/** @brief CPython 3.13's default protocol (pickle.DEFAULT_PROTOCOL). */
#define ST_PICKLE_DEFAULT_PROTOCOL 4

/**
 * @brief Pickles a value. Mirrors pickle.dumps(v, protocol): byte for byte CPython 3.13's C
 *        pickler for the same data, sharing and cycles included.
 *
 * CPython keeps one object for each str of at most one character below U+0100 and each bytes
 * of at most one byte, so such values are memoized by content here (two equal ones pickle as
 * one object plus a memo reference, as CPython writes them); every other value by identity.
 * @param v The value (borrowed).
 * @param protocol 0 to 5, or a negative number for ST_PICKLE_HIGHEST_PROTOCOL.
 * @param out Receives the pickle; the caller frees it with st_free().
 * @param len Receives its length.
 * @return 0, or -1 with ValueError ("pickle protocol must be <= 5"), RecursionError (nesting
 *         deeper than ST_VALUE_MAX_DEPTH: "maximum recursion depth exceeded while pickling
 *         an object"), ValueError (an int of more than 4300 digits in protocol 0 or 1) or
 *         MemoryError.
 */
ST_API int st_pickle_dumps(const st_value *v, int protocol, unsigned char **out, size_t *len);

/**
 * @brief Pickles a value onto a file descriptor. Mirrors pickle.dump(v, file, protocol).
 * @param v The value (borrowed).
 * @param protocol As for st_pickle_dumps().
 * @param fd An open file descriptor; written with write(2), EINTR retried.
 * @return 0, or -1 with the errors of st_pickle_dumps() or OSError from write(2).
 */
ST_API int st_pickle_dump(const st_value *v, int protocol, int fd);

/**
 * @brief Pickles a value onto a stdio stream. Mirrors pickle.dump(v, file, protocol).
 * @param v The value (borrowed).
 * @param protocol As for st_pickle_dumps().
 * @param f The stream (not flushed: call fflush() when the reader waits for it).
 * @return 0, or -1 with the errors of st_pickle_dumps() or OSError.
 */
ST_API int st_pickle_dump_file(const st_value *v, int protocol, FILE *f);

/** @brief ::st_pickle_dump_options.protocol for protocol 0 (a zero field means Python's
 *         default, ST_PICKLE_DEFAULT_PROTOCOL). */
#define ST_PICKLE_PROTOCOL_0 0x100

/** @brief The version of ::st_pickle_dump_options this header describes. */
#define ST_PICKLE_DUMP_OPTIONS_VERSION 1

/**
 * @brief The arguments of pickle.Pickler beyond the file: protocol, persistent_id and
 *        buffer_callback. All fields zero (but the version) mean pickle.dumps(v)'s defaults.
 *
 * There is no fix_imports: the dumper always does what CPython's default fix_imports=True does
 * (Python 2 names below protocol 3), which is what "the bytes pickle.dumps() writes" means;
 * False would only make pickles that Python 2 cannot read.
 */
typedef struct st_pickle_dump_options {
    /** ST_PICKLE_DUMP_OPTIONS_VERSION. */
    unsigned int version;
    /** 0 for ST_PICKLE_DEFAULT_PROTOCOL, 1 to 5, ST_PICKLE_PROTOCOL_0 for protocol 0, a
     *  negative number for ST_PICKLE_HIGHEST_PROTOCOL. */
    int protocol;
    /**
     * Mirrors Pickler.persistent_id(obj): called for every value of the tree before it is
     * written (atoms too, as CPython; not for the objects CPython makes on the way, such as
     * the names of a global or the argument tuples of bytes and sets below protocols 3 and
     * 4, which C does not have); sets *pid to NULL (Python's None: pickle the value as usual) or to a
     * new reference to the persistent id, written instead of the value (BINPERSID; PERSID
     * with str(pid) in protocol 0, which must be ASCII). Returns 0, or -1 with an error set
     * (it stands) to stop dumping. The pid itself is not passed to persistent_id, its items
     * are.
     */
    int (*persistent_id)(void *ctx, const st_value *v, st_value **pid);
    /**
     * Mirrors buffer_callback(PickleBuffer): called for each PickleBuffer in protocol 5;
     * returns 0 to send it out of band (NEXT_BUFFER, plus READONLY_BUFFER when read-only:
     * keep the buffer, the reader needs it: it is lent for the call, st_value_ref() keeps
     * it), 1 to write it in band (as Python's callback returning a true value), -1 with an
     * error set to stop. NULL: every buffer in band.
     */
    int (*buffer_callback)(void *ctx, st_value *buffer);
    /** Passed to the callbacks. */
    void *ctx;
} st_pickle_dump_options;

/** @brief Default options: pickle.dumps(v) with protocol ST_PICKLE_DEFAULT_PROTOCOL. */
#define ST_PICKLE_DUMP_OPTIONS_INIT {.version = ST_PICKLE_DUMP_OPTIONS_VERSION}

/**
 * @brief Sets options to the defaults, for callers that cannot use
 *        ST_PICKLE_DUMP_OPTIONS_INIT.
 * @param opts The options to initialise.
 * @param version ST_PICKLE_DUMP_OPTIONS_VERSION.
 * @return 0, or -1 with ValueError for a version this library does not know.
 */
ST_API int st_pickle_dump_options_init(st_pickle_dump_options *opts, unsigned int version);

/**
 * @brief Pickles a value with options. Mirrors
 *        `pickle.Pickler(f, protocol, buffer_callback=...).dump(v)` (with persistent_id)
 *        followed by f.getvalue(): as st_pickle_dumps() otherwise.
 * @param v The value (borrowed).
 * @param opts Options, or NULL for the defaults.
 * @param out Receives the pickle; the caller frees it with st_free().
 * @param len Receives its length.
 * @return 0, or -1 with the errors of st_pickle_dumps(), PicklingError (ST_EVALUE,
 *         "pickle.PicklingError") for what CPython refuses (a PickleBuffer below protocol
 *         5, a non-ASCII persistent id or global name in protocol 0-2...), the callbacks'
 *         errors, or ValueError for bad options.
 */
ST_API int st_pickle_dumps_with(const st_value *v, const st_pickle_dump_options *opts,
                                unsigned char **out, size_t *len);

/**
 * @brief Pickles a value with options onto a file descriptor. Mirrors
 *        `pickle.Pickler(file, ...).dump(v)`.
 * @param v The value (borrowed).
 * @param opts Options, or NULL for the defaults.
 * @param fd An open file descriptor; written with write(2), EINTR retried.
 * @return 0, or -1 with the errors of st_pickle_dumps_with() or OSError.
 */
ST_API int st_pickle_dump_with(const st_value *v, const st_pickle_dump_options *opts, int fd);

/**
 * @brief Pickles a value with options onto a stdio stream. Mirrors
 *        `pickle.Pickler(file, ...).dump(v)`.
 * @param v The value (borrowed).
 * @param opts Options, or NULL for the defaults.
 * @param f The stream (not flushed).
 * @return 0, or -1 with the errors of st_pickle_dumps_with() or OSError.
 */
ST_API int st_pickle_dump_file_with(const st_value *v, const st_pickle_dump_options *opts,
                                    FILE *f);

/** @brief The version of ::st_pickle_load_options this header describes. */
#define ST_PICKLE_LOAD_OPTIONS_VERSION 2

/**
 * @brief Limits and extension points of the loaders (the keyword arguments of pickle.loads()
 *        and pickle.Unpickler that this module has, and its own limits). All fields zero (but
 *        the version) mean the defaults; initialise with ST_PICKLE_LOAD_OPTIONS_INIT or
 *        st_pickle_load_options_init(), then set what you need.
 */
typedef struct st_pickle_load_options {
    /** ST_PICKLE_LOAD_OPTIONS_VERSION (any version from 1 to it is accepted). */
    unsigned int version;
    /** Maximum nesting: open MARKs and container depth as built (0: ST_VALUE_MAX_DEPTH). */
    size_t max_depth;
    /** Maximum number of bytes read for one pickle (0: no limit besides the input). */
    size_t max_size;
    /**
     * Asked about each GLOBAL/STACK_GLOBAL that is not one of the built-in plain-data ones;
     * return non-zero to accept it (NULL: refuse all). @p module and @p name are
     * NUL-terminated UTF-8, valid during the call.
     */
    int (*allow_global)(void *ctx, const char *module, const char *name);
    /**
     * Builds the value of REDUCE on a global that allow_global() accepted: returns a new
     * reference, or NULL with an error set (via the value module's failures, or any error
     * the caller raised) to stop loading. NULL pointer: such a REDUCE fails.
     * @p args is the argument tuple (borrowed).
     */
    st_value *(*reduce)(void *ctx, const char *module, const char *name, st_value *args);
    /** Passed to the callbacks. */
    void *ctx;
    /* ---- version 2 ---- */
    /**
     * Non-zero: load every pickle CPython writes, keeping what is not plain data as data
     * (nothing is imported or called): a GLOBAL or STACK_GLOBAL that is not one of the
     * plain-data ones (nor accepted by allow_global() with a reduce() callback) becomes an
     * ::ST_VALUE_GLOBAL, and REDUCE, NEWOBJ, NEWOBJ_EX, INST and OBJ on it an
     * ::ST_VALUE_OBJECT, which BUILD, APPEND(S) and SETITEM(S) fill (see st_value_object()).
     * Zero (the default): such globals are refused as before.
     */
    int objects;
    /**
     * Mirrors Unpickler.persistent_load(pid): called for PERSID (pid a str) and BINPERSID
     * (pid any value), returns the value to use as a new reference, or NULL with an error set
     * (the caller's error stands) to stop loading. NULL: those opcodes fail as in CPython
     * ("A load persistent id instruction was encountered, but no persistent_load function was
     * specified.").
     */
    st_value *(*persistent_load)(void *ctx, st_value *pid);
    /**
     * Mirrors pickle.loads(..., buffers=...): the out-of-band buffers NEXT_BUFFER takes in
     * order (each pushed as it is, no copy: a bytes, bytearray or PickleBuffer; READONLY_BUFFER
     * makes a writable one a read-only PickleBuffer over the same bytearray). NULL is Python's
     * buffers=None: NEXT_BUFFER then fails.
     */
    st_value *const *buffers;
    /** The number of buffers. */
    size_t nbuffers;
} st_pickle_load_options;

/** @brief Default options: depth ST_VALUE_MAX_DEPTH, no size limit, no extra globals. */
#define ST_PICKLE_LOAD_OPTIONS_INIT {.version = ST_PICKLE_LOAD_OPTIONS_VERSION}

/**
 * @brief Sets options to the defaults, for callers that cannot use
 *        ST_PICKLE_LOAD_OPTIONS_INIT.
 * @param opts The options to initialise.
 * @param version ST_PICKLE_LOAD_OPTIONS_VERSION.
 * @return 0, or -1 with ValueError for a version this library does not know (then @p opts is
 *         left alone).
 */
ST_API int st_pickle_load_options_init(st_pickle_load_options *opts, unsigned int version);

/**
 * @brief Unpickles a value. Mirrors pickle.loads(data, buffers=...) with the restrictions of
 *        this module (no code; no arbitrary globals unless objects are on); bytes after
 *        the STOP opcode are ignored, as Python does (to find where a pickle ends, load it
 *        with st_pickle_load_file() from fmemopen() and ask ftell(), as Python's Unpickler on
 *        a BytesIO and tell()).
 *
 * Strings of the protocol 0-2 STRING opcodes are decoded as ASCII (Python's default
 * encoding="ASCII"). Differences from Python: a memo index (PUT) larger than the offset in
 * the data plus 1024 is refused, so memory stays bounded by the input; nesting is limited
 * to ST_VALUE_MAX_DEPTH. Lengths in the data are read as 64-bit CPython reads them, on every
 * platform: above 2**63 - 1 the error is CPython's OverflowError ("OverflowError: BINBYTES
 * exceeds system's maximum size of 9223372036854775807 bytes (at offset N)"), below it data
 * that is not there is "pickle data was truncated", also on 32-bit hosts (where CPython
 * raises OverflowError above 2**31 - 1). Containers the pickle made that refer to themselves
 * but are not part of the result (or all of them when loading fails) are emptied, so nothing
 * leaks; a result that contains itself is the caller's to break (see the value module).
 *
 * Memory: the values of one load are carved from shared blocks of up to 8 MiB (from 2 MiB
 * on, backed by huge pages where the system offers them), released when the last value in
 * them is (from any thread), so keeping a few values of a large result keeps their blocks.
 * Released blocks of 2 MiB and more are kept for later loads, up to 64 MiB per process, so
 * that loading again does not fault fresh memory in from the system.
 * @param data The pickle.
 * @param len Its length.
 * @param opts Options, or NULL for the defaults.
 * @return A new reference, or NULL with EOFError (code ST_EEOF, "Ran out of input") for
 *         empty data or data that ends where an opcode would start (no STOP), as Python's
 *         C unpickler; ValueError (ST_EVALUE) with Python's message and no offset for a
 *         protocol above 5 ("unsupported pickle protocol: 6") and a negative text PUT index
 *         ("negative PUT argument"); pickle.UnpicklingError (ST_EFORMAT) naming the offset
 *         for data truncated inside an opcode ("pickle data was truncated"),
 *         corrupt or refused data, also where Python would raise another error for what the
 *         data asks (its message then starts with that error's type: "TypeError: unhashable
 *         type: 'list' (at offset 3)"); RecursionError, MemoryError, or ValueError for an
 *         options version this library does not know.
 */
ST_API st_value *st_pickle_loads(const void *data, size_t len, const st_pickle_load_options *opts);

/**
 * @brief Reads one pickle from a file descriptor. Mirrors pickle.load(file): the descriptor
 *        is left just past the pickle's STOP opcode, so consecutive pickles on a pipe or
 *        file load one by one. Never reads beyond STOP: it reads what the opcodes need (a
 *        whole FRAME at once, single bytes for the text lines of protocol 0).
 * @param fd An open file descriptor; EINTR is retried.
 * @param opts Options, or NULL for the defaults.
 * @return A new reference, or NULL: EOFError ("Ran out of input") when the stream ends
 *         before the first byte or where any later opcode would start, the errors of
 *         st_pickle_loads(), OSError from read(2).
 */
ST_API st_value *st_pickle_load(int fd, const st_pickle_load_options *opts);

/**
 * @brief Reads one pickle from a stdio stream. Mirrors pickle.load(file); the stream is left
 *        just past STOP (what stdio buffered beyond it stays in its buffer for the next read).
 * @param f The stream.
 * @param opts Options, or NULL for the defaults.
 * @return As st_pickle_load().
 */
ST_API st_value *st_pickle_load_file(FILE *f, const st_pickle_load_options *opts);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
