# Compiles BPF C programs with clang -target bpf as part of the normal build.
# mpx_add_bpf_object(<name> SOURCE <file.c> [DEPENDS <headers...>]) produces
# ${CMAKE_CURRENT_BINARY_DIR}/<name>.bpf.o and a custom target <name>_bpf. Header dependencies
# come from clang's depfile, so DEPENDS is only needed for generated inputs.
find_program(MPX_CLANG NAMES clang-14 clang REQUIRED)
# clang -target bpf does not search Debian's multiarch include directory (asm/types.h).
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                OUTPUT_VARIABLE MPX_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT MPX_MULTIARCH)
  set(MPX_MULTIARCH x86_64-linux-gnu)
endif()

function(mpx_add_bpf_object name)
  cmake_parse_arguments(ARG "" "SOURCE" "DEPENDS" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${MPX_CLANG} -g -O2 -target bpf -Wall -Wextra -Werror
            -I${PROJECT_SOURCE_DIR} -I/usr/include/${MPX_MULTIARCH}
            -MD -MF ${out}.d
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE} -o ${out}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE} ${ARG_DEPENDS}
    DEPFILE ${out}.d
    COMMENT "BPF ${name}.bpf.o"
    VERBATIM)
  add_custom_target(${name}_bpf ALL DEPENDS ${out})
  set_property(TARGET ${name}_bpf PROPERTY MPX_BPF_OBJECT ${out})
endfunction()
