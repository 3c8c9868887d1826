#!/usr/bin/env bash
# npm run package: builds dist-pkg/heartbeat-ts_VERSION_all.deb with dpkg-deb from the compiled
# tree (npm run build first). Layout, as a Heartbeat user expects it:
#   /usr/lib/heartbeat-ts          the JavaScript and its runtime dependencies
#   /usr/bin/hbd hbctl cl_status hb_standby hb_takeover, and /usr/share/heartbeat/hb_standby,
#                                  hb_takeover where Heartbeat's scripts and users call them
#   /usr/lib/systemd/system/heartbeat.service, /etc/init.d/heartbeat (no systemd)
#   /etc/ha.d/*.example, /etc/default/heartbeat-ts, /etc/logrotate.d/heartbeat-ts (conffiles)
#   /usr/share/man, /usr/share/doc/heartbeat-ts
# Usage: bash scripts/build-deb.sh [OUT_DIR]   (prints the .deb's path)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-dist-pkg}
version=$(node -p "require('./package.json').version")
# Who builds it: a site packaging it for its servers sets DEBFULLNAME and DEBEMAIL, as for dch.
maintainer="${DEBFULLNAME:-heartbeat-ts developers} <${DEBEMAIL:-heartbeat-ts@localhost}>"
[ -f dist/src/cli/hbd.js ] || { echo "build-deb: dist/ is missing; run npm run build first" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "build-deb: dpkg-deb not found (apt-get install dpkg)" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
lib=$stage/usr/lib/heartbeat-ts
install -d "$lib/dist" "$stage/usr/bin" "$stage/usr/share/heartbeat" "$stage/usr/share/doc/heartbeat-ts" \
  "$stage/etc/ha.d" "$stage/etc/default" "$stage/usr/lib/systemd/system" "$stage/DEBIAN"

# The program: compiled sources (not the tests) and the production dependencies, no others.
cp -r dist/src "$lib/dist/src"
node -e 'const p=require("./package.json"); delete p.devDependencies; delete p.scripts; console.log(JSON.stringify(p,null,2))' > "$lib/package.json"
npm ls --omit=dev --all --parseable | tail -n +2 | while read -r dir; do
  rel=${dir#"$root"/}
  install -d "$lib/$(dirname "$rel")"
  cp -r "$dir" "$lib/$rel"
done
# npm's and CI's dotfiles are not part of a module at run time.
find "$lib/node_modules" -name '.*' -type f -delete
# Nor are type declarations, or the ES-module builds of packages that Node loads as CommonJS
# (the AWS SDK's: its "node" export and "main" are dist-cjs): 44 of the SDK's 51 MB.
find "$lib/node_modules" -name '*.d.ts' -type f -delete
find "$lib/node_modules" -type d \( -name dist-types -o -name dist-es \) -prune \
  -exec sh -c 'test -d "$(dirname "$1")/dist-cjs"' _ {} \; -exec rm -rf {} +
# Nor are the commands a dependency ships for its developers (its package.json "bin", such as
# grpc's proto-loader-gen-types): hbd never runs them, and they would be scripts without +x.
find "$lib/node_modules" -name package.json -path '*/node_modules/*' -print0 | xargs -0 node -e '
  const { dirname, join } = require("node:path"); const fs = require("node:fs");
  for (const f of process.argv.slice(1)) {
    let bin; try { bin = JSON.parse(fs.readFileSync(f, "utf8")).bin; } catch { continue; }
    for (const rel of typeof bin === "string" ? [bin] : Object.values(bin ?? {})) fs.rmSync(join(dirname(f), rel), { force: true });
  }'

# Commands: small wrappers, so `ps` shows hbd's own title and Debian's node runs them.
for cmd in hbd hbctl cl_status hb_standby hb_takeover; do
  printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/heartbeat-ts/dist/src/cli/%s.js "$@"\n' "$cmd" > "$stage/usr/bin/$cmd"
  chmod 0755 "$stage/usr/bin/$cmd"
done
ln -s ../../bin/hb_standby "$stage/usr/share/heartbeat/hb_standby"
ln -s ../../bin/hb_takeover "$stage/usr/share/heartbeat/hb_takeover"

# Service files and configuration examples.
install -m 0644 packaging/systemd/heartbeat.service "$stage/usr/lib/systemd/system/heartbeat.service"
install -m 0644 packaging/default/heartbeat-ts "$stage/etc/default/heartbeat-ts"
for f in packaging/examples/*.example; do install -m 0644 "$f" "$stage/etc/ha.d/$(basename "$f")"; done
install -d "$stage/usr/share/doc/heartbeat-ts/examples"
install -m 0644 packaging/systemd/hardened.conf "$stage/usr/share/doc/heartbeat-ts/examples/hardened.conf"
if [ -f packaging/init.d/heartbeat ]; then
  install -d "$stage/etc/init.d"
  install -m 0755 packaging/init.d/heartbeat "$stage/etc/init.d/heartbeat"
fi
if [ -f packaging/logrotate/heartbeat-ts ]; then
  install -d "$stage/etc/logrotate.d"
  install -m 0644 packaging/logrotate/heartbeat-ts "$stage/etc/logrotate.d/heartbeat-ts"
fi

# Manual pages and documentation.
for page in packaging/man/*.[1-8]; do
  [ -f "$page" ] || continue
  section=${page##*.}
  install -d "$stage/usr/share/man/man$section"
  gzip -9n -c "$page" > "$stage/usr/share/man/man$section/$(basename "$page").gz"
done
install -m 0644 packaging/debian/copyright "$stage/usr/share/doc/heartbeat-ts/copyright"
gzip -9n -c README.md > "$stage/usr/share/doc/heartbeat-ts/README.md.gz"
printf 'heartbeat-ts (%s) unstable; urgency=medium\n\n  * Built from the heartbeat-ts repository, commit %s.\n\n -- %s  %s\n' \
  "$version" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$maintainer" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" \
  | gzip -9n > "$stage/usr/share/doc/heartbeat-ts/changelog.gz"

# Control files: every file under /etc is a conffile, never overwritten once edited.
for s in postinst prerm postrm; do install -m 0755 "packaging/debian/$s" "$stage/DEBIAN/$s"; done
(cd "$stage" && find etc -type f | sort | sed 's|^|/|') > "$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s/@MAINTAINER@/$maintainer/" packaging/debian/control.in > "$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's| \./| |') > "$stage/DEBIAN/md5sums"

find "$stage" -type d -exec chmod 0755 {} +
find "$stage/usr/lib/heartbeat-ts" -type f -exec chmod 0644 {} +
# Files with a #! line are programs (the wrappers run them with node, but they may be run directly).
grep -rlI --include='*.js' '^#!' "$lib/dist" | while read -r f; do [ "$(head -c2 "$f")" = '#!' ] && chmod 0755 "$f"; done
mkdir -p "$out"
deb=$out/heartbeat-ts_${version}_all.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
