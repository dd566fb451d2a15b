#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs every Debian 12 package that building esthub, its tests and the demo
# need. Does nothing when all are installed already. Needs root to install;
# run as another user it prints the command to run instead and exits 1.
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config          # compiler and build
	libzmq3-dev libczmq-dev                   # transport, CURVE, zauth, zcert
	libprotobuf-c-dev protobuf-c-compiler     # wire codec
	libsqlite3-dev sqlite3                    # the log and the adapter outbox
	libssl-dev                                # SHA-256 hash chain, Ed25519
	libsodium-dev                             # SipHash of the log's in-memory report index
	libjansson-dev libinih-dev                # JSON mapping and GeoJSON, hub.conf and adapter configs
	libproj-dev proj-data                     # SWEREF 99 TM -> WGS 84 in the adapters
	libcsv-dev                                # the municipality's CSV export
	libmicrohttpd-dev curl                    # the adapters' HTTP endpoint (curl: its tests)
	libcmocka-dev                             # unit tests
	clang libclang-rt-14-dev                  # fuzz targets (-fsanitize=fuzzer)
	python3 python3-zmq python3-protobuf protobuf-compiler  # integration tests
	python3-cryptography                      # tests check the hub's Ed25519 signatures independently
	valgrind                                  # bench/instructions.sh counts the hub's instructions a report
	strace                                    # test_power_cut sees the administrator's files synced
	tzdata                                    # Europe/Stockholm
	libhiredis-dev redis-server               # the peer in the benchmark (bench/)
	chromium                                  # headless test of est-feed's HTML pages
	systemd                                   # systemd-analyze verifies the units (test_units)
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages are installed"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: not root; as root, run:" >&2
	echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
