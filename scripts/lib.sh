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
    openvswitch-switch ovn-central ovn-host
)

sov_say() { printf '==> %s\n' "$*" >&2; }
sov_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install the packages that are missing; a set-up machine pays one dpkg-query (~50 ms).
sov_install() {
    local missing=() p
    for p in "${SOV_PACKAGES[@]}"; do
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
    # The conffile options keep dpkg from stopping at qemu.conf's prompt.
    apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >&2
}

# sov_build DIR [meson setup options...]: configure once, then build incrementally.
sov_build() {
    local dir=$1; shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$SOV_TOP" "$@" >&2 || sov_die "meson setup failed"
    fi
    ninja -C "$dir" >&2 || sov_die "build failed"
}

sov_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Start virtlogd and libvirtd unless they run, and wait (bounded) until libvirtd answers.
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
    sov_alive /run/libvirtd.pid || /usr/sbin/libvirtd -d
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
