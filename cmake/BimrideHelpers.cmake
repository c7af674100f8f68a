# Shared helpers for the component CMakeLists.

# Warnings as errors for our own code only (third-party headers come in as SYSTEM).
function(bimride_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter
                                           -Wno-missing-field-initializers)
  # Every report is fatal: a sanitizer finding fails the test or the fuzzer run it happens in,
  # never a line that scrolls by (UBSan recovers by default).
  if(BIMRIDE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
  # The fuzz build (clang, scripts/fuzz, scripts/fuzz-serving) instruments every library of
  # ours, not only the harness: the parsers a fuzzer drives get coverage feedback and ASan/UBSan.
  if(BIMRIDE_FUZZ)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined
                                             -fno-sanitize-recover=all -fno-omit-frame-pointer)
  endif()
endfunction()

# bimride_library(NAME bimride_data SOURCES a.cc b.cc DEPS bimride_common zstd)
function(bimride_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SOURCES})
  target_include_directories(${ARG_NAME} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
  bimride_warnings(${ARG_NAME})
endfunction()

# bimride_test(NAME parquet_reader_test SOURCES parquet_reader_test.cc DEPS bimride_data
#              LABELS unit [TIMEOUT 300])
# Labels: unit (fast, no outside data), data (reads ../shared/data), slow, e2e.
function(bimride_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_include_directories(${ARG_NAME} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${ARG_NAME} PRIVATE
    BIMRIDE_DATA_DIR="${BIMRIDE_DATA_DIR}"
    BIMRIDE_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    BIMRIDE_BINARY_DIR="${CMAKE_BINARY_DIR}")
  bimride_warnings(${ARG_NAME})
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  # BIMRIDE_REGISTRY_URL is cleared: a developer's shared registry must not receive test data.
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT
      "BIMRIDE_DATA_DIR=${BIMRIDE_DATA_DIR};BIMRIDE_CLI=${CMAKE_BINARY_DIR}/bimride;BIMRIDE_REGISTRY_URL=")
endfunction()

# bimride_fuzzer(NAME parquet_reader_fuzzer SOURCES reader_fuzzer.cc DEPS bimride_parquet)
# A libFuzzer target (only with -DBIMRIDE_FUZZ=ON, clang): the harness linked with libFuzzer and
# ASan/UBSan, every report fatal. The libraries it drives are instrumented by bimride_warnings.
function(bimride_fuzzer)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  if(NOT BIMRIDE_FUZZ)
    return()
  endif()
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "BIMRIDE_FUZZ needs clang: configure with CC=clang CXX=clang++")
  endif()
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  target_compile_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer,address,undefined
                                             -fno-sanitize-recover=all)
  target_link_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
  bimride_warnings(${ARG_NAME})
endfunction()
