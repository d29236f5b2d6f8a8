# The comparison / sweep / export area (app/compare): models and pages on a database made by a real 2-rank
# `parm validate` (quick calibration first), a `parm sweep` of a small grid, exports, a corrupt file.
parm_add_qtest(test_app_compare SOURCES app/test_app_compare.cpp LIBS parm_app_compare parm_engine parm_db Qt6::Widgets Qt6::Charts)
target_compile_definitions(test_app_compare PRIVATE PARM_EXE="$<TARGET_FILE:parm>")
add_dependencies(test_app_compare parm)
set_tests_properties(test_app_compare PROPERTIES RUN_SERIAL TRUE TIMEOUT 240)  # starts mpirun ranks of its own
# Compare two runs (app/compare/run_diff_*): a project built through the db API, no ranks started.
parm_add_qtest(test_app_run_diff SOURCES app/test_app_run_diff.cpp LIBS parm_app_compare parm_db Qt6::Widgets)
# A whole-model run's blocks and the Compare page's tree of them (issue 18).
parm_add_qtest(test_app_model_blocks SOURCES app/test_app_model_blocks.cpp LIBS parm_app_compare Qt6::Widgets)
