# Checks that every package of deps/packages.txt is installed at the pinned upstream version
# (the version column is a prefix: "3.40" accepts 3.40.1, not 3.400). Fails configure with
# the list of mismatches unless HOTLINE_ALLOW_VERSION_MISMATCH is ON.
# Usable as include() from CMakeLists.txt or as a script: cmake -DMANIFEST=... -P this-file.
if(NOT DEFINED MANIFEST)
  set(MANIFEST ${CMAKE_CURRENT_LIST_DIR}/../deps/packages.txt)
endif()
find_program(DPKG_QUERY dpkg-query)
if(NOT DPKG_QUERY)
  if(HOTLINE_ALLOW_VERSION_MISMATCH)
    message(WARNING "dpkg-query not found: dependency versions not checked (HOTLINE_ALLOW_VERSION_MISMATCH=ON)")
    return()
  endif()
  message(FATAL_ERROR "dpkg-query not found: cannot check the pinned dependency versions of ${MANIFEST}. "
                      "Configure with -DHOTLINE_ALLOW_VERSION_MISMATCH=ON to build with what this system has.")
endif()

file(STRINGS ${MANIFEST} lines)
set(problems "")
foreach(line IN LISTS lines)
  if(line MATCHES "^[ \t]*#" OR line MATCHES "^[ \t]*$")
    continue()
  endif()
  string(REGEX MATCH "^([^ \t]+)[ \t]+([^ \t]+)" _ "${line}")
  set(pkg ${CMAKE_MATCH_1})
  set(want ${CMAKE_MATCH_2})
  execute_process(COMMAND ${DPKG_QUERY} -W -f=\${Version} ${pkg}
                  OUTPUT_VARIABLE found RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0 OR found STREQUAL "")
    list(APPEND problems "${pkg}: not installed (want ${want}; run scripts/setup.sh)")
    continue()
  endif()
  if(want STREQUAL "*")  # any version: a test tool Debian moves with every upstream release
    continue()
  endif()
  # Upstream version: drop the epoch ("1:") and the Debian revision (after the last '-').
  string(REGEX REPLACE "^[0-9]+:" "" upstream "${found}")
  string(REGEX REPLACE "-[^-]*$" "" upstream "${upstream}")
  string(LENGTH "${want}" n)
  string(SUBSTRING "${upstream}" 0 ${n} head)
  string(SUBSTRING "${upstream}" ${n} 1 next)
  if(NOT head STREQUAL want OR (NOT next STREQUAL "" AND next MATCHES "[0-9]"))
    list(APPEND problems "${pkg}: found ${found}, pinned ${want}")
  endif()
endforeach()
if(problems)
  string(REPLACE ";" "\n  " listed "${problems}")
  if(HOTLINE_ALLOW_VERSION_MISMATCH)
    message(WARNING "dependency versions differ from ${MANIFEST} (allowed by HOTLINE_ALLOW_VERSION_MISMATCH):\n  ${listed}")
  else()
    message(FATAL_ERROR "dependency versions differ from the pinned ones in ${MANIFEST}:\n  ${listed}\n"
                        "Install the pinned versions, update the manifest on purpose, or configure with "
                        "-DHOTLINE_ALLOW_VERSION_MISMATCH=ON to build anyway.")
  endif()
endif()
