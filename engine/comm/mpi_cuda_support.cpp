#include "engine/comm/mpi_cuda_support.h"

#include <mpi.h>
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif

namespace parm::comm {

bool mpi_accepts_device_pointers() {
#if defined(MPIX_CUDA_AWARE_SUPPORT)
  return MPIX_Query_cuda_support() == 1;
#else
  return false;  // no CUDA extension in this MPI: never pass device pointers
#endif
}

}  // namespace parm::comm
