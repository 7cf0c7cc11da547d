/**
 * @file systools/value.h
 * @brief Python's plain data values: None, bool, int, float, str, bytes, bytearray, tuple, list,
 *        dict, set and frozenset, with Python's repr() and ast.literal_eval(); the standard
 *        library's datetime, Decimal, UUID, complex, OrderedDict, defaultdict, deque and Counter
 *        (since 1.1); and, for what pickles hold beyond plain data, globals, objects kept as
 *        data and PickleBuffers (since 1.1).
 *
 * Lifetime: values are reference counted. Every function that returns `st_value *` and whose
 * name does not say otherwise returns a NEW reference the caller owns and releases with
 * st_value_unref(). Accessors that return an element of a container (st_value_item(),
 * st_value_dict_get(), st_value_next(), ...) return a BORROWED reference, valid while the
 * container holds it; call st_value_ref() to keep it longer. Functions that put a value into a
 * container BORROW it (they take their own reference); their `_steal` variants take over the
 * caller's reference instead, even when they fail, and accept NULL (then they fail with the
 * error already set), so `st_value_list_append_steal(l, st_value_str("x"))` needs no temporary.
 *
 * Containers may share children and may contain themselves (a list that holds itself, as
 * pickle can produce). st_value_repr() prints such a back-reference as `[...]`, `{...}`,
 * `set(...)` like Python; st_value_copy() reproduces sharing and cycles. Reference counting
 * cannot free a cycle on its own: empty one container of the cycle with st_value_clear()
 * before dropping the last outside reference.
 *
 * Threads: reference counts are atomic, so any thread may take and drop references to any
 * value at any time: a producer may put records that share one key string on an st_queue
 * while consumers release the records they took (tests/test_threads.c proves it under
 * ThreadSanitizer). A value may be read by several threads at once; changing a value (a
 * list's append, a dict's set) must not race with another thread reading or changing it, as
 * in Python without the GIL's help. One read writes: the first st_value_hash() of a str,
 * bytes, tuple or frozenset (also done by dict and set operations) caches the hash inside the
 * value, so a value that several threads will use as a key is hashed before it is shared
 * (putting it in a dict does that).
 */
#ifndef SYSTOOLS_VALUE_H
#define SYSTOOLS_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/**
 * @defgroup value value: Python data values, repr() and ast.literal_eval()
 * @brief Python's plain data types for C, with CPython 3.13's repr() byte for byte and a
 *        parser for Python literals; and the three kinds pickles need beyond plain data
 *        (globals, objects kept as data, PickleBuffers: see st_value_global(),
 *        st_value_object(), st_value_picklebuffer()).
 *
 * @code
 * st_value *d = st_value_dict();
 * st_value_dict_set_steal(d, st_value_str("name"), st_value_str("Zoë"));
 * st_value_dict_set_steal(d, st_value_str("sizes"), st_value_parse("[1, 2.5, 0x10]"));
 * char *text = st_value_repr(d);   // "{'name': 'Zoë', 'sizes': [1, 2.5, 16]}"
 * st_value *back = st_value_parse(text);
 * assert(st_value_equal(d, back) == 1);
 * st_free(text);
 * st_value_unref(back);
 * st_value_unref(d);
 * @endcode
 *
 * Ordering guarantees: dicts keep insertion order. Sets and frozensets iterate (and print) in
 * exactly CPython's order when the elements' hashes equal CPython's and the set was built the
 * same way (adding elements one by one, as `set(iterable)` and literal_eval do): that is the
 * case for None, bool, int, float (not NaN), tuples and frozensets of these, and for str and
 * bytes when CPython runs with `PYTHONHASHSEED=0` (CPython randomizes str hashes otherwise).
 * The order is 64-bit CPython's on every platform: hashes are 64-bit and the tables probe with
 * 64-bit arithmetic on 32-bit hosts too, so a set prints and pickles alike everywhere (beyond
 * CPython, whose 32-bit builds hash, and so order, differently). Floats print and parse the
 * same everywhere as well, x87 math included: repr's digits come from integer arithmetic, and
 * text is read by the C library's correctly rounded strtod().
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A Python value (opaque, reference counted). */
typedef struct st_value st_value;

/** @brief The kinds of value, one per Python type (what st_value_kind() returns). */
typedef enum st_value_type {
    ST_VALUE_NONE = 0,    /**< None. */
    ST_VALUE_BOOL,        /**< bool. */
    ST_VALUE_INT,         /**< int, any size. */
    ST_VALUE_FLOAT,       /**< float (a C double). */
    ST_VALUE_STR,         /**< str. */
    ST_VALUE_BYTES,       /**< bytes. */
    ST_VALUE_BYTEARRAY,   /**< bytearray. */
    ST_VALUE_TUPLE,       /**< tuple. */
    ST_VALUE_LIST,        /**< list. */
    ST_VALUE_DICT,        /**< dict (insertion-ordered). */
    ST_VALUE_SET,         /**< set. */
    ST_VALUE_FROZENSET,   /**< frozenset. */
    ST_VALUE_DATE,        /**< datetime.date (since 1.1). */
    ST_VALUE_TIME,        /**< datetime.time (since 1.1). */
    ST_VALUE_DATETIME,    /**< datetime.datetime (since 1.1). */
    ST_VALUE_TIMEDELTA,   /**< datetime.timedelta (since 1.1). */
    ST_VALUE_TIMEZONE,    /**< datetime.timezone (since 1.1). */
    ST_VALUE_DECIMAL,     /**< decimal.Decimal, kept as its text (since 1.1). */
    ST_VALUE_UUID,        /**< uuid.UUID (since 1.1). */
    ST_VALUE_COMPLEX,     /**< complex (since 1.1). */
    ST_VALUE_ORDEREDDICT, /**< collections.OrderedDict: a dict to the dict functions (since 1.1). */
    ST_VALUE_DEFAULTDICT, /**< collections.defaultdict: a dict to the dict functions (since 1.1). */
    ST_VALUE_DEQUE,       /**< collections.deque: a list to the list functions (since 1.1). */
    ST_VALUE_COUNTER,     /**< collections.Counter: a dict to the dict functions (since 1.1). */
    ST_VALUE_GLOBAL,     /**< A reference to a module-level name (a class or function), as
                              pickle's GLOBAL and STACK_GLOBAL name it: st_value_global() (since 1.1). */
    ST_VALUE_OBJECT,     /**< An instance that is not plain data, kept as the data pickle
                              builds it from: st_value_object() (since 1.1). */
    ST_VALUE_PICKLEBUFFER /**< pickle.PickleBuffer: a bytes or bytearray that protocol 5 may
                               send out of band: st_value_picklebuffer() (since 1.1). */
} st_value_type;

/** @brief How deep st_value_repr(), st_value_equal(), st_value_hash() and st_value_copy()
 *         recurse into nested containers before failing with RecursionError (ST_ERECURSION). */
#define ST_VALUE_MAX_DEPTH 1000

/* ---- lifetime and kind ---------------------------------------------------------------- */

/**
 * @brief Takes a new reference to a value.
 * @param v The value, or NULL.
 * @return @p v, so `keep = st_value_ref(v)` reads naturally.
 */
ST_API st_value *st_value_ref(st_value *v);

/**
 * @brief Drops a reference; the value is freed with the last one (children too, without deep
 *        recursion, so arbitrarily nested values are safe to release).
 * @param v The value, or NULL (then nothing happens).
 */
ST_API void st_value_unref(st_value *v);

/**
 * @brief The kind of a value.
 * @param v The value.
 * @return Its ::st_value_type.
 */
ST_API st_value_type st_value_kind(const st_value *v);

/**
 * @brief Python's name for the type of a value, as `type(v).__name__` gives it.
 * @param v The value.
 * @return "NoneType", "bool", "int", "float", "str", "bytes", "bytearray", "tuple", "list",
 *         "dict", "set", "frozenset", "date", "time", "datetime", "timedelta", "timezone",
 *         "Decimal", "UUID", "complex", "OrderedDict", "defaultdict", "deque" or "Counter",
 *         static storage; "type" for a global, "PickleBuffer", and for an object its class's
 *         name (see st_value_object()), valid while @p v lives.
 */
ST_API const char *st_value_type_name(const st_value *v);

/* ---- scalars -------------------------------------------------------------------------- */

/**
 * @brief None.
 * @return A new reference to None (never fails).
 */
ST_API st_value *st_value_none(void);

/**
 * @brief True or False.
 * @param b Non-zero for True.
 * @return A new reference (never fails).
 */
ST_API st_value *st_value_bool(int b);

/**
 * @brief An int from a C integer. Ints of 63 bits (31 on 32-bit hosts) are kept in the
 *        returned pointer itself, with no allocation: equal ones may be the same pointer, and
 *        st_value_ref() / st_value_unref() do nothing to them (Python promises no identity for
 *        ints either). So a st_value pointer is a handle, not always an address: never
 *        dereference it, nor use its low bits for tags of your own.
 * @param i The value.
 * @return A new int, or NULL when out of memory.
 */
ST_API st_value *st_value_int(int64_t i);

/**
 * @brief An int from an unsigned C integer (any uint64_t, beyond INT64_MAX too).
 * @param u The value.
 * @return A new int, or NULL when out of memory.
 */
ST_API st_value *st_value_int_from_u64(uint64_t u);

/**
 * @brief An int from its text. Mirrors int(text, base): optional sign, surrounding
 *        whitespace, underscores between digits, base 0 (prefix decides: 0x, 0o, 0b, else
 *        decimal without leading zeros) or 2 to 36, and CPython's limit of 4300 digits for
 *        bases that are not powers of two.
 * @param text NUL-terminated ASCII text.
 * @param base 0 or 2..36.
 * @return A new int, or NULL with ValueError ("invalid literal for int() with base 10: 'x'").
 */
ST_API st_value *st_value_int_from_string(const char *text, int base);

/**
 * @brief An int from bytes. Mirrors int.from_bytes(data, 'little', signed=is_signed); with
 *        is_signed this is the two's complement form of pickle's LONG1/LONG4 opcodes.
 * @param data The bytes, least significant first.
 * @param len Their number (0 gives 0).
 * @param is_signed Non-zero to read two's complement.
 * @return A new int, or NULL when out of memory.
 */
ST_API st_value *st_value_int_from_bytes(const void *data, size_t len, int is_signed);

/**
 * @brief Writes an int as bytes. Mirrors int.to_bytes(len, 'little', signed=is_signed).
 * @param v An int or bool.
 * @param out Receives exactly @p len bytes, least significant first.
 * @param len The number of bytes to write.
 * @param is_signed Non-zero for two's complement.
 * @return 0, or -1 with OverflowError ("int too big to convert", "can't convert negative int
 *         to unsigned") or TypeError when @p v is not an int.
 */
ST_API int st_value_int_to_bytes(const st_value *v, void *out, size_t len, int is_signed);

/**
 * @brief The number of bits of an int's magnitude. Mirrors int.bit_length() (0 for 0).
 *        Pickle's encode_long writes `bit_length / 8 + 1` signed bytes.
 * @param v An int or bool.
 * @return The bit length, or (size_t)-1 with TypeError when @p v is not an int.
 */
ST_API size_t st_value_int_bit_length(const st_value *v);

/**
 * @brief A float. On 64-bit hosts, +0.0 and the floats of magnitude 2**-255 to 2**257 (about
 *        1.7e-77 to 2.3e+77) are kept in the returned pointer itself, as st_value_int() does
 *        for ints.
 * @param d The value (inf and nan included).
 * @return A new float, or NULL when out of memory.
 */
ST_API st_value *st_value_float(double d);

/**
 * @brief Reads an int or bool as a C integer.
 * @param v The value.
 * @param out Receives the value.
 * @return 0, or -1 with TypeError (not an int) or OverflowError ("Python int too large to
 *         convert to C long").
 */
ST_API int st_value_as_int64(const st_value *v, int64_t *out);

/**
 * @brief Reads a float, int or bool as a double. Mirrors float(v) for these types.
 * @param v The value.
 * @param out Receives the value, correctly rounded for big ints.
 * @return 0, or -1 with TypeError or OverflowError ("int too large to convert to float").
 */
ST_API int st_value_as_double(const st_value *v, double *out);

/**
 * @brief Python's truth value. Mirrors bool(v): False for None, False, 0, 0.0, and empty
 *        str, bytes and containers.
 * @param v The value.
 * @return 1 or 0; never fails (every value has a truth value).
 */
ST_API int st_value_truth(const st_value *v);

/* ---- str, bytes, bytearray ------------------------------------------------------------ */

/**
 * @brief A str from NUL-terminated UTF-8.
 * @param utf8 The text; validated (strict UTF-8: no surrogates, no overlongs).
 * @return A new str, or NULL with UnicodeDecodeError (code ST_EVALUE) naming the bad byte.
 */
ST_API st_value *st_value_str(const char *utf8);

/**
 * @brief A str from UTF-8 with a length (may contain NUL characters).
 * @param utf8 The bytes.
 * @param len Their number.
 * @return A new str, or NULL with UnicodeDecodeError (code ST_EVALUE).
 */
ST_API st_value *st_value_str_n(const char *utf8, size_t len);

/**
 * @brief A str from UTF-8 that may encode lone surrogates (U+D800..U+DFFF). Mirrors
 *        data.decode('utf-8', 'surrogatepass'), which pickle uses for its str opcodes.
 * @param data The bytes.
 * @param len Their number.
 * @return A new str, or NULL with UnicodeDecodeError (code ST_EVALUE).
 */
ST_API st_value *st_value_str_surrogatepass(const char *data, size_t len);

/**
 * @brief The text of a str.
 * @param v A str.
 * @param len Receives the length in bytes, or NULL.
 * @return Borrowed, NUL-terminated UTF-8 (lone surrogates encoded as 'surrogatepass' does),
 *         valid while @p v lives; NULL with TypeError when @p v is not a str. The number of
 *         characters is st_value_len().
 */
ST_API const char *st_value_str_data(const st_value *v, size_t *len);

/**
 * @brief bytes.
 * @param data The bytes (may be NULL when @p len is 0).
 * @param len Their number.
 * @return A new bytes, or NULL when out of memory.
 */
ST_API st_value *st_value_bytes(const void *data, size_t len);

/**
 * @brief bytearray.
 * @param data The initial bytes (may be NULL when @p len is 0).
 * @param len Their number.
 * @return A new bytearray, or NULL when out of memory.
 */
ST_API st_value *st_value_bytearray(const void *data, size_t len);

/**
 * @brief The contents of a bytes or bytearray.
 * @param v A bytes or bytearray.
 * @param len Receives the number of bytes, or NULL.
 * @return Borrowed bytes, valid until @p v changes or dies; NULL with TypeError otherwise.
 */
ST_API const unsigned char *st_value_bytes_data(const st_value *v, size_t *len);

/**
 * @brief Appends bytes to a bytearray. Mirrors bytearray.extend().
 * @param v A bytearray.
 * @param data The bytes.
 * @param len Their number.
 * @return 0, or -1 with TypeError or MemoryError.
 */
ST_API int st_value_bytearray_extend(st_value *v, const void *data, size_t len);

/* ---- tuple and list ------------------------------------------------------------------- */

/**
 * @brief A tuple of the given items (borrowed: the tuple takes its own references).
 * @param n The number of items.
 * @param items The items (may be NULL when @p n is 0); none may be NULL.
 * @return A new tuple, or NULL when out of memory.
 */
ST_API st_value *st_value_tuple(size_t n, st_value *const *items);

/**
 * @brief A tuple that takes over the caller's references to its items, even on failure.
 * @param n The number of items.
 * @param items The items; if one is NULL, all are released and NULL is returned.
 * @return A new tuple, or NULL.
 */
ST_API st_value *st_value_tuple_steal(size_t n, st_value **items);

/**
 * @brief An empty list.
 * @return A new list, or NULL when out of memory.
 */
ST_API st_value *st_value_list(void);

/**
 * @brief Appends to a list. Mirrors list.append().
 * @param list A list.
 * @param item The item (borrowed).
 * @return 0, or -1 with TypeError or MemoryError.
 */
ST_API int st_value_list_append(st_value *list, st_value *item);

/**
 * @brief Appends to a list, taking over the caller's reference to @p item (even on failure).
 * @param list A list.
 * @param item The item, or NULL (then -1 is returned with the error already set).
 * @return 0 or -1.
 */
ST_API int st_value_list_append_steal(st_value *list, st_value *item);

/**
 * @brief Inserts into a list. Mirrors list.insert(index, item): a negative index counts from
 *        the end, out-of-range indexes clamp to the ends.
 * @param list A list.
 * @param index Where.
 * @param item The item (borrowed).
 * @return 0, or -1 with TypeError or MemoryError.
 */
ST_API int st_value_list_insert(st_value *list, ptrdiff_t index, st_value *item);

/**
 * @brief Replaces a list item. Mirrors `list[index] = item`.
 * @param list A list.
 * @param index Negative counts from the end.
 * @param item The item (borrowed).
 * @return 0, or -1 with IndexError ("list assignment index out of range") or TypeError.
 */
ST_API int st_value_list_set(st_value *list, ptrdiff_t index, st_value *item);

/**
 * @brief Removes a list item. Mirrors `del list[index]`.
 * @param list A list.
 * @param index Negative counts from the end.
 * @return 0, or -1 with IndexError ("list assignment index out of range") or TypeError.
 */
ST_API int st_value_list_delete(st_value *list, ptrdiff_t index);

/**
 * @brief An item of a tuple or list. Mirrors `seq[index]`.
 * @param seq A tuple or list.
 * @param index Negative counts from the end.
 * @return Borrowed item; NULL with IndexError ("list index out of range", "tuple index out
 *         of range") or TypeError.
 */
ST_API st_value *st_value_item(const st_value *seq, ptrdiff_t index);

/* ---- dict ----------------------------------------------------------------------------- */

/**
 * @brief An empty dict.
 * @return A new dict, or NULL when out of memory.
 */
ST_API st_value *st_value_dict(void);

/**
 * @brief Sets a dict entry. Mirrors `d[key] = value` (an existing key keeps its place and
 *        its original key object, as in Python).
 * @param d A dict.
 * @param key The key (borrowed); must be hashable.
 * @param value The value (borrowed).
 * @return 0, or -1 with TypeError ("unhashable type: 'list'") or MemoryError.
 */
ST_API int st_value_dict_set(st_value *d, st_value *key, st_value *value);

/**
 * @brief st_value_dict_set() taking over the caller's references to @p key and @p value, even
 *        on failure; either may be NULL (then -1 is returned with the error already set).
 * @param d A dict.
 * @param key The key.
 * @param value The value.
 * @return 0 or -1.
 */
ST_API int st_value_dict_set_steal(st_value *d, st_value *key, st_value *value);

/**
 * @brief Looks a key up. Mirrors `d[key]`.
 * @param d A dict.
 * @param key The key.
 * @return Borrowed value; NULL with KeyError (message: repr(key)) when missing, or TypeError.
 */
ST_API st_value *st_value_dict_get(const st_value *d, const st_value *key);

/**
 * @brief Looks a str key up. Mirrors `d["key"]`.
 * @param d A dict.
 * @param key NUL-terminated UTF-8.
 * @return Borrowed value; NULL with KeyError when missing, or with the error of st_value_str().
 */
ST_API st_value *st_value_dict_get_str(const st_value *d, const char *key);

/**
 * @brief Removes a dict entry. Mirrors `del d[key]`.
 * @param d A dict.
 * @param key The key.
 * @return 0, or -1 with KeyError, TypeError.
 */
ST_API int st_value_dict_delete(st_value *d, const st_value *key);

/**
 * @brief Iterates over a dict's items in insertion order. Mirrors `for k, v in d.items()`.
 *
 * @code
 * size_t pos = 0;
 * st_value *k, *v;
 * int rc;
 * while ((rc = st_value_dict_next(d, &pos, &k, &v)) > 0) { ... }
 * if (rc < 0) { ... }   // d is not a dict
 * @endcode
 * @param d A dict (must not change during the iteration).
 * @param pos Iteration state; start at 0.
 * @param key Receives the borrowed key, or NULL.
 * @param value Receives the borrowed value, or NULL.
 * @return 1 with an item, 0 at the end, -1 with TypeError when @p d is not a dict.
 */
ST_API int st_value_dict_next(const st_value *d, size_t *pos, st_value **key, st_value **value);

/* ---- set and frozenset ---------------------------------------------------------------- */

/**
 * @brief An empty set.
 * @return A new set, or NULL when out of memory.
 */
ST_API st_value *st_value_set(void);

/**
 * @brief An empty frozenset, to be filled with st_value_set_add() before it is used as a key
 *        or element (a frozenset must not change once hashed).
 * @return A new frozenset, or NULL when out of memory.
 */
ST_API st_value *st_value_frozenset(void);

/**
 * @brief Adds an element. Mirrors set.add().
 * @param s A set or a frozenset being built.
 * @param item The element (borrowed); must be hashable.
 * @return 0, or -1 with TypeError ("unhashable type: 'list'") or MemoryError.
 */
ST_API int st_value_set_add(st_value *s, st_value *item);

/**
 * @brief st_value_set_add() taking over the caller's reference, even on failure.
 * @param s A set or a frozenset being built.
 * @param item The element, or NULL (then -1 is returned with the error already set).
 * @return 0 or -1.
 */
ST_API int st_value_set_add_steal(st_value *s, st_value *item);

/**
 * @brief Removes an element. Mirrors set.remove().
 * @param s A set.
 * @param item The element.
 * @return 0, or -1 with KeyError (message: repr(item)) or TypeError.
 */
ST_API int st_value_set_remove(st_value *s, const st_value *item);

/* ---- any container -------------------------------------------------------------------- */

/**
 * @brief The length. Mirrors len(v): characters of a str, bytes of bytes/bytearray, items of
 *        a container.
 * @param v The value.
 * @return The length, or -1 with TypeError ("object of type 'int' has no len()").
 */
ST_API ptrdiff_t st_value_len(const st_value *v);

/**
 * @brief Membership. Mirrors `item in c` for tuple, list, set, frozenset and dict (keys).
 * @param c The container.
 * @param item The value looked for.
 * @return 1 or 0, or -1 with TypeError (unhashable item for set/dict, unsupported container).
 */
ST_API int st_value_contains(const st_value *c, const st_value *item);

/**
 * @brief Iterates in Python's order. Mirrors `for item in c` for tuple, list, set, frozenset
 *        and dict (its keys).
 *
 * @code
 * size_t pos = 0;
 * st_value *item;
 * int rc;
 * while ((rc = st_value_next(list, &pos, &item)) > 0) { ... }
 * if (rc < 0) { ... }   // not one of these containers
 * @endcode
 * @param c The container (must not change during the iteration).
 * @param pos Iteration state; start at 0.
 * @param item Receives the borrowed item.
 * @return 1 with an item, 0 at the end, -1 with TypeError when @p c is not one of these
 *         containers: Python's "'int' object is not iterable" (with the value's type name)
 *         for None, bool, int and float; for str, bytes and bytearray, which Python iterates
 *         but whose items would be new values rather than borrowed ones, a message naming
 *         st_value_str_data() or st_value_bytes_data(), which read them.
 */
ST_API int st_value_next(const st_value *c, size_t *pos, st_value **item);

/**
 * @brief Empties a list, dict, set, frozenset or bytearray, releasing its children; the way
 *        to break a reference cycle. Mirrors list.clear(), dict.clear(), set.clear().
 * @param c The container.
 * @return 0, or -1 with TypeError for other kinds.
 */
ST_API int st_value_clear(st_value *c);

/* ---- globals, objects and pickle buffers ---------------------------------------------- */

/**
 * @brief A reference to a module-level name, as pickle names a class or a function: what
 *        GLOBAL and STACK_GLOBAL load, and what dumps as them. Mirrors the object that
 *        pickle.Unpickler.find_class(module, qualname) would return, without importing
 *        anything: it is only the two names.
 *
 * Two globals are equal when both names are; the hash combines the two names' hashes (so
 * globals may be dict keys and set elements). repr is `<global module.qualname>`;
 * st_value_type_name() says "type" (a pickle does not say whether the name is a class).
 * @param module The module, e.g. "collections" (UTF-8).
 * @param qualname The qualified name, dotted for a nested class, e.g. "Outer.Inner".
 * @return A new global, or NULL with UnicodeDecodeError (ST_EVALUE) or MemoryError.
 */
ST_API st_value *st_value_global(const char *module, const char *qualname);

/**
 * @brief The module of a global.
 * @param v A global.
 * @return Borrowed UTF-8, valid while @p v lives; NULL with TypeError for another kind.
 */
ST_API const char *st_value_global_module(const st_value *v);

/**
 * @brief The qualified name of a global (`__qualname__`).
 * @param v A global.
 * @return Borrowed UTF-8, valid while @p v lives; NULL with TypeError for another kind.
 */
ST_API const char *st_value_global_qualname(const st_value *v);

/** @brief How an object is built: the pickle opcode that makes it (st_value_object()). */
typedef enum st_value_form {
    ST_VALUE_FORM_REDUCE = 0, /**< `callable(*args)` (REDUCE; also INST and OBJ). */
    ST_VALUE_FORM_NEWOBJ,     /**< `cls.__new__(cls, *args)` (NEWOBJ). */
    ST_VALUE_FORM_NEWOBJ_EX   /**< `cls.__new__(cls, *args, **kwargs)` (NEWOBJ_EX). */
} st_value_form;

/** @brief The parts of an object (st_value_object_part()), named as the items of the tuple
 *         `__reduce__` returns. */
typedef enum st_value_part {
    ST_VALUE_PART_CALLABLE = 0, /**< The callable (REDUCE) or the class (NEWOBJ, NEWOBJ_EX). */
    ST_VALUE_PART_ARGS,         /**< The argument tuple. */
    ST_VALUE_PART_KWARGS,       /**< NEWOBJ_EX's keyword arguments (a dict); None otherwise. */
    ST_VALUE_PART_STATE,        /**< What BUILD gives `__setstate__`; None when absent. */
    ST_VALUE_PART_LISTITEMS,    /**< A list of what APPEND/APPENDS added; None when none. */
    ST_VALUE_PART_DICTITEMS,    /**< A list of the (key, value) tuples SETITEM/SETITEMS set,
                                       in order; None when none. */
    ST_VALUE_PART_STATE_SETTER  /**< The `state_setter` of a 6-item `__reduce__` (called with
                                       (obj, state) instead of BUILD); None when absent. */
} st_value_part;

/**
 * @brief An instance that is not plain data, kept as the data that builds it: CPython's
 *        save_reduce arguments, as the object's `__reduce_ex__` gives them (nothing is run:
 *        the value only describes the object). What st_pickle_loads() makes of REDUCE,
 *        NEWOBJ and NEWOBJ_EX when st_pickle_load_options::objects is on, and what
 *        st_pickle_dumps() writes back as CPython's C pickler writes the original object.
 *
 * An object is mutable (BUILD state, appended and set items come after it exists, so it may
 * contain itself). Differences from Python, where an instance compares and hashes by
 * identity unless its class says otherwise: objects compare by structure (form, callable,
 * arguments, state and items all equal), and hash by their callable and arguments (those
 * never change; only the callable when the arguments are unhashable), so equal objects hash
 * alike and an object may be a dict key (an enum member often is). Sets of objects iterate in
 * this hash's order, not CPython's. st_value_copy() copies objects (sharing and cycles kept);
 * st_value_clear() empties one (every part but a global callable), to break a cycle.
 *
 * repr shows what pickletools would let you see, never the object itself:
 * `<pickled mymod.Point NEWOBJ(1, 2) state={'x': 1}>`: the callable (a global by its dotted
 * name, anything else by its repr), the form and the arguments (NEWOBJ_EX adds
 * `**{kwargs}`), then the parts present: `state=`, `listitems=[...]`, `dictitems=[...]`,
 * `state_setter=`. An object met again inside itself prints `<pickled mymod.Point ...>`.
 * st_value_type_name() gives the class's `__name__` when the data names the class (NEWOBJ,
 * NEWOBJ_EX, and REDUCE of copyreg._reconstructor or copyreg.__newobj__), else "object".
 * @param form How the object is made.
 * @param callable The callable (REDUCE) or the class (NEWOBJ, NEWOBJ_EX): a global, or an
 *        object standing for one (a bound method is `getattr(obj, 'name')`) (borrowed).
 * @param args The argument tuple (borrowed).
 * @param kwargs For NEWOBJ_EX a dict, otherwise NULL or None (borrowed).
 * @return A new object, or NULL with TypeError naming what is wrong, or MemoryError.
 */
ST_API st_value *st_value_object(st_value_form form, st_value *callable, st_value *args,
                                 st_value *kwargs);

/**
 * @brief How an object is made.
 * @param v An object.
 * @param form Receives the form.
 * @return 0, or -1 with TypeError for another kind.
 */
ST_API int st_value_object_form(const st_value *v, st_value_form *form);

/**
 * @brief A part of an object.
 * @param v An object.
 * @param part Which part.
 * @return The borrowed part (None when absent, see ::st_value_part); NULL with
 *         TypeError for another kind or ValueError for an unknown part.
 */
ST_API st_value *st_value_object_part(const st_value *v, st_value_part part);

/**
 * @brief Sets what BUILD gives the object (`__setstate__(state)` or the `__dict__` update):
 *        the third item of `__reduce__`'s tuple; with a state setter, the sixth.
 * @param v An object.
 * @param state The state (borrowed); None removes it (as save_reduce, which writes no BUILD
 *        for a None state).
 * @param state_setter NULL or None for BUILD, else the callable of the 6-item form: a
 *        global or an object (borrowed).
 * @return 0, or -1 with TypeError (not an object, or a state setter that cannot be called).
 */
ST_API int st_value_object_set_state(st_value *v, st_value *state, st_value *state_setter);

/**
 * @brief Appends to an object's list items (what `obj.append(item)` or `obj.extend(...)`
 *        receives when APPEND/APPENDS load): the fourth item of `__reduce__`'s tuple.
 * @param v An object.
 * @param item The item (borrowed).
 * @return 0, or -1 with TypeError or MemoryError.
 */
ST_API int st_value_object_append(st_value *v, st_value *item);

/**
 * @brief Appends to an object's dict items (`obj[key] = value` when SETITEM/SETITEMS load):
 *        the fifth item of `__reduce__`'s tuple. Keys need not be hashable and may repeat.
 * @param v An object.
 * @param key The key (borrowed).
 * @param value The value (borrowed).
 * @return 0, or -1 with TypeError or MemoryError.
 */
ST_API int st_value_object_setitem(st_value *v, st_value *key, st_value *value);

/**
 * @brief A pickle.PickleBuffer: marks a bytes (read-only) or bytearray (writable) for
 *        pickle protocol 5's out-of-band buffers. Mirrors pickle.PickleBuffer(buffer).
 *
 * Dumping writes it in band as bytes or bytearray (BINBYTES / BYTEARRAY8), or, when the
 * st_pickle_dump_options::buffer_callback says so, out of band (NEXT_BUFFER, plus
 * READONLY_BUFFER for bytes), exactly as CPython does; protocols below 5 refuse it
 * ("PickleBuffer can only be pickled with protocol >= 5"). As in Python a PickleBuffer equals
 * only itself and is unhashable; st_value_bytes_data() reads its bytes (no copy), st_value_len()
 * counts them. repr is `<pickle.PickleBuffer readonly, N bytes>` (or `writable`).
 * @param base A bytes or bytearray (borrowed: the buffer shares it, as a memoryview would).
 * @return A new PickleBuffer, or NULL with TypeError or MemoryError.
 */
ST_API st_value *st_value_picklebuffer(st_value *base);

/**
 * @brief The object a PickleBuffer shares. Mirrors PickleBuffer.raw() (as the object, not a
 *        memoryview).
 * @param v A PickleBuffer.
 * @param readonly Receives 1 when the buffer is read-only (a bytes, or a bytearray made
 *        read-only by READONLY_BUFFER), else 0; may be NULL.
 * @return The borrowed bytes or bytearray; NULL with TypeError for another kind.
 */
ST_API st_value *st_value_picklebuffer_raw(const st_value *v, int *readonly);

/* ---- comparison, hashing, copying, text ----------------------------------------------- */

/**
 * @brief Deep equality. Mirrors `a == b`: 1 == 1.0 == True, bytes == bytearray,
 *        set == frozenset, but list != tuple; NaN is unequal to everything but itself
 *        (Python compares container items by identity first). The standard library's types
 *        compare as in Python: date != datetime, aware datetimes and times by their UTC
 *        instant (a naive one never equals an aware one), timezones by offset, Decimal
 *        exactly with Decimal, int and float (Decimal('1.10') == Decimal('1.1') == 1.1 is
 *        false against the float 1.1), complex with its imaginary part 0 as its real part,
 *        an OrderedDict with another in the same order only but with a dict in any order,
 *        Counters treating a missing key as 0, a deque only with a deque. Differs: a
 *        signaling NaN Decimal is unequal where Python raises InvalidOperation.
 * @param a A value.
 * @param b A value.
 * @return 1 or 0, or -1 with RecursionError beyond ST_VALUE_MAX_DEPTH.
 */
ST_API int st_value_equal(const st_value *a, const st_value *b);

/**
 * @brief Python's hash. Mirrors hash(v). Equal to CPython's for None, bool, int, float
 *        (numeric hash modulo 2**61-1, so equal numbers hash alike), tuples and frozensets of
 *        these, and for str and bytes as CPython computes them with PYTHONHASHSEED=0;
 *        64-bit CPython's hashes on 32-bit hosts too. NaN hashes by identity, as in CPython.
 *        timedelta, timezone, Decimal (numeric), UUID and complex hash as CPython's; date,
 *        time and datetime as CPython's with PYTHONHASHSEED=0 (naive ones hash their bytes,
 *        aware ones their UTC instant); a signaling NaN Decimal is TypeError ("Cannot hash
 *        a signaling NaN value."); OrderedDict, defaultdict, deque and Counter are
 *        unhashable.
 * @param v The value.
 * @param out Receives the hash (never -1).
 * @return 0, or -1 with TypeError ("unhashable type: 'list'") or RecursionError.
 */
ST_API int st_value_hash(const st_value *v, int64_t *out);

/**
 * @brief A deep copy. Mirrors copy.deepcopy(v): mutable containers are copied, immutable
 *        values are shared, and sharing and cycles inside @p v are reproduced.
 * @param v The value.
 * @return A new reference, or NULL with MemoryError or RecursionError.
 */
ST_API st_value *st_value_copy(const st_value *v);

/**
 * @brief Python's repr(), byte for byte as CPython 3.13 prints it.
 * @param v The value.
 * @return UTF-8 text the caller frees with st_free(); NULL with RecursionError, MemoryError or
 *         ValueError (an int of more than 4300 decimal digits, as CPython's default
 *         sys.int_max_str_digits).
 */
ST_API char *st_value_repr(const st_value *v);

/**
 * @brief Parses a Python literal. Mirrors ast.literal_eval(text) for these types: numbers in
 *        every literal form (`0x1F`, `0o17`, `0b1`, `1_000`, `1e-3`, `.5`), unary `+`/`-` on
 *        numbers, str and bytes literals with every prefix (r, u, b, rb) and escape,
 *        triple quotes, adjacent-literal concatenation, True/False/None, tuples, lists, dicts,
 *        sets and `set()`; comments, line continuations and newlines inside brackets.
 *        `\N{name}` in a str takes what CPython 3.13's unicodedata (Unicode 15.1) finds for it:
 *        character names and name aliases in any case, uppercase `HANGUL SYLLABLE ...` and
 *        `CJK UNIFIED IDEOGRAPH-XXXX` names, no named sequences (in bytes `\N` is no escape).
 *
 * Differences: complex numbers (`1j`) are not supported (ValueError naming the place); any
 * well-formed but non-literal expression (a name, a call, an operator) gives ValueError
 * "malformed node or string on line L, column C: ...", also where CPython's parser would
 * reject the rest of the text with SyntaxError. SyntaxError messages
 * are CPython's, followed by "(line L, column C)" where CPython prints "(<unknown>, line L)".
 * @param text NUL-terminated UTF-8.
 * @return A new value, or NULL with SyntaxError (ST_ESYNTAX: bad tokens, unbalanced brackets,
 *         "too many nested parentheses" beyond 200 levels, as CPython), ValueError
 *         (ST_EVALUE) or MemoryError; messages name the line and column.
 */
ST_API st_value *st_value_parse(const char *text);

/* ---- values and C string vectors ------------------------------------------------------- */

/**
 * @brief A list of str from a C string vector (argv, a file list), each string decoded as
 *        os.fsdecode() does (st_os_fsdecode(): b'\\xff' is '\\udcff'). Mirrors what Python
 *        makes of such a vector ([os.fsdecode(a) for a in argv]).
 *
 * Declared here, with the values, because it turns a C vector into a value, whatever its
 * source; the os module's own value forms (st_os_environ_value(), ...) are in os.h.
 * @param v A NULL-terminated vector, or NULL (an empty list).
 * @return A new list the caller releases with st_value_unref(); NULL with MemoryError or
 *         LookupError (a locale encoding the library lacks).
 */
ST_API st_value *st_value_list_from_strv(const char *const *v);

/**
 * @brief A C string vector from a list or tuple of str and bytes: str items are encoded with
 *        os.fsencode(), bytes are taken as they are. Mirrors what subprocess and os.exec* do
 *        with their args.
 * @param seq A list or tuple.
 * @return A NULL-terminated vector the caller frees with st_strv_free(); NULL with TypeError
 *         (another kind of value, or an item that is neither str nor bytes), ValueError
 *         "embedded null byte", or UnicodeEncodeError.
 */
ST_API const char **st_value_list_to_strv(const st_value *seq);

/**
 * @brief A dict of str to str from an environment block ("KEY=VALUE" strings), decoded as
 *        os.environ is: names and values by os.fsdecode(), an entry without '=' left out, the
 *        first of two equal names kept.
 * @param env A NULL-terminated vector (environ, st_os_environ()), or NULL (an empty dict).
 * @return A new dict the caller releases with st_value_unref(); NULL with MemoryError or
 *         LookupError.
 */
ST_API st_value *st_value_dict_from_environ(const char *const *env);

/**
 * @brief An environment block from a dict whose names and values are str (fsencoded) or
 *        bytes. Mirrors what subprocess and os.execve do with env.
 * @param d The dict.
 * @return A NULL-terminated vector of "KEY=VALUE" the caller frees with st_strv_free(); NULL
 *         with TypeError, ValueError ("illegal environment variable name" for an empty name or
 *         one holding '=', "embedded null byte") or UnicodeEncodeError.
 */
ST_API const char **st_value_dict_to_environ(const st_value *d);
/* ---- the standard library's value types (since 1.1) ---------------------------------- */

/**
 * @name Standard library types
 * datetime's date, time, datetime, timedelta and timezone, decimal.Decimal, uuid.UUID,
 * complex, and collections' OrderedDict, defaultdict, deque and Counter, as values: repr()
 * as CPython 3.13 prints them, equality and hashing as Python's (see st_value_equal() and
 * st_value_hash()), and pickled as CPython pickles them (systools/pickle.h). OrderedDict,
 * defaultdict and Counter are dicts to every st_value_dict_* function and to st_value_len(),
 * st_value_next(), st_value_contains() and st_value_clear(); a deque is a list to
 * st_value_list_append(), st_value_list_insert(), st_value_list_set(),
 * st_value_list_delete() and st_value_item(), keeping its maxlen. No Python code runs: a
 * defaultdict's default_factory is kept as a name (nothing calls it), a Decimal as its text.
 * @{
 */

/** @brief The fields of a date, time or datetime (those a kind lacks read 0). */
typedef struct st_value_datetime_parts {
    int year;        /**< 1..9999 (0 for a time). */
    int month;       /**< 1..12 (0 for a time). */
    int day;         /**< 1..31 (0 for a time). */
    int hour;        /**< 0..23. */
    int minute;      /**< 0..59. */
    int second;      /**< 0..59. */
    int microsecond; /**< 0..999999. */
    int fold;        /**< 0 or 1 (PEP 495). */
} st_value_datetime_parts;

/**
 * @brief A date. Mirrors datetime.date(year, month, day).
 * @param year 1..9999.
 * @param month 1..12.
 * @param day 1..the month's last day.
 * @return A new date, or NULL with ValueError ("year 0 is out of range", "month must be in
 *         1..12", "day is out of range for month").
 */
ST_API st_value *st_value_date(int year, int month, int day);

/**
 * @brief A time. Mirrors datetime.time(hour, minute, second, microsecond, tzinfo, fold=fold).
 * @param hour 0..23.
 * @param minute 0..59.
 * @param second 0..59.
 * @param microsecond 0..999999.
 * @param tzinfo A timezone (borrowed), or NULL or None for a naive time.
 * @param fold 0 or 1.
 * @return A new time, or NULL with ValueError ("hour must be in 0..23", ...) or TypeError
 *         ("tzinfo argument must be None or of a tzinfo subclass, not type 'int'"; only
 *         datetime.timezone is a tzinfo here).
 */
ST_API st_value *st_value_time(int hour, int minute, int second, int microsecond, st_value *tzinfo,
                               int fold);

/**
 * @brief A datetime. Mirrors datetime.datetime(year, month, day, hour, minute, second,
 *        microsecond, tzinfo, fold=fold).
 * @param year 1..9999.
 * @param month 1..12.
 * @param day 1..the month's last day.
 * @param hour 0..23.
 * @param minute 0..59.
 * @param second 0..59.
 * @param microsecond 0..999999.
 * @param tzinfo A timezone (borrowed), or NULL or None for a naive datetime.
 * @param fold 0 or 1.
 * @return A new datetime, or NULL with the errors of st_value_date() and st_value_time().
 */
ST_API st_value *st_value_datetime(int year, int month, int day, int hour, int minute, int second,
                                   int microsecond, st_value *tzinfo, int fold);

/**
 * @brief The fields of a date, time or datetime. Mirrors its year, month, day, hour, minute,
 *        second, microsecond and fold attributes.
 * @param v A date, time or datetime.
 * @param out Receives the fields.
 * @return 0, or -1 with TypeError.
 */
ST_API int st_value_datetime_parts_get(const st_value *v, st_value_datetime_parts *out);

/**
 * @brief The tzinfo of a time or datetime. Mirrors its tzinfo attribute.
 * @param v A time or datetime.
 * @return Borrowed timezone, or None for a naive one; NULL with TypeError.
 */
ST_API st_value *st_value_datetime_tzinfo(const st_value *v);

/**
 * @brief The UTC offset. Mirrors datetime.utcoffset(), time.utcoffset() and
 *        timezone.utcoffset(None).
 * @param v A time, datetime or timezone.
 * @return A new timedelta, or None for a naive time or datetime; NULL with TypeError.
 */
ST_API st_value *st_value_utcoffset(const st_value *v);

/**
 * @brief The time zone's name. Mirrors datetime.tzname(), time.tzname() and
 *        timezone.tzname(None): the name given, else "UTC" for a zero offset, else
 *        "UTC+HH:MM" (with ":SS" and ".ffffff" when not zero).
 * @param v A time, datetime or timezone.
 * @return A new str, or None for a naive time or datetime; NULL with TypeError.
 */
ST_API st_value *st_value_tzname(const st_value *v);

/**
 * @brief A timedelta. Mirrors datetime.timedelta(days, seconds, microseconds), normalized as
 *        Python does (0 <= seconds < 86400, 0 <= microseconds < 1000000).
 * @param days Days.
 * @param seconds Seconds, any value.
 * @param microseconds Microseconds, any value.
 * @return A new timedelta, or NULL with OverflowError ("days=1000000000; must have magnitude
 *         <= 999999999").
 */
ST_API st_value *st_value_timedelta(int64_t days, int64_t seconds, int64_t microseconds);

/**
 * @brief The normalized fields of a timedelta. Mirrors its days, seconds and microseconds.
 * @param v A timedelta.
 * @param days Receives the days (may be negative), or NULL.
 * @param seconds Receives 0..86399, or NULL.
 * @param microseconds Receives 0..999999, or NULL.
 * @return 0, or -1 with TypeError.
 */
ST_API int st_value_timedelta_get(const st_value *v, int64_t *days, int64_t *seconds,
                                  int64_t *microseconds);

/**
 * @brief A fixed-offset time zone. Mirrors datetime.timezone(offset, name); a zero offset
 *        without a name gives timezone.utc, one shared value as in Python.
 * @param offset A timedelta strictly between -24 and 24 hours (borrowed).
 * @param name The name (UTF-8), or NULL for none.
 * @return A new timezone, or NULL with ValueError ("offset must be a timedelta strictly
 *         between -timedelta(hours=24) and timedelta(hours=24), not ...") or TypeError.
 */
ST_API st_value *st_value_timezone(const st_value *offset, const char *name);

/**
 * @brief A Decimal from its text. Mirrors decimal.Decimal(text): the text is checked as
 *        Decimal's parser does (sign, digits with an optional point and exponent,
 *        Infinity/Inf/NaN/sNaN in any case with a NaN payload; surrounding whitespace and
 *        underscores dropped) and kept exactly, as str(Decimal(text)) prints it, with no
 *        arithmetic and no context. Differs: only ASCII digits and whitespace.
 * @param text NUL-terminated text.
 * @return A new Decimal, or NULL with decimal.InvalidOperation (code ST_EVALUE, message
 *         "[<class 'decimal.ConversionSyntax'>]").
 */
ST_API st_value *st_value_decimal(const char *text);

/**
 * @brief The text of a Decimal. Mirrors str(d) (scientific notation as Python prints it).
 * @param v A Decimal.
 * @return Borrowed NUL-terminated text, valid while @p v lives; NULL with TypeError.
 */
ST_API const char *st_value_decimal_str(const st_value *v);

/**
 * @brief A UUID from its 16 bytes. Mirrors uuid.UUID(bytes=b) (is_safe SafeUUID.unknown).
 * @param bytes The 16 bytes, most significant first.
 * @return A new UUID, or NULL when out of memory.
 */
ST_API st_value *st_value_uuid(const unsigned char bytes[16]);

/**
 * @brief A UUID from its text. Mirrors uuid.UUID(hex): optional "urn:" and "uuid:" prefixes
 *        and braces, hyphens anywhere, 32 hexadecimal digits.
 * @param hex NUL-terminated text.
 * @return A new UUID, or NULL with ValueError ("badly formed hexadecimal UUID string").
 */
ST_API st_value *st_value_uuid_from_string(const char *hex);

/**
 * @brief The 16 bytes of a UUID. Mirrors UUID.bytes.
 * @param v A UUID.
 * @return Borrowed 16 bytes, valid while @p v lives; NULL with TypeError.
 */
ST_API const unsigned char *st_value_uuid_bytes(const st_value *v);

/**
 * @brief The text of a UUID. Mirrors str(u): "12345678-1234-5678-1234-567812345678".
 * @param v A UUID.
 * @param out Receives 36 characters and a NUL.
 * @return 0, or -1 with TypeError.
 */
ST_API int st_value_uuid_str(const st_value *v, char out[37]);

/**
 * @brief Whether the UUID was generated in a multiprocessing-safe way. Mirrors
 *        UUID.is_safe: SafeUUID.safe (0), SafeUUID.unsafe (-1) or SafeUUID.unknown (1 here,
 *        None in Python); kept through pickling.
 * @param v A UUID.
 * @param out Receives 0, -1 or 1.
 * @return 0, or -1 with TypeError.
 */
ST_API int st_value_uuid_is_safe(const st_value *v, int *out);

/**
 * @brief A complex number. Mirrors complex(real, imag).
 * @param real The real part.
 * @param imag The imaginary part.
 * @return A new complex, or NULL when out of memory.
 */
ST_API st_value *st_value_complex(double real, double imag);

/**
 * @brief The parts of a complex. Mirrors z.real and z.imag.
 * @param v A complex.
 * @param real Receives the real part, or NULL.
 * @param imag Receives the imaginary part, or NULL.
 * @return 0, or -1 with TypeError.
 */
ST_API int st_value_complex_get(const st_value *v, double *real, double *imag);

/**
 * @brief An empty OrderedDict. Mirrors collections.OrderedDict(); fill it with
 *        st_value_dict_set(). Equal to another OrderedDict only in the same order, to a dict
 *        whatever the order, as in Python.
 * @return A new OrderedDict, or NULL when out of memory.
 */
ST_API st_value *st_value_ordereddict(void);

/**
 * @brief An empty Counter. Mirrors collections.Counter(); fill it with st_value_dict_set().
 *        repr() lists it most common first, ties in insertion order, as most_common() sorts
 *        (when the counts are all numbers or all str; counts of other kinds, or of both,
 *        print in insertion order, as Python's fallback does when they do not compare —
 *        differs: Python would sort other comparable kinds too); two Counters are equal when
 *        every key's count is (a missing key counting 0), as in Python 3.10+.
 * @return A new Counter, or NULL when out of memory.
 */
ST_API st_value *st_value_counter(void);

/**
 * @brief An empty defaultdict. Mirrors collections.defaultdict(factory) with the factory
 *        named, never called (a missing key is a KeyError for st_value_dict_get()).
 * @param module The factory's module (UTF-8), e.g. "builtins"; NULL for a None factory.
 * @param qualname Its qualified name, e.g. "list"; NULL for a None factory.
 * @return A new defaultdict, or NULL when out of memory or with the error of st_value_str().
 */
ST_API st_value *st_value_defaultdict(const char *module, const char *qualname);

/**
 * @brief The default_factory of a defaultdict, by name.
 * @param v A defaultdict.
 * @param module Receives the borrowed module name, or NULL for a None factory.
 * @param qualname Receives the borrowed qualified name, or NULL for a None factory.
 * @return 0, or -1 with TypeError.
 */
ST_API int st_value_defaultdict_factory(const st_value *v, const char **module,
                                        const char **qualname);

/**
 * @brief An empty deque. Mirrors collections.deque(maxlen=maxlen): once full, an append
 *        drops the leftmost item and an insert fails with IndexError ("deque already at its
 *        maximum size"). Differs: kept as an array, a full deque's append moves the other
 *        items (O(len), where Python's is O(1)); the pickle loader appends in linear time.
 * @param maxlen The maximum length, or -1 for None (unbounded).
 * @return A new deque, or NULL with ValueError ("maxlen must be non-negative").
 */
ST_API st_value *st_value_deque(ptrdiff_t maxlen);

/**
 * @brief The maxlen of a deque. Mirrors deque.maxlen.
 * @param v A deque.
 * @param maxlen Receives it, -1 for None.
 * @return 0, or -1 with TypeError.
 */
ST_API int st_value_deque_maxlen(const st_value *v, ptrdiff_t *maxlen);

/** @} */

#ifdef __cplusplus
}
#endif

/** @} */

#endif
