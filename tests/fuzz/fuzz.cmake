# 20-second libFuzzer smoke runs of every input parser (scripts/fuzz.sh; label "fuzz"). They share one build
# folder, build-fuzz/, made by the fixture test first, and run one at a time so they do not fight for the
# cores. Skipped (exit 77, one line) where clang++ or its libFuzzer runtime is missing.
set(_parm_fuzz ${PROJECT_SOURCE_DIR}/scripts/fuzz.sh)
add_test(NAME fuzz_build COMMAND ${_parm_fuzz} build 0 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(fuzz_build PROPERTIES
  FIXTURES_SETUP parm_fuzz_build LABELS fuzz SKIP_RETURN_CODE 77 RUN_SERIAL TRUE TIMEOUT 1200)
set(_parm_fuzz_targets config calibration grid nsys_import)
foreach(target IN LISTS _parm_fuzz_targets)
  add_test(NAME fuzz_${target} COMMAND ${_parm_fuzz} ${target} 20 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(fuzz_${target} PROPERTIES
    FIXTURES_REQUIRED parm_fuzz_build LABELS fuzz SKIP_RETURN_CODE 77 RUN_SERIAL TRUE TIMEOUT 300)
endforeach()
