#!/usr/bin/env bash
# scripts/lab.sh: the mpx network lab. Builds, inspects and removes a set of network namespaces
# wired like a SIP deployment (caller, relay, callee, proxy; optionally relay2 and an attacker, or
# an attacker and an endpoint behind a NAT router), plus a bpffs for pinning BPF objects, all named
# after one lab NAME so labs can run in parallel.
# The topology and addresses are documented in tests/support/netns_lab.hpp (the C++ fixture that
# drives this script); keep both in sync.
#
#   lab.sh up NAME [--two-relays|--attack]
#                                   create the lab (fails if NAME exists; removes its own partial work)
#   lab.sh down NAME                remove everything of lab NAME (idempotent)
#   lab.sh status NAME              print what exists (exit 0 complete, 1 nothing, 2 partial)
#   lab.sh list                     print the names of labs present (also partial leftovers)
#
# Testing hook: MPX_LAB_FAIL_AT=<step> makes `up` fail when it reaches that step, to prove that
# a failed `up` leaves nothing behind. Steps: see UP_STEPS below.
set -Eeuo pipefail

readonly STATE_ROOT=/run/mpx-lab
readonly NETNS_DIR=/run/netns
readonly ALL_ROLES=(caller relay callee proxy relay2 attacker nat natted)
readonly BASIC_ROLES=(caller relay callee proxy)
readonly TWO_RELAY_ROLES=(caller relay callee proxy relay2 attacker)
readonly ATTACK_ROLES=(caller relay callee proxy attacker nat natted)
readonly UP_STEPS=(namespaces sysctls links addresses routes neighbours offload nat bpffs state-file
  verify)
readonly RELAY_PUBLIC=203.0.113.1
readonly RELAY2_PUBLIC=203.0.113.2
# The attack variant's NAT router: two public addresses on its relay link (a NAT that may move a
# mapping from one to the other), the private network behind it, and the port range it maps to
# (so the NAT rewrites ports, as real NATs do).
readonly NAT_PUBLIC=10.5.0.10
readonly NAT_PUBLIC2=10.5.0.11
readonly NAT_PRIVATE_NET=192.168.0.0/24
readonly NAT_PORTS=30000-39999
# Roles whose veths get tx checksum offload off: they originate traffic that a relay may
# XDP_REDIRECT (spec/kernel-datapaths.md, CHECKSUM_PARTIAL). The NAT router forwards (and
# rewrites) its endpoint's packets toward the relay, so it counts as an endpoint too.
readonly ENDPOINT_ROLES=(caller callee proxy attacker nat natted)

# Links: "roleA devA addrA roleB devB addrB", every one a /24. The endpoint is side A (on the NAT
# router's private link, both sides are endpoint roles).
readonly BASIC_LINKS=(
  "caller eth0 10.1.0.10 relay caller0 10.1.0.1"
  "callee eth0 10.2.0.20 relay callee0 10.2.0.1"
  "proxy eth0 10.3.0.30 relay proxy0 10.3.0.1"
)
readonly TWO_RELAY_LINKS=(
  "caller eth1 10.1.1.10 relay2 caller0 10.1.1.1"
  "callee eth1 10.2.1.20 relay2 callee0 10.2.1.1"
  "proxy eth1 10.3.1.30 relay2 proxy0 10.3.1.1"
  "attacker eth0 10.4.0.40 relay attacker0 10.4.0.1"
)
# The natted endpoint is side A of its link to the NAT router (the router is side B, eth1).
readonly ATTACK_LINKS=(
  "attacker eth0 10.4.0.40 relay attacker0 10.4.0.1"
  "nat eth0 $NAT_PUBLIC relay nat0 10.5.0.1"
  "natted eth0 192.168.0.10 nat eth1 192.168.0.1"
)

prog=lab.sh
die() {
  echo "$prog: $*" >&2
  exit 1
}

usage() {
  cat >&2 <<EOF
usage: $prog up NAME [--two-relays | --attack]
       $prog down NAME
       $prog status NAME
       $prog list
NAME: lowercase letters, digits and '-', 1-32 characters, not starting or ending with '-'.
EOF
  exit 64
}

validate_name() {
  local name=$1
  if [[ ! $name =~ ^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$ ]]; then
    die "invalid lab name '$name' (lowercase letters, digits and '-', 1-32 characters, not starting or ending with '-')"
  fi
}

ns_name() { echo "mpx-$1-$2"; }
netns_exists() { [[ -e $NETNS_DIR/$1 ]]; }
state_dir() { echo "$STATE_ROOT/$1"; }
bpffs_dir() { echo "$STATE_ROOT/$1/bpffs"; }

# Mount points are compared as written in /proc/self/mounts; lab paths contain no characters that
# the kernel escapes there (validated names only).
is_mountpoint() {
  awk -v p="$1" '$2 == p { found = 1 } END { exit !found }' /proc/self/mounts
}
has_mount_below() {
  awk -v p="$1/" 'index($2, p) == 1 { found = 1 } END { exit !found }' /proc/self/mounts
}

# Deterministic MAC derived from the IPv4 address: 02:00 (locally administered) + the 4 octets.
mac_for() {
  local IFS=.
  # shellcheck disable=SC2086
  set -- $1
  printf '02:00:%02x:%02x:%02x:%02x' "$1" "$2" "$3" "$4"
}

roles_for_variant() {
  case $1 in
    two-relays) echo "${TWO_RELAY_ROLES[@]}" ;;
    attack) echo "${ATTACK_ROLES[@]}" ;;
    *) echo "${BASIC_ROLES[@]}" ;;
  esac
}

links_for_variant() {
  printf '%s\n' "${BASIC_LINKS[@]}"
  case $1 in
    two-relays) printf '%s\n' "${TWO_RELAY_LINKS[@]}" ;;
    attack) printf '%s\n' "${ATTACK_LINKS[@]}" ;;
  esac
}

# The NAT router's table: SNAT of the private network leaving eth0 to one public address, with
# a port range for UDP and TCP (the others, e.g. ICMP, keep their ids). The table and chain are
# named so that a test can replace the rules (the attack harness's set_nat_source() moves the
# mapping to the second public address).
nat_ruleset() {
  cat <<EOF
table ip labnat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr $NAT_PRIVATE_NET oifname "eth0" meta l4proto { tcp, udp } snat to $NAT_PUBLIC:$NAT_PORTS
    ip saddr $NAT_PRIVATE_NET oifname "eth0" snat to $NAT_PUBLIC
  }
}
EOF
}

# ---------------------------------------------------------------------------------------- down

# Removes everything named for lab NAME: only the exact namespaces mpx-NAME-<role> (never a glob,
# so lab "a" never touches lab "a-b"), the bpffs mount and the state directory. Idempotent.
do_down() {
  local name=$1 dir bpffs role ns tries rc=0
  dir=$(state_dir "$name")
  bpffs=$(bpffs_dir "$name")

  # Unmount before deleting anything below the state directory: removing files in a mounted
  # bpffs would unpin objects someone may still inspect, and rm -rf must never cross a mount.
  tries=0
  while is_mountpoint "$bpffs" && ((tries < 8)); do
    umount "$bpffs" 2>/dev/null || umount -l "$bpffs" || true
    tries=$((tries + 1))
  done
  if is_mountpoint "$bpffs"; then
    echo "$prog: cannot unmount $bpffs" >&2
    rc=1
  fi

  for role in "${ALL_ROLES[@]}"; do
    ns=$(ns_name "$name" "$role")
    if netns_exists "$ns"; then
      local pids
      pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ' || true)
      if [[ -n ${pids// /} ]]; then
        echo "$prog: warning: processes still in $ns (not killed): $pids" >&2
      fi
      if ! ip netns del "$ns"; then
        echo "$prog: cannot delete namespace $ns" >&2
        rc=1
      fi
    fi
  done

  if [[ -d $dir ]]; then
    if has_mount_below "$dir"; then
      echo "$prog: something is still mounted below $dir; not removing it" >&2
      rc=1
    else
      rm -rf -- "$dir"
    fi
  fi
  return $rc
}

# ------------------------------------------------------------------------------------------ up

CURRENT_STEP=claim
FAILED_COMMAND=
UP_NAME=
UP_COMMITTED=0

step() {
  CURRENT_STEP=$1
  if [[ ${MPX_LAB_FAIL_AT:-} == "$1" ]]; then
    echo "$prog: forced failure at step '$1' (MPX_LAB_FAIL_AT)" >&2
    FAILED_COMMAND="MPX_LAB_FAIL_AT=$1"
    return 1
  fi
}

on_up_exit() {
  local rc=$?
  if [[ $UP_COMMITTED == 1 ]]; then
    return
  fi
  ((rc != 0)) || rc=1
  trap - ERR
  set +e
  echo "$prog: 'up $UP_NAME' failed at step '$CURRENT_STEP'${FAILED_COMMAND:+ (command: $FAILED_COMMAND)}; removing what was created" >&2
  if ! do_down "$UP_NAME" >/dev/null; then
    echo "$prog: cleanup incomplete; run '$prog down $UP_NAME'" >&2
  fi
  exit $rc
}

do_up() {
  local name=$1 variant=$2 dir bpffs role ns link
  dir=$(state_dir "$name")
  bpffs=$(bpffs_dir "$name")

  if [[ -n ${MPX_LAB_FAIL_AT:-} && " ${UP_STEPS[*]} " != *" $MPX_LAB_FAIL_AT "* ]]; then
    die "MPX_LAB_FAIL_AT='$MPX_LAB_FAIL_AT' is not a step (steps: ${UP_STEPS[*]})"
  fi

  # Claim the name atomically (mkdir), so two concurrent `up NAME` cannot both proceed.
  mkdir -p "$STATE_ROOT"
  if ! mkdir "$dir" 2>/dev/null; then
    echo "$prog: lab '$name' already exists ($dir); run '$prog down $name' first" >&2
    exit 3
  fi
  for role in "${ALL_ROLES[@]}"; do
    ns=$(ns_name "$name" "$role")
    if netns_exists "$ns"; then
      rmdir "$dir"
      echo "$prog: namespace $ns is left over from an earlier lab '$name'; run '$prog down $name' first" >&2
      exit 3
    fi
  done

  UP_NAME=$name
  trap on_up_exit EXIT
  # Keep the first failing command: it is the cause; later ERR traps only echo its way out.
  trap '[[ -n $FAILED_COMMAND ]] || FAILED_COMMAND=$BASH_COMMAND' ERR
  trap 'exit 130' INT TERM HUP

  local roles links
  read -r -a roles <<<"$(roles_for_variant "$variant")"
  mapfile -t links < <(links_for_variant "$variant")

  step namespaces
  # The first `ip netns add` on a machine turns /run/netns into a shared mount; concurrent
  # first calls race and can stack mounts there, so labs create their namespaces one at a time.
  local lock_fd
  exec {lock_fd}>"$STATE_ROOT/.netns.lock"
  flock -w 30 "$lock_fd"
  for role in "${roles[@]}"; do
    ns=$(ns_name "$name" "$role")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  exec {lock_fd}>&-

  step sysctls
  for role in "${roles[@]}"; do
    ns=$(ns_name "$name" "$role")
    local forward=0
    [[ $role == relay || $role == relay2 || $role == nat ]] && forward=1
    # IPv6 off before any veth exists, so new devices inherit it from "default".
    # rp_filter off everywhere: the host's setting must not decide what a lab test sees.
    ip netns exec "$ns" sysctl -q -w \
      net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
      net.ipv6.conf.lo.disable_ipv6=1 \
      net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
      net.ipv4.ip_forward=$forward
  done

  step links
  local ra da aa rb db ab
  for link in "${links[@]}"; do
    read -r ra da aa rb db ab <<<"$link"
    # Created directly in both namespaces: no device ever exists in the root namespace, so
    # parallel labs cannot collide on interface names.
    ip link add name "$da" address "$(mac_for "$aa")" netns "$(ns_name "$name" "$ra")" type veth \
      peer name "$db" address "$(mac_for "$ab")" netns "$(ns_name "$name" "$rb")"
    ip -n "$(ns_name "$name" "$ra")" link set "$da" up
    ip -n "$(ns_name "$name" "$rb")" link set "$db" up
  done

  step addresses
  for link in "${links[@]}"; do
    read -r ra da aa rb db ab <<<"$link"
    ip -n "$(ns_name "$name" "$ra")" addr add "$aa/24" dev "$da"
    ip -n "$(ns_name "$name" "$rb")" addr add "$ab/24" dev "$db"
  done
  ip -n "$(ns_name "$name" relay)" addr add "$RELAY_PUBLIC/32" dev lo
  if [[ $variant == two-relays ]]; then
    ip -n "$(ns_name "$name" relay2)" addr add "$RELAY2_PUBLIC/32" dev lo
  fi
  if [[ $variant == attack ]]; then
    # The NAT's second public address, on the same link (the relay reaches both over nat0).
    ip -n "$(ns_name "$name" nat)" addr add "$NAT_PUBLIC2/24" dev eth0
  fi

  step routes
  ip -n "$(ns_name "$name" caller)" route add default via 10.1.0.1 dev eth0
  ip -n "$(ns_name "$name" callee)" route add default via 10.2.0.1 dev eth0
  ip -n "$(ns_name "$name" proxy)" route add default via 10.3.0.1 dev eth0
  if [[ $variant == two-relays ]]; then
    ip -n "$(ns_name "$name" caller)" route add "$RELAY2_PUBLIC/32" via 10.1.1.1 dev eth1
    ip -n "$(ns_name "$name" callee)" route add "$RELAY2_PUBLIC/32" via 10.2.1.1 dev eth1
    ip -n "$(ns_name "$name" proxy)" route add "$RELAY2_PUBLIC/32" via 10.3.1.1 dev eth1
    # relay2 reaches the endpoints' primary addresses over its own links, never through relay.
    ip -n "$(ns_name "$name" relay2)" route add 10.1.0.10/32 via 10.1.1.10 dev caller0
    ip -n "$(ns_name "$name" relay2)" route add 10.2.0.20/32 via 10.2.1.20 dev callee0
    ip -n "$(ns_name "$name" relay2)" route add 10.3.0.30/32 via 10.3.1.30 dev proxy0
    # The attacker has no default route: it reaches only its link and the relay's public
    # address, so anything it gets to the callee must have gone through a relay's media ports.
    ip -n "$(ns_name "$name" attacker)" route add "$RELAY_PUBLIC/32" via 10.4.0.1 dev eth0
  fi
  if [[ $variant == attack ]]; then
    # The attacker as in two-relays: no default route, only the relay's public address.
    ip -n "$(ns_name "$name" attacker)" route add "$RELAY_PUBLIC/32" via 10.4.0.1 dev eth0
    ip -n "$(ns_name "$name" nat)" route add default via 10.5.0.1 dev eth0
    ip -n "$(ns_name "$name" natted)" route add default via 192.168.0.1 dev eth0
    # Deliberately no route to 192.168.0.0/24 in the relay: a private network behind a NAT is
    # unreachable from the relay, as on the Internet.
  fi

  step neighbours
  for link in "${links[@]}"; do
    read -r ra da aa rb db ab <<<"$link"
    ip -n "$(ns_name "$name" "$ra")" neigh replace "$ab" lladdr "$(mac_for "$ab")" dev "$da" nud permanent
    ip -n "$(ns_name "$name" "$rb")" neigh replace "$aa" lladdr "$(mac_for "$aa")" dev "$db" nud permanent
  done
  if [[ $variant == attack ]]; then
    # The second NAT address answers with eth0's MAC (one interface, two addresses).
    ip -n "$(ns_name "$name" relay)" neigh replace "$NAT_PUBLIC2" lladdr "$(mac_for "$NAT_PUBLIC")" \
      dev nat0 nud permanent
  fi

  step offload
  for link in "${links[@]}"; do
    read -r ra da aa rb db ab <<<"$link"
    if [[ " ${ENDPOINT_ROLES[*]} " == *" $ra "* ]]; then
      ip netns exec "$(ns_name "$name" "$ra")" ethtool -K "$da" tx off >/dev/null
    fi
    # Side B is an endpoint only on the NAT router's private link (nat eth1).
    if [[ " ${ENDPOINT_ROLES[*]} " == *" $rb "* ]]; then
      ip netns exec "$(ns_name "$name" "$rb")" ethtool -K "$db" tx off >/dev/null
    fi
  done

  step nat
  if [[ $variant == attack ]]; then
    nat_ruleset | ip netns exec "$(ns_name "$name" nat)" nft -f -
  fi

  step bpffs
  mkdir -p "$bpffs"
  mount -t bpf bpf "$bpffs"

  step state-file
  {
    echo "# mpx network lab '$name' (written by scripts/lab.sh; source it from a shell)"
    echo "LAB_NAME=$name"
    echo "LAB_VARIANT=$variant"
    echo "LAB_BPFFS=$bpffs"
    for role in "${roles[@]}"; do
      echo "NS_${role^^}=$(ns_name "$name" "$role")"
    done
    echo "CALLER=10.1.0.10"
    echo "CALLEE=10.2.0.20"
    echo "PROXY=10.3.0.30"
    echo "RELAY_PUBLIC=$RELAY_PUBLIC"
    echo "RELAY_CALLER_SIDE=10.1.0.1"
    echo "RELAY_CALLEE_SIDE=10.2.0.1"
    echo "RELAY_PROXY_SIDE=10.3.0.1"
    if [[ $variant == two-relays ]]; then
      echo "RELAY2_PUBLIC=$RELAY2_PUBLIC"
      echo "CALLER2=10.1.1.10"
      echo "CALLEE2=10.2.1.20"
      echo "PROXY2=10.3.1.30"
      echo "ATTACKER=10.4.0.40"
      echo "RELAY_ATTACKER_SIDE=10.4.0.1"
    fi
    if [[ $variant == attack ]]; then
      echo "ATTACKER=10.4.0.40"
      echo "RELAY_ATTACKER_SIDE=10.4.0.1"
      echo "NAT_PUBLIC=$NAT_PUBLIC"
      echo "NAT_PUBLIC2=$NAT_PUBLIC2"
      echo "NAT_PORTS=$NAT_PORTS"
      echo "RELAY_NAT_SIDE=10.5.0.1"
      echo "NAT_PRIVATE_SIDE=192.168.0.1"
      echo "NATTED=192.168.0.10"
    fi
  } >"$dir/lab.env.tmp"
  mv "$dir/lab.env.tmp" "$dir/lab.env"

  step verify
  for role in "${roles[@]}"; do
    netns_exists "$(ns_name "$name" "$role")"
  done
  is_mountpoint "$bpffs"

  UP_COMMITTED=1
  trap - EXIT ERR INT TERM HUP
  echo "lab '$name' is up ($variant); state in $dir/lab.env"
  echo "run a command inside: ip netns exec $(ns_name "$name" caller) <command>"
}

# -------------------------------------------------------------------------------------- status

# Prints what exists of lab NAME. Exit 0 when complete, 1 when nothing exists, 2 when partial.
do_status() {
  local name=$1 dir bpffs variant=unknown role ns present=0 missing=0
  dir=$(state_dir "$name")
  bpffs=$(bpffs_dir "$name")
  if [[ -f $dir/lab.env ]]; then
    variant=$(sed -n 's/^LAB_VARIANT=//p' "$dir/lab.env")
  fi
  echo "lab '$name' (variant: $variant)"
  if [[ -d $dir ]]; then
    echo "  state directory  $dir"
    present=$((present + 1))
  else
    echo "  state directory  $dir: absent"
    missing=$((missing + 1))
  fi
  if is_mountpoint "$bpffs"; then
    echo "  bpffs            $bpffs: mounted"
    present=$((present + 1))
  else
    echo "  bpffs            $bpffs: not mounted"
    missing=$((missing + 1))
  fi
  local expected
  read -r -a expected <<<"$(roles_for_variant "$variant")"
  for role in "${ALL_ROLES[@]}"; do
    ns=$(ns_name "$name" "$role")
    if netns_exists "$ns"; then
      present=$((present + 1))
      echo "  namespace        $ns"
      ip -n "$ns" -br -4 addr show 2>/dev/null | sed 's/^/      /' || true
      ip -n "$ns" route show 2>/dev/null | sed 's/^/      route /' || true
    elif [[ " ${expected[*]} " == *" $role "* ]]; then
      echo "  namespace        $ns: absent"
      missing=$((missing + 1))
    fi
  done
  if ((present == 0)); then
    echo "  nothing exists"
    return 1
  fi
  if ((missing > 0)) || [[ $variant == unknown ]]; then
    echo "  INCOMPLETE: run '$prog down $name' to remove the leftovers"
    return 2
  fi
  echo "  complete"
  return 0
}

# ---------------------------------------------------------------------------------------- list

do_list() {
  local names=() f base role
  if [[ -d $NETNS_DIR ]]; then
    for f in "$NETNS_DIR"/mpx-*; do
      [[ -e $f ]] || continue
      base=${f##*/}
      for role in "${ALL_ROLES[@]}"; do
        if [[ $base == mpx-*-"$role" ]]; then
          base=${base#mpx-}
          names+=("${base%-"$role"}")
          break
        fi
      done
    done
  fi
  if [[ -d $STATE_ROOT ]]; then
    for f in "$STATE_ROOT"/*; do
      [[ -d $f ]] && names+=("${f##*/}")
    done
  fi
  if ((${#names[@]} > 0)); then
    printf '%s\n' "${names[@]}" | sort -u
  fi
}

# ---------------------------------------------------------------------------------------- main

require_root() {
  [[ $EUID -eq 0 ]] || die "must run as root (creates network namespaces and mounts a bpffs)"
}

main() {
  (($# >= 1)) || usage
  local cmd=$1
  shift
  case $cmd in
    up)
      local name='' variant=basic arg
      for arg in "$@"; do
        case $arg in
          --two-relays | --attack)
            [[ $variant == basic ]] || die "--two-relays and --attack exclude each other"
            variant=${arg#--}
            ;;
          -*) die "unknown option '$arg'" ;;
          *) [[ -z $name ]] || usage; name=$arg ;;
        esac
      done
      [[ -n $name ]] || usage
      validate_name "$name"
      require_root
      do_up "$name" "$variant"
      ;;
    down)
      (($# == 1)) || usage
      validate_name "$1"
      require_root
      if do_status "$1" >/dev/null; [[ $? == 1 ]]; then
        echo "lab '$1': nothing to remove"
      else
        do_down "$1"
        echo "lab '$1' removed"
      fi
      ;;
    status)
      (($# == 1)) || usage
      validate_name "$1"
      do_status "$1"
      ;;
    list)
      (($# == 0)) || usage
      do_list
      ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
