#!/bin/sh
# Installs what building, testing and the demo need, on Debian 12, as root. Idempotent and
# quick when everything is already there.
set -eu
pkgs="meson ninja-build gcc clang pkg-config libmnl-dev libcmocka-dev libssl-dev
      libclang-rt-14-dev iproute2 iputils-ping keepalived frr tshark tcpdump python3
      python3-scapy nftables stress-ng procps psmisc nginx dnsmasq-base wrk bind9-dnsutils chromium
      liburing-dev libbpf-dev"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The packaged services must not run in the root namespace: tests start their own.
for s in keepalived frr; do
    systemctl disable --now "$s" >/dev/null 2>&1 || true
    pkill -x "$s" 2>/dev/null || true
done
# nginx's unit is only disabled (a pkill would hit other users' nginx). dnsmasq-base is the
# binary without the system service, so nothing takes port 53 or touches resolv.conf.
systemctl disable --now nginx >/dev/null 2>&1 || true
