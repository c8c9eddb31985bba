#!/bin/sh
# Installs the percept bundle this script sits in on a board without IoT Edge: the files to
# /opt/percept, a system user in the video and tss groups, /etc/percept/percept.env for the
# connection string, and the systemd unit. Run as root from the unpacked bundle:
#   sudo ./install.sh [--connection-string '<cs>'] [--no-start]
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
prefix=/opt/percept
envfile=/etc/percept/percept.env
cs=""
start=1
while [ $# -gt 0 ]; do
  case "$1" in
    --connection-string) cs="${2:?--connection-string needs a value}"; shift 2 ;;
    --no-start) start=0; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo $0)" >&2; exit 1; }

# The bundle's Node.js must run here: a bundle of the wrong architecture fails now, not at boot.
"$here/node/bin/node" -e 'process.exit(0)' 2>/dev/null || {
  echo "install.sh: this bundle's Node.js does not run on $(uname -m); use the bundle for this board's architecture" >&2
  exit 1
}

getent group video >/dev/null || groupadd --system video
getent group tss >/dev/null || groupadd --system tss
getent group percept >/dev/null || groupadd --system percept
getent passwd percept >/dev/null ||
  useradd --system --gid percept --no-create-home --home-dir /var/lib/percept --shell /usr/sbin/nologin percept
usermod -a -G video,tss percept

# A new version replaces the old one whole; the previous one stays for a rollback.
if [ "$here" != "$prefix" ]; then
  rm -rf "$prefix.new"
  mkdir -p "$prefix.new"
  cp -a "$here/." "$prefix.new/"
  if [ -d "$prefix" ]; then rm -rf "$prefix.previous"; mv "$prefix" "$prefix.previous"; fi
  mv "$prefix.new" "$prefix"
fi
ln -sf "$prefix/bin/percept" /usr/local/bin/percept

install -d -m 0750 -o root -g percept /etc/percept
if [ ! -f "$envfile" ]; then
  umask 077
  cat > "$envfile" <<EOT
# percept settings (see 'percept run --help'); read by percept.service.
PERCEPT_CONNECTION_STRING=$cs
# PERCEPT_SOURCE=/dev/video0
# PERCEPT_SIGNER=tpm
EOT
elif [ -n "$cs" ]; then
  sed -i "s|^PERCEPT_CONNECTION_STRING=.*|PERCEPT_CONNECTION_STRING=$cs|" "$envfile"
fi
# systemd (root) reads it for the service: no one else needs it, the percept user included.
chown root:root "$envfile"
chmod 0600 "$envfile"

install -m 0644 "$prefix/percept.service" /etc/systemd/system/percept.service
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if [ "$start" -eq 1 ]; then systemctl enable --now percept.service; else systemctl enable percept.service; fi
  echo "install.sh: percept $("$prefix/bin/percept" --version) installed; logs: journalctl -u percept -f"
else
  echo "install.sh: percept $("$prefix/bin/percept" --version) installed in $prefix (no systemd running: start it with $prefix/bin/percept run)"
fi
