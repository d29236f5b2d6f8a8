# The timeline area: a real 4-rank run and a stored prediction made with the `parm` CLI, then the widget.
parm_add_qtest(test_app_timeline SOURCES app/test_app_timeline.cpp LIBS parm_app_timeline parm_db Qt6::Svg)
target_compile_definitions(test_app_timeline PRIVATE PARM_EXE="$<TARGET_FILE:parm>")
add_dependencies(test_app_timeline parm)
set_tests_properties(test_app_timeline PROPERTIES RUN_SERIAL TRUE TIMEOUT 180)  # starts mpirun ranks of its own
# GPU rows from a project written through the writer (records built in the test) and a screenshot of them.
parm_add_qtest(test_app_timeline_gpu SOURCES app/test_app_timeline_gpu.cpp LIBS parm_app_timeline parm_db)
# How the timeline looks and exports (fit, counts, legend, overview, collapse/expand, dark palette, image).
parm_add_qtest(test_app_timeline_look SOURCES app/test_app_timeline_look.cpp LIBS parm_app_timeline parm_db Qt6::Svg)
# Selection and inspection (ranges per schedule, statistics, click-to-select, search, selectOps) against a
# 4-rank run of B_DS, B_DS2 and S1 of its own.
parm_add_qtest(test_app_timeline_selection SOURCES app/test_app_timeline_selection.cpp LIBS parm_app_timeline parm_db parm_core)
target_compile_definitions(test_app_timeline_selection PRIVATE PARM_EXE="$<TARGET_FILE:parm>")
add_dependencies(test_app_timeline_selection parm)
set_tests_properties(test_app_timeline_selection PROPERTIES RUN_SERIAL TRUE TIMEOUT 240)  # starts mpirun ranks
