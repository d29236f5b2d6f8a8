# PROJECT, CONFIGURATION and LAUNCH areas of the GUI (issue 7 items 1-3).
parm_add_qtest(test_app_project SOURCES app/test_app_project.cpp LIBS parm_app_launch)
parm_add_qtest(test_app_parm_command SOURCES app/test_app_parm_command.cpp LIBS parm_app_launch)
parm_add_qtest(test_app_config_page SOURCES app/test_app_config_page.cpp LIBS parm_app_shell)
# Launches real `parm run` processes on 2 ranks (mpirun), so it runs alone.
parm_add_qtest(test_app_launch SOURCES app/test_app_launch.cpp LIBS parm_app_launch)
target_compile_definitions(test_app_launch PRIVATE PARM_EXE="$<TARGET_FILE:parm>")
add_dependencies(test_app_launch parm)
set_tests_properties(test_app_launch PROPERTIES RUN_SERIAL TRUE TIMEOUT 240)
# The main window's project while `parm run --db` commits (2 ranks), and in a read-only place (issue 12).
parm_add_qtest(test_app_live_project SOURCES app/test_app_live_project.cpp LIBS parm_app_shell)
target_compile_definitions(test_app_live_project PRIVATE PARM_EXE="$<TARGET_FILE:parm>")
add_dependencies(test_app_live_project parm)
set_tests_properties(test_app_live_project PROPERTIES RUN_SERIAL TRUE TIMEOUT 240)
