#!/usr/bin/env bash
# Installs what the benchmarks need, from Debian, when missing: the peers they compare with
# (Heartbeat 3.0.6 with its resource agents, keepalived), the load generator (stress-ng),
# and the tools the harness uses (tcpdump, iproute2, arping, ifconfig for Heartbeat's IPaddr).
# Safe to run again. Needs root. Prints the versions it will compare against.
set -euo pipefail
PKGS=(
  heartbeat          # the Heartbeat 3.0.6 daemon, ResourceManager, /etc/ha.d/resource.d
  resource-agents    # the OCF IPaddr agent that Heartbeat's IPaddr wrapper runs
  cluster-glue       # Heartbeat's libraries and helpers
  keepalived         # VRRP
  stress-ng          # CPU load for the stability benchmark
  tcpdump            # heartbeat gaps as the receiving host sees them
  iproute2           # namespaces, veth, addresses
  iputils-arping     # heartbeat-ts's gratuitous ARP
  iputils-ping       # the testbed checks a host is reachable again after its link comes back
  net-tools          # ifconfig: what resource-agents' IPaddr uses
  procps util-linux  # ps, unshare, nsenter
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench/install-deps: missing Debian packages: ${missing[*]} -- run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # The packages' maintainer scripts would start heartbeat/keepalived services in the host's
  # network namespace: forbid service starts during the install (policy-rc.d, exit 101).
  added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  trap '[ "$added_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/install-deps: the benchmarks create network namespaces: run them as root" >&2
  exit 1
fi
echo "bench: peers: $(/usr/libexec/heartbeat/heartbeat -V 2>&1 | head -1 | sed 's/^/Heartbeat /'), $(keepalived --version 2>&1 | head -1), $(stress-ng --version 2>&1 | head -1)"
