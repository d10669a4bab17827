#!/bin/sh
# install.sh -- `make install DESTDIR=stage` gives the layout a Debian
# package expects: daemons in sbin, the default community file under
# --sysconfdir, man pages, the schema, the guide and sample files, the
# systemd units with the configured paths (accepted by systemd-analyze
# verify), and sysusers.d/tmpfiles.d snippets that systemd-sysusers and
# systemd-tmpfiles apply to the stage.  `make distdir` ships what the
# README links.
. "$top_srcdir/test/lib/testenv.sh"
. "$top_srcdir/test/lib/install.sh"
te_init install

S=$TE_DIR/stage
L=$TE_DIR/install.log

has() # FILE LINE: the exact line is in FILE
{
	grep -qxF -- "$2" "$1" || { echo "  missing in $1: $2"; \
		sed 's/^/  | /' "$1"; return 1; }
}

sbindir=$(te_mkvar sbindir)
bindir=$(te_mkvar bindir)
sysconfdir=$(te_mkvar sysconfdir)
runstatedir=$(te_mkvar runstatedir)
localstatedir=$(te_mkvar localstatedir)
mandir=$(te_mkvar mandir)
docdir=$(te_mkvar docdir)
pkgdatadir=$(te_mkvar pkgdatadir)
unitdir=$(te_mkvar systemdsystemunitdir)
sysusersdir=$(te_mkvar sysusersdir)
tmpfilesdir=$(te_mkvar tmpfilesdir)
te_check "configured directories read from the build tree" \
	[ -n "$sbindir" -a -n "$unitdir" -a -n "$tmpfilesdir" ]

te_install "$S" "$L"
te_check "make install DESTDIR=stage: exit 0" [ $? = 0 ] ||
	sed 's/^/  | /' "$L" | tail -20

for p in stconnector stgateway; do
	te_check "$p installed in sbin ($sbindir)" [ -x "$S$sbindir/$p" ]
	te_check "$p not in bin" [ ! -e "$S$bindir/$p" ]
	"$S$sbindir/$p" --help >"$TE_DIR/$p.help" 2>&1
	te_check "$p --help: the default file follows --sysconfdir" grep -qF \
		"community config file (default $sysconfdir/stconnector/community.xml)" \
		"$TE_DIR/$p.help"
	te_check "$p.8 installed" [ -f "$S$mandir/man8/$p.8" ]
done
te_check "community.xml.5 installed" [ -f "$S$mandir/man5/community.xml.5" ]
te_check "the schema installed" cmp -s "$S$pkgdatadir/community.rng" \
	"$top_srcdir/conf/community.rng"
for f in operator-guide.md README.md LICENSE examples/acme.com.xml \
	 examples/chicago.example.xml examples/acme.test.xml \
	 examples/acme.test.ldif examples/chicago.test.xml \
	 examples/chicago.test.ldif; do
	te_check "$docdir/$f installed" [ -s "$S$docdir/$f" ]
done

# ---- systemd units, generated with the configured paths ----
U=$S$unitdir
for p in stconnector stgateway; do
	te_check "$p.service installed in $unitdir" [ -f "$U/$p.service" ]
	te_check "$p.service: no placeholder left" sh -c "! grep -q @ '$U/$p.service'"
	te_check "$p.service: ExecStartPre is $p's own check" has "$U/$p.service" \
		"ExecStartPre=$sbindir/$p check -c $sysconfdir/stconnector/community.xml"
	te_check "$p.service: ExecStart" has "$U/$p.service" \
		"ExecStart=$sbindir/$p -c $sysconfdir/stconnector/community.xml"
	te_check "$p.service: PIDFile" has "$U/$p.service" \
		"PIDFile=$runstatedir/$p/$p.pid"
	te_check "$p.service: ExecReload" has "$U/$p.service" \
		"ExecReload=$sbindir/$p reload -s $runstatedir/$p/$p.sock"
done

# systemd-analyze resolves the units' targets and programs in the stage:
# give it the system's own unit directory there.
mkdir -p "$S/usr/lib/systemd"
cp -a /lib/systemd/system "$S/usr/lib/systemd/"
# The units as the administrator enables them: in a directory systemd
# searches (a test prefix such as a build directory is not one).
V=/etc/systemd/system
mkdir -p "$S$V"
cp "$U/stconnector.service" "$U/stgateway.service" "$S$V/"
systemd-analyze verify --root="$S" --man=no "$V/stconnector.service" \
	"$V/stgateway.service" >"$TE_DIR/verify.out" 2>&1
te_check "systemd-analyze verify accepts both units" [ $? = 0 ] ||
	sed 's/^/  | /' "$TE_DIR/verify.out"
te_check "systemd-analyze verify: nothing to say" [ ! -s "$TE_DIR/verify.out" ]
# ... and it would notice a unit whose program is not there
sed "s#$sbindir/stconnector -c#$sbindir/stconnectr -c#" \
	"$U/stconnector.service" >"$S$V/broken.service"
systemd-analyze verify --root="$S" --man=no "$V/broken.service" \
	>"$TE_DIR/verify.bad" 2>&1
te_check "systemd-analyze verify refuses a unit with a wrong ExecStart" \
	[ $? != 0 ]
rm -f "$S$V/broken.service"

# ---- sysusers.d and tmpfiles.d, applied to the stage ----
te_check "sysusers.d snippet installed" [ -f "$S$sysusersdir/stconnector.conf" ]
te_check "tmpfiles.d snippet installed" [ -f "$S$tmpfilesdir/stconnector.conf" ]
mkdir -p "$S/etc"
systemd-sysusers --root="$S" "$S$sysusersdir/stconnector.conf" \
	>"$TE_DIR/sysusers.out" 2>&1
te_check "systemd-sysusers applies the snippet" [ $? = 0 ]
for u in stconnector stgateway; do
	te_check "user $u created, no login" \
		grep -q "^$u:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin\$" "$S/etc/passwd"
	te_check "group $u created" grep -q "^$u:x:" "$S/etc/group"
done
systemd-tmpfiles --root="$S" --create "$S$tmpfilesdir/stconnector.conf" \
	>"$TE_DIR/tmpfiles.out" 2>&1
te_check "systemd-tmpfiles applies the snippet" [ $? = 0 ] ||
	sed 's/^/  | /' "$TE_DIR/tmpfiles.out"
for u in stconnector stgateway; do
	uid=$(grep "^$u:" "$S/etc/passwd" | cut -d: -f3)
	te_check "$runstatedir/$u owned by $u" \
		[ "$(stat -c %u "$S$runstatedir/$u" 2>/dev/null)" = "$uid" ]
	te_check "$localstatedir/log/$u owned by $u, mode 750" \
		[ "$(stat -c %u:%a "$S$localstatedir/log/$u" 2>/dev/null)" = "$uid:750" ]
done

# ---- what make dist ships ----
# (distdir relative to the build tree: automake's subdirectories prefix
# it with ../)
rel=${TE_DIR#$(cd "$top_builddir" && pwd)/}
make -s -C "$top_builddir" distdir distdir="$rel/dist" \
	>"$TE_DIR/dist.log" 2>&1
te_check "make distdir: exit 0" [ $? = 0 ]
for f in BENCHMARKS.md LICENSE README.md ChangeLog doc/operator-guide.md \
	 doc/stconnector.8 doc/stgateway.8 doc/community.xml.5 \
	 doc/stconnector.service.in doc/stgateway.service.in \
	 doc/sysusers.d/stconnector.conf doc/tmpfiles.d/stconnector.conf.in \
	 doc/examples/acme.com.xml check/chk.c test/install/install.sh; do
	te_check "the distribution ships $f" [ -f "$TE_DIR/dist/$f" ]
done
# every file README links to is in the distribution
links=$(grep -o '](\([^)#:]*\))' "$top_srcdir/README.md" |
	sed -e 's/^](//' -e 's/)$//' | sort -u)
te_check "README links files" [ -n "$links" ]
for f in $links; do
	te_check "README's link $f is shipped" [ -e "$TE_DIR/dist/$f" ]
done

te_done
