#!/usr/bin/env bash
# Installs the Debian packages heartbeat-ts uses, when missing. Safe to run again.
# Run as root on Debian 12 (bookworm). Nothing here is downloaded from outside Debian/npm.
#   scripts/install-deps.sh           what the tests and the demo use (Heartbeat 3.0.6 too: a
#                                     test compares the classic commands with its own)
#   scripts/install-deps.sh --bench   what the benchmarks use: the peers they compare with
#                                     (Heartbeat 3.0.6 with its resource agents, keepalived),
#                                     the load generator and the harness's tools; it prints
#                                     the versions it will compare against
set -euo pipefail
bench=0
case "${1:-}" in
  '') ;;
  --bench) bench=1 ;;
  *) echo "usage: scripts/install-deps.sh [--bench]" >&2; exit 2 ;;
esac
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "install-deps: heartbeat-ts needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "install-deps: Debian 12's own nodejs package is 18; install Node 20+ first (e.g. from your Node.js vendor's Debian packages)." >&2
  exit 1
fi
COMMON=(
  iproute2          # ip netns / ip addr: hosts in namespaces, veth, the IPaddr agents
  iputils-ping      # reachability checks between hosts (the testbed's after a link comes back)
  iputils-arping    # gratuitous ARP after a takeover (IPaddr/IPaddr2)
  procps            # ps/pgrep for looking at processes by PID
)
TESTS=(
  socat             # a real pty pair for the serial medium
  rsyslog           # a real syslog daemon to check logfacility output
  bsdutils          # logger(1): how hbd writes to syslog
  curl              # the demo's client loop, as in the seed tutorial
  chromium          # headless browser for the dashboard test (driven by playwright-core, no download)
  fonts-dejavu-core # a font for that browser's pages and screenshots
  nftables          # nft: the nemesis's partitions and link emulator rules (no sch_netem needed),
                    # the cloud router's DNAT of floating IPs (cloud tests, demo --cloud)
  stress-ng         # CPU saturation faults of the nemesis
  heartbeat         # the real Heartbeat 3.0.6 the classic commands are compared with
                    # (test/cli/classic-vs-heartbeat.test.ts); its /usr/bin/cl_status is
                    # Heartbeat's, ours is dist/src/cli/cl_status.js
  util-linux        # unshare, nsenter: that comparison runs Heartbeat in its own namespaces
  groff-base        # groff: the man pages in packaging/man must render without a warning
  logrotate         # packaging/logrotate/heartbeat-ts is parsed and run by the real logrotate
  mmdebstrap        # a Debian 13 image for the package test's containers (downloads from Debian)
  systemd-container # systemd-nspawn: those containers boot a real systemd as PID 1
  lintian           # the .deb is checked against Debian policy (test/package/lintian.test.ts)
  resource-agents   # the real OCF agents behind Heartbeat's resource.d names and ocf:...
                    # resources (test/config/resource-kinds, test/agents/ocf*), and send_ua,
                    # the unsolicited neighbour advertisements of IPv6 virtual IPs
  kmod              # modprobe: resource-agents' Filesystem checks for it before mounting
  e2fsprogs         # mkfs.ext4 for the loop-device file system Filesystem mounts in tests
  mount             # losetup: that loop device
  iptables          # what resource-agents' portblock runs
  cluster-glue      # stonith(8): the devices of stonith_host (test/daemon/fencer.test.ts)
  fence-agents      # the fence_* programs fence_agent runs (stdin key=value)
  etcd-server       # etcd 3.4: the arbiter's tests run a real 3-member cluster in a namespace
                    # (test/helpers/etcd.ts); policy-rc.d below keeps the package's own etcd
                    # service from starting, and the tests start and remove their own members
)
BENCH=(
  heartbeat         # the Heartbeat 3.0.6 daemon, ResourceManager, /etc/ha.d/resource.d
  resource-agents   # the OCF IPaddr agent that Heartbeat's IPaddr wrapper runs
  cluster-glue      # Heartbeat's libraries and helpers
  keepalived        # VRRP
  stress-ng         # CPU load for the stability benchmark
  tcpdump           # heartbeat gaps as the receiving host sees them
  net-tools         # ifconfig: what resource-agents' IPaddr uses
  util-linux        # unshare, nsenter
  etcd-server       # the failover benchmark's row with the etcd arbiter
  corosync          # Pacemaker's cluster layer (knet); the benchmarks run it per node in a namespace
  pacemaker         # Pacemaker 2.1: the third peer (bench/lib/pacemaker.ts), IPaddr2 as its VIP
  crmsh             # crm: writes the benchmark's CIB (offline, CIB_file)
)
if [ "$bench" = 1 ]; then PKGS=("${COMMON[@]}" "${BENCH[@]}"); else PKGS=("${COMMON[@]}" "${TESTS[@]}"); fi
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
  added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # heartbeat's (and, for the benchmarks, keepalived's) maintainer scripts would start their
    # services in the host's network namespace: forbid service starts during the install
    # (policy-rc.d, exit 101). Tests and benchmarks run them in namespaces of their own.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
    trap '[ "$added_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # etcd-server enables its own etcd.service (on localhost:2379) for the next boot: the tests
  # run their own members, so it stays off (and stopped, had anything started it).
  if printf '%s\n' "${missing[@]}" | grep -qx etcd-server; then
    systemctl disable --now etcd.service >/dev/null 2>&1 || systemctl disable etcd.service >/dev/null 2>&1 || true
  fi
  # corosync and pacemaker enable their units for the next boot: a host-level cluster stack
  # would join nothing and hold no address, but the benchmarks run their own nodes in
  # namespaces; keep both off (and stopped, had anything started them).
  for unit in pacemaker corosync; do
    if printf '%s\n' "${missing[@]}" | grep -qx "$unit"; then
      systemctl disable --now "$unit.service" >/dev/null 2>&1 || systemctl disable "$unit.service" >/dev/null 2>&1 || true
    fi
  done
fi
if [ "$bench" = 0 ]; then
  # moto in server mode is the EC2 of the AWS cloud IP tests and demo. Debian packages it from
  # trixie on (python3-moto; bookworm has none), so it runs from a Debian 13 root made by
  # mmdebstrap from Debian's mirror, entered with chroot; python3-flask-cors is what its server
  # mode imports and the package does not pull in. Made once; remade after 30 days.
  MOTO_ROOT=/var/cache/heartbeat-ts-test/moto-trixie
  if [ ! -x "$MOTO_ROOT/usr/bin/moto_server" ] || [ -n "$(find "$MOTO_ROOT/usr/bin/moto_server" -mtime +30 2>/dev/null)" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "install-deps: moto's root $MOTO_ROOT is missing -- run this script as root" >&2
      exit 1
    fi
    mkdir -p "$(dirname "$MOTO_ROOT")"
    rm -rf "$MOTO_ROOT.partial"
    mmdebstrap --quiet --variant=minbase --include=python3-moto,python3-flask-cors trixie "$MOTO_ROOT.partial"
    rm -rf "$MOTO_ROOT"
    mv "$MOTO_ROOT.partial" "$MOTO_ROOT"
    touch "$MOTO_ROOT/usr/bin/moto_server"
  fi
fi
if [ "$bench" = 1 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: the benchmarks create network namespaces: run them as root" >&2
    exit 1
  fi
  echo "bench: peers: $(/usr/libexec/heartbeat/heartbeat -V 2>&1 | head -1 | sed 's/^/Heartbeat /'), $(keepalived --version 2>&1 | head -1), $(pacemakerd --version 2>&1 | head -1), $(corosync -v 2>&1 | head -1), $(stress-ng --version 2>&1 | head -1)"
fi
