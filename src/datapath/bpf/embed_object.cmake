# cmake -DINPUT=<file> -DOUTPUT=<file.cc> -P embed_object.cmake
# Writes the bytes of INPUT (the compiled eBPF object) as loom::datapath::kLoomDpObject.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# 16 bytes per line keeps the generated file readable in a debugger.
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from loom_dp.bpf.o by embed_object.cmake. Do not edit.\n"
  "#include <cstddef>\n\n"
  "namespace loom::datapath {\n"
  "// 8-byte aligned: libelf reads ELF structures in place.\n"
  "alignas(8) extern const unsigned char kLoomDpObject[] = {\n${bytes}\n};\n"
  "extern const std::size_t kLoomDpObjectSize = ${size};\n"
  "}  // namespace loom::datapath\n")
# Only touch OUTPUT when it changed, so an unchanged object does not rebuild the library.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
