# Hostile-input suites (issue "Reliability"): each tests/hostile/test_hostile_<class>.cpp is one QtTest suite
# that drives the real `parm` binary through one class of bad input. Globbed so each class is one file only.
file(GLOB _parm_hostile_suites CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test_hostile_*.cpp)
foreach(_src ${_parm_hostile_suites})
  get_filename_component(_name ${_src} NAME_WE)
  parm_add_qtest(${_name} SOURCES ${_src} LIBS Qt6::Core SQLite::SQLite3 parm_test_support)  # SQLite: suites build hostile project files
  target_include_directories(${_name} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_compile_definitions(${_name} PRIVATE PARM_EXE="$<TARGET_FILE:parm>")
  add_dependencies(${_name} parm)
endforeach()
# Suites that start mpirun ranks of their own must not share the cores with other such suites.
set_tests_properties(test_hostile_signals PROPERTIES RUN_SERIAL TRUE TIMEOUT 300)
set_tests_properties(test_hostile_backend PROPERTIES RUN_SERIAL TRUE TIMEOUT 200)
