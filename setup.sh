#!/usr/bin/env bash
# Sets berth up on a fresh machine (root, Debian): the packages it and its tests use, Node 24
# from the npm registry, the C shim built with this machine's compiler, `berth` on PATH, and a
# busybox image. Then it runs a container to show that all of it works. Safe to run again.
# Usage: ./setup.sh [--quiet] [--no-demo]
set -euo pipefail
cd "$(dirname "$0")"
quiet=0 demo=1
for a in "$@"; do
  case $a in
    --quiet) quiet=1 ;;
    --no-demo) demo=0 ;;
    *) echo "usage: ./setup.sh [--quiet] [--no-demo]" >&2; exit 2 ;;
  esac
done
say() { [ $quiet = 1 ] || echo "setup: $*"; }

[ "$(id -u)" = 0 ] || { echo "setup: berth runs containers as root: run this as root" >&2; exit 1; }

# Debian packages: the compiler for the shim, busybox-static for small images, runc for the
# side-by-side benchmark, iproute2 for the leak checks in tests and the tests' second host.
need=()
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v make >/dev/null || need+=(make)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/libc.a ] || need+=(libc6-dev)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v runc >/dev/null || need+=(runc)
# containerd (with ctr): berth-runtime is tested as its runc shim's runtime binary.
command -v containerd >/dev/null || need+=(containerd)
command -v ip >/dev/null || need+=(iproute2)
command -v npm >/dev/null || need+=(npm)
# Networking: the standard CNI plugins (bridge, host-local, portmap, tuning) and iptables, which
# the plugins and berth's per-network forwarding rules use.
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || need+=(containernetworking-plugins)
command -v iptables >/dev/null || need+=(iptables)
# The pull tests: the CNCF registry on loopback, skopeo to push into it, htpasswd (bcrypt) for
# basic auth, openssl for the token server's certificate.
new_registry=0
dpkg -s docker-registry >/dev/null 2>&1 || { need+=(docker-registry); new_registry=1; }
dpkg -s skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v openssl >/dev/null || need+=(openssl)
# save/load tests: umoci builds and edits OCI image layouts independently of berth.
dpkg -s umoci >/dev/null 2>&1 || need+=(umoci)
# Layer images: fsck.erofs (erofs-utils) checks what berth writes, independently of the kernel.
command -v fsck.erofs >/dev/null || need+=(erofs-utils)
# Real clients of the daemon in the tests: Debian's Docker SDK for Python and docker-compose 1.29.
dpkg -s python3-docker >/dev/null 2>&1 || need+=(python3-docker)
dpkg -s docker-compose >/dev/null 2>&1 || need+=(docker-compose)
# dockerd (docker.io), which the API tests run privately (own socket and directories) to compare
# berth's answers with.
[ -x /usr/sbin/dockerd ] || need+=(docker.io)
# Resource views: lxcfs serves /proc/meminfo, cpuinfo, uptime... per container (berth starts it
# itself on demand; the package's own service is not needed).
command -v lxcfs >/dev/null || need+=(lxcfs)
# Builds: git fetches remote (Git URL) build contexts; the tests serve them with git daemon.
command -v git >/dev/null || need+=(git)
# RUN --mount=type=ssh is tested with a real ssh-agent, ssh-add and ssh-keygen.
command -v ssh-agent >/dev/null || need+=(openssh-client)
if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The package enables a registry service on :5000 for every interface; tests start their own.
  if [ $new_registry = 1 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
fi

# The Engine API's reference (moby's api/swagger.yaml, v1.41, as Debian ships it in the Go
# sources of docker.io): the API tests check berth's answers against its schemas. Only that file
# is taken from the package (its Go dependencies are not needed).
spec=.cache/engine-api/swagger.yaml
if [ ! -s $spec ]; then
  say "fetching the Engine API reference (golang-github-docker-docker-dev)"
  tmp_spec=$(mktemp -d) && chmod 755 "$tmp_spec"
  (cd "$tmp_spec" && { apt-get download golang-github-docker-docker-dev >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get download golang-github-docker-docker-dev >/dev/null 2>&1; }; })
  mkdir -p "$(dirname $spec)"
  dpkg-deb --fsys-tarfile "$tmp_spec"/golang-github-docker-docker-dev_*.deb |
    tar -xO ./usr/share/gocode/src/github.com/docker/docker/api/swagger.yaml > $spec.tmp
  mv $spec.tmp $spec
  rm -rf "$tmp_spec"
fi

# The daemon's socket belongs to root and the berth group (docker's docker group): members may
# use the API, which is root-equivalent; add only users who may be root.
getent group berth >/dev/null || groupadd -f berth

# Node 24 and the type checker, pinned by package-lock.json.
if [ ! -x node_modules/node/bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing Node 24 and dev tools from the npm registry"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
node_modules/node/bin/node -e 'if (+process.versions.node.split(".")[0] < 24) process.exit(1)' ||
  { echo "setup: node_modules/node is not Node 24" >&2; exit 1; }

say "building the shim"
make -s -C native >/dev/null
# The CLI as one file (dist/berth.cjs), which starts faster than the modules of src/.
node_modules/node/bin/node scripts/bundle.ts

# `berth` and `berth-runtime` on PATH: wrappers with this checkout's absolute path (generated,
# never committed).
for cmd in berth berth-runtime; do
  cat > /usr/local/bin/$cmd.tmp <<WRAP
#!/bin/sh
exec "$PWD/bin/$cmd" "\$@"
WRAP
  chmod 755 /usr/local/bin/$cmd.tmp
  mv /usr/local/bin/$cmd.tmp /usr/local/bin/$cmd
done

if ! bin/berth image inspect busybox:latest >/dev/null 2>&1; then
  say "making the busybox image from Debian's busybox-static"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  scripts/mkrootfs.sh "$tmp/rootfs.tar"
  bin/berth import --change 'CMD ["sh"]' "$tmp/rootfs.tar" busybox:latest >/dev/null
fi

if [ $demo = 1 ]; then
  say "running: berth run --rm busybox echo hello from a berth container"
  bin/berth run --rm busybox echo hello from a berth container
fi
