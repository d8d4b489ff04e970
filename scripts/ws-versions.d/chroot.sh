# Chroot helpers for scripts/ws-versions (sourced, not run).
#
# A Debian chroot per Wireshark version: trixie has 4.4, sid has 4.6. They live in
# $ZKH2_WS_CACHE (default /var/cache/zkh2) and are reused when they exist. Commands run inside
# them in a private mount namespace (unshare --mount), so the bind mounts of the repo, the Rust
# toolchain, /proc and /dev vanish with the last process even if the script is killed; a trap
# unmounts them as well.

# Packages a build and the tests need inside the chroot. Wireshark 4.4+ splits its dev
# package into libwireshark-dev, libwsutil-dev and libwiretap-dev.
ZKH2_CHROOT_PKGS=(tshark libwireshark-dev libwsutil-dev libwiretap-dev libglib2.0-dev
  libclang-dev clang gcc libc6-dev pkg-config ca-certificates python3 util-linux)

chroot_log() { echo "ws-versions: $*" >&2; }

# ensure_chroot SUITE DIR LOG: creates DIR with debootstrap if needed, then makes sure the
# packages are installed (apt runs only when one is missing). Output goes to LOG.
ensure_chroot() {
  local suite=$1 dir=$2 log=$3
  if [ ! -x "$dir/usr/bin/apt-get" ] || [ ! -f "$dir/.zkh2-debootstrap-done" ]; then
    command -v debootstrap >/dev/null || {
      chroot_log "installing debootstrap"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >>"$log" 2>&1
    }
    chroot_log "debootstrap $suite into $dir (several minutes, log: $log)"
    rm -rf "$dir"
    mkdir -p "$dir"
    debootstrap --variant=minbase "$suite" "$dir" "${ZKH2_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >>"$log" 2>&1
    touch "$dir/.zkh2-debootstrap-done"
  fi
  local have p
  local -a missing=()
  # Names of the installed packages, compared one by one with the list.
  have=$(in_chroot_plain "$dir" dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' 2>/dev/null | awk '$2 == "ii" { print $1 }')
  for p in "${ZKH2_CHROOT_PKGS[@]}"; do
    grep -qx "$p" <<<"$have" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    chroot_log "$suite: apt-get install ${missing[*]} (log: $log)"
    cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
    in_chroot_plain "$dir" sh -c '
      set -e
      export DEBIAN_FRONTEND=noninteractive
      echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
      # A mirror or proxy that serves sid a little late makes its Release file look
      # expired; then retry without the Valid-Until check (signatures are still checked).
      apt-get update -qq || apt-get update -qq -o Acquire::Check-Valid-Until=false
      apt-get install -y -qq --no-install-recommends "$@"
      apt-get clean' sh "${missing[@]}" >>"$log" 2>&1
  fi
}

# in_chroot_plain DIR CMD...: runs CMD in the chroot with only /proc and /dev mounted.
in_chroot_plain() {
  local dir=$1
  shift
  unshare --mount --propagation private -- sh -c '
    dir=$1; shift
    mount -t proc proc "$dir/proc"
    mount --rbind /dev "$dir/dev"
    exec chroot "$dir" "$@"' sh "$dir" "$@"
}

# in_chroot_dev DIR TARGET CMD...: runs CMD in the chroot with the repo, ../shared, the Rust
# toolchain (rustup and cargo homes; cargo's registry stays shared with the host, so no
# crate is downloaded twice) and TARGET (mounted at the same path) bound in, at the same
# absolute paths as on the host, so CARGO_MANIFEST_DIR-relative paths in the tests hold.
in_chroot_dev() {
  local dir=$1 target=$2
  shift 2
  local repo shared cargo_home rustup_home
  repo=$(cd "$ZKH2_ROOT" && pwd -P)
  shared=$(cd "$repo/.." && pwd -P)/shared
  cargo_home=${CARGO_HOME:-$HOME/.cargo}
  rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
  mkdir -p "$target"
  unshare --mount --propagation private -- bash -c '
    set -e
    dir=$1 repo=$2 shared=$3 cargo_home=$4 rustup_home=$5 target=$6
    shift 6
    cleanup() { umount -R "$dir/proc" "$dir/dev" 2>/dev/null || true; }
    trap cleanup EXIT
    bindto() { # SRC [ro]
      mkdir -p "$dir$1"
      mount --bind "$1" "$dir$1"
      if [ "${2:-}" = ro ]; then mount -o remount,bind,ro "$dir$1"; fi
    }
    mount -t proc proc "$dir/proc"
    mount --rbind /dev "$dir/dev"
    bindto "$repo"
    [ -d "$shared" ] && bindto "$shared" ro
    [ -d "$cargo_home" ] && bindto "$cargo_home"
    [ -d "$rustup_home" ] && bindto "$rustup_home" ro
    bindto "$target"
    chroot "$dir" env -i \
      PATH="$cargo_home/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      HOME=/root CARGO_HOME="$cargo_home" RUSTUP_HOME="$rustup_home" \
      CARGO_TARGET_DIR="$target" LANG=C.UTF-8 TERM=dumb \
      "$@"
  ' bash "$dir" "$repo" "$shared" "$cargo_home" "$rustup_home" "$target" "$@"
}
