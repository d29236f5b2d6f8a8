# The calibration area (app/calibration): a calibration run written as `parm calibrate --db` writes it.
parm_add_qtest(test_app_calibration SOURCES app/test_app_calibration.cpp LIBS parm_app_calibration)
