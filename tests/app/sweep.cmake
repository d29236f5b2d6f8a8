# The sweep page on validation runs written through the database (no `parm` needed): headers without rows,
# the per-schedule view of one configuration, a readable map of a few.
parm_add_qtest(test_app_sweep_page SOURCES app/test_app_sweep_page.cpp LIBS parm_app_compare parm_app_shell parm_db)
