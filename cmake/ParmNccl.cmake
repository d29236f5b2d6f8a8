# NCCL for `backend: cuda`: next to the CUDA toolkit (/usr/local/cuda-13.0/lib here), or under
# -DPARM_NCCL_ROOT=<prefix> (e.g. a PyTorch install's site-packages/nvidia/nccl, which ships only
# libnccl.so.2). Sets PARM_NCCL_FOUND and, when found, the imported target parm_nccl. Without NCCL the
# build still has `cuda+mpi`; make_nccl_groups then refuses in one line.
set(PARM_NCCL_ROOT "" CACHE PATH "Prefix holding include/nccl.h and lib/libnccl.so (optional)")
set(_parm_nccl_hints ${PARM_NCCL_ROOT} ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_INCLUDE_DIRS}/..)
find_path(PARM_NCCL_INCLUDE_DIR nccl.h HINTS ${_parm_nccl_hints} PATH_SUFFIXES include)
find_library(PARM_NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${_parm_nccl_hints} ${CUDAToolkit_LIBRARY_DIR}
             PATH_SUFFIXES lib lib64)
if(PARM_NCCL_INCLUDE_DIR AND PARM_NCCL_LIBRARY)
  set(PARM_NCCL_FOUND TRUE)
  if(NOT TARGET parm_nccl)
    add_library(parm_nccl UNKNOWN IMPORTED GLOBAL)  # GLOBAL: tests/gpu asks whether NCCL is in
    set_target_properties(parm_nccl PROPERTIES IMPORTED_LOCATION "${PARM_NCCL_LIBRARY}"
                                               INTERFACE_INCLUDE_DIRECTORIES "${PARM_NCCL_INCLUDE_DIR}")
  endif()
  message(STATUS "NCCL: ${PARM_NCCL_LIBRARY}")
else()
  set(PARM_NCCL_FOUND FALSE)
  message(STATUS "NCCL not found (set PARM_NCCL_ROOT): backend cuda refuses, cuda+mpi stays")
endif()
