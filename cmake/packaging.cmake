# Debian package of the gateway (CPack DEB): beacongw_VERSION_ARCH.deb.
#
# Included at the end of the top-level CMakeLists.txt, after every install
# rule. scripts/build-deb configures a build tree for it (prefix /usr, the
# unit in /lib/systemd/system, Debian's hardening flags) and runs cpack; with
# -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake the same rules give
# the arm64 package for Raspberry Pi OS (64-bit).
#
# The package ships what `cmake --install` installs, plus the Debian
# documentation files (copyright, changelog.gz) installed here and the
# maintainer scripts in packaging/.

set(BGW_PACKAGING_DIR ${CMAKE_SOURCE_DIR}/packaging)
set(BGW_DOCDIR ${CMAKE_INSTALL_DATADIR}/doc/beacongw)

# ---- Debian documentation files (also installed by a plain cmake --install)

# Debian keeps the changelog compressed, byte-for-byte reproducible (-n).
# The package is native (its version has no Debian revision: it is built
# from this tree, not from a Debian source package), so the Debian-format
# changelog is named changelog.gz, not changelog.Debian.gz.
set(_changelog_gz ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
add_custom_command(OUTPUT ${_changelog_gz}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
  COMMAND gzip -9nc ${BGW_PACKAGING_DIR}/changelog > ${_changelog_gz}
  DEPENDS ${BGW_PACKAGING_DIR}/changelog
  COMMENT "Compressing the Debian changelog"
  VERBATIM)
add_custom_target(bgw_debian_changelog ALL DEPENDS ${_changelog_gz})
install(FILES ${BGW_PACKAGING_DIR}/copyright ${_changelog_gz} DESTINATION ${BGW_DOCDIR})
# Only the tags whose reason is written next to them in the file.
install(FILES ${BGW_PACKAGING_DIR}/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME beacongw)

# The changelog's newest entry must name this version, or dpkg and lintian
# disagree with the package about what it is.
file(STRINGS ${BGW_PACKAGING_DIR}/changelog _changelog_head LIMIT_COUNT 1)
if(NOT _changelog_head MATCHES "^beacongw \\(${PROJECT_VERSION}\\) ")
  message(WARNING "packaging/changelog starts with '${_changelog_head}', "
                  "not version ${PROJECT_VERSION}: add an entry for this release")
endif()

# ---- Architecture: the target's Debian name, never the build machine's when cross-building

if(NOT BGW_DEB_ARCH AND CMAKE_CROSSCOMPILING)
  # A toolchain file should set BGW_DEB_ARCH (cmake/aarch64-linux-gnu.cmake does).
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(BGW_DEB_ARCH arm64)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
    set(BGW_DEB_ARCH armhf)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|amd64)$")
    set(BGW_DEB_ARCH amd64)
  else()
    set(BGW_DEB_ARCH ${CMAKE_SYSTEM_PROCESSOR})
  endif()
  message(STATUS "packaging: cross-building, Debian architecture ${BGW_DEB_ARCH}")
elseif(NOT BGW_DEB_ARCH)
  find_program(BGW_DPKG dpkg)
  if(BGW_DPKG)
    execute_process(COMMAND ${BGW_DPKG} --print-architecture
                    OUTPUT_VARIABLE BGW_DEB_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE)
  else()
    set(BGW_DEB_ARCH unknown)
  endif()
endif()

if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "packaging: CMAKE_INSTALL_PREFIX is ${CMAKE_INSTALL_PREFIX}; "
                 "Debian packages are built by scripts/build-deb with prefix /usr")
endif()

# ---- CPack

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME beacongw)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The beacongw authors")
set(CPACK_PACKAGE_CONTACT "The beacongw authors <beacongw@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Bluetooth LE proximity-marketing gateway")
# Lines as they appear in the control file (CPack indents them); at most 80
# columns, a lone "." line would be a paragraph break.
set(CPACK_PACKAGE_DESCRIPTION [=[
beacongw scans Bluetooth LE advertisements (iBeacon, AltBeacon, Eddystone)
through BlueZ, recognises the devices of customers who opted in, records
their visits in SQLite and publishes campaign triggers over MQTT. Devices
whose owner has not opted in are never stored, logged or published: they
only count in anonymous footfall aggregates.

This package contains the daemon with a hardened systemd unit, beaconctl
to manage customers, identifiers, consents and campaigns, beaconsim, a
virtual HCI controller for testing an installation without radios, and
beaconhub, the head office's consent authority for a fleet of gateways.]=])
set(CPACK_PACKAGE_FILE_NAME beacongw_${PROJECT_VERSION}_${BGW_DEB_ARCH})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)

set(CPACK_DEBIAN_FILE_NAME ${CPACK_PACKAGE_FILE_NAME}.deb)
set(CPACK_DEBIAN_PACKAGE_NAME beacongw)
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${BGW_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps (for a cross build it needs
# the target's libraries installed through multiarch and DEB_HOST_ARCH set:
# scripts/build-deb does both). The user is created with systemd-sysusers,
# or adduser where systemd is not there.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bluez")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "sqlite3, mosquitto-clients")
# conffiles: every file an install rule put in /etc (global property
# BGW_CONFFILES, appended where the rule is, e.g. config/CMakeLists.txt).
get_property(_conffiles GLOBAL PROPERTY BGW_CONFFILES)
set(_conffiles_file ${CMAKE_BINARY_DIR}/packaging/conffiles)
list(JOIN _conffiles "\n" _conffiles_text)
if(_conffiles_text)
  string(APPEND _conffiles_text "\n")
endif()
file(CONFIGURE OUTPUT ${_conffiles_file} CONTENT "${_conffiles_text}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${_conffiles_file}
  ${BGW_PACKAGING_DIR}/postinst
  ${BGW_PACKAGING_DIR}/prerm
  ${BGW_PACKAGING_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_SOURCE_GENERATOR TXZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/")

include(CPack)
