# -DMPX_SANITIZE=ON builds everything with ASan + UBSan; UBSan findings abort so tests fail on them.
if(MPX_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # GCC's -Wmaybe-uninitialized is unreliable under the sanitizers' instrumentation (false
  # positives in std::variant moves through Boost.Outcome); the normal build keeps the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()
