#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo use. Safe to run again.
# Run as root on Debian 12 (bookworm). Nothing here is downloaded from outside Debian/npm.
set -euo pipefail
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "install-deps: heartbeat-ts needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "install-deps: Debian 12's own nodejs package is 18; install Node 20+ first (e.g. from your Node.js vendor's Debian packages)." >&2
  exit 1
fi
PKGS=(
  iproute2          # ip netns / ip addr: test hosts and the IPaddr agents
  iputils-ping      # reachability checks between test hosts
  iputils-arping    # gratuitous ARP after a takeover (IPaddr/IPaddr2)
  socat             # a real pty pair for the serial medium
  rsyslog           # a real syslog daemon to check logfacility output
  bsdutils          # logger(1): how hbd writes to syslog
  curl              # the demo's client loop, as in the seed tutorial
  procps            # ps/pgrep for tests that look at processes by PID
  chromium          # headless browser for the dashboard test (driven by playwright-core, no download)
  fonts-dejavu-core # a font for that browser's pages and screenshots
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages: ${missing[*]} -- run this script as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
