// Whether this MPI library takes device pointers (CUDA-aware): MPIX_Query_cuda_support() where the library
// has the extension. Debian's Open MPI is built without CUDA and says no, so `cuda+mpi` stages through host
// memory by default.
#pragma once

namespace parm::comm {

bool mpi_accepts_device_pointers();  // after MPI is initialised

}  // namespace parm::comm
