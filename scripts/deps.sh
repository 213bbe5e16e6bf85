#!/bin/sh
# Debian 12 packages that building, running and testing beacongw need.
# Sourced by scripts/check and scripts/demo; installs only what is missing,
# so a second run costs one dpkg-query.
BGW_BUILD_DEPS="build-essential cmake pkg-config clang libclang-rt-14-dev llvm \
 libbluetooth-dev libmosquitto-dev libsqlite3-dev libssl-dev libcjson-dev \
 libinih-dev libsystemd-dev libcmocka-dev"
BGW_RUN_DEPS="mosquitto mosquitto-clients sqlite3 openssl python3 python3-paho-mqtt \
 python3-jsonschema"
BGW_TEST_DEPS="bluez bluez-test-tools tshark valgrind gcc-arm-none-eabi \
 libnewlib-arm-none-eabi binutils-arm-none-eabi qemu-system-arm qemu-system-x86 \
 busybox-static kmod xz-utils cpio file man-db groff-base lintian dpkg-dev \
 systemd iproute2 procps psmisc gnuplot-nox time"

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
