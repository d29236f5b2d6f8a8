# The main window that assembles every area: a project made by a real 2-rank `parm validate`, bad files, a
# failing `parm`, a launch through the window, screenshots, layout restore.
parm_add_qtest(test_app_main_window SOURCES app/test_app_main_window.cpp LIBS parm_app_shell)
target_compile_definitions(test_app_main_window PRIVATE PARM_EXE="$<TARGET_FILE:parm>")
add_dependencies(test_app_main_window parm)
set_tests_properties(test_app_main_window PROPERTIES RUN_SERIAL TRUE TIMEOUT 300)  # starts mpirun ranks of its own
# The worst JSON opened in the GUI (deep nesting, 1e999, a 10 MB field): one line, a responsive window.
parm_add_qtest(test_app_hostile_json SOURCES app/test_app_hostile_json.cpp LIBS parm_app_shell)
# parm-studio links no MPI, BLAS, CUDA runtime, cluster, communicator or kernel code (readelf -d, nm), checked
# against `parm` as the control that has them all.
parm_add_qtest(test_app_links SOURCES app/test_app_links.cpp LIBS Qt6::Core)
target_compile_definitions(test_app_links PRIVATE PARM_STUDIO_EXE="$<TARGET_FILE:parm-studio>"
                                                  PARM_EXE="$<TARGET_FILE:parm>")
add_dependencies(test_app_links parm-studio parm)
# The worker the window runs the cost model on (app/models/latest_job.h): newest result only, off the GUI thread.
parm_add_qtest(test_app_latest_job SOURCES app/test_app_latest_job.cpp LIBS parm_app_models)
# The window's shell on projects written through db/ (no parm run): a 200k-event run loads behind a window that
# answers, the Runs dock in View, the message bar over the page, Configure following the run, the launch taking
# its ranks and validity from the form, one error per failed launch, Help and the shortcut sheet, the dark theme.
# File > Import Nsight Systems export runs the real `parm import-nsys` on the fuzz corpus's two-GPU export.
parm_add_qtest(test_app_window_shell SOURCES app/test_app_window_shell.cpp LIBS parm_app_shell)
target_compile_definitions(test_app_window_shell PRIVATE PARM_EXE="$<TARGET_FILE:parm>"
  PARM_NSYS_FIXTURE="${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/nsys_import/two_gpus.sqlite")
add_dependencies(test_app_window_shell parm)
