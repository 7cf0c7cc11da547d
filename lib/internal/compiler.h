/* Internal: hints for the compiler on hot paths, where GCC and Clang take them; plain C
 * elsewhere. Never installed. */
#ifndef ST_INTERNAL_COMPILER_H
#define ST_INTERNAL_COMPILER_H

#if defined(__GNUC__) || defined(__clang__)
#define ST__INLINE inline __attribute__((always_inline))
#define ST__COLD __attribute__((cold, noinline))
#define ST__NOINLINE __attribute__((noinline)) /* a slow path kept out of a hot caller */
#define ST__UNREACHABLE() __builtin_unreachable()
#define ST__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ST__LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define ST__INLINE inline
#define ST__COLD
#define ST__NOINLINE
#define ST__UNREACHABLE() ((void)0)
#define ST__UNLIKELY(x) (x)
#define ST__LIKELY(x) (x)
#endif

#endif
