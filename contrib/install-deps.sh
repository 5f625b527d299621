#!/bin/sh
# Installs everything threatmilter needs to build, test and benchmark on
# Debian 12 (run as root). Build: libmilter, GMime 3, libcurl, c-ares,
# cJSON, hiredis (the shared Redis cache). Tests: cmocka (unit tests),
# clang (libFuzzer), gumbo (only for the differential HTML fuzzer
# tests/fuzz/fuzz_html_diff.c), Postfix and swaks (end-to-end),
# redis-server (tests/redis start their own on a free loopback port),
# python3 (mock providers, test drivers), openssl (test CA),
# python3-prometheus-client (tests/metrics checks /metrics with its parser).
# Debian package (debian/, tests/pkg): debhelper, dpkg-dev, fakeroot,
# lintian, adduser; systemd for `systemd-analyze verify` on the unit (it
# works without a running systemd).
set -eu
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; a private test instance needs no
# system configuration, so answer "No configuration".
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get install -y --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	libmilter-dev libgmime-3.0-dev libcurl4-openssl-dev libc-ares-dev libcjson-dev libhiredis-dev libssl-dev \
	libcmocka-dev clang libclang-rt-14-dev libgumbo-dev \
	postfix swaks redis-server python3 python3-prometheus-client openssl ca-certificates procps iproute2 \
	debhelper dpkg-dev fakeroot lintian adduser systemd
