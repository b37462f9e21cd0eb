#!/usr/bin/env bash
# deb-check.sh DEB: the .deb's acceptance test (task package-check, root).
#  1. A fresh Debian chroot of the host's release, from the host's own apt
#     mirror (debootstrap, minbase; the bootstrapped tree is kept in
#     dist/chroot-base and copied for every run).
#  2. apt installs the .deb there, with its dependencies; the file capability,
#     man page, completions, unit, configuration and links are where they
#     belong, and nothing shadows /usr/bin/ping.
#  3. The unit's ExecStart, with /etc/default/pingcraft-serve's ARGS, runs in
#     the chroot without systemd, as systemd would run it: an unprivileged
#     user, CAP_NET_RAW ambient and alone in the bounding set, no new
#     privileges; in a network namespace with loopback only, whose ping
#     socket is closed to every group, so an answered probe proves the
#     capability. /metrics is scraped until loopback answers, ExecReload is
#     run and the reload seen in /metrics, then the process is stopped.
#  4. systemd-analyze verify on the unit inside the chroot, and every system
#     call serve made in 3 (strace) allowed by the unit's SystemCallFilter;
#     then apt purges the package and nothing of it is left.
set -euo pipefail
cd "$(dirname "$0")/.."

deb=${1:?usage: deb-check.sh DEB}
[ "$(id -u)" -eq 0 ] || { echo "deb check: needs root (debootstrap, chroot, network namespace)" >&2; exit 1; }
[ -f "$deb" ] || { echo "deb check: no $deb: run task package first" >&2; exit 1; }
for tool in debootstrap curl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "deb check: installing $tool"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
	fi
done

# The host's release and the mirror its apt already reaches.
. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
mirror=$({ grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } | head -1 | tr -d ' ')
[ -n "$mirror" ] || { echo "deb check: no Debian mirror in /etc/apt/sources.list{,.d}" >&2; exit 1; }

base=dist/chroot-base
if [ ! -e "$base/.bootstrapped" ]; then
	echo "deb check: debootstrap $suite from $mirror into $base"
	rm -rf "$base"
	debootstrap --variant=minbase "$suite" "$base" "$mirror" >dist/debootstrap.log 2>&1 ||
		{ tail -20 dist/debootstrap.log >&2; exit 1; }
	touch "$base/.bootstrapped"
fi

netns=pkg-deb-$$ # its own, so that two checks can run at once
root="" pid=""
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	ip netns del "$netns" 2>/dev/null || true
	if [ -n "$root" ]; then
		umount "$root/proc" 2>/dev/null || true
		rm -rf "$root"
	fi
}
trap cleanup EXIT

root=$(mktemp -d /tmp/pkg-deb.XXXXXX)
cp -a "$base/." "$root/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
in_root() { chroot "$root" "$@"; }
fail() { echo "deb check: FAIL: $*" >&2; exit 1; }

echo "deb check: apt install $(basename "$deb") in a fresh $suite chroot"
cp "$deb" "$root/tmp/pingcraft.deb"
in_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /tmp/pingcraft.deb >"$root/tmp/apt.log" 2>&1 ||
	{ cat "$root/tmp/apt.log" >&2; fail "apt-get install"; }

caps=$(in_root getcap /usr/bin/pingcraft)
case $caps in *cap_net_raw=ep*) ;; *) fail "getcap /usr/bin/pingcraft: '$caps', want cap_net_raw=ep" ;; esac
for f in /usr/share/man/man1/pingcraft.1.gz /usr/share/bash-completion/completions/pingcraft \
	/usr/share/zsh/vendor-completions/_pingcraft /usr/share/fish/vendor_completions.d/pingcraft.fish \
	/usr/lib/systemd/system/pingcraft-serve.service /etc/pingcraft/serve.yml /etc/default/pingcraft-serve; do
	[ -s "$root$f" ] || fail "$f is missing or empty"
done
zcat "$root/usr/share/man/man1/pingcraft.1.gz" | grep -q '^\.TH' || fail "pingcraft.1.gz is no man page"
grep -q 'complete .*pingcraft' "$root/usr/share/bash-completion/completions/pingcraft" || fail "no bash completion"
for l in ping ping4 ping6 fping fping6 tcpdump; do
	[ "$(readlink "$root/usr/lib/pingcraft/bin/$l")" = /usr/bin/pingcraft ] || fail "/usr/lib/pingcraft/bin/$l is no link to /usr/bin/pingcraft"
	[ ! -e "$root/usr/bin/$l" ] && [ ! -e "$root/bin/$l" ] || fail "/usr/bin/$l exists: pingcraft must not shadow it"
done
echo "deb check: installed: $caps; man page, completions, unit, configuration and links in place"

# For the check only, in the throwaway chroot, after the package went in
# alone: systemd (systemd-analyze: verify, the unit's system call filter) and
# strace (the calls serve makes).
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd strace >"$root/tmp/apt-check.log" 2>&1 ||
	{ cat "$root/tmp/apt-check.log" >&2; fail "apt-get install systemd strace"; }

ip netns del "$netns" 2>/dev/null || true
ip netns add "$netns"
ip -n "$netns" link set lo up
# A new namespace's ping socket is closed to every group ("1 0"); say so, as
# the capability is what this run proves.
echo "deb check: $netns: net.ipv4.ping_group_range = $(ip netns exec "$netns" sysctl -n net.ipv4.ping_group_range)"

# The personality, through its link, in the namespace: loopback only.
ip netns exec "$netns" chroot "$root" setpriv --reuid=65534 --regid=65534 --clear-groups \
	/usr/lib/pingcraft/bin/ping -c 1 -W 2 127.0.0.1 >"$root/tmp/ping.out" 2>&1 ||
	{ cat "$root/tmp/ping.out" >&2; fail "/usr/lib/pingcraft/bin/ping -c 1 127.0.0.1 as nobody"; }
grep -q '^64 bytes from 127.0.0.1' "$root/tmp/ping.out" || { cat "$root/tmp/ping.out" >&2; fail "no reply line from ping"; }
echo "deb check: /usr/lib/pingcraft/bin/ping as nobody: $(grep -m1 '^64 bytes' "$root/tmp/ping.out")"

unit=$root/usr/lib/systemd/system/pingcraft-serve.service
directive() { sed -n "s/^$1=//p" "$unit" | tail -1; }
execstart=$(directive ExecStart)
execreload=$(directive ExecReload)
# systemd splits an unquoted $VAR into words, as the shell does.
ARGS=""
# shellcheck disable=SC1091
. "$root/etc/default/pingcraft-serve"
eval "start=($execstart)"
eval "reload=($execreload)"
# shellcheck disable=SC2154
echo "deb check: ExecStart: ${start[*]}"

# DynamicUser=yes, AmbientCapabilities=CAP_NET_RAW,
# CapabilityBoundingSet=CAP_NET_RAW, NoNewPrivileges=yes, without systemd.
ip netns exec "$netns" chroot "$root" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw --bounding-set=-all,+net_raw --no-new-privs \
	-- strace -f -qq -o /tmp/serve.strace "${start[@]}" >"$root/tmp/serve.log" 2>&1 &
pid=$!

scrape() { ip netns exec "$netns" curl -fsS --max-time 2 http://127.0.0.1:10374/metrics 2>/dev/null || true; }
answered() {
	grep -qE '^pingcraft_response_duration_seconds_count\{[^}]*ip="127.0.0.1"[^}]*\} [1-9]' <<<"$1" &&
		grep -qE '^pingcraft_response_duration_seconds_count\{[^}]*ip="::1"[^}]*\} [1-9]' <<<"$1"
}
metrics="" deadline=$((SECONDS + 30))
until answered "$metrics"; do
	[ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null || { cat "$root/tmp/serve.log" >&2; fail "no answered probe to 127.0.0.1 and ::1 in /metrics within 30s"; }
	sleep 0.5
	metrics=$(scrape)
done
grep -E '^pingcraft_(requests_total|response_duration_seconds_count)\{' <<<"$metrics" | sed 's/^/  /'
# ip netns exec, chroot and setpriv exec in turn, so $pid is strace's; its
# child is serve.
mainpid=$(pgrep -P "$pid" -x pingcraft || true)
[ -n "$mainpid" ] || fail "no pingcraft process under strace ($pid)"
echo "deb check: serve answered as $(stat -c %U /proc/"$mainpid") with CapEff $(awk '/^CapEff:/ {print $2}' /proc/"$mainpid"/status) (CAP_NET_RAW is 0000000000002000)"

before=$(sed -n 's/^pingcraft_config_last_reload_success_timestamp_seconds //p' <<<"$metrics")
echo "deb check: ExecReload: ${reload[*]} (MAINPID=$mainpid)"
MAINPID=$mainpid chroot "$root" "${reload[@]}"
deadline=$((SECONDS + 10))
until grep -q 'msg=reloaded' "$root/tmp/serve.log"; do
	[ $SECONDS -lt $deadline ] || { cat "$root/tmp/serve.log" >&2; fail "no reload logged within 10s of ExecReload"; }
	sleep 0.2
done
metrics=$(scrape)
after=$(sed -n 's/^pingcraft_config_last_reload_success_timestamp_seconds //p' <<<"$metrics")
grep -q '^pingcraft_config_last_reload_successful 1' <<<"$metrics" || fail "pingcraft_config_last_reload_successful is not 1 after the reload"
[ "$before" != "$after" ] || fail "the reload timestamp did not move ($before)"
echo "deb check: reloaded: pingcraft_config_last_reload_success_timestamp_seconds $before -> $after"

# Then /probe and POST /-/reload, for their system calls.
ip netns exec "$netns" curl -fsS --max-time 5 'http://127.0.0.1:10374/probe?target=::1' | grep -q '^probe_success 1' ||
	fail "GET /probe?target=::1: no probe_success 1"
ip netns exec "$netns" curl -fsS --max-time 5 -X POST http://127.0.0.1:10374/-/reload >/dev/null ||
	fail "POST /-/reload"

kill -TERM "$mainpid"
wait "$pid" 2>/dev/null || true
pid=""
echo "deb check: stopped by SIGTERM; serve's log:"
sed 's/^/  /' "$root/tmp/serve.log"

echo "deb check: systemd-analyze verify pingcraft-serve.service"
# --man=no: the chroot has no man-db to look Documentation=man:pingcraft(1)
# up with; the page itself was checked above.
out=$(in_root systemd-analyze verify --man=no /usr/lib/systemd/system/pingcraft-serve.service 2>&1) || { echo "$out" >&2; fail "systemd-analyze verify"; }
# verify exits 0 on warnings too; a unit of ours must have none.
[ -z "$out" ] || { echo "$out" >&2; fail "systemd-analyze verify warned"; }

# SystemCallFilter= cannot be tried without systemd: every call serve made
# above (start, scrapes, both reloads, /probe, SIGTERM) must be in the sets
# the unit allows, or the service would fail under systemd where it passed
# here.
syscall_set() { # NAME...: the calls of each set, its nested sets expanded
	local name
	for name in "$@"; do
		case $name in
		@*) in_root systemd-analyze syscall-filter "$name" | sed -n 's/^ \+\([@a-z0-9_-]\+\)$/\1/p' |
			while read -r entry; do syscall_set "$entry"; done ;;
		*) echo "$name" ;;
		esac
	done
}
read -r -a filters <<<"$(directive SystemCallFilter)"
syscall_set "${filters[@]}" | sort -u >"$root/tmp/allowed"
sed -n 's/^[0-9]\+ \+\([a-z0-9_]\+\)(.*/\1/p' "$root/tmp/serve.strace" | sort -u >"$root/tmp/used"
[ -s "$root/tmp/used" ] || fail "strace saw no system call"
denied=$(comm -23 "$root/tmp/used" "$root/tmp/allowed")
[ -z "$denied" ] || fail "serve made calls SystemCallFilter=${filters[*]} denies: $(echo $denied)"
echo "deb check: serve's $(wc -l <"$root/tmp/used") distinct system calls are all in SystemCallFilter=${filters[*]}"
in_root systemd-analyze security --offline=yes /usr/lib/systemd/system/pingcraft-serve.service 2>/dev/null | tail -1 | sed 's/^/  /' || true
# Purge leaves nothing of the package behind, conffiles included.
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq pingcraft >"$root/tmp/apt-purge.log" 2>&1 ||
	{ cat "$root/tmp/apt-purge.log" >&2; fail "apt-get purge pingcraft"; }
for f in /usr/bin/pingcraft /etc/pingcraft /etc/default/pingcraft-serve /usr/lib/pingcraft; do
	[ ! -e "$root$f" ] || fail "$f is still there after apt-get purge"
done
echo "deb check: purged: nothing left"
echo "deb check: ok"
