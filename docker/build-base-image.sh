#!/usr/bin/env bash
# A small Python 3.11 base image for the MES Dockerfile, built from Debian packages, for machines
# that reach a Debian mirror but no container registry (`make image` uses it when PYTHON_IMAGE is
# missing; anywhere else the Dockerfile's default, python:3.11-slim, does the same job).
#
#   docker/build-base-image.sh          -> localhost/mes-python:3.11-slim   (IMAGE=... to rename)
#
# Needs root, podman and debootstrap. Idempotent: an existing image is kept unless FORCE=1.
# Small: a minbase Debian without documentation, locales or apt's caches, plus python3.11 and venv.
set -euo pipefail
IMAGE=${IMAGE:-localhost/mes-python:3.11-slim}
PODMAN_OPTS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network host)
if [ "${FORCE:-0}" != 1 ] && podman image exists "$IMAGE"; then echo "$IMAGE exists"; exit 0; fi
for tool in podman debootstrap; do
  command -v $tool >/dev/null || { echo "missing $tool: apt-get install -y podman debootstrap" >&2; exit 1; }
done
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
root=$(mktemp -d)
ctx=$(mktemp -d)
trap 'rm -rf "$root" "$ctx"' EXIT
debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
# (debootstrap's --include does not follow dependencies far enough for python3.11-venv: apt does)
cp /etc/resolv.conf "$root"/etc/resolv.conf
ls "$root"/etc/apt/apt.conf.d > "$root"/tmp/apt-conf-own
cp -r /etc/apt/apt.conf.d/. "$root"/etc/apt/apt.conf.d/ 2>/dev/null || true   # a proxy this machine needs
chroot "$root" apt-get update -q >/dev/null
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  python3.11 python3.11-venv ca-certificates >/dev/null
# what no container reads: apt's package cache and lists, documentation, manuals, translations
chroot "$root" apt-get clean
: > "$root"/etc/resolv.conf
for conf in "$root"/etc/apt/apt.conf.d/*; do   # none of this machine's apt settings stays in the image
  grep -qx "$(basename "$conf")" "$root"/tmp/apt-conf-own || rm -f "$conf"
done
rm -f "$root"/tmp/apt-conf-own
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
       "$root"/var/cache/debconf/*-old "$root"/var/log/*.log
find "$root"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
# keep it clean after later apt-get installs too (what Debian's own container images do)
cat > "$root"/etc/dpkg/dpkg.cfg.d/mes-slim <<'CFG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
echo 'APT::Keep-Downloaded-Packages "false";' > "$root"/etc/apt/apt.conf.d/mes-slim
ln -sf /usr/bin/python3.11 "$root"/usr/local/bin/python
tar -C "$root" -c . | podman import --change 'CMD ["python"]' - "$IMAGE" >/dev/null
echo "built $IMAGE ($(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1 / 1e6}'))"
