# Build-time script (cmake -P): writes INPUT (a BPF object file) into OUTPUT as a C++ byte array
# named SYMBOL in namespace mpx::datapath::embedded, so the library carries its BPF objects and
# the relay needs no object path at run time. Only rewritten when the bytes changed.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR byte_count "${hex_length} / 2")
# 16 bytes per line (CMake regexes have no {n}: 32 dots) keep the generated file readable.
string(REGEX REPLACE "(................................)" "\\1\n  " lines "${hex}")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${lines}")
set(text "// Generated from ${INPUT} by userspace/bpf/embed_object.cmake: do not edit.\n\
#include \"userspace/bpf/embedded_objects.hpp\"\n\n\
namespace mpx::datapath::embedded {\n\
namespace {\n\
alignas(8) constexpr unsigned char kBytes[${byte_count}] = {\n  ${bytes}\n};\n\
}  // namespace\n\
std::span<const unsigned char> ${SYMBOL}() { return kBytes; }\n\
}  // namespace mpx::datapath::embedded\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
  if(previous STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${text}")
