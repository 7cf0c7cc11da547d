/* struct/record_steps.h: the body of the one-record path, included by record.c in
 * st_struct_record_pack() and in st_struct_record_unpack() (not a header: C shares no labels
 * between functions, and a function holding a jump table of labels cannot be inlined). It runs
 * the steps from p, moving bytes from src to dst, and returns from the function that includes it.
 * Where the compiler can jump to a label's address (GCC, Clang), each step ends with its own
 * jump to the next one, each predicted on its own, and the plan's last step returns; elsewhere a
 * switch does the jumping. There is no call and no frame until a STEP_OTHER hands the rest of the
 * plan to run_rest(). In scope: r, src, dst and p, UNPACK_ONLY(x): x in unpack's steps only
 * (a copy that ends with a '?' fix), nothing in pack's, and PACK_ONLY(x) the other way round (the
 * gathers). */
/* clang-format off: a function's body, which the formatter would take for file scope */
#define S (src + p->src)
#define D (dst + p->dst)
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#define STEP_LABELS(k) [STEP_##k] = &&step_##k, [STEP_##k + STEP_LAST] = &&last_##k,
#define STEP_LABELS_COPY(n) STEP_LABELS(COPY##n)
#define STEP_LABELS_BOOL(n) [STEP_COPY_BOOL + n - 1] = &&last_COPY##n##_BOOL,
#define STEP_LABELS_GATHER(name, ...) STEP_LABELS(GATHER_##name)
#define STEP_LABELS_FUSED(a, b) [FUSED_KIND(a, b)] = &&last_COPY##a##_THEN##b,
    static const void *const next[STEP_KINDS_END] = {
        [STEP_END] = &&step_END,
        [STEP_OTHER] = &&step_OTHER,
        STEP_KINDS(STEP_LABELS, STEP_LABELS_COPY) UNPACK_ONLY(COPY_WIDTHS(STEP_LABELS_BOOL))
        PACK_ONLY(GATHER_SHAPES(STEP_LABELS_GATHER)) FUSED_COPIES(STEP_LABELS_FUSED)};
#undef STEP_LABELS_FUSED
#undef STEP_LABELS_GATHER
#undef STEP_LABELS
#undef STEP_LABELS_COPY
#undef STEP_LABELS_BOOL
#define DISPATCH() goto *next[p->kind]
    DISPATCH();
#else
#define DISPATCH() goto dispatch
dispatch:
    switch (p->kind) {
    case STEP_END:
        goto step_END;
    case STEP_OTHER:
        goto step_OTHER;
#define STEP_CASES(k)                                                                              \
    case STEP_##k:                                                                                 \
        goto step_##k;                                                                             \
    case STEP_##k + STEP_LAST:                                                                     \
        goto last_##k;
#define STEP_CASES_COPY(n) STEP_CASES(COPY##n)
#define STEP_CASES_BOOL(n)                                                                         \
    case STEP_COPY_BOOL + n - 1:                                                                   \
        goto last_COPY##n##_BOOL;
#define STEP_CASES_GATHER(name, ...) STEP_CASES(GATHER_##name)
#define STEP_CASES_FUSED(a, b)                                                                     \
    case FUSED_KIND(a, b):                                                                         \
        goto last_COPY##a##_THEN##b;
        STEP_KINDS(STEP_CASES, STEP_CASES_COPY)
        UNPACK_ONLY(COPY_WIDTHS(STEP_CASES_BOOL))
        PACK_ONLY(GATHER_SHAPES(STEP_CASES_GATHER))
        FUSED_COPIES(STEP_CASES_FUSED)
#undef STEP_CASES_FUSED
#undef STEP_CASES_GATHER
#undef STEP_CASES
#undef STEP_CASES_COPY
#undef STEP_CASES_BOOL
    }
#endif
/* Each kind's moves twice: in the middle of a plan, then on to the next step; last, returning. */
#define STEP(k, ...)                                                                               \
    step_##k:                                                                                      \
    __VA_ARGS__;                                                                                   \
    p += STEP_STRIDE;                                                                              \
    DISPATCH();                                                                                    \
    last_##k:                                                                                      \
    __VA_ARGS__;                                                                                   \
    return 0;
#define COPY_STEP(n) STEP(COPY##n, copy_fixed(D, S, n))
#define COPY_BOOL_STEP(n)                                                                          \
    last_COPY##n##_BOOL: {                                                                         \
        unsigned char *d = D; /* kept, not recomputed, by the fix that all widths share */         \
        const unsigned char *s = S;                                                                \
        copy_fixed(d, s, n);                                                                       \
        d[p->len] = s[p->len] != 0;                                                                \
        return 0;                                                                                  \
    }
#define GATHER_STEP(name, ...) STEP(GATHER_##name, gather(D, S, __VA_ARGS__))
#define FUSED_STEP(a, b)                                                                           \
    last_COPY##a##_THEN##b:                                                                        \
    copy_fixed(D, S, a);                                                                           \
    p += STEP_STRIDE;                                                                              \
    copy_fixed(D, S, b);                                                                           \
    return 0;
    COPY_WIDTHS(COPY_STEP)
    UNPACK_ONLY(COPY_WIDTHS(COPY_BOOL_STEP))
    PACK_ONLY(GATHER_SHAPES(GATHER_STEP))
    STEP(SWAP2, swap_values(D, S, 1, 2))
    STEP(SWAP4, swap_values(D, S, 1, 4))
    STEP(SWAP8, swap_values(D, S, 1, 8))
    STEP(SWAP2N, swap_values(D, S, p->len, 2))
    STEP(SWAP4N, swap_values(D, S, p->len, 4))
    STEP(SWAP8N, swap_values(D, S, p->len, 8))
    STEP(BOOL, *D = *S != 0)
    STEP(ZERO, zero_short(D, p->len))
    FUSED_COPIES(FUSED_STEP)
#undef FUSED_STEP
#undef COPY_STEP
#undef COPY_BOOL_STEP
#undef GATHER_STEP
#undef STEP
step_END:
    return 0;
step_OTHER:
    return run_rest(r, p, src, dst);
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
#undef DISPATCH
#undef S
#undef D
/* clang-format on */
