#!/bin/sh
# doc.sh -- keep the documentation honest: the man pages render without
# a groff warning, every subcommand of `stconnector --help` has its
# place in stconnector.8 and every one of `stgateway --help` in
# stgateway.8, every refusal reason of the policy table is
# explained in the operator guide, the XMPP log lines, status fields
# and timers are the connector's, and the guide's worked example is a
# community file that `stconnector check` accepts.

. "$top_srcdir/test/lib/testenv.sh"

te_init doc
BIN=$top_builddir/connector/stconnector
GWBIN=$top_builddir/gateway/stgateway
DOC=$top_srcdir/doc
GUIDE=$DOC/operator-guide.md

for page in stconnector.8 stgateway.8 community.xml.5; do
	groff -man -Tutf8 -ww -z "$DOC/$page" >"$TE_DIR/groff.out" 2>&1
	rc=$?
	te_check "$page renders (exit 0)" [ "$rc" = 0 ]
	te_check "$page renders without warnings" [ ! -s "$TE_DIR/groff.out" ]
done

"$BIN" --help >"$TE_DIR/help.out" 2>&1
te_check "stconnector --help exits 0" [ $? = 0 ]
cmds=$(sed -n 's/^       stconnector \([a-z][a-z]*\).*/\1/p' "$TE_DIR/help.out")
te_check "--help lists subcommands" [ -n "$cmds" ]
for c in $cmds; do
	te_check "stconnector.8 documents \"$c\" (synopsis)" \
		grep -q "^\.B stconnector $c\$" "$DOC/stconnector.8"
	te_check "stconnector.8 documents \"$c\" (commands)" \
		grep -q "^\.B $c\$" "$DOC/stconnector.8"
done

# the same for the gateway: its --help and its page agree
"$GWBIN" --help >"$TE_DIR/gwhelp.out" 2>&1
te_check "stgateway --help exits 0" [ $? = 0 ]
gwcmds=$(sed -n 's/^       stgateway \([a-z][a-z]*\).*/\1/p' "$TE_DIR/gwhelp.out")
te_check "stgateway --help lists subcommands" [ -n "$gwcmds" ]
for c in $gwcmds; do
	te_check "stgateway.8 documents \"$c\" (synopsis)" \
		grep -q "^\.B stgateway $c\$" "$DOC/stgateway.8"
	te_check "stgateway.8 documents \"$c\" (commands)" \
		grep -q "^\.B $c\$" "$DOC/stgateway.8"
done

reasons=$(sed -n 's/^[[:space:]]*\[CN_R_[A-Z_]*\][[:space:]]*= {"\([a-z-]*\)".*/\1/p' \
	"$top_srcdir/connector/cn_policy.c")
te_check "cn_policy.c has refusal reasons" [ "$(echo $reasons | wc -w)" -ge 9 ]
for r in $reasons; do
	te_check "guide explains refusal reason $r" \
		grep -q "^| \`$r\` |" "$GUIDE"
	phrase=$(grep "\"$r\"" -A1 "$top_srcdir/connector/cn_policy.c" |
		sed -n 's/.*"\([A-Z][^"]*\)".*/\1/p' | head -1)
	te_check "guide quotes the reason phrase of $r ($phrase)" \
		grep -Fq "$phrase" "$GUIDE"
done

# The gateway's federation refusals are quoted as the code writes them.
GWFED=$top_srcdir/gateway/gw_fed.c
for phrase in "No federation address for user" \
	      "Presence not shared with your community" \
	      "gw: no-email user=" \
	      "gw: federation subscription rejected"; do
	te_check "gw_fed.c still says \"$phrase\"" grep -Fq "$phrase" "$GWFED"
	te_check "guide quotes \"$phrase\"" grep -Fq "$phrase" "$GUIDE"
	te_check "stgateway.8 quotes \"$phrase\"" \
		grep -Fq "$phrase" "$DOC/stgateway.8"
done

# XMPP: the log lines, status fields and timers the documentation
# gives are the ones connector/cn_xmpp.c has.
CNX=$top_srcdir/connector/cn_xmpp.c
flat() { tr -s '\n\t ' '   ' <"$1"; }
# the C source with its split string literals joined
perl -0pe 's/"\s*\n\s*"//g' "$CNX" >"$TE_DIR/cn_xmpp.joined"
flat "$GUIDE" >"$TE_DIR/guide.flat"
flat "$DOC/stconnector.8" >"$TE_DIR/cn8.flat"
for phrase in "cn: xmpp listening addr=" "cn: xmpp listen failed addr=" \
	      "cn: xmpp link community=" "authenticated auth=" \
	      "closed reason=" "cn: xmpp stream in peer="; do
	te_check "cn_xmpp.c still logs \"$phrase\"" \
		grep -Fq "$phrase" "$TE_DIR/cn_xmpp.joined"
	te_check "guide quotes \"$phrase\"" \
		grep -Fq "$phrase" "$TE_DIR/guide.flat"
done
for phrase in "cn: xmpp listening addr=" "cn: xmpp listen failed addr=" \
	      "cn: xmpp link community="; do
	te_check "stconnector.8 quotes \"$phrase\"" \
		grep -Fq "$phrase" "$TE_DIR/cn8.flat"
done
keys=$( (sed -n '/^struct dmn_st \*cn_xmpp_status/,/^}/p' "$CNX"
	sed -n '/^void cn_xsip_status/,/^}/p' \
		"$top_srcdir/connector/cn_xmpp_sip.c") |
	sed -n 's/.*dmn_st_[a-z]*([a-z]*, *"\([a-z_]*\)".*/\1/p' |
	grep -vx xmpp | sort -u)
te_check "cn_xmpp_status has status fields" [ "$(echo $keys | wc -w)" -ge 15 ]
for k in $keys; do
	te_check "stconnector.8 names status xmpp field $k" \
		grep -Eq "^\.BR? $k( |\$)" "$DOC/stconnector.8"
	te_check "guide's status xmpp sample has $k" \
		grep -Eq "^ +(- )?$k:" "$GUIDE"
done
xv() { sed -n "s/^[[:space:]]*$1 *= *\([0-9]*\),.*/\1/p" "$CNX"; }
wait_s=$(($(xv CN_XMPP_WAIT_MS) / 1000)) ka_s=$(xv CN_XMPP_KA_S)
boff_s=$(xv CN_XMPP_BACKOFF_MAX_S)
idle_s=$(sed -n 's/.*CFG_XMPP_IDLE_S *= *\([0-9]*\),.*/\1/p' \
	"$top_srcdir/conf/cfg.h")
te_check "cn_xmpp.c has its timers" \
	[ "$wait_s" -gt 0 ] && [ -n "$ka_s$idle_s$boff_s" ]
for f in guide cn8; do
	te_check "$f: a stanza waits at most $wait_s s" \
		grep -Fq "waits at most $wait_s s" "$TE_DIR/$f.flat"
	te_check "$f: backoff up to $boff_s s" \
		grep -Fq "doubling up to $boff_s s" "$TE_DIR/$f.flat"
	te_check "$f: idle close after $idle_s s" \
		grep -Fq "nothing for $idle_s s" "$TE_DIR/$f.flat"
done
te_check "guide: keep-alive after $ka_s s" \
	grep -Fq "sent nothing for $ka_s s" "$TE_DIR/guide.flat"
te_check "stconnector.8: keep-alive after $ka_s s" \
	grep -Fq "after $ka_s s without sending" "$TE_DIR/cn8.flat"
xp=$(sed -n 's/.*CFG_XMPP_PORT *= *\([0-9]*\),.*/\1/p' \
	"$top_srcdir/conf/cfg.h")
te_check "community.xml.5 gives xmppPort's default ($xp)" \
	grep -Fq "xmppPort ($xp" "$(flat "$DOC/community.xml.5" >"$TE_DIR/cx5.flat"; echo "$TE_DIR/cx5.flat")"

# The worked example, with certificates made for it, passes check.
for ex in acme.com:sip.acme.com:192.0.2.10:acme-ca \
	  chicago.example:sip.chicago.example:198.51.100.20:chicago-ca; do
	dom=${ex%%:*}; rest=${ex#*:}
	name=${rest%%:*}; rest=${rest#*:}
	ip=${rest%%:*}; ca=${rest#*:}
	d=$TE_DIR/$dom
	mkdir -p "$d"
	cp "$DOC/examples/$dom.xml" "$d/community.xml"
	te_check "$dom: certificates made" te_certs "$d/certs" "$name:$ip"
	cp "$d/certs/ca.pem" "$d/certs/peers.pem"
	cp "$d/certs/ca.pem" "$d/certs/$ca.pem"
	(umask 077; echo secret >"$d/ldap.secret")
	# As printed, it names the system users and /run directories that
	# an installation creates: check refuses only for those here.
	"$BIN" check -c "$d/community.xml" >"$d/check.out" 2>"$d/check.err"
	te_check "$dom: as printed, only users and run directories missing" \
		sh -c "! grep -v -e 'user \"stconnector\" does not exist' \
		    -e 'directory /run/stconnector does not exist' \
		    -e 'cannot create files in /run/stconnector' \
		    -e 'problems\\{0,1\\}: the connector would not' '$d/check.err'"
	# The same file once they exist (here: the test's own directory,
	# and the user running the test).
	mkdir -p "$d/run"
	sed -e "s#/run/stconnector/#$d/run/#" -e 's# user="stconnector"##' \
		"$DOC/examples/$dom.xml" >"$d/community.xml"
	"$BIN" check -c "$d/community.xml" >"$d/check.out" 2>"$d/check.err"
	rc=$?
	te_check "$dom: example file passes check" [ "$rc" = 0 ]
	te_check "$dom: configuration OK" grep -qx "configuration OK" "$d/check.out"
	te_check "$dom: nothing on stderr" [ ! -s "$d/check.err" ]
done
line=$(grep '^extern community chicago:' "$TE_DIR/acme.com/check.out")
te_check "guide shows check's extern community line" \
	grep -Fq "    $line" "$GUIDE"
line=$(grep '^tls names:' "$TE_DIR/acme.com/check.out")
te_check "guide shows check's tls names line (the recipe's SANs)" \
	grep -Fq "    $line" "$GUIDE"

te_done
