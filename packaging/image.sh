#!/usr/bin/env bash
# The container image of packaging/Containerfile.
#   image.sh build VERSION REVISION BRANCH   build it where docker or podman has an engine
#   image.sh check                           run dist/image/pingcraft as the image's
#                                            entrypoint would (root)
# `check` needs no container engine: it lays out the image's files (the static
# binary, the default configuration, the nonroot user) in a directory, and runs
# the ENTRYPOINT and CMD of the Containerfile there as the Containerfile's USER,
# in a network namespace of its own with loopback only, with the ping socket
# open to every group as Docker opens it in a container. Then it scrapes
# /metrics until loopback's probes are answered, and stops the process.
set -euo pipefail
cd "$(dirname "$0")/.."

containerfile=packaging/Containerfile

engine() {
	local e
	for e in docker podman; do
		if command -v "$e" >/dev/null 2>&1 && "$e" info >/dev/null 2>&1; then
			echo "$e"
			return 0
		fi
	done
	return 1
}

# instruction NAME: the arguments of the last NAME instruction, a JSON array
# of plain strings, one a line.
instruction() {
	grep -E "^$1 " "$containerfile" | tail -1 | sed -E "s/^$1 +//" |
		sed -E 's/^\[ *"//; s/" *\]$//; s/" *, *"/\n/g'
}

build() {
	local e
	if ! e=$(engine); then
		echo "image: no container engine answers (docker info, podman info): the image is not built;" \
			"dist/image/pingcraft is the binary it would copy, and task package-check runs it as its entrypoint would"
		return 0
	fi
	"$e" build -f "$containerfile" -t "pingcraft:${1:-dev}" \
		--build-arg VERSION="${1:-dev}" --build-arg REVISION="${2:-unknown}" --build-arg BRANCH="${3:-unknown}" .
}

# For check's EXIT trap, which runs outside check.
pid="" root="" netns=pkg-img-$$ # its own, so that two checks can run at once

check() {
	local bin=dist/image/pingcraft user entry=() cmd=()
	[ "$(id -u)" -eq 0 ] || { echo "image check: needs root (network namespace, chroot)" >&2; exit 1; }
	[ -x "$bin" ] || { echo "image check: no $bin: run task package first" >&2; exit 1; }

	# Static means no interpreter and no shared library to find in the image.
	if ldd "$bin" >/dev/null 2>&1; then
		echo "image check: $bin is dynamically linked; the image needs CGO_ENABLED=0" >&2
		exit 1
	fi

	root=$(mktemp -d /tmp/pkg-img.XXXXXX)
	chmod 755 "$root" # the image's user must reach its files
	cleanup() {
		[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
		ip netns del "$netns" 2>/dev/null || true
		[ -z "$root" ] || rm -rf "$root"
	}
	trap cleanup EXIT

	# What the image holds: distroless/static's passwd and group entries for
	# nonroot, and the Containerfile's two COPYs.
	mkdir -p "$root"/usr/bin "$root"/etc/pingcraft "$root"/tmp
	printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root"/etc/passwd
	printf 'root:x:0:\nnonroot:x:65532:\n' >"$root"/etc/group
	cp "$bin" "$root"/usr/bin/pingcraft
	cp packaging/serve.yml "$root"/etc/pingcraft/serve.yml
	cp fixtures/echo.pcap "$root"/tmp/echo.pcap # for the filter expression below

	user=$(instruction USER)
	mapfile -t entry < <(instruction ENTRYPOINT)
	mapfile -t cmd < <(instruction CMD)
	echo "image check: running as $user: ${entry[*]} ${cmd[*]}"

	ip netns del "$netns" 2>/dev/null || true
	ip netns add "$netns"
	ip -n "$netns" link set lo up
	ip netns exec "$netns" sysctl -q -w net.ipv4.ping_group_range="0 2147483647"

	# What the static build gives up, said by the binary itself.
	echo "image check: without cgo:"
	ip netns exec "$netns" chroot --userspec="$user" "$root" "${entry[@]}" --version | sed 's/^/  /'
	# (ethernet needs a link with a link layer: a veth pair, in this namespace only)
	ip -n "$netns" link add pkg-d0 type veth peer name pkg-d1
	ip -n "$netns" link set pkg-d1 up
	ip -n "$netns" addr add 198.18.0.1/24 dev pkg-d0
	ip -n "$netns" link set pkg-d0 up
	ip netns exec "$netns" chroot "$root" "${entry[@]}" send --mode ethernet -c 1 -W 1 198.18.0.2 2>&1 | sed 's/^/  /' || true
	ip netns exec "$netns" chroot --userspec="$user" "$root" "${entry[@]}" watch -r /tmp/echo.pcap icmp 2>&1 | sed 's/^/  /' || true

	ip netns exec "$netns" chroot --userspec="$user" "$root" "${entry[@]}" "${cmd[@]}" >"$root"/log 2>&1 &
	pid=$!

	local metrics="" deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do
		metrics=$(ip netns exec "$netns" curl -fsS --max-time 2 http://127.0.0.1:10374/metrics 2>/dev/null || true)
		if grep -qE '^pingcraft_response_duration_seconds_count\{[^}]*ip="127.0.0.1"[^}]*\} [1-9]' <<<"$metrics" &&
			grep -qE '^pingcraft_response_duration_seconds_count\{[^}]*ip="::1"[^}]*\} [1-9]' <<<"$metrics"; then
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	local caps
	caps=$(awk '/^CapEff:/ {print $2}' /proc/"$(pgrep -P "$pid" -x pingcraft || echo "$pid")"/status 2>/dev/null || echo "?")
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=""
	if ! grep -qE '^pingcraft_response_duration_seconds_count\{[^}]*ip="::1"[^}]*\} [1-9]' <<<"$metrics" ||
		! grep -qE '^pingcraft_response_duration_seconds_count\{[^}]*ip="127.0.0.1"[^}]*\} [1-9]' <<<"$metrics"; then
		echo "image check: FAIL: no answered probe to 127.0.0.1 and ::1 in /metrics within 30s; serve's log:" >&2
		cat "$root"/log >&2
		exit 1
	fi
	grep -E '^pingcraft_(requests_total|response_duration_seconds_count)\{' <<<"$metrics" | sed 's/^/  /'
	echo "image check: ok: the entrypoint served /metrics as $user with effective capabilities $caps, probing loopback over the ping socket"
}

case "${1:-}" in
build) shift; build "$@" ;;
check) check ;;
*) echo "usage: $0 build VERSION REVISION BRANCH | check" >&2; exit 2 ;;
esac
