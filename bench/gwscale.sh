#!/bin/sh
# gwscale.sh -- stgateway at scale: memory and CPU with N registered users
# and M presence subscriptions, the time one status change takes to reach
# all of its watchers, and the directory cache's effect against a real
# slapd.  One command from a built tree:
#
#   bench/gwscale.sh [-b BUILDDIR] [-n USERS] [-m "M1 M2 ..."] [-f "K1 K2"]
#                    [-c CACHEUSERS] [-d ldap|file] [-o REPORT]
#
# Defaults: 100,000 users, subscriptions grown in steps to 100,000 and
# 300,000, fan-out to 1,000 and 10,000 watchers, the cache comparison with
# 20,000 users.  Everything runs on 127.0.22.x: the gateway on .1 (UDP
# 5060), slapd on .2, the load from .10 on (bench/gwload.py, one UDP
# socket per address).  Results: one JSON line per phase in the report's
# raw section, and the tables of BENCHMARKS.md "Gateway at scale".
# Knobs: GWSCALE_SOURCES (load addresses, 64), GWSCALE_WINDOW (requests
# in flight, 256), GWSCALE_PERF=1 (perf record the gateway through the
# scale run), GWSCALE_GWIP, GWSCALE_LDAPIP, GWSCALE_SRC_FIRST (other
# addresses, for a second run beside the first), GWSCALE_WRAP (a command
# the gateway runs under, e.g. "valgrind --tool=massif"), BENCH_KEEP=1
# (keep the work directory).
set -u

top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
B=$top_srcdir
N=100000
MSTEPS="100000 300000"
FANS="1000 10000"
CN=20000
BACKEND=ldap
REPORT=gwscale-report.md
while getopts b:n:m:f:c:d:o: o; do
	case $o in
	b) B=$(cd "$OPTARG" && pwd) ;;
	n) N=$OPTARG ;;
	m) MSTEPS=$OPTARG ;;
	f) FANS=$OPTARG ;;
	c) CN=$OPTARG ;;
	d) BACKEND=$OPTARG ;;
	o) REPORT=$OPTARG ;;
	*) echo "usage: $0 [-b BUILDDIR] [-n USERS] [-m \"M ...\"] [-f \"K ...\"] [-c CACHEUSERS] [-d ldap|file] [-o REPORT]" >&2; exit 2 ;;
	esac
done
GW=$B/gateway/stgateway
[ -x "$GW" ] || { echo "gwscale: no $GW (build first)" >&2; exit 1; }
PATH=$PATH:/usr/sbin
for t in python3 slapd slapadd ldapsearch; do
	command -v $t >/dev/null 2>&1 || { echo "gwscale: $t missing" >&2; exit 1; }
done

GWIP=${GWSCALE_GWIP:-127.0.22.1}
LDAPIP=${GWSCALE_LDAPIP:-127.0.22.2}
SRCFIRST=${GWSCALE_SRC_FIRST:-10}
WRAP=${GWSCALE_WRAP:-}
LDAPPORT=13890
SOURCES=${GWSCALE_SOURCES:-64}
WINDOW=${GWSCALE_WINDOW:-256}
D=$(mktemp -d /tmp/gwscale.XXXXXX)
PIDS=
RAW=$D/raw.jsonl
: >"$RAW"

LOADPID=
cleanup()
{
	trap - EXIT INT TERM
	[ -n "$LOADPID" ] && kill "$LOADPID" 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ "${BENCH_KEEP:-0}" = 1 ] && echo "gwscale: kept $D" >&2 || rm -rf "$D"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---- the users, once as LDIF ----
make_ldif()
{
	python3 - "$1" >"$D/users.ldif" <<'EOF'
import sys
n = int(sys.argv[1])
w = sys.stdout.write
w("dn: dc=acme,dc=test\nobjectClass: dcObject\nobjectClass: organization\n"
  "dc: acme\no: Acme Test\n\n"
  "dn: ou=people,dc=acme,dc=test\nobjectClass: organizationalUnit\n"
  "ou: people\n\n")
for i in range(n):
    w("dn: uid=u%d,ou=people,dc=acme,dc=test\nobjectClass: inetOrgPerson\n"
      "uid: u%d\ncn: User %d\nsn: U%d\nmail: u%d@acme.test\n"
      "userPassword: pw%d\n\n" % (i, i, i, i, i, i))
EOF
}

start_slapd()
{
	mkdir -p "$D/db"
	cat >"$D/slapd.conf" <<EOT
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $D/slapd.pid
argsfile $D/slapd.args
loglevel none
sizelimit unlimited
database mdb
maxsize 1073741824
suffix "dc=acme,dc=test"
rootdn "cn=admin,dc=acme,dc=test"
rootpw secret
directory $D/db
index objectClass eq
index uid eq
index mail eq
access to attrs=userPassword by dn.exact="cn=admin,dc=acme,dc=test" read by anonymous auth by * none
access to * by * read
EOT
	slapadd -q -f "$D/slapd.conf" -l "$D/users.ldif" >"$D/slapadd.log" 2>&1 ||
		{ echo "gwscale: slapadd failed" >&2; cat "$D/slapadd.log" >&2; exit 1; }
	slapd -f "$D/slapd.conf" -h "ldap://$LDAPIP:$LDAPPORT/" -d 0 >"$D/slapd.log" 2>&1 &
	SLAPD=$!
	PIDS="$PIDS $SLAPD"
	n=0
	until ldapsearch -x -H "ldap://$LDAPIP:$LDAPPORT" -b "" -s base >/dev/null 2>&1; do
		n=$((n + 1)); [ $n -gt 100 ] && { echo "gwscale: slapd did not start" >&2; exit 1; }
		sleep 0.1
	done
	printf 'secret\n' >"$D/bindpw"
	chmod 600 "$D/bindpw"
}

# start_gw NAME CACHESIZE BACKEND
start_gw()
{
	_g=$D/$1
	mkdir -p "$_g"
	if [ "$3" = ldap ]; then
		_dir="<Directory backend=\"ldap\">
    <Ldap bindDN=\"cn=admin,dc=acme,dc=test\" passwordFile=\"$D/bindpw\"
          base=\"dc=acme,dc=test\" scope=\"sub\" timeout=\"5000\">
      <Url>ldap://$LDAPIP:$LDAPPORT</Url>
    </Ldap>
    <Attributes id=\"uid\" email=\"mail\" password=\"userPassword\"/>
    <Cache size=\"$2\" ttl=\"3600\" negativeTtl=\"30\"/>
  </Directory>"
	else
		_dir="<Directory backend=\"file\"><File>$D/users.ldif</File>
    <Cache size=\"$2\" ttl=\"3600\" negativeTtl=\"30\"/></Directory>"
	fi
	cat >"$_g/community.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" control="$_g/gw.sock" pidFile="$_g/gw.pid">
    <ClientListen transport="udp" address="$GWIP" port="5060"/>
    <ConnectorListen transport="tcp" address="$GWIP" port="5070"/>
  </CommunityGateway>
  $_dir
</CommunityConfig>
EOT
	$WRAP "$GW" -f -c "$_g/community.xml" >"$_g/gw.log" 2>&1 &
	GWPID=$!
	PIDS="$PIDS $GWPID"
	n=0
	until ss -lun 2>/dev/null | grep -q "$GWIP:5060 "; do
		n=$((n + 1)); [ $n -gt 100 ] && { echo "gwscale: stgateway did not start" >&2; cat "$_g/gw.log" >&2; exit 1; }
		sleep 0.1
	done
}

stop_gw()
{
	kill "$GWPID" 2>/dev/null
	wait "$GWPID" 2>/dev/null
	PIDS=$(echo "$PIDS" | sed "s/ $GWPID\b//")
}

load() # LABEL PHASE...
{
	_l=$1; shift
	python3 "$top_srcdir/bench/gwload.py" --pid "$GWPID" --users "$N" \
		--gw "$GWIP" --src-first "$SRCFIRST" --sources "$SOURCES" \
		--window "$WINDOW" --label "$_l" "$@" >"$D/load.out" &
	LOADPID=$!
	wait "$LOADPID"   # in the background so that a signal stops it
	LOADPID=
	tee -a "$RAW" <"$D/load.out" >&2
}

log "users: $N ($BACKEND), subscription steps: $MSTEPS, fan-out: $FANS"
make_ldif "$N"
[ "$BACKEND" = ldap ] && start_slapd
log "directory ready"

# ---- 1. scale: registrations, subscriptions, idle, fan-out ----
start_gw scale "$N" "$BACKEND"
set -- reg:0:$N idle:5
prev=0
for m in $MSTEPS; do
	set -- "$@" "sub:$prev:$m" idle:40   # 40 s: UDP transactions (32 s) gone
	prev=$m
done
log "scale run"
cpu0=$(awk '{print $14+$15}' /proc/$GWPID/stat)
load scale-base idle:1
if [ "${GWSCALE_PERF:-0}" = 1 ] && command -v perf >/dev/null 2>&1; then
	perf record -g -o "$D/perf.data" -p "$GWPID" >/dev/null 2>&1 &
	PERF=$!
fi
load scale "$@"
hot=0
for k in $FANS; do
	load "fan$k" "fan:$k:$hot"
	hot=$((hot + k + 1))
done
if [ -n "${PERF:-}" ]; then
	kill -INT "$PERF"; wait "$PERF"
	perf report -i "$D/perf.data" --no-children --percent-limit 2 --stdio \
		2>/dev/null | grep -v '^#' | grep '%' | head -20 >"$D/perf.txt"
fi
stop_gw

# ---- 2. the cache: same directory, cache on (size N) and off (size 0) ----
if [ "$BACKEND" = ldap ] && [ "$CN" -gt 0 ]; then
	for c in "$N" 0 "$N" 0; do
		start_gw "cache$c" "$c" ldap
		log "cache size $c"
		N0=$N; N=$CN
		load "cache$c" "reg:0:$CN" "reg:0:$CN" "sub:0:$CN"
		N=$N0
		stop_gw
	done
fi

# ---- report ----
python3 - "$RAW" "$N" "${D}/perf.txt" >"$REPORT" <<'EOF'
import json, sys, os
raw, n = sys.argv[1], int(sys.argv[2])
rows = [json.loads(l) for l in open(raw) if l.strip()]
out = print
out("# stgateway at scale (%s)\n" % os.uname().nodename)
out("## Scale run\n")
out("| phase | count | ok | wall s | per s | CPU s / 1000 | RSS after MiB | RSS growth / item |")
out("|---|---|---|---|---|---|---|---|")
for r in rows:
    if not r["label"].startswith("scale") and not r["label"].startswith("fan"):
        continue
    cnt = r.get("n", 0)
    g = r["rss_after"] - r["rss_before"]
    per = "%.0f B" % (g / cnt) if cnt else "-"
    rate = "%.0f" % (r.get("ok", 0) / r["seconds"]) if cnt else "-"
    cpk = "%.3f" % (r["cpu"] / cnt * 1000) if cnt else "%.2f s" % r["cpu"]
    out("| %s %s | %d | %s | %.1f | %s | %s | %.1f | %s |" % (
        r["label"], r["phase"], cnt, r.get("ok", "-"), r["seconds"], rate,
        cpk, r["rss_after"] / 1048576, per))
out("\n## Fan-out\n")
out("| watchers | NOTIFYs with the new state | PUBLISH to last NOTIFY ms |")
out("|---|---|---|")
for r in rows:
    if r["phase"].startswith("fan"):
        out("| %d | %s | %s |" % (r["n"], r.get("notified"), r.get("fanout_ms")))
out("\n## Directory cache (LDAP)\n")
out("| cache size | phase | ok | wall s | per s | CPU s / 1000 |")
out("|---|---|---|---|---|---|")
for r in rows:
    if r["label"].startswith("cache"):
        out("| %s | %s | %d | %.1f | %.0f | %.3f |" % (
            r["label"][5:], r["phase"], r["ok"], r["seconds"],
            r["ok"] / r["seconds"], r["cpu"] / max(r["n"], 1) * 1000))
if os.path.exists(sys.argv[3]):
    out("\n## Profile (perf, gateway, scale run)\n\n```")
    out(open(sys.argv[3]).read().rstrip())
    out("```")
out("\n## Raw\n\n```")
for r in rows:
    out(json.dumps(r))
out("```")
EOF
log "report: $REPORT"
cat "$REPORT"
