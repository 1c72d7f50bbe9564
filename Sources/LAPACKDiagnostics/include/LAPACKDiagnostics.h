#ifndef MLFLUX_LAPACK_DIAGNOSTICS_H
#define MLFLUX_LAPACK_DIAGNOSTICS_H

/// How many illegal-argument reports of BLAS/LAPACK (xerbla_, LAPACKE_xerbla, cblas_xerbla)
/// this process has caught and written to standard error instead of standard output.
long mlflux_linear_algebra_diagnostic_count(void);

#endif
