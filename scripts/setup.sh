#!/usr/bin/env bash
# Installs what cams-receipts needs on a fresh Debian/Ubuntu machine, then its npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: $1 is missing and apt-get is not available; install $1 yourself" >&2
    exit 1
  fi
  if [ -z "${APT_UPDATED:-}" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@"
}

command -v redis-server >/dev/null 2>&1 || apt_install redis-server
# redis-cli builds the test clusters (redis-cli --cluster create); the Sentinel tests run redis-server --sentinel.
command -v redis-cli >/dev/null 2>&1 || apt_install redis-tools
if ! redis-server --help 2>&1 | grep -q -- '--sentinel' && ! command -v redis-sentinel >/dev/null 2>&1; then
  apt_install redis-sentinel
fi
# promtool checks config/prometheus/alerts.yml; Debian ships it only in the prometheus package
# (about 30 s to install without its recommends).
command -v promtool >/dev/null 2>&1 || apt_install --no-install-recommends prometheus
# socat receives the systemd readiness datagram in the sd_notify test.
command -v socat >/dev/null 2>&1 || apt_install socat
# Headless Chromium drives the dashboard test.
[ -x /usr/bin/chromium ] || apt_install chromium

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
