#!/usr/bin/env bash
# ARM64 proven under emulation: builds the arm64 bundle, runs it in an arm64 Debian 12 root
# file system under qemu-user, compares its detections with this machine's x64 run of the same
# command, and signs with the cross-compiled TPM addon against a swtpm on the host.
# Usage: npm run check:arm64   (root; the root file system is cached in .cache/arm64-rootfs)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SHARED="${PERCEPT_SHARED:-$ROOT/../shared}"
IMAGES="$SHARED/testdata/images"
MODEL="$SHARED/models/yolox_nano.onnx"
CACHE="$ROOT/.cache"
RFS="$CACHE/arm64-rootfs"
VERSION="$(node -p 'require("./package.json").version')"
BUNDLE="$ROOT/build/percept-$VERSION-linux-arm64.tar.gz"
WORK="$(mktemp -d /tmp/percept-arm64.XXXXXX)"
FRAMES=9
RUNTIME_PKGS=libtss2-esys-3.0.2-0,libtss2-tctildr0,libtss2-mu0,libtss2-rc0,libtss2-tcti-swtpm0
start=$(date +%s)
swtpm_pid=""

say() { echo "check:arm64: $*" >&2; }
fail() {
  say "$1"
  echo "arm64: checked for $(( $(date +%s) - start )) s"
  echo "arm64: FAILED: $1"
  exit 1
}
cleanup() {
  [ -n "$swtpm_pid" ] && kill -- "-$swtpm_pid" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap, chroot and mounts need it)"
for t in debootstrap chroot unshare swtpm qemu-aarch64-static aarch64-linux-gnu-g++; do
  command -v "$t" >/dev/null || fail "$t not found: run scripts/setup --arm64"
done
[ -f "$MODEL" ] || fail "missing $MODEL (the shared YOLOX-Nano model)"
[ "$(find "$IMAGES" -maxdepth 1 -type f | wc -l)" -ge "$FRAMES" ] || fail "need $FRAMES photos in $IMAGES"

# binfmt_misc lets the kernel hand arm64 ELF files to qemu; mount and enable it when needed.
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || fail "cannot mount binfmt_misc"
fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 || fail "cannot register qemu-aarch64 with binfmt_misc"
grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 || fail "binfmt qemu-aarch64 is disabled"

# The root file system (cached) builds while the bundle builds: one waits on the network and
# qemu, the other on compilers.
rootfs_pid=""
if [ ! -f "$RFS/.percept-rootfs" ]; then
  say "creating the arm64 Debian 12 root file system (cached in .cache/arm64-rootfs)"
  rm -rf "$RFS.tmp"
  mkdir -p "$CACHE"
  ( nice -n 10 debootstrap --variant=minbase --arch=arm64 --include="$RUNTIME_PKGS" bookworm "$RFS.tmp" \
      "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$WORK/debootstrap.log" 2>&1 \
    && rm -rf "$RFS" && mv "$RFS.tmp" "$RFS" && touch "$RFS/.percept-rootfs" ) &
  rootfs_pid=$!
fi

say "building the arm64 bundle"
nice -n 10 node scripts/package.mjs --arch arm64 >"$WORK/package.log" 2>&1 || { tail -30 "$WORK/package.log" >&2; fail "npm run package -- --arch arm64 failed"; }
say "$(grep 'package: wrote' "$WORK/package.log")"
if [ -n "$rootfs_pid" ]; then
  wait "$rootfs_pid" || { tail -30 "$WORK/debootstrap.log" >&2; fail "debootstrap of the arm64 root file system failed"; }
fi

# onnxruntime reads /proc/cpuinfo at load and crashes under qemu on the host's x86 one.
cat >"$CACHE/arm64-cpuinfo" <<'EOF'
processor	: 0
BogoMIPS	: 50.00
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x0
CPU part	: 0xd08
CPU revision	: 3

processor	: 1
BogoMIPS	: 50.00
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x0
CPU part	: 0xd08
CPU revision	: 3
EOF

# The bundle, the photos and the model go inside; the bundle's install.sh puts it in
# /opt/percept as on a board (systemd does not run here: installed, not started).
rm -rf "$RFS/opt/percept" "$RFS/opt/percept.previous" "$RFS/data" "$RFS/etc/percept"
mkdir -p "$RFS/data/images" "$RFS/data/bundle"
tar xzf "$BUNDLE" -C "$RFS/data/bundle"
find "$IMAGES" -maxdepth 1 -type f -exec cp {} "$RFS/data/images/" \;
cp "$MODEL" "$RFS/data/yolox_nano.onnx"
cp scripts/check-arm64-tpm.mjs "$RFS/data/tpm-sign.mjs"

# Runs a command inside the root file system in a private mount namespace (nothing leaks to
# the host): /proc with the ARM cpuinfo over it, /dev and /sys from the host.
in_rootfs() {
  unshare -m --propagation private -- sh -c '
    r="$1"; cpu="$2"; shift 2
    mount -t proc proc "$r/proc" && mount --bind "$cpu" "$r/proc/cpuinfo" &&
    mount --rbind /dev "$r/dev" && mount --rbind /sys "$r/sys" &&
    exec chroot "$r" env -i PATH=/usr/bin:/bin HOME=/tmp ORT_DISABLE_TELEMETRY=1 "$@"' \
    sh "$RFS" "$CACHE/arm64-cpuinfo" "$@"
}

say "installing the bundle with its install.sh"
in_rootfs /bin/sh -c "PATH=/usr/sbin:/usr/bin:/sbin:/bin /data/bundle/percept-$VERSION-linux-arm64/install.sh --no-start --connection-string 'HostName=h;DeviceId=d;SharedAccessKey=a2V5' >/dev/null && id percept" \
  >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "install.sh failed in the arm64 root file system"; }
grep -q '(video).*(tss)' "$WORK/install.log" || { cat "$WORK/install.log" >&2; fail "install.sh did not put the user percept in video and tss"; }
[ "$(stat -c '%a %U:%G' "$RFS/etc/percept/percept.env")" = "600 root:root" ] || fail "install.sh left /etc/percept/percept.env readable by others than root"

run_args=(run --source /data/images --model yolox-nano --model-path /data/yolox_nano.onnx --frames "$FRAMES" --output jsonl --no-preview --workers 2 --state-dir /tmp/percept-state)
say "running the bundle under qemu-aarch64 ($FRAMES frames)"
t_arm=$(date +%s)
in_rootfs /opt/percept/bin/percept "${run_args[@]}" >"$WORK/arm64.jsonl" 2>"$WORK/arm64.err" || {
  tail -20 "$WORK/arm64.err" >&2
  fail "the arm64 bundle's percept run failed under qemu"
}
arm_s=$(( $(date +%s) - t_arm ))
say "arm64 run took $arm_s s"
in_rootfs /opt/percept/bin/percept --version >"$WORK/arm64.version" || fail "percept --version failed under qemu"

say "running the same command on x64"
nice -n 10 node dist/src/cli.js run --source "$IMAGES" --model yolox-nano --model-path "$MODEL" --frames "$FRAMES" --output jsonl --no-preview \
  --workers 2 --state-dir "$WORK/x64-state" >"$WORK/x64.jsonl" 2>"$WORK/x64.err" || { tail -20 "$WORK/x64.err" >&2; fail "the x64 run failed"; }

match="$(node scripts/check-arm64-compare.mjs "$WORK/x64.jsonl" "$WORK/arm64.jsonl" "$FRAMES")" || fail "$match"

# The TPM: swtpm on host loopback (the chroot shares the host's network), signed from inside.
# tss2's swtpm TCTI dials the control channel on port+1: find two free neighbours.
port="$(node -e '
  const net = require("node:net");
  const free = (p) => new Promise((res) => { const s = net.createServer().once("error", () => res(0)).listen(p, "127.0.0.1", () => { const a = s.address().port; s.close(() => res(a)); }); });
  (async () => { for (;;) { const a = await free(0); if (a < 65535 && (await free(a + 1))) return console.log(a); } })();')"
ctrl=$((port + 1))
mkdir -p "$WORK/tpm"
setsid swtpm socket --tpm2 --tpmstate dir="$WORK/tpm" --server type=tcp,port="$port",bindaddr=127.0.0.1 \
  --ctrl type=tcp,port="$ctrl",bindaddr=127.0.0.1 --flags not-need-init,startup-clear >"$WORK/swtpm.log" 2>&1 &
swtpm_pid=$!
# Wait for it to listen (ss, not a probe connection: swtpm serves one client and a probe
# that connects and hangs up leaves it refusing the next).
for _ in $(seq 50); do [ -n "$(ss -Hltn "sport = :$port")" ] && break; sleep 0.1; done
tpm="$(in_rootfs /opt/percept/node/bin/node /data/tpm-sign.mjs "swtpm:host=127.0.0.1,port=$port" 2>"$WORK/tpm.err")" || {
  tail -n 20 "$WORK/tpm.err" "$WORK/swtpm.log" >&2
  fail "$match; tpm sign failed: ${tpm:-see above}"
}
say "$tpm"
# The duration is part of the output (the line before the verdict): the 20-minute budget is read from it.
echo "arm64: percept $(cat "$WORK/arm64.version") checked in $(( $(date +%s) - start )) s (the arm64 run of $FRAMES frames under qemu: $arm_s s)"
echo "arm64: $match; tpm sign ok"
