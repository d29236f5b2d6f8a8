# The calibration area (app/calibration): calibration runs written as `parm calibrate --db` writes them, and a
# real `parm calibrate --quick --db` on 2 ranks.
parm_add_qtest(test_app_calibration SOURCES app/test_app_calibration.cpp LIBS parm_app_calibration parm_app_shell)
target_compile_definitions(test_app_calibration PRIVATE PARM_EXE="$<TARGET_FILE:parm>")
add_dependencies(test_app_calibration parm)
set_tests_properties(test_app_calibration PROPERTIES RUN_SERIAL TRUE TIMEOUT 240)  # starts mpirun ranks of its own
