// PARM_HD marks a function both the host compiler and nvcc compile (__host__ __device__ under nvcc): the
// per-element logic every kernel of kernels/cuda runs, which host tests run over a host grid on the same
// inputs as kernels/cpu.
#pragma once

#if defined(__CUDACC__)
#define PARM_HD __host__ __device__
#else
#define PARM_HD
#endif
