/*
 * fuzz.h — what every fuzz target shares. A target is one function,
 * LLVMFuzzerTestOneInput, built two ways (tests/fuzz/CMakeLists.txt): with
 * libFuzzer for scripts/fuzz, and with replay_main.c as a ctest program that runs
 * the committed corpus (corpus/<target>/) under every build, sanitizers included.
 * A target must not leak, print or keep state between inputs (beyond what it
 * builds once and never changes).
 */
#ifndef KURA_FUZZ_H
#define KURA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
