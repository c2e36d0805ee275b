# Warning policy for mpx's own targets: everything useful on, warnings are errors.
# Third-party headers come in as SYSTEM includes, so they do not trip -Werror.
function(mpx_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Werror
    -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
    -Wnon-virtual-dtor -Woverloaded-virtual
    -Wimplicit-fallthrough -Wformat=2 -Wcast-qual -Wundef
    # GCC 12 reports Boost 1.74's coroutine frames (awaitable_frame_base's own operator
    # new/delete pair) as mismatched, at the end of the translation unit where no pragma can
    # scope it: a false positive on every file that uses asio::awaitable.
    $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
endfunction()
