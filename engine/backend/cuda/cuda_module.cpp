// The entry point of the cuda engine module (libparm_cuda.so). `parm` and every program on parm_engine load
// it with dlopen only when a rank runs backend cuda or cuda+mpi (engine/backend/cuda_module_loader.cpp), so a
// cpu run never maps cuBLAS, cuBLASLt and NCCL (about 150 MB of pages and a slower start for every process).
#include "engine/backend/cuda/cuda_backend.h"

extern "C" __attribute__((visibility("default"))) parm::backend::Backend* parm_make_cuda_backend(
    const parm::backend::BackendOptions* options) {
  return parm::backend::cuda::make_cuda_backend(*options).release();
}
