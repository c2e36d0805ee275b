# Warning policy for mpx's own targets: everything useful on, warnings are errors.
# Third-party headers come in as SYSTEM includes, so they do not trip -Werror.
function(mpx_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Werror
    -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
    -Wnon-virtual-dtor -Woverloaded-virtual
    -Wimplicit-fallthrough -Wformat=2 -Wcast-qual -Wundef)
endfunction()
