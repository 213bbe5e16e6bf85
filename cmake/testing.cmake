# Test helpers shared by every tests/<part>/CMakeLists.txt.
#
#   bgw_unit_test(NAME SOURCES a.c b.c LIBS lib... [LABELS extra...])
#     a cmocka test binary, registered with ctest under label "unit".
#   bgw_script_test(NAME COMMAND cmd args... [LABELS ...] [TIMEOUT s])
#     a test driven by a script (integration tests with a real mosquitto,
#     real SQLite files, beaconsim...). Default label "integration".
#
# Every test gets BGW_BUILD_DIR and BGW_SOURCE_DIR in its environment so
# scripts find build/beacongw, build/beaconctl and build/beaconsim.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
find_program(BGW_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT BGW_PYTHON)
  find_program(BGW_PYTHON python3 REQUIRED)
endif()

set(BGW_TEST_ENV "BGW_BUILD_DIR=${CMAKE_BINARY_DIR}" "BGW_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
                 "BGW_PYTHON=${BGW_PYTHON}")

function(bgw_unit_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "unit;${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "${BGW_TEST_ENV}")
endfunction()

function(bgw_script_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "COMMAND;LABELS;DEPENDS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS integration)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${T_COMMAND} WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
  # Exit code 77 means "skipped, with the reason printed", never "passed".
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "${BGW_TEST_ENV}" SKIP_RETURN_CODE 77)
endfunction()
