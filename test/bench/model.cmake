# Benchmarks for src/model.
loom_add_bench(model_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/model_bench.cc DEPS loom_model)
