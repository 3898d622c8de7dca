# lib.sh: set-up shared by scripts/run, scripts/test and scripts/bench (sourced, not run).
# Installs what is missing, builds, starts libvirtd without systemd, detects KVM.

SOV_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SOV_PACKAGES=(
    build-essential pkg-config meson ninja-build python3
    libmicrohttpd-dev libjansson-dev libpq-dev libvirt-dev libxml2-dev libcurl4-openssl-dev libssl-dev check
    postgresql-15 postgresql-client-15
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system libvirt-clients
    qemu-system-x86 qemu-utils dnsmasq-base iptables iproute2 busybox-static cpio
    openssl curl ca-certificates dosfstools mtools syslinux syslinux-common
    clang libclang-rt-14-dev
    wrk
    openvswitch-switch ovn-central ovn-host ethtool
)

# What a hypervisor host needs and nothing more (scripts/host-setup): libvirt, QEMU, OVS, OVN.
SOV_HOST_PACKAGES=(
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system libvirt-clients
    qemu-system-x86 qemu-utils dnsmasq-base iptables iproute2
    openvswitch-switch ovn-host ethtool
)

sov_say() { printf '==> %s\n' "$*" >&2; }
sov_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# sov_install [PACKAGE...]: install those that are missing (SOV_PACKAGES by default); a set-up
# machine pays one dpkg-query (~50 ms).
sov_install() {
    local missing=() p
    [ $# -gt 0 ] || set -- "${SOV_PACKAGES[@]}"
    for p in "$@"; do
        [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || sov_die "missing packages (${missing[*]}); run as root to install them"
    sov_say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # No 'main' cluster from postgresql-common: sovereign runs its own, in its state folder.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/sovereign.conf
    apt-get update -q >&2
    # Packages start their services on install where an init system lets them (Debian's
    # openvswitch-switch would take /var/run/openvswitch/db.sock and load a kernel module):
    # sovereign starts its own daemons with their files in its state folder, so a policy-rc.d
    # forbids every start during the install, unless the machine already has one.
    local policy=/usr/sbin/policy-rc.d own_policy=0 rc=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# scripts/lib.sh (sovereign): no starts while it installs\nexit 101\n' \
            >"$policy" && chmod 0755 "$policy" && own_policy=1
    fi
    # The conffile options keep dpkg from stopping at qemu.conf's prompt.
    apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >&2 || rc=$?
    [ "$own_policy" = 1 ] && rm -f "$policy"
    [ "$rc" = 0 ] || sov_die "apt-get install failed (exit $rc)"
}

# sov_build DIR [meson setup options...]: configure once, then build incrementally.
sov_build() {
    local dir=$1; shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$SOV_TOP" "$@" >&2 || sov_die "meson setup failed"
    fi
    ninja -C "$dir" >&2 || sov_die "build failed"
}

# sov_npm_ci DIR: `npm ci` in DIR. npm trusts its own CA list unless told otherwise: give it
# the machine's bundle (where an egress proxy's CA was added to it, as on these machines). A
# machine whose bundle lacks the CA of a TLS-intercepting proxy in front of the registry (a
# fresh root made by debootstrap, say) fails with a certificate error: then npm ci runs again
# without TLS verification, which leaves package-lock.json's sha512 of every package as the
# proof of what is installed (npm ci refuses any tarball whose hash differs). Any other
# failure stops.
sov_npm_ci() {
    local dir=$1 log rc=0
    local bundle=/etc/ssl/certs/ca-certificates.crt
    [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -s "$bundle" ] && export NODE_EXTRA_CA_CERTS=$bundle
    log=$(mktemp)
    (cd "$dir" && npm ci --no-audit --no-fund) >"$log" 2>&1 || rc=$?
    cat "$log" >&2
    if [ "$rc" != 0 ] && grep -qE 'SELF_SIGNED_CERT|UNABLE_TO_(GET_ISSUER|VERIFY_LEAF)|CERT_' "$log"; then
        sov_say "npm: the registry's TLS certificate is not trusted here (a proxy's CA missing" \
            "from $bundle?); installing again with the lockfile's sha512 hashes as the check"
        rc=0
        (cd "$dir" && npm ci --no-audit --no-fund --strict-ssl=false) >&2 || rc=$?
    fi
    rm -f "$log"
    [ "$rc" = 0 ] || sov_die "npm ci failed in $dir"
}

# sov_web_build: build the web console into web/dist (what sovd's console_dir serves).
# Node.js and npm come from Debian when the machine has none (Debian 12: Node.js 18, npm 9;
# Node.js 20 works too); `npm ci` runs only when package-lock.json changed since the last
# install (a stamp in node_modules), then `npm run build` (types, tsc, vite, gzip variants).
sov_web_build() {
    local web=$SOV_TOP/web sum
    local stamp=$web/node_modules/.sov-package-lock.sha256
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        sov_install nodejs npm
    fi
    sum=$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)
    if [ ! -s "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
        sov_say "installing the console's npm packages (npm ci in web/)"
        sov_npm_ci "$web"
        echo "$sum" >"$stamp"
    fi
    (cd "$web" && npm run --silent build) >&2 || sov_die "the console's build failed (web/)"
}

# sov_running PID: the process runs (a zombie does not: daemons that detach are reaped by
# PID 1, which in a container may take a while).
sov_running() {
    local stat
    kill -0 "$1" 2>/dev/null || return 1
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}
# sov_alive PIDFILE: the process it names runs.
sov_alive() { [ -s "$1" ] && sov_running "$(cat "$1")"; }

# sov_libvirt_start [LIBVIRTD_OPTION...]: start virtlogd and libvirtd unless they run (with
# these options: --listen for a host the control plane reaches over TCP), and wait (bounded)
# until libvirtd answers.
sov_libvirt_start() {
    if [ -c /dev/kvm ] && getent group kvm >/dev/null; then
        chown root:kvm /dev/kvm && chmod 0660 /dev/kvm      # what udev would have done
    fi
    # QEMU (as libvirt-qemu) opens /dev/ptmx for each guest's serial console. A /dev made
    # without udev may link it to a devpts mounted with ptmxmode=000, which only root can
    # open ("Failed to create PTY: Permission denied"): give it the mode udev gives it.
    if [ -e /dev/ptmx ] && id libvirt-qemu >/dev/null 2>&1 &&
        ! runuser -u libvirt-qemu -- test -r /dev/ptmx -a -w /dev/ptmx 2>/dev/null; then
        sov_say "making /dev/ptmx usable by libvirt-qemu (chmod 0666 $(readlink -f /dev/ptmx))"
        chmod 0666 "$(readlink -f /dev/ptmx)"
    fi
    # libvirt gives each QEMU a private /dev copied from the real one. Where /dev is not the
    # kernel's devtmpfs (a container or chroot whose /dev was made by hand) that copy fails
    # ("Failed to create PTY"), and from a chroot it even writes into the host's /dev (libvirt
    # enters the namespace with setns, which leaves the chroot). There QEMU runs without it.
    if [ -f /etc/libvirt/qemu.conf ] &&
        [ "$(awk '$2 == "/dev" { t = $3 } END { print t }' /proc/self/mounts)" != devtmpfs ] &&
        ! grep -qE '^[[:space:]]*namespaces[[:space:]]*=' /etc/libvirt/qemu.conf; then
        sov_say "/dev is not devtmpfs: QEMU runs without a private mount namespace (qemu.conf)"
        printf '\n# scripts/lib.sh (sovereign): /dev is not devtmpfs here\nnamespaces = []\n' \
            >>/etc/libvirt/qemu.conf
    fi
    # sovd knows a host by libvirt's host UUID (one machine is one host). Without SMBIOS tables
    # (many VMs, these machines) libvirt makes up a new one at every start, and a restarted
    # libvirtd would look like another machine: take /etc/machine-id instead. Applies from
    # libvirtd's next start.
    if [ -f /etc/libvirt/libvirtd.conf ] && [ ! -r /sys/class/dmi/id/product_uuid ] &&
        [ -s /etc/machine-id ] &&
        ! grep -qE '^[[:space:]]*host_uuid(_source)?[[:space:]]*=' /etc/libvirt/libvirtd.conf
    then
        sov_say "no SMBIOS UUID: libvirtd takes its host UUID from /etc/machine-id (libvirtd.conf)"
        printf '\n# scripts/lib.sh (sovereign): no SMBIOS here\n%s\n' \
            'host_uuid_source = "machine-id"' >>/etc/libvirt/libvirtd.conf
    fi
    sov_alive /run/virtlogd.pid || /usr/sbin/virtlogd -d
    sov_alive /run/libvirtd.pid || /usr/sbin/libvirtd -d "$@"
    local i
    for i in $(seq 1 300); do
        virsh -c qemu:///system version >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    sov_die "libvirtd did not answer within 30 s (see /var/log/libvirt/libvirtd.log)"
}

# Print "kvm" when guests can really use hardware virtualisation, else "qemu" (TCG), and
# why on stderr. /dev/kvm alone proves nothing: see ../shared/PLATFORM.md.
sov_virt_type() {
    local why=
    if [ ! -c /dev/kvm ]; then why="no /dev/kvm"
    elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then why="CPU has no vmx/svm flag"
    elif [ -e /sys/module/kvm_pvm ]; then why="/dev/kvm is the paravirtual kvm_pvm module"
    elif ! runuser -u libvirt-qemu -- test -r /dev/kvm -a -w /dev/kvm 2>/dev/null; then
        why="libvirt-qemu cannot open /dev/kvm"
    elif ! virsh -c qemu:///system domcapabilities --virttype kvm >/dev/null 2>&1; then
        why="libvirt reports no KVM domain capabilities"
    fi
    if [ -n "$why" ]; then
        echo "guests run under TCG emulation: $why" >&2
        echo qemu
    else
        echo "guests run under KVM" >&2
        echo kvm
    fi
}

# ---- OVN (tenant networks): see ../shared/PLATFORM.md, "OVN on these machines" ----
# Every daemon runs by hand, without systemd, with its pidfile, log, unixctl socket and
# runtime sockets (OVS_RUNDIR, OVN_RUNDIR) in the folder it is given, never in
# /var/run/openvswitch or /var/run/ovn: two runs with different folders never share a file.
# A daemon whose pidfile names a live process is left alone, so every start is idempotent.

# What every OVS and OVN daemon here is started with: in the background, in no particular
# folder (every path given is absolute), logging to its file only.
SOV_OVN_DAEMON=(--detach --no-chdir -vconsole:off)

# sov_ovn_dir DIR: DIR made if missing, as an absolute path (the daemons run from /), or
# the end of the script.
sov_ovn_dir() {
    [ -n "$1" ] || sov_die "OVN needs a folder, got an empty name"
    mkdir -p "$1" || sov_die "could not make $1"
    (cd "$1" && pwd) || sov_die "cannot enter $1"
}

# sov_ovn_wait_db SOCKET SECONDS: wait (bounded) until an ovsdb-server answers on SOCKET.
sov_ovn_wait_db() {
    local i
    for i in $(seq 1 $(( $2 * 10 ))); do
        ovsdb-client --timeout=1 list-dbs "unix:$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# sov_ovn_ovsdb_start DIR NAME DB SCHEMA [REMOTE...]: an ovsdb-server for DIR/DB (created from
# SCHEMA when missing) on DIR/NAME.sock, files DIR/NAME.{pid,log,ctl}.
sov_ovn_ovsdb_start() {
    local d=$1 name=$2 db=$3 schema=$4 r remotes=()
    shift 4
    for r in "$@"; do remotes+=("--remote=$r"); done
    [ -s "$d/$db" ] || ovsdb-tool create "$d/$db" "$schema" ||
        sov_die "could not create $d/$db"
    if ! sov_alive "$d/$name.pid"; then
        OVS_RUNDIR=$d ovsdb-server "$d/$db" --remote="punix:$d/$name.sock" "${remotes[@]}" \
            "${SOV_OVN_DAEMON[@]}" --pidfile="$d/$name.pid" --log-file="$d/$name.log" \
            --unixctl="$d/$name.ctl" ||
            sov_die "ovsdb-server for $d/$db did not start (see $d/$name.log)"
    fi
    sov_ovn_wait_db "$d/$name.sock" 10 || sov_die "ovsdb-server on $d/$name.sock does not answer"
}

# sov_ovn_central_start DIR [ADDR [PORT]]: OVN's central part in DIR: the Northbound and
# Southbound ovsdb-servers (ovnnb.db on DIR/nb.sock, ovnsb.db on DIR/sb.sock; the SB also
# on ptcp:PORT:ADDR, PORT 6642 by default, when ADDR is given, for chassis on other
# machines) and ovn-northd between them.
sov_ovn_central_start() {
    local d addr=${2:-} port=${3:-6642} sb_tcp=()
    d=$(sov_ovn_dir "$1") || exit 1
    [ -n "$addr" ] && sb_tcp=("ptcp:$port:$addr")
    sov_ovn_ovsdb_start "$d" nb ovnnb.db /usr/share/ovn/ovn-nb.ovsschema
    sov_ovn_ovsdb_start "$d" sb ovnsb.db /usr/share/ovn/ovn-sb.ovsschema "${sb_tcp[@]}"
    # An SB already running keeps running, and takes the TCP remote asked for now (and
    # drops one no longer asked for): a restart with or without ADDR needs no stop first.
    local r
    for r in $(ovs-appctl -t "$d/sb.ctl" ovsdb-server/list-remotes); do
        case $r in
        ptcp:*) [ "$r" = "${sb_tcp[0]:-}" ] ||
            ovs-appctl -t "$d/sb.ctl" ovsdb-server/remove-remote "$r" >/dev/null ;;
        esac
    done
    if [ -n "$addr" ] &&
        ! ovs-appctl -t "$d/sb.ctl" ovsdb-server/list-remotes | grep -qxF "${sb_tcp[0]}"; then
        ovs-appctl -t "$d/sb.ctl" ovsdb-server/add-remote "${sb_tcp[0]}" >/dev/null ||
            sov_die "the Southbound could not listen on ${sb_tcp[0]} (see $d/sb.log)"
    fi
    if ! sov_alive "$d/northd.pid"; then
        OVS_RUNDIR=$d OVN_RUNDIR=$d ovn-northd --ovnnb-db="unix:$d/nb.sock" \
            --ovnsb-db="unix:$d/sb.sock" "${SOV_OVN_DAEMON[@]}" --pidfile="$d/northd.pid" \
            --log-file="$d/northd.log" --unixctl="$d/northd.ctl" ||
            sov_die "ovn-northd did not start (see $d/northd.log)"
    fi
}

# Print the datapath type OVN's bridges take here: "system" where the kernel's Open vSwitch
# datapath exists (its Generic Netlink family ovs_datapath, or the module), else "netdev"
# (userspace). The one place that decides: scripts/run, scripts/host-setup and the tests
# (`scripts/ovn datapath`) all ask it.
sov_ovn_datapath_type() {
    if [ -d /sys/module/openvswitch ] || genl ctrl get name ovs_datapath >/dev/null 2>&1; then
        echo system
    else
        echo netdev
    fi
}

# The physical network every chassis maps to its external bridge (a public IP pool's
# physical_network, "public" by default: the localnet port of the pool's external switch).
SOV_OVN_PHYSNET=public

# sov_ovn_chassis_start DIR SYSTEM_ID ENCAP_IP SB_REMOTE [BRIDGE [EXT_BRIDGE]]: this machine
# as an OVN chassis, files in DIR: an ovsdb-server for DIR/conf.db (DIR/db.sock),
# ovs-vswitchd, the external bridge EXT_BRIDGE (br-ex by default) where public IP pools'
# traffic leaves, the chassis' external_ids (system-id, ovn-remote, Geneve from ENCAP_IP,
# ovn-bridge-mappings=public:EXT_BRIDGE, the datapath type recorded in DIR/datapath, which
# both bridges take) and ovn-controller, which creates the integration bridge BRIDGE (br-int
# by default; unique names let two chassis share a network namespace).
# With SOV_OVN_NETNS=1 ovs-vswitchd runs in a network namespace of its own, which dies
# with it (tests: its taps and bridges never meet another chassis' on this machine).
sov_ovn_chassis_start() {
    local d id=$2 ip=$3 sb=$4 br=${5:-br-int} ext=${6:-br-ex} dp netns=()
    d=$(sov_ovn_dir "$1") || exit 1
    mkdir -p "$d/ovn-run" || sov_die "could not make $d/ovn-run"
    [ "${SOV_OVN_NETNS:-0}" = 1 ] && netns=(unshare --net)
    sov_ovn_ovsdb_start "$d" db conf.db /usr/share/openvswitch/vswitch.ovsschema
    ovs-vsctl --db="unix:$d/db.sock" --no-wait init || sov_die "could not initialise $d/conf.db"
    if ! sov_alive "$d/vswitchd.pid"; then
        OVS_RUNDIR=$d "${netns[@]}" ovs-vswitchd "unix:$d/db.sock" "${SOV_OVN_DAEMON[@]}" \
            --pidfile="$d/vswitchd.pid" --log-file="$d/vswitchd.log" --unixctl="$d/vswitchd.ctl" ||
            sov_die "ovs-vswitchd did not start (see $d/vswitchd.log)"
    fi
    dp=$(sov_ovn_datapath_type)
    echo "$dp" >"$d/datapath"
    ovs-vsctl --db="unix:$d/db.sock" --no-wait --may-exist add-br "$ext" \
        -- set bridge "$ext" datapath_type="$dp" ||
        sov_die "could not make the external bridge $ext in $d/conf.db"
    ovs-vsctl --db="unix:$d/db.sock" --no-wait set open . \
        external_ids:system-id="$id" \
        external_ids:ovn-remote="$sb" external_ids:ovn-encap-type=geneve \
        external_ids:ovn-encap-ip="$ip" external_ids:ovn-bridge="$br" \
        external_ids:ovn-bridge-datapath-type="$dp" \
        external_ids:ovn-bridge-mappings="$SOV_OVN_PHYSNET:$ext" ||
        sov_die "could not configure $d/conf.db"
    if ! sov_alive "$d/controller.pid"; then
        # ovn-controller 23.03 takes no --unixctl: its socket goes to OVN_RUNDIR. It reaches
        # ovs-vswitchd's OpenFlow socket in OVS_RUNDIR (BRIDGE.mgmt).
        OVS_RUNDIR=$d OVN_RUNDIR=$d/ovn-run ovn-controller "unix:$d/db.sock" \
            "${SOV_OVN_DAEMON[@]}" --pidfile="$d/controller.pid" --log-file="$d/controller.log" ||
            sov_die "ovn-controller did not start (see $d/controller.log)"
    fi
}

# sov_ovn_ext_bridge DIR: the external bridge of the chassis in DIR (its bridge mapping).
sov_ovn_ext_bridge() {
    local m
    m=$(ovs-vsctl --db="unix:$1/db.sock" --timeout=5 --if-exists get open . \
        external_ids:ovn-bridge-mappings 2>/dev/null) || m=
    m=${m//\"/}
    m=${m#"$SOV_OVN_PHYSNET":}
    m=${m%%,*}
    [ -n "$m" ] || sov_die "the chassis in $1 maps no $SOV_OVN_PHYSNET network to a bridge"
    echo "$m"
}

# sov_cidr_network ADDR/PREFIX: the network it is in, as a CIDR (192.0.2.1/24: 192.0.2.0/24).
sov_cidr_network() {
    local a=${1%/*} p=${1#*/} o1 o2 o3 o4 n m
    IFS=. read -r o1 o2 o3 o4 <<<"$a"
    n=$(( (o1 << 24) | (o2 << 16) | (o3 << 8) | o4 ))
    m=$(( p == 0 ? 0 : (0xffffffff << (32 - p)) & 0xffffffff ))
    n=$(( n & m ))
    echo "$(( n >> 24 & 255 )).$(( n >> 16 & 255 )).$(( n >> 8 & 255 )).$(( n & 255 ))/$p"
}

# sov_ovn_netns DIR: run the rest of the arguments in the network namespace of DIR's
# ovs-vswitchd, where its bridges' devices live (this one's unless SOV_OVN_NETNS=1).
sov_ovn_netns() {
    local d=$1 pid
    shift
    sov_alive "$d/vswitchd.pid" || sov_die "no ovs-vswitchd runs for $d"
    pid=$(cat "$d/vswitchd.pid")
    nsenter --net="/proc/$pid/ns/net" "$@"
}

# sov_net_overlaps CIDR [DEV]: whether an IPv4 address or route of this network namespace,
# on any device but DEV, overlaps CIDR (a gateway on a network the machine already uses
# would take its traffic, even its default route's gateway).
sov_net_overlaps() {
    { ip -o -4 addr show | awk -v d="${2:-}" '$2 != d { print $4 }'
      ip -4 route show | awk -v d="${2:-}" '{ dev = ""
            for (i = 1; i < NF; i++) if ($i == "dev") dev = $(i + 1)
            if (dev != d && $1 != "default") print $1 }'; } |
        python3 -c 'import ipaddress, sys
want = ipaddress.ip_network(sys.argv[1], strict=False)
for line in sys.stdin:
    try:
        net = ipaddress.ip_network(line.strip(), strict=False)
    except ValueError:
        continue
    if net.overlaps(want):
        sys.exit(0)
sys.exit(1)' "$1"
}

# sov_free_public_gateway: the first of the TEST-NET /24s (RFC 5737: 192.0.2.0, 198.51.100.0,
# 203.0.113.0) that no address or route of this machine overlaps, as its first address with
# the prefix (192.0.2.1/24); fails when all three are in use.
sov_free_public_gateway() {
    local g
    for g in 192.0.2.1/24 198.51.100.1/24 203.0.113.1/24; do
        sov_net_overlaps "$g" br-ex || { echo "$g"; return 0; }
    done
    return 1
}

# sov_ovn_external DIR GATEWAY/PREFIX: give the external bridge of the chassis in DIR the
# public IP pool's gateway address (what the machine reaches public IPs through) and bring
# it up (refused when the network overlaps one the namespace uses already); recorded in DIR/external for sov_ovn_stop. On the userspace datapath the bridge's
# device is a tap whose TX checksum offload the machine's stack would leave to OVS to
# finish (TCP then fails, ../shared/PLATFORM.md "Checksums"): it is turned off there.
sov_ovn_external() {
    local d=$1 cidr=$2 ext addr prefix i
    addr=${cidr%/*} prefix=${cidr#*/}
    [[ $cidr == */* && $addr =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ && $prefix =~ ^[0-9]{1,2}$ ]] &&
        [ "$prefix" -ge 1 ] && [ "$prefix" -le 32 ] ||
        sov_die "the gateway must be an IPv4 address with a prefix (192.0.2.1/24), not '$cidr'"
    d=$(cd "$d" 2>/dev/null && pwd) || sov_die "no folder $1"
    ext=$(sov_ovn_ext_bridge "$d") || exit 1
    if sov_ovn_netns "$d" bash -c ". '$SOV_TOP/scripts/lib.sh'; sov_net_overlaps '$cidr' '$ext'"
    then
        sov_die "$cidr overlaps a network this machine already uses (ip -4 addr, ip -4 route):" \
            "a public IP pool's gateway needs a network of its own"
    fi
    sov_ovn_wait_bridge "$d" "$ext" 30 ||
        sov_die "ovs-vswitchd has not opened $ext after 30 s (see $d/vswitchd.log)"
    for i in $(seq 1 50); do
        sov_ovn_netns "$d" ip link show "$ext" >/dev/null 2>&1 && break
        sleep 0.1
    done
    # Another address recorded before (a new gateway) goes first.
    if [ -s "$d/external" ] && [ "$(cat "$d/external")" != "$cidr" ]; then
        sov_ovn_netns "$d" ip addr del "$(cat "$d/external")" dev "$ext" 2>/dev/null || true
    fi
    sov_ovn_netns "$d" ip addr replace "$cidr" dev "$ext" ||
        sov_die "could not put $cidr on $ext"
    sov_ovn_netns "$d" ip link set "$ext" up || sov_die "could not bring $ext up"
    echo "$cidr" >"$d/external"
    if [ "$(cat "$d/datapath" 2>/dev/null)" = netdev ]; then
        if command -v ethtool >/dev/null; then
            sov_ovn_netns "$d" ethtool -K "$ext" tx off >/dev/null 2>&1 || true
        else
            sov_say "warning: no ethtool: TX checksum offload stays on $ext (TCP may fail)"
        fi
    fi
}

# sov_ovn_wait_bridge DIR BRIDGE SECONDS: wait (bounded) until ovn-controller has made BRIDGE
# and ovs-vswitchd has opened it (its own port has an OpenFlow port number). A bridge that
# stays without one usually means another ovs-vswitchd in this network namespace holds the
# userspace datapath's tap (ovs-netdev): see DIR/vswitchd.log.
sov_ovn_wait_bridge() {
    local i ofport
    for i in $(seq 1 $(( $3 * 10 ))); do
        ofport=$(ovs-vsctl --db="unix:$1/db.sock" --timeout=1 get interface "$2" ofport \
            2>/dev/null) || ofport=
        case $ofport in [1-9]*) return 0 ;; esac
        sleep 0.1
    done
    return 1
}

# sov_ovn_stop DIR: stop what sov_ovn_central_start and sov_ovn_chassis_start started in DIR,
# by their pidfiles (SIGTERM, SIGKILL after 5 s), and remove the gateway address of
# sov_ovn_external and the link of sov_ovn_link_default_socket to DIR; the databases stay.
sov_ovn_stop() {
    local d=$1 n pid i ext
    [ -n "$d" ] || sov_die "sov_ovn_stop needs a folder"
    # The gateway address sov_ovn_external gave the external bridge goes first (on the
    # kernel datapath the bridge's device would outlive ovs-vswitchd with it).
    if [ -s "$d/external" ] && sov_alive "$d/vswitchd.pid"; then
        ext=$(sov_ovn_ext_bridge "$d" 2>/dev/null) &&
            sov_ovn_netns "$d" ip addr del "$(cat "$d/external")" dev "$ext" >/dev/null 2>&1
    fi
    rm -f "$d/external"
    # libvirt's way to OVS (sov_ovn_link_default_socket), where it leads here.
    local link=${SOV_OVS_DEFAULT_SOCKET:-/var/run/openvswitch/db.sock}
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$(cd "$d" 2>/dev/null && pwd)/db.sock" ]; then
        rm -f "$link"
    fi
    for n in controller vswitchd db northd sb nb; do
        sov_alive "$d/$n.pid" || continue
        pid=$(cat "$d/$n.pid")
        # ovs-vswitchd's own exit --cleanup removes its datapath and the bridges' taps, which
        # the userspace datapath would otherwise leave in the network namespace.
        if [ "$n" = vswitchd ]; then
            ovs-appctl -t "$d/vswitchd.ctl" --timeout=5 exit --cleanup >/dev/null 2>&1 || true
        fi
        kill -TERM "$pid" 2>/dev/null || { rm -f "$d/$n.pid"; continue; }
        for i in $(seq 1 50); do sov_running "$pid" || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$d/$n.pid"
    done
}

# sov_ovn_link_default_socket DIR: make /var/run/openvswitch/db.sock, where libvirt runs
# ovs-vsctl, lead to the chassis in DIR. A path that answers for another ovsdb-server (the
# machine's own Open vSwitch, or another checkout's scripts/run) is left alone, with a
# warning: libvirt then plugs guests into that one. A dead socket or link is replaced.
# SOV_OVS_DEFAULT_SOCKET names another path (tests).
sov_ovn_link_default_socket() {
    local d link=${SOV_OVS_DEFAULT_SOCKET:-/var/run/openvswitch/db.sock}
    d=$(cd "$1" && pwd) || sov_die "no folder $1"
    [ "$(readlink "$link" 2>/dev/null)" = "$d/db.sock" ] && return 0
    if [ -e "$link" ] && ovsdb-client --timeout=1 list-dbs "unix:$link" >/dev/null 2>&1; then
        sov_say "warning: $link belongs to another Open vSwitch ($(readlink -f "$link")):" \
            "libvirt attaches guests there, not to $d"
        return 0
    fi
    mkdir -p "$(dirname "$link")"
    rm -f "$link"
    ln -s "$d/db.sock" "$link"
}
