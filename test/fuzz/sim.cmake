# Whole-simulation fuzz targets (src/sim), over the test-support topology builder.
loom_add_fuzz(sim_frame DEPS loom_test_support)
