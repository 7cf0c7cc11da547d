/**
 * @file systools/error.h
 * @brief The error model: return codes plus a thread-local last error with a traceback.
 */
#ifndef SYSTOOLS_ERROR_H
#define SYSTOOLS_ERROR_H

#include "common.h"

/**
 * @defgroup error Errors: the thread-local last error (sys.exc_info)
 * @brief How every function reports failure.
 *
 * The return value alone says whether a call failed: functions returning `int` return 0 on
 * success and -1 on failure; functions returning a pointer return NULL on failure; predicates
 * return 1 or 0, and -1 on failure; a result that can be negative comes back through an
 * out-parameter. Every failure sets the calling thread's error, which holds the detail (like
 * Python's exception object): it is owned by the library and stays until the same thread
 * raises another error or calls st_error_clear(). A successful call neither clears nor sets it,
 * so the error is meaningful only right after a call that reported failure: never judge whether
 * a call succeeded by looking at st_error_last() or st_error_code() (an old error may still be
 * there). The library never prints and never exits on its own.
 *
 * The codes keep errno's style (`ST_EOS`, `ST_EVALUE`, ... in the enum ::st_errcode) rather than
 * Python's class names: they are a small closed set a C `switch` can cover, and the Python
 * exception type of each error is its `type` string.
 *
 * Each error records where it was raised (function, file, line) and the library adds a frame
 * for each of its functions the error passes through, so st_sys_exc_info() can print a traceback
 * the way Python does.
 *
 * @code
 * char *p = st_sys_path_find("data.txt");
 * if (!p) {
 *     fprintf(stderr, "%s: %s\n", st_error_last()->type, st_error_message());
 *     return 1;
 * }
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Error codes; each maps to the Python exception it stands for. */
typedef enum st_errcode {
    ST_OK = 0,          /**< No error. */
    ST_EOS,             /**< A system call failed; see st_error_errno() (OSError and its subclasses). */
    ST_EVALUE,          /**< A bad value (ValueError). */
    ST_ETYPE,           /**< A value of the wrong kind (TypeError). */
    ST_EKEY,            /**< A missing key (KeyError). */
    ST_EINDEX,          /**< An index out of range (IndexError). */
    ST_EOVERFLOW,       /**< A number too large for its destination (OverflowError). */
    ST_EFORMAT,         /**< Malformed data or format (struct.error, pickle.UnpicklingError, ...). */
    ST_ESYNTAX,         /**< Text that does not parse (SyntaxError). */
    ST_ETIMEOUT,        /**< A time limit expired (subprocess.TimeoutExpired, TimeoutError). */
    ST_ECALLEDPROCESS,  /**< A checked child exited non-zero (subprocess.CalledProcessError). */
    ST_ENOMEM,          /**< Memory could not be allocated (MemoryError). */
    ST_ECONFLICT,       /**< A transaction lost a write conflict (ZODB's ConflictError). */
    ST_EEOF,            /**< The peer or stream ended early (EOFError). */
    ST_ERECURSION,      /**< Nesting deeper than allowed (RecursionError). */
    ST_ESTATE,          /**< The object is in the wrong state for the call (RuntimeError, or the
                             module's own type: queue.ShutDown, OSError "handle is closed"). */
    ST_ENOTSUP,         /**< Not supported here (NotImplementedError). */
    ST_EAUTH            /**< A peer failed authentication (multiprocessing.AuthenticationError). */
} st_errcode;

/** @brief One frame of an error's traceback. */
typedef struct st_error_frame {
    const char *function; /**< The C function. */
    const char *file;     /**< Source file, relative to the source tree. */
    int line;             /**< Line in that file. */
} st_error_frame;

/** @brief The last error of the calling thread. All memory belongs to the library. */
typedef struct st_error {
    st_errcode code;             /**< What kind of error. */
    int os_errno;                /**< The errno for ST_EOS (0 otherwise). */
    const char *type;            /**< Python's exception type name, e.g. "FileNotFoundError", "struct.error". */
    const char *message;         /**< Human-readable message naming the path or argument involved. */
    size_t frame_count;          /**< Number of entries in @p frames. */
    const st_error_frame *frames;/**< frames[0] is where the error was raised, later ones its callers. */
} st_error;

/**
 * @brief The calling thread's last error, as Python's `sys.exception()` gives the one being handled.
 *
 * Meaningful only right after a call that reported failure through its return value: successful
 * calls leave an earlier error in place.
 * @return The error, or NULL when none is set. Valid until this thread's next error or
 *         st_error_clear(); do not free.
 */
ST_API const st_error *st_error_last(void);

/**
 * @brief The code of the calling thread's last error, to tell kinds of failure apart right after
 *        one (Python's `except KeyError:`); as st_error_last(), not a success test.
 * @return An ::st_errcode, ST_OK (0) when none is set.
 */
ST_API int st_error_code(void);

/**
 * @brief The errno of the calling thread's last error (Python's OSError.errno); meaningful only
 *        right after a failure, as st_error_last().
 * @return The errno recorded with an ST_EOS error, else 0.
 */
ST_API int st_error_errno(void);

/**
 * @brief The message of the calling thread's last error (Python's str(exception)); meaningful
 *        only right after a failure, as st_error_last().
 * @return The message, or "" when none is set; never NULL. Owned by the library, valid until
 *         this thread's next error or st_error_clear().
 */
ST_API const char *st_error_message(void);

/**
 * @brief Forgets the calling thread's last error (st_error_last() then returns NULL).
 *
 * Never needed before a call: a failing call always sets a new error.
 */
ST_API void st_error_clear(void);

/**
 * @brief Python's exception type name for an error code.
 * @param code An ::st_errcode.
 * @param os_errno For ST_EOS, the errno that picks the OSError subclass (ENOENT gives
 *        "FileNotFoundError"); ignored otherwise.
 * @return A static string such as "ValueError"; "None" for ST_OK, "Exception" for an unknown
 *         code.
 */
ST_API const char *st_error_type_name(int code, int os_errno);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
