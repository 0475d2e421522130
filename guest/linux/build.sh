#!/usr/bin/env bash
# guest/linux/build.sh: builds picovm's default Linux guest from Debian
# packages only (issue 6), idempotently:
#
#   kernel      Debian's linux-source-6.1, `make tinyconfig` + config.fragment,
#               patches/*.patch applied; vmlinux (booted, uncompressed) and
#               bzImage.  Built once per machine and cached outside the
#               checkout, in $PICOVM_CACHE (default ~/.cache/picovm) under
#               linux-KEY/, KEY a hash of the fragment, the patches, the
#               source package version, the compiler and this recipe.
#   helpers     picovm-exit, picovm-boottime, picovm-pwrbtn, picovm-snapshot
#               (initramfs/picovm-io.c), static.
#   initramfs   build/initramfs.cpio: uncompressed cpio of busybox-static, the
#               helpers and initramfs/init.
#   rootfs      build/rootfs.ext4: ext4 image of the same tree, made with
#               `mke2fs -d` (no root, no mounts); /sbin/init is the same init.
#
# Outputs (stable paths, build/ is git-ignored):
#   guest/linux/build/vmlinux  -> $PICOVM_CACHE/linux-KEY/vmlinux
#   guest/linux/build/bzImage  -> $PICOVM_CACHE/linux-KEY/bzImage
#   guest/linux/build/{initramfs.cpio,rootfs.ext4,picovm-exit,picovm-boottime}
#
# Usage: guest/linux/build.sh [kernel|userland|all]   (default all)
# Environment: PICOVM_CACHE (cache folder), JOBS (make -j, default nproc),
#   PICOVM_KEEP_SRC=1 keeps the configured, built kernel tree in the cache
#   (linux-KEY/src) for debugging; otherwise it is removed after the build.
# Missing Debian packages are installed with apt-get when running as root.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE/build
CACHE=${PICOVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/picovm}
JOBS=${JOBS:-$(nproc)}
WHAT=${1:-all}
# Bump when the recipe below changes in a way that changes the kernel.
RECIPE=1
SRC_PKG=linux-source-6.1
SRC_TAR=/usr/src/linux-source-6.1.tar.xz
ROOTFS_SIZE=64M

T0=$SECONDS
say() { printf '[linux-guest %3ds] %s\n' $((SECONDS - T0)) "$*"; }
die() { printf 'guest/linux/build.sh: %s\n' "$*" >&2; exit 1; }

case $WHAT in kernel|userland|all) ;; *) die "usage: $0 [kernel|userland|all]";; esac

# --- Debian packages ---------------------------------------------------------
PKGS="$SRC_PKG busybox-static e2fsprogs cpio xz-utils gcc make bc bison flex
libelf-dev libssl-dev"
installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}
missing=
for p in $PKGS; do installed "$p" || missing="$missing $p"; done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then
		say "installing Debian packages:$missing"
		apt-get update -q >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null
	else
		die "missing Debian packages:$missing; run: sudo apt-get install$missing"
	fi
fi

mkdir -p "$OUT" "$CACHE"

# --- kernel ------------------------------------------------------------------
src_version=$(dpkg-query -W -f='${Version}' "$SRC_PKG")
KEY=$( {
	echo "recipe $RECIPE"
	echo "$SRC_PKG $src_version"
	gcc --version | head -n1
	cat "$HERE/config.fragment"
	for p in "$HERE"/patches/*.patch; do
		[ -e "$p" ] || continue
		echo "patch $(basename "$p")"; cat "$p"
	done
} | sha256sum | cut -c1-16)
KDIR=$CACHE/linux-$KEY

build_kernel() {
	local tmp=$KDIR.tmp log=$KDIR.tmp/build.log src
	rm -rf "$tmp"
	mkdir -p "$tmp"
	say "kernel $KEY: not cached; building ($SRC_PKG $src_version, make -j$JOBS, about 5 minutes on 2 cores)"
	say "  log: $log"
	say "  unpacking $SRC_TAR"
	tar -C "$tmp" -xJf "$SRC_TAR"
	src=$tmp/src
	mv "$tmp/linux-source-6.1" "$src"
	for p in "$HERE"/patches/*.patch; do
		[ -e "$p" ] || continue
		say "  patch $(basename "$p")"
		patch -d "$src" -p1 --quiet < "$p" >>"$log" 2>&1 ||
			{ tail -n 20 "$log"; die "patch $p failed"; }
	done
	local mk=(make -C "$src" ARCH=x86_64 KBUILD_BUILD_USER=picovm
		KBUILD_BUILD_HOST=picovm)
	say "  configuring: tinyconfig + config.fragment"
	{
		"${mk[@]}" tinyconfig &&
		(cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m .config \
			"$HERE/config.fragment") &&
		"${mk[@]}" olddefconfig
	} >>"$log" 2>&1 || { tail -n 30 "$log"; die "kernel configuration failed"; }
	# Every line of the fragment must have survived olddefconfig.
	local bad=
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) grep -qxF "$line" "$src/.config" || bad="$bad $line";;
		"# CONFIG_"*" is not set")
			local opt=${line#\# }; opt=${opt%% *}
			grep -q "^$opt=" "$src/.config" && bad="$bad $line";;
		esac
	done < "$HERE/config.fragment"
	[ -z "$bad" ] || die "config.fragment options not honoured by Kconfig (missing dependencies?):$bad"
	say "  compiling vmlinux and bzImage"
	"${mk[@]}" -j"$JOBS" vmlinux bzImage >>"$log" 2>&1 &
	local pid=$! n
	while kill -0 "$pid" 2>/dev/null; do
		sleep 15
		kill -0 "$pid" 2>/dev/null || break
		n=$(grep -c '^  CC ' "$log" || true)
		say "    $n files compiled; last: $(grep '^  [A-Z]' "$log" | tail -n1 | sed 's/^ *//')"
	done
	if ! wait "$pid"; then
		echo "---- last lines of $log ----" >&2
		tail -n 40 "$log" >&2
		die "kernel build failed (full log: $log)"
	fi
	cp "$src/vmlinux" "$tmp/vmlinux"
	# tinyconfig builds no debug info; drop what remains besides the symbol
	# table (kept: `nm vmlinux` maps a guest RIP to a function).
	strip --strip-debug "$tmp/vmlinux"
	cp "$src/arch/x86/boot/bzImage" "$tmp/bzImage"
	cp "$src/.config" "$tmp/config"
	cp "$src/System.map" "$tmp/System.map"
	gcc -O2 -o "$tmp/gen_init_cpio" "$src/usr/gen_init_cpio.c" >>"$log" 2>&1
	echo "$src_version" > "$tmp/source-version"
	[ "${PICOVM_KEEP_SRC:-0}" = 1 ] || rm -rf "$src"
	rm -rf "$KDIR"
	mv "$tmp" "$KDIR"
	log=$KDIR/build.log
	say "kernel built: $KDIR ($(($(stat -c %s "$KDIR/vmlinux") / 1024)) KiB vmlinux, $(($(stat -c %s "$KDIR/bzImage") / 1024)) KiB bzImage)"
}

if [ "$WHAT" != userland ]; then
	# One build at a time per cache (make run and make test may race).
	exec 9>"$CACHE/.lock"
	flock 9
	if [ -f "$KDIR/vmlinux" ] && [ -f "$KDIR/bzImage" ]; then
		say "kernel $KEY: cached ($KDIR)"
	else
		build_kernel
	fi
	flock -u 9
	ln -sfn "$KDIR/vmlinux" "$OUT/vmlinux"
	ln -sfn "$KDIR/bzImage" "$OUT/bzImage"
	ln -sfn "$KDIR/config" "$OUT/kernel.config"
	ln -sfn "$KDIR/System.map" "$OUT/System.map"
fi
[ "$WHAT" = kernel ] && exit 0

# --- helpers -----------------------------------------------------------------
say "helpers: picovm-exit, picovm-boottime, picovm-pwrbtn, picovm-snapshot"
HCFLAGS=(-static -Os -nostdlib -ffreestanding -fno-stack-protector -fno-pie
	-no-pie -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -s
	-Wl,--build-id=none)
gcc "${HCFLAGS[@]}" -DPICOVM_EXIT -o "$OUT/picovm-exit" "$HERE/initramfs/picovm-io.c"
gcc "${HCFLAGS[@]}" -DPICOVM_BOOTTIME -o "$OUT/picovm-boottime" "$HERE/initramfs/picovm-io.c"
gcc "${HCFLAGS[@]}" -DPICOVM_PWRBTN -o "$OUT/picovm-pwrbtn" "$HERE/initramfs/picovm-io.c"
gcc "${HCFLAGS[@]}" -DPICOVM_SNAPSHOT -o "$OUT/picovm-snapshot" "$HERE/initramfs/picovm-io.c"

# gen_init_cpio writes the cpio from a list (device nodes and root ownership
# without root).  It comes with the kernel cache; build it if that is absent.
GEN=$KDIR/gen_init_cpio
if [ ! -x "$GEN" ]; then
	GEN=$OUT/gen_init_cpio
	if [ ! -x "$GEN" ]; then
		say "gen_init_cpio: extracting usr/gen_init_cpio.c from $SRC_TAR"
		tar -xJf "$SRC_TAR" -O linux-source-6.1/usr/gen_init_cpio.c > "$OUT/gen_init_cpio.c"
		gcc -O2 -o "$GEN" "$OUT/gen_init_cpio.c"
	fi
fi

# --- the guest's file tree -----------------------------------------------------
# One list describes the tree: it feeds gen_init_cpio directly, and a staging
# folder for mke2fs -d is made from it.
LIST=$OUT/initramfs.list
BB=/bin/busybox
{
	for d in /bin /sbin /usr /usr/bin /usr/sbin /dev /proc /sys /tmp /run \
		/root /etc /mnt /newroot /var; do
		echo "dir $d 0755 0 0"
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "nod /dev/null 0666 0 0 c 1 3"
	echo "file /bin/busybox $BB 0755 0 0"
	echo "file /init $HERE/initramfs/init 0755 0 0"
	echo "file /etc/profile $HERE/initramfs/profile 0644 0 0"
	echo "file /etc/fstab $HERE/initramfs/fstab 0644 0 0"
	echo "file /bin/picovm-exit $OUT/picovm-exit 0755 0 0"
	echo "file /bin/picovm-boottime $OUT/picovm-boottime 0755 0 0"
	echo "file /bin/picovm-pwrbtn $OUT/picovm-pwrbtn 0755 0 0"
	echo "file /bin/picovm-snapshot $OUT/picovm-snapshot 0755 0 0"
	echo "slink /sbin/init /init 0777 0 0"
	# One symlink per applet, at the path busybox itself names.
	"$BB" --list-full | while read -r a; do
		[ "/$a" = /bin/busybox ] || [ "/$a" = /sbin/init ] && continue
		case $a in
		bin/*) echo "slink /$a busybox 0777 0 0";;
		*) echo "slink /$a /bin/busybox 0777 0 0";;
		esac
	done
} > "$LIST"

say "initramfs: $OUT/initramfs.cpio (uncompressed)"
"$GEN" "$LIST" > "$OUT/initramfs.cpio.tmp"
mv "$OUT/initramfs.cpio.tmp" "$OUT/initramfs.cpio"

say "rootfs: $OUT/rootfs.ext4 ($ROOTFS_SIZE ext4, mke2fs -d)"
STAGE=$OUT/rootfs.d
rm -rf "$STAGE"
mkdir -p "$STAGE"
while read -r kind path a b c d e; do
	case $kind in
	dir) mkdir -p "$STAGE$path"; chmod "$a" "$STAGE$path";;
	file) cp "$a" "$STAGE$path"; chmod "$b" "$STAGE$path";;
	slink) ln -s "$a" "$STAGE$path";;
	nod) ;;	# devtmpfs provides /dev (CONFIG_DEVTMPFS_MOUNT)
	esac
done < "$LIST"
# The kernel mounts the root itself when booted without an initramfs; it
# then runs /sbin/init, the same script.  /dev/console for the window before
# devtmpfs is mounted is made by debugfs below (no root needed).
rm -f "$OUT/rootfs.ext4"
truncate -s "$ROOTFS_SIZE" "$OUT/rootfs.ext4"
# Inode tables and journal initialised here, not lazily by the guest kernel
# (ext4lazyinit would do it in the guest, slowly where its kernel is emulated).
mke2fs -q -F -t ext4 -L picovm-root -E lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0 \
	-d "$STAGE" "$OUT/rootfs.ext4" "$ROOTFS_SIZE"
# Files owned by root whoever built the image.
if [ "$(id -u)" != 0 ]; then
	cmds=$(cd "$STAGE" && find . -mindepth 1 | sed 's|^\.||' | while read -r f; do
		echo "sif $f uid 0"; echo "sif $f gid 0"; done)
	printf '%s\n' "$cmds" | debugfs -w -f - "$OUT/rootfs.ext4" >/dev/null 2>&1
fi
printf '%s\n' 'cd /dev' 'mknod console c 5 1' 'sif console mode 020600' \
	'mknod null c 1 3' 'sif null mode 020666' |
	debugfs -w -f - "$OUT/rootfs.ext4" >/dev/null 2>&1
rm -rf "$STAGE"

say "done:"
for f in vmlinux bzImage initramfs.cpio rootfs.ext4 picovm-exit picovm-boottime picovm-pwrbtn picovm-snapshot; do
	[ -e "$OUT/$f" ] || continue
	printf '  %-34s %6d KiB\n' "guest/linux/build/$f" $(($(stat -L -c %s "$OUT/$f") / 1024))
done
