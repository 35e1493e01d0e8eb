# loom-nsdb-bench: control-plane figures on a real etcd (not a Google Benchmark binary; run by
# scripts/bench-nsdb.sh, and smoke-run with --quick under ctest, label bench-smoke).
add_executable(loom-nsdb-bench
  ${CMAKE_CURRENT_SOURCE_DIR}/nsdb/nsdb_bench.cc ${CMAKE_CURRENT_SOURCE_DIR}/nsdb/bench_util.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/nsdb/creates.cc ${CMAKE_CURRENT_SOURCE_DIR}/nsdb/propagation.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/nsdb/load.cc)
target_compile_options(loom-nsdb-bench PRIVATE ${LOOM_WARNINGS})
target_include_directories(loom-nsdb-bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
                           ${PROJECT_SOURCE_DIR}/test)
target_link_libraries(loom-nsdb-bench PRIVATE loom_api loom_replica loom_etcd_fixture)
add_dependencies(loom-nsdb-bench loom-replica-host)
add_dependencies(loom_benches loom-nsdb-bench)
add_test(NAME bench_smoke.nsdb COMMAND loom-nsdb-bench --quick
         --replica-host $<TARGET_FILE:loom-replica-host>)
set_tests_properties(bench_smoke.nsdb PROPERTIES LABELS bench-smoke TIMEOUT 300)
