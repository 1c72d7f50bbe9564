#ifndef MLFLUX_CFUZZDRIVER_H
#define MLFLUX_CFUZZDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver entry point (compiler-rt, LLVM >= 11). Only linked in the
/// sanitizer build (`-sanitize=fuzzer`); the plain build never references it.
int LLVMFuzzerRunDriver(int *argc, char ***argv,
                        int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
