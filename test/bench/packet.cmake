# Packet library benchmarks (src/packet).
loom_add_bench(packet_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/packet_bench.cc DEPS loom_packet)
