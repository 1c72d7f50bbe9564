// BLAS and LAPACK report an illegal argument (a NaN scale, a negative size, a bad leading
// dimension) through an error handler that, in OpenBLAS and LAPACKE, prints with printf to
// standard OUTPUT — which then corrupts mlflux's JSON or CSV on stdout. Defining the
// handlers in the executable interposes them over the shared libraries' weak/default
// definitions (ELF symbol resolution prefers the executable; Package.swift exports them
// to the dynamic symbol table), so every such report goes to standard ERROR as one line.
//
// The callers in Sources/LinearAlgebra keep non-finite and ill-sized input away from the
// libraries, so a report here means a bug in mlflux; it is counted for the tests.

#include "LAPACKDiagnostics.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdatomic.h>

static atomic_long diagnostics = 0;

long mlflux_linear_algebra_diagnostic_count(void) { return atomic_load(&diagnostics); }

static void report(const char *routine, size_t length, long argument) {
    atomic_fetch_add(&diagnostics, 1);
    // Fortran names are blank-padded, not NUL-terminated: stop at the first blank or NUL.
    size_t n = 0;
    while (routine && n < length && n < 32 && routine[n] != '\0' && routine[n] != ' ') n++;
    fprintf(stderr, "mlflux: internal error: linear-algebra routine %.*s rejected argument %ld (an illegal value); please report this\n",
            (int)n, routine ? routine : "", argument);
    fflush(stderr);
}

/// Reference BLAS/LAPACK and OpenBLAS: XERBLA(SRNAME, INFO) with Fortran's hidden length.
int xerbla_(const char *srname, const int *info, size_t length) {
    report(srname, length, info ? (long)*info : 0);
    return 0;
}

/// LAPACKE (the C interface): illegal arguments of LAPACKE_* and its _work functions.
void LAPACKE_xerbla(const char *name, int info) {
    // LAPACKE passes -info for its own argument checks.
    report(name, 64, (long)(info < 0 ? -info : info));
}

/// CBLAS (reference and OpenBLAS builds that use it).
void cblas_xerbla(int info, const char *routine, const char *format, ...) {
    (void)format;
    report(routine, 64, (long)info);
}
