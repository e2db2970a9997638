# Sourced (by scripts/sam_local_test.sh): defines docker_bridge_address, which
# prints this machine's IPv4 address on Docker's default bridge network, where
# a server must listen for both this machine and the containers to reach it.
#
#   1. the bridge network's IPAM gateway (`docker network inspect bridge`);
#   2. otherwise the IPv4 address of the bridge's interface, docker0 (`ip`),
#      which is that gateway: on a daemon's first start (no docker0 yet, no
#      network state in /var/lib/docker) Docker leaves the gateway out of the
#      network's IPAM configuration until it is restarted
#      (https://github.com/moby/moby/issues/26799);
#   3. while neither is there (a daemon still setting the network up), both
#      are asked again every DOCKER_BRIDGE_POLL_SECS (default 0.5) for up to
#      DOCKER_BRIDGE_WAIT_SECS (default 30); then it fails (status 1),
#      printing on stderr what Docker answered (its error, or the network's
#      IPAM gateways) and what `ip` said.
#
# Safe under `set -euo pipefail`. scripts/docker_bridge_test.sh exercises each
# path with stand-in `docker` and `ip` commands.

# The first line of stdin that is an IPv4 address.
_first_ipv4() {
    local line
    while IFS= read -r line; do
        line="${line//[[:space:]]/}"
        if [[ "$line" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
            printf '%s\n' "$line"
            return 0
        fi
    done
    return 1
}

docker_bridge_address() {
    local wait_secs="${DOCKER_BRIDGE_WAIT_SECS:-30}" poll="${DOCKER_BRIDGE_POLL_SECS:-0.5}"
    local deadline=$((SECONDS + wait_secs)) address=""
    local docker_out="" docker_status=0 ip_out="" ip_status=0
    while :; do
        docker_status=0
        # One gateway per line: a bridge with IPv6 has two configurations.
        docker_out="$(docker network inspect bridge \
            -f '{{range .IPAM.Config}}{{println .Gateway}}{{end}}' 2>&1)" || docker_status=$?
        if [ "$docker_status" -eq 0 ] && address="$(_first_ipv4 <<<"$docker_out")"; then
            printf '%s\n' "$address"
            return 0
        fi
        if ! command -v ip >/dev/null 2>&1; then
            ip_status=127
            ip_out="no ip command (Debian: apt-get install iproute2)"
        else
            ip_status=0
            ip_out="$(ip -4 -o addr show dev docker0 2>&1)" || ip_status=$?
            # `3: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0 ...`
            if [ "$ip_status" -eq 0 ] &&
                address="$(awk '{for (i = 1; i < NF; i++) if ($i == "inet") {split($(i + 1), a, "/"); print a[1]}}' \
                    <<<"$ip_out" | _first_ipv4)"; then
                echo "docker_bridge_address: Docker names no gateway for the bridge network" \
                    "(a daemon's first start leaves it out: https://github.com/moby/moby/issues/26799);" \
                    "using the docker0 interface's address, $address" >&2
                printf '%s\n' "$address"
                return 0
            fi
        fi
        [ "$SECONDS" -lt "$deadline" ] || break
        sleep "$poll"
    done

    {
        echo "docker_bridge_address: no Docker bridge address to serve on within ${wait_secs} s."
        if [ "$docker_status" -ne 0 ]; then
            echo "  docker network inspect bridge failed (exit $docker_status):"
        else
            echo "  docker network inspect bridge named no IPv4 gateway; its IPAM gateways:"
        fi
        printf '%s\n' "${docker_out:-(nothing)}" | sed 's/^/    /'
        echo "  ip -4 addr show dev docker0 (exit $ip_status):"
        printf '%s\n' "${ip_out:-(nothing)}" | sed 's/^/    /'
    } >&2
    return 1
}
