# SPDX-License-Identifier: Apache-2.0
# Run by `cmake --install` (CMakeLists.txt includes it from install(CODE)):
# the systemd units with the programs' paths under the prefix given at
# install time (`cmake --install build --prefix /opt/esthub`), not only the
# one build/ was configured with. DESTDIR is honoured by file(INSTALL).
# Set by the caller: ESTHUB_UNIT_SOURCE (config/systemd), ESTHUB_UNIT_STAGE
# (a directory of the build), ESTHUB_UNIT_BINDIR (CMAKE_INSTALL_BINDIR),
# ESTHUB_UNITS (the service templates, as CMakeLists.txt configures them).
if(IS_ABSOLUTE "${ESTHUB_UNIT_BINDIR}")
  set(CMAKE_INSTALL_FULL_BINDIR "${ESTHUB_UNIT_BINDIR}")
else()
  set(CMAKE_INSTALL_FULL_BINDIR "${CMAKE_INSTALL_PREFIX}/${ESTHUB_UNIT_BINDIR}")
endif()
set(units "")
foreach(unit ${ESTHUB_UNITS})
  configure_file("${ESTHUB_UNIT_SOURCE}/${unit}.service.in"
                 "${ESTHUB_UNIT_STAGE}/${unit}.service" @ONLY)
  list(APPEND units "${ESTHUB_UNIT_STAGE}/${unit}.service")
endforeach()
list(APPEND units "${ESTHUB_UNIT_SOURCE}/esthub-backup@.timer")
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE FILES ${units})
