/**
 * @file systools/common.h
 * @brief Export macro, version numbers and the memory rules shared by every module.
 */
#ifndef SYSTOOLS_COMMON_H
#define SYSTOOLS_COMMON_H

#include <stddef.h>

/**
 * @defgroup common Common: version and memory
 * @brief What every module relies on: the version check and how to free what the library returns.
 *
 * Ownership rule for the whole library: a function that returns `char *`, a buffer or an array
 * allocated for the caller says so in its documentation, and the caller releases it with
 * st_free(); a NULL-terminated string vector is released with st_strv_free(); handles have their
 * own `st_<type>_free()`. A function returning `const char *` lends memory the library keeps.
 *
 * @code
 * if (st_version() != ST_VERSION_NUMBER) {
 *     fprintf(stderr, "built against %s, running %s\n", ST_VERSION_STRING, st_version_string());
 * }
 * @endcode
 * @{
 */

/** @brief Marks a public function of the library (default visibility; everything else is hidden). */
#if defined(ST_STATIC_DEFINE)
#define ST_API
#elif defined(_WIN32) && defined(ST_BUILDING)
#define ST_API __declspec(dllexport)
#elif defined(_WIN32)
#define ST_API __declspec(dllimport)
#elif defined(__GNUC__) || defined(__clang__)
#define ST_API __attribute__((visibility("default")))
#else
#define ST_API
#endif

/** @brief A timeout meaning "wait as long as it takes" (Python's None); any negative timeout means the same. */
#define ST_NO_TIMEOUT (-1.0)

#if defined(__GNUC__) || defined(__clang__)
/** @brief Lets the compiler check printf-style arguments (empty where it cannot). */
#define ST_ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))
/** @brief Lets the compiler check that a variadic list ends with NULL (empty where it cannot). */
#define ST_ATTR_SENTINEL __attribute__((sentinel))
#else
/** @brief Lets the compiler check printf-style arguments (empty where it cannot). */
#define ST_ATTR_PRINTF(f, a)
/** @brief Lets the compiler check that a variadic list ends with NULL (empty where it cannot). */
#define ST_ATTR_SENTINEL
#endif

/** @brief Major version: changes when the API or ABI breaks (the SONAME follows it). */
#define ST_VERSION_MAJOR 1
/** @brief Minor version: new features, compatible. */
#define ST_VERSION_MINOR 2
/** @brief Patch version: fixes only. */
#define ST_VERSION_PATCH 1
/** @brief The version as one number, `MAJOR * 10000 + MINOR * 100 + PATCH`. */
#define ST_VERSION_NUMBER (ST_VERSION_MAJOR * 10000 + ST_VERSION_MINOR * 100 + ST_VERSION_PATCH)
/** @brief The version as a string, "MAJOR.MINOR.PATCH". */
#define ST_VERSION_STRING "1.2.1"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The version number of the library actually loaded at run time.
 * @return The library's ST_VERSION_NUMBER; compare with the header's to detect a mismatch.
 */
ST_API int st_version(void);

/**
 * @brief The version string of the library actually loaded at run time.
 * @return "MAJOR.MINOR.PATCH"; static storage, never freed.
 */
ST_API const char *st_version_string(void);

/**
 * @brief Frees memory the library returned to the caller (strings, buffers, arrays).
 * @param p What a documented function handed over, or NULL (then nothing happens).
 */
ST_API void st_free(void *p);

/**
 * @brief Frees a NULL-terminated string vector the library returned, and every string in it.
 * @param v The vector, or NULL (then nothing happens).
 */
ST_API void st_strv_free(const char **v);

/**
 * @brief Counts the strings of a NULL-terminated vector.
 * @param v The vector, or NULL (counted as empty).
 * @return The number of strings before the terminating NULL.
 */
ST_API size_t st_strv_len(const char *const *v);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
