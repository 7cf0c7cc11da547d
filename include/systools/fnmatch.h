/**
 * @file systools/fnmatch.h
 * @brief Python's fnmatch module: shell-style wildcard matching of names, in linear time.
 */
#ifndef SYSTOOLS_FNMATCH_H
#define SYSTOOLS_FNMATCH_H

#include "common.h"

/**
 * @defgroup fnmatch fnmatch: shell-style wildcards
 * @brief Mirrors Python's `fnmatch` module, plus compiled patterns for loops.
 *
 * Patterns follow Python exactly: `*` matches any run of bytes (also '/' and a leading '.'),
 * `?` one byte, `[seq]` one byte in seq, `[!seq]` one byte not in seq; `[]]` and `[!]]` hold a
 * literal ']'; ranges such as `[a-z]` (Python drops reversed ranges: `[z-a]` matches nothing);
 * there is no backslash escape (`[*]` is a literal star) and an unclosed `[` is literal.
 *
 * Names and patterns are byte strings: the functions behave like Python's fnmatch called with
 * `bytes` (each byte is one character, as Python's bytes patterns are decoded as Latin-1).
 * Deliberate difference from calling Python with `str`: a multi-byte UTF-8 character is
 * several characters, so `?` matches one byte of it, not the whole character.
 *
 * Matching never backtracks: a compiled pattern runs a bit-parallel automaton over the name, so
 * the time is linear in the name's length for every pattern (`a*a*a*...b` is as fast as `a*b`).
 *
 * @code
 * st_fnmatch_pattern *p = st_fnmatch_pattern_compile("*.[ch]", 0);
 * if (!p) return -1;
 * for (size_t i = 0; names[i]; i++)
 *     if (st_fnmatch_pattern_match(p, names[i]) > 0)   // 1 match, 0 not, -1 error
 *         puts(names[i]);
 * st_fnmatch_pattern_free(p);
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Flag for st_fnmatch_pattern_compile(): ASCII letters match either case, as if name and pattern
 * were lowercased (Python's fnmatch on Windows; glibc FNM_CASEFOLD in the C locale).
 */
#define ST_FNMATCH_CASEFOLD 0x1
/** @brief Flag for st_fnmatch_pattern_compile(): `*`, `?` and `[...]` never match '/' (FNM_PATHNAME). */
#define ST_FNMATCH_PATHNAME 0x2
/**
 * @brief Flag for st_fnmatch_pattern_compile(): a leading '.' must be matched by a literal '.' in the
 * pattern, not by a wildcard (FNM_PERIOD); with ST_FNMATCH_PATHNAME also a '.' right after '/'.
 */
#define ST_FNMATCH_PERIOD 0x4

/** @brief A compiled pattern (opaque); create with st_fnmatch_pattern_compile(). */
typedef struct st_fnmatch_pattern st_fnmatch_pattern;

/**
 * @brief Tests whether a name matches a pattern, after case normalisation.
 *
 * Mirrors fnmatch.fnmatch(name, pat). On POSIX os.path.normcase() is the identity, so this is
 * st_fnmatchcase().
 * @param name The name to test.
 * @param pat The shell-style pattern.
 * @return 1 when @p name matches, 0 when it does not, -1 on error (ST_ENOMEM, ST_ETYPE for a
 *         NULL argument: Python's TypeError for None).
 */
ST_API int st_fnmatch(const char *name, const char *pat);

/**
 * @brief Tests whether a name matches a pattern, case-sensitively.
 *
 * Mirrors fnmatch.fnmatchcase(name, pat). Compiles the pattern for the one call; use
 * st_fnmatch_pattern_compile() when matching many names against one pattern.
 * @param name The name to test.
 * @param pat The shell-style pattern.
 * @return 1 when @p name matches, 0 when it does not, -1 on error (ST_ENOMEM, ST_ETYPE for a
 *         NULL argument).
 */
ST_API int st_fnmatchcase(const char *name, const char *pat);

/**
 * @brief The names of a list that match a pattern.
 *
 * Mirrors fnmatch.filter(names, pat), order kept.
 * @param names A NULL-terminated vector of names; only read (a result of another call, such
 *        as st_glob(), passes as it is).
 * @param pat The shell-style pattern.
 * @return A new NULL-terminated vector of copies of the matching names: the caller owns the
 *         vector and its strings and frees both with st_strv_free() (an empty vector, whose
 *         first element is NULL, when none match); NULL on error (ST_ENOMEM, ST_ETYPE for a NULL
 *         argument).
 */
ST_API const char **st_fnmatch_filter(const char *const *names, const char *pat);

/**
 * @brief Translates a pattern into a POSIX extended regular expression.
 *
 * Mirrors fnmatch.translate(pat): Python returns a Python regex, this returns an anchored
 * expression for regcomp() with REG_EXTENDED that matches exactly the names the pattern
 * matches (bytes, so compile it in the C/POSIX locale, without REG_NEWLINE and REG_ICASE).
 * A pattern that can match nothing (such as `[z-a]`) becomes `^a^`.
 * @param pat The shell-style pattern.
 * @return The expression (free with st_free()), or NULL on error (ST_ENOMEM, ST_ETYPE).
 */
ST_API char *st_fnmatch_translate(const char *pat);

/**
 * @brief Compiles a pattern for matching many names.
 *
 * With @p flags 0 the compiled pattern matches exactly as st_fnmatchcase() does; the flags
 * (glibc fnmatch(3) extensions Python does not have) restrict it.
 * @param pat The shell-style pattern; copied, the caller keeps it.
 * @param flags 0 or an OR of ST_FNMATCH_CASEFOLD, ST_FNMATCH_PATHNAME and ST_FNMATCH_PERIOD.
 * @return The compiled pattern (free with st_fnmatch_pattern_free()), or NULL on error (ST_ENOMEM,
 *         ST_ETYPE for a NULL pattern, ST_EVALUE for unknown flags).
 */
ST_API st_fnmatch_pattern *st_fnmatch_pattern_compile(const char *pat, int flags);

/**
 * @brief Tests a name against a compiled pattern, in time linear in the name's length.
 *
 * Mirrors the match of the pattern fnmatch.fnmatchcase() compiles and caches
 * (fnmatch._compile_pattern(pat)). Thread-safe: a compiled pattern is only read.
 * @param p The compiled pattern.
 * @param name The name to test.
 * @return 1 when @p name matches, 0 when it does not, -1 on error (ST_ETYPE for a NULL @p p or
 *         @p name; ST_ENOMEM when a pattern with over 511 items between its first and last
 *         star cannot allocate its matching state).
 */
ST_API int st_fnmatch_pattern_match(const st_fnmatch_pattern *p, const char *name);

/**
 * @brief Frees a compiled pattern.
 * @param p The pattern, or NULL (then nothing happens).
 */
ST_API void st_fnmatch_pattern_free(st_fnmatch_pattern *p);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
