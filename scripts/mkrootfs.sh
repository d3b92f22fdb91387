#!/bin/sh
# Writes a tarball of a minimal root filesystem built from the machine's static busybox:
# /bin with every applet, /etc/passwd and /etc/group with root, nobody and a uid-1000 user.
# Usage: scripts/mkrootfs.sh OUT.tar
set -eu
out=${1:?usage: mkrootfs.sh OUT.tar}
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkrootfs: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
file -L "$bb" 2>/dev/null | grep -q 'statically linked' || ldd "$bb" 2>&1 | grep -q 'not a dynamic' || {
  echo "mkrootfs: $bb is not static (apt-get install busybox-static)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/etc" "$tmp/tmp" "$tmp/root" "$tmp/home/user" "$tmp/var" "$tmp/proc" "$tmp/sys" "$tmp/dev"
chmod 1777 "$tmp/tmp"
cp "$bb" "$tmp/bin/busybox"
for app in $("$bb" --list); do
  [ "$app" = busybox ] || ln -s busybox "$tmp/bin/$app"
done
cat > "$tmp/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$tmp/etc/group" <<'GR'
root:x:0:
tty:x:5:
user:x:1000:
staff:x:50:user
nogroup:x:65534:
GR
chown 1000:1000 "$tmp/home/user"
tar --numeric-owner -C "$tmp" -cf "$out" .
