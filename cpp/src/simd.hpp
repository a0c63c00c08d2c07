// Internal to the engine's sources: SPECTROGRAMS_CLONES compiles a hot loop for AVX2 and for the
// baseline, the version picked at load time. The engine is built with -ffp-contract=off and the
// loops it marks are elementwise or keep their order of additions, so both versions give the
// same bits.
#pragma once

#if defined(__x86_64__) && defined(__ELF__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(SPECTROGRAMS_NO_CLONES)
#define SPECTROGRAMS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SPECTROGRAMS_CLONES
#endif
