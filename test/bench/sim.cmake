# Simulation benchmarks (src/sim).
loom_add_bench(sim_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/sim_bench.cc DEPS loom_test_support)
