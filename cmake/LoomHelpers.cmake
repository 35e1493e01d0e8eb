# Shared build helpers: warning flags, sanitizers, and one-line target helpers.

set(LOOM_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND LOOM_WARNINGS -Wduplicated-cond -Wlogical-op)
  # g++ 12 at -O3 reports -Wrestrict inside libstdc++'s std::string concatenation, a known false
  # positive (GCC bug 105329); keep the rest of the warnings fatal.
  if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    list(APPEND LOOM_WARNINGS -Wno-restrict)
  endif()
endif()
option(LOOM_WERROR "Treat warnings as errors" ON)
if(LOOM_WERROR)
  list(APPEND LOOM_WARNINGS -Werror)
endif()

set(LOOM_SANITIZER_FLAGS)
if(LOOM_SANITIZE)
  set(LOOM_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
  add_compile_options(${LOOM_SANITIZER_FLAGS})
  add_link_options(${LOOM_SANITIZER_FLAGS})
endif()
if(LOOM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "LOOM_FUZZ needs clang (use the 'fuzz' preset)")
  endif()
  # Instrument everything for coverage; the fuzzer main is linked only into fuzz targets.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# loom_add_library(<name> SOURCES ... DEPS ...): a static library rooted at src/.
function(loom_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${LOOM_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# loom_add_test(<name> SOURCES ... DEPS ... LABELS ...): a GoogleTest binary registered with ctest.
function(loom_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${LOOM_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/test)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}"
                       WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} DISCOVERY_TIMEOUT 60)
endfunction()
