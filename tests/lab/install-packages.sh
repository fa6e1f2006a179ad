#!/bin/sh
# System packages the tests need (and any named as arguments, e.g. for the benchmarks):
# installed when running as root and missing.
set -eu
packages="docker.io openssh-server openssh-client iproute2 iptables debootstrap busybox-static
docker-compose docker-registry apache2-utils redis-server postgresql chromium git restic ca-certificates
e2fsprogs util-linux curl openssl $*"
missing=""
for package in $packages; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing="$missing $package"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "The lab needs these packages:$missing (run make test as root, or install them)." >&2
    exit 1
fi
echo "Installing:$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
