# Cross toolchain for 64-bit Raspberry Pi OS (Debian arm64), with Debian's
# gcc-aarch64-linux-gnu and the target's -dev packages installed through
# multiarch (dpkg --add-architecture arm64; apt-get install libfoo-dev:arm64).
# scripts/build-deb --arch arm64 installs both and uses this file.
#
# Multiarch keeps the arm64 libraries in /usr/lib/aarch64-linux-gnu of this
# machine, so there is no separate sysroot: pkg-config only has to be pointed
# at the arm64 .pc files.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

# The Debian architecture name, for the package (cmake/packaging.cmake).
set(BGW_DEB_ARCH arm64)

# Host tools run from the build machine; libraries and headers come from
# the target's multiarch directories only.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)

set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
