# CUPTI for GPU activity capture (profiler/cupti): cupti.h and libcupti.so from the CUDA install, in either
# layout (extras/CUPTI or targets/<arch>/ next to cudart). Sets PARM_CUPTI_FOUND and, when found, the imported
# target parm_cupti_lib. Never libcuda. Without CUPTI the collector reports "CUPTI unavailable" in one line.
set(_parm_cupti_roots ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_TARGET_DIR} ${CUDAToolkit_INCLUDE_DIRS}/..)
find_path(PARM_CUPTI_INCLUDE_DIR cupti.h HINTS ${CUDAToolkit_INCLUDE_DIRS} ${_parm_cupti_roots}
          PATH_SUFFIXES extras/CUPTI/include targets/x86_64-linux/include targets/sbsa-linux/include include)
find_library(PARM_CUPTI_LIBRARY NAMES cupti HINTS ${CUDAToolkit_LIBRARY_DIR} ${_parm_cupti_roots}
             PATH_SUFFIXES extras/CUPTI/lib64 targets/x86_64-linux/lib targets/sbsa-linux/lib lib64 lib)
if(PARM_CUPTI_INCLUDE_DIR AND PARM_CUPTI_LIBRARY)
  set(PARM_CUPTI_FOUND TRUE)
  if(NOT TARGET parm_cupti_lib)
    add_library(parm_cupti_lib SHARED IMPORTED GLOBAL)  # GLOBAL: tests/ ask whether CUPTI is in
    set_target_properties(parm_cupti_lib PROPERTIES IMPORTED_LOCATION "${PARM_CUPTI_LIBRARY}"
                                                    INTERFACE_INCLUDE_DIRECTORIES "${PARM_CUPTI_INCLUDE_DIR}")
  endif()
  message(STATUS "CUPTI: ${PARM_CUPTI_LIBRARY}")
else()
  set(PARM_CUPTI_FOUND FALSE)
  message(STATUS "CUPTI not found: GPU activity capture reports itself unavailable")
endif()
