#!/bin/sh
# Debian 12 packages that building, running and testing beacongw need.
# Sourced by scripts/check and scripts/demo; installs only what is missing,
# so a second run costs one dpkg-query.
BGW_BUILD_DEPS="build-essential cmake pkg-config \
 libbluetooth-dev libmosquitto-dev libsqlite3-dev libssl-dev libcjson-dev \
 libinih-dev libsystemd-dev libcmocka-dev"
# Only the fuzzing stage of scripts/check builds with clang and libFuzzer.
BGW_FUZZ_DEPS="clang libclang-rt-14-dev llvm"
BGW_RUN_DEPS="mosquitto mosquitto-clients sqlite3 openssl python3 python3-paho-mqtt \
 python3-jsonschema"
# prometheus (promtool, and the dashboard picture's queries) and
# python3-matplotlib draw scripts/render-dashboard's picture in its test.
BGW_TEST_DEPS="bluez bluez-test-tools tshark valgrind gcc-arm-none-eabi \
 libnewlib-arm-none-eabi binutils-arm-none-eabi qemu-system-arm qemu-system-x86 \
 busybox-static kmod xz-utils cpio file man-db groff-base lintian dpkg-dev \
 systemd iproute2 procps psmisc gnuplot-nox time prometheus python3-matplotlib"

bgw_install() {
  missing=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
      missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages:$missing (run as root to install them)" >&2
    return 1
  fi
  echo "installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || return 1
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
}

# The release build in build/, shared by both README commands in either
# order. scripts/check states the firmware option instead of trusting the
# cache: the demo installs no cross compiler, so when it configures build/
# first, CMake's guess (OFF) is cached, and a later check would silently
# drop the firmware and QEMU tests. The demo builds only its three programs
# and leaves the option as it finds it.
#   bgw_configure_demo DIR [CMAKE-ARGS...]
#   bgw_configure_check DIR [CMAKE-ARGS...]
bgw_configure_demo() {
  dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
}
bgw_configure_check() {
  dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBGW_FIRMWARE=ON "$@" >/dev/null
}
