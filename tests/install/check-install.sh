#!/usr/bin/env bash
# meson install into a DESTDIR installs what a package would, where this build's options say:
# the programs, the module and its Unbound, units with the configured paths (checked with
# systemd-analyze verify and security), sysusers.d and tmpfiles.d entries that work (applied
# with --root), sample configurations, man pages and docs.
# usage: check-install.sh BUILD_DIR, with the install paths in the environment (tests/meson.build)
set -u
build=$1
destdir=$(mktemp -d)
trap 'rm -rf "$destdir"' EXIT
passed=0 failed=0

ok() {
	echo "ok   $1"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL $1"
	failed=$((failed + 1))
}
expect() { # expect WHAT COMMAND...: ok when the command succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

if ! out=$(meson install -C "$build" --no-rebuild --destdir "$destdir" 2>&1); then
	echo "$out"
	fail "meson install --destdir"
	echo "$passed passed, $failed failed"
	exit 1
fi
d=$destdir

expect "gwctl in $BINDIR" test -x "$d$BINDIR/gwctl"
expect "gwctld in $SBINDIR" test -x "$d$SBINDIR/gwctld"
expect "ipref-dataplane in $SBINDIR" test -x "$d$SBINDIR/ipref-dataplane"
expect "gwctld --version runs" "$d$SBINDIR/gwctld" --version
if [[ $MODULE == yes ]]; then
	expect "module in the multiarch libdir ($LIBDIR/ipref)" test -f "$d$LIBDIR/ipref/ipref.so"
	for p in unbound unbound-checkconf unbound-control; do
		expect "$p in $LIBEXECDIR/ipref" test -x "$d$LIBEXECDIR/ipref/$p"
	done
	expect "the unbound.service drop-in" test -f "$d$UNITDIR/unbound.service.d/ipref.conf"
	expect "the sample unbound.conf loads the installed module" \
		grep -qF "dynlib-file: \"$LIBDIR/ipref/ipref.so\"" "$d$DOCDIR/examples/unbound.conf"
fi
for u in gwctld.service gwctld.socket ipref-dataplane.service; do
	expect "$u in $UNITDIR" test -f "$d$UNITDIR/$u"
done
expect "sysusers.d entry" test -f "$d$SYSUSERSDIR/ipref.conf"
expect "tmpfiles.d entry" test -f "$d$TMPFILESDIR/ipref.conf"
for f in gwctl.conf dataplane.conf resolver.conf unbound.conf; do
	expect "sample $f in $DOCDIR/examples" test -f "$d$DOCDIR/examples/$f"
done
expect "the sample dataplane.conf names gwctld's socket" \
	grep -qx "gwctl-socket = /run/ipref/gwctl.sock" "$d$DOCDIR/examples/dataplane.conf"
for f in operations.md gwctl.md gwctl.conf.md dataplane.md resolver.md README.md LICENSE; do
	expect "doc $f" test -f "$d$DOCDIR/$f"
done
for m in $MANPAGES; do
	expect "man page $m" test -f "$d$MANDIR/man${m##*.}/$m"
done
nothing_left() { ! grep -l '@[a-z_]*@' "$@"; }
expect "no template placeholder left in the units" nothing_left "$d$UNITDIR"/*.service \
	"$d$UNITDIR"/*.socket "$d$TMPFILESDIR/ipref.conf"

# every program a unit starts is one this installation put there
units=("$d$UNITDIR/gwctld.service" "$d$UNITDIR/gwctld.socket" "$d$UNITDIR/ipref-dataplane.service")
[[ $MODULE == yes ]] && units+=("$d$UNITDIR/unbound.service.d/ipref.conf")
for u in "${units[@]}"; do
	while read -r exe; do
		[[ $exe == /bin/kill ]] && continue
		expect "$(basename "$u"): $exe is installed" test -x "$d$exe"
	done < <(sed -n 's/^Exec[A-Za-z]*=\([^ ]\+\).*/\1/p' "$u")
done

# The layout of a Debian package (--prefix=/usr), from a fresh set-up of this source tree: what
# would be installed where (meson introspect needs no build), and the paths in the units
debian=$(mktemp -d)
trap 'rm -rf "$destdir" "$debian"' EXIT
if meson setup "$debian/b" "$SOURCE" --prefix=/usr -Dtests=disabled \
	-Dunbound_build="$UNBOUND_BUILD" >"$debian/setup.log" 2>&1; then
	meson introspect "$debian/b" --installed |
		python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin).values()))' \
			>"$debian/installed"
	multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
	want=(/usr/bin/gwctl /usr/sbin/gwctld /usr/sbin/ipref-dataplane
		/usr/lib/systemd/system/gwctld.service /usr/lib/systemd/system/gwctld.socket
		/usr/lib/systemd/system/ipref-dataplane.service /usr/lib/sysusers.d/ipref.conf
		/usr/lib/tmpfiles.d/ipref.conf /usr/share/doc/ipref/examples/gwctl.conf
		/usr/share/doc/ipref/operations.md)
	for m in $MANPAGES; do want+=("/usr/share/man/man${m##*.}/$m"); done
	if grep -q '/ipref\.so$' "$debian/installed"; then
		want+=("/usr/lib/$multiarch/ipref/ipref.so" /usr/libexec/ipref/unbound
			/usr/lib/systemd/system/unbound.service.d/ipref.conf)
	fi
	missing=$(for w in "${want[@]}"; do grep -qx "$w" "$debian/installed" || echo "$w"; done)
	expect "--prefix=/usr installs the Debian layout${missing:+ (missing: $missing)}" \
		test -z "$missing"
	expect "--prefix=/usr: gwctld.service runs /usr/sbin/gwctld with /etc/ipref/gwctl.conf" \
		grep -qx 'ExecStart=/usr/sbin/gwctld --config /etc/ipref/gwctl.conf' \
		"$debian/b/dist/gwctld.service"
	expect "--prefix=/usr: tmpfiles.d copies the samples to /etc/ipref" \
		grep -qx 'C /etc/ipref/gwctl.conf - - - - /usr/share/doc/ipref/examples/gwctl.conf' \
		"$debian/b/dist/tmpfiles-ipref.conf"
else
	cat "$debian/setup.log"
	fail "meson setup --prefix=/usr"
fi

if ! command -v systemd-analyze >/dev/null; then
	echo "$passed passed, $failed failed"
	echo "SKIP: systemd-analyze is not installed: the units are not verified"
	[[ $failed -eq 0 ]] && exit 77
	exit 1
fi

# systemd-analyze verify: the programs live in DESTDIR, not at their paths yet; that complaint is
# accepted for exactly the programs checked above, nothing else. Debian's unbound.service is
# stood in for by a copy of its ExecStart, to verify the drop-in with it.
stand_in=$(mktemp -d)
trap 'rm -rf "$destdir" "$debian" "$stand_in"' EXIT
cp "$d$UNITDIR"/gwctld.service "$d$UNITDIR"/gwctld.socket "$d$UNITDIR"/ipref-dataplane.service \
	"$stand_in/"
to_verify=("$stand_in/gwctld.service" "$stand_in/gwctld.socket" "$stand_in/ipref-dataplane.service")
if [[ $MODULE == yes ]]; then
	mkdir "$stand_in/unbound.service.d"
	cp "$d$UNITDIR/unbound.service.d/ipref.conf" "$stand_in/unbound.service.d/"
	printf '[Service]\nType=notify\nExecStart=/usr/sbin/unbound -d -p $DAEMON_OPTS\n' \
		>"$stand_in/unbound.service"
	to_verify+=("$stand_in/unbound.service")
fi
for u in "${to_verify[@]}"; do
	out=$(systemd-analyze verify --man=no "$u" 2>&1 |
		while read -r line; do
			exe=$(sed -n 's/.*: Command \(.*\) is not executable: No such file or directory$/\1/p' \
				<<<"$line")
			[[ -n $exe && -x $d$exe ]] || echo "$line"
		done)
	if [[ -z $out ]]; then ok "systemd-analyze verify $(basename "$u")"; else
		fail "systemd-analyze verify $(basename "$u"):"
		echo "$out"
	fi
done

# exposure: at most 2.0 for gwctld, 3.0 for the dataplane (the reasons for the rest are
# comments in the units)
for pair in gwctld.service:2.0 ipref-dataplane.service:3.0; do
	u=${pair%%:*} limit=${pair##*:}
	level=$(systemd-analyze security --offline=yes "$stand_in/$u" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [[ -n $level ]] && awk -v l="$level" -v m="$limit" 'BEGIN { exit !(l <= m) }'; then
		ok "systemd-analyze security $u: $level (at most $limit)"
	else
		fail "systemd-analyze security $u: '${level}' (at most $limit)"
	fi
done

# sysusers.d and tmpfiles.d applied to DESTDIR as systemd does at boot: the user and group,
# /etc/ipref with the samples; and an edited configuration stays as it is
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
	mkdir -p "$d/etc"
	expect "systemd-sysusers accepts ipref.conf" \
		systemd-sysusers --root="$d" "$d$SYSUSERSDIR/ipref.conf"
	expect "the user ipref exists" grep -q '^ipref:' "$d/etc/passwd"
	expect "unbound is in the group ipref" grep -qE '^ipref:[^:]*:[0-9]+:(.*,)?unbound(,|$)' \
		"$d/etc/group"
	expect "systemd-tmpfiles accepts ipref.conf" \
		systemd-tmpfiles --create --root="$d" "$d$TMPFILESDIR/ipref.conf"
	for f in gwctl.conf dataplane.conf resolver.conf; do
		expect "tmpfiles.d put $f in $SYSCONFDIR/ipref" \
			cmp -s "$d$SYSCONFDIR/ipref/$f" "$d$DOCDIR/examples/$f"
	done
	echo "gateway = 203.0.113.1" >>"$d$SYSCONFDIR/ipref/gwctl.conf"
	systemd-tmpfiles --create --root="$d" "$d$TMPFILESDIR/ipref.conf"
	expect "tmpfiles.d keeps an edited gwctl.conf" \
		grep -qx "gateway = 203.0.113.1" "$d$SYSCONFDIR/ipref/gwctl.conf"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
