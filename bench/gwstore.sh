#!/bin/sh
# gwstore.sh -- what the state store costs: REGISTER and SUBSCRIBE rates
# of stgateway with state in memory only, with a stateFile (SQLite) and
# with a stateStore (PostgreSQL, a private cluster on 127.0.119.49 made
# with initdb/pg_ctl, see test/lib/pgsql.sh), in the same run,
# alternating, so that the machine's noise hits all three.
#
#   bench/gwstore.sh [-b BUILDDIR] [-n USERS] [-r ROUNDS] [-o REPORT]
#
# Defaults: 19,000 users (the LDIF file directory; its cap is 20,000
# entries), 2 rounds of memory then sqlite.  Each round starts a fresh
# gateway and drives it with bench/gwload.py (digest on every request,
# 256 in flight, 64 source addresses): every user REGISTERs (cold: each
# a directory scan), every user REGISTERs again (warm: the directory
# cache answers, so the gateway's own cost and the store's show), one
# subscription per user (cold), one more per user (warm); it records the
# rates and the gateway's CPU (all its threads, the store's writer
# included; not the PostgreSQL server's).  With sqlite the file is new
# each round, with postgresql the tables are dropped first; the store's
# counters come from its log line at stop (written changes, batches,
# commit latency).
# Everything runs on 127.0.117.x: the gateway on .50 (UDP 5060), the load
# from .100 on.  BENCH_KEEP=1 keeps the work directory.
set -u

top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
B=$top_srcdir
N=19000
ROUNDS=2
REPORT=gwstore-report.md
while getopts b:n:r:o: o; do
	case $o in
	b) B=$(cd "$OPTARG" && pwd) ;;
	n) N=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	o) REPORT=$OPTARG ;;
	*) echo "usage: $0 [-b BUILDDIR] [-n USERS] [-r ROUNDS] [-o REPORT]" >&2; exit 2 ;;
	esac
done
GW=$B/gateway/stgateway
[ -x "$GW" ] || { echo "gwstore: no $GW (build first)" >&2; exit 1; }
GWIP=127.0.117.50
D=$(mktemp -d /tmp/gwstore.XXXXXX)
PIDS=
RAW=$D/raw.jsonl
: >"$RAW"

cleanup()
{
	trap - EXIT INT TERM
	te_pgsql_stop "$PGD" 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ "${BENCH_KEEP:-0}" = 1 ] && echo "gwstore: kept $D" >&2 || rm -rf "$D"
}
. "$top_srcdir/test/lib/pgsql.sh"
PGD=$D/pg
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

python3 - "$N" >"$D/users.ldif" <<'EOF'
import sys
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n):
    w("dn: uid=u%d,ou=people,dc=acme,dc=test\nobjectClass: inetOrgPerson\n"
      "uid: u%d\ncn: User %d\nsn: U%d\nmail: u%d@acme.test\n"
      "userPassword: pw%d\n\n" % (i, i, i, i, i, i))
EOF

te_pgsql "$PGD" 127.0.119.49 5432 ||
	{ echo "gwstore: PostgreSQL did not start" >&2; exit 1; }

# start_gw DIR [STATE-ATTRIBUTE]
start_gw()
{
	_g=$1
	mkdir -p "$_g"
	_sf=${2:-}
	cat >"$_g/community.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" control="$_g/gw.sock"
                    pidFile="$_g/gw.pid" $_sf>
    <ClientListen transport="udp" address="$GWIP" port="5060"/>
    <ConnectorListen transport="tcp" address="$GWIP" port="5070"/>
  </CommunityGateway>
  <Directory backend="file"><File>$D/users.ldif</File>
    <Cache size="$N" ttl="3600" negativeTtl="30"/></Directory>
</CommunityConfig>
EOT
	"$GW" -f -c "$_g/community.xml" >"$_g/gw.log" 2>&1 &
	GWPID=$!
	PIDS="$PIDS $GWPID"
	n=0
	until ss -lun 2>/dev/null | grep -q "$GWIP:5060 "; do
		n=$((n + 1)); [ $n -gt 100 ] && { echo "gwstore: stgateway did not start" >&2; cat "$_g/gw.log" >&2; exit 1; }
		sleep 0.1
	done
}

stop_gw()
{
	kill "$GWPID" 2>/dev/null
	wait "$GWPID" 2>/dev/null
	PIDS=$(echo "$PIDS" | sed "s/ $GWPID\b//")
}

r=1
while [ $r -le "$ROUNDS" ]; do
	for kind in memory sqlite postgresql; do
		g=$D/$kind.$r
		case $kind in
		sqlite) start_gw "$g" "stateFile=\"$g/state.db\"" ;;
		postgresql)
			psql -qX -d "$TE_PG" -c \
				"SET client_min_messages = warning; DROP TABLE IF EXISTS stc_meta, stc_binding, stc_publication, stc_subscription" >/dev/null
			start_gw "$g" "stateStore=\"$TE_PG\"" ;;
		*) start_gw "$g" ;;
		esac
		python3 "$top_srcdir/bench/gwload.py" --pid "$GWPID" --users "$N" \
			--gw "$GWIP" --src-prefix 127.0.117 --src-first 100 \
			--sources 64 --window 256 --label "$kind.$r" \
			reg:0:$N reg:0:$N sub:0:$N sub:$N:$((2 * N)) \
			>"$D/load.out"
		tee -a "$RAW" <"$D/load.out" >&2
		stop_gw
		# the store's own account of the run, logged at stop
		sed -n "s/.*gw: store closed .* written=\([0-9]*\) batches=\([0-9]*\) .* avg-us=\([0-9]*\) max-us=\([0-9]*\).*/{\"label\": \"$kind.$r\", \"written\": \1, \"batches\": \2, \"avg_us\": \3, \"max_us\": \4}/p" \
			"$g/gw.log" >>"$D/store.jsonl"
		log "round $r $kind done"
	done
	r=$((r + 1))
done

python3 - "$RAW" "$D/store.jsonl" >"$REPORT" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
st = {json.loads(l)["label"]: json.loads(l) for l in open(sys.argv[2])}
print("| round | kind | REGISTER/s cold | REGISTER/s warm | "
      "SUBSCRIBE/s cold | SUBSCRIBE/s warm | gateway CPU ms per warm "
      "REGISTER / SUBSCRIBE | errors | store written | batches | "
      "commit avg / max us |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
by = {}
for r in rows:
    by.setdefault(r["label"], []).append(r)
for label, ph in by.items():
    kind, rnd = label.split(".")
    s = st.get(label, {})
    err = sum(sum(p["errors"].values()) for p in ph)
    rate = [p["ok"] / p["seconds"] for p in ph]
    cpu = [1000.0 * p["cpu"] / max(p["ok"], 1) for p in ph]
    lat = ("%d / %d" % (s["avg_us"], s["max_us"]) if s else "-")
    print("| %s | %s | %.0f | %.0f | %.0f | %.0f | %.3f / %.3f | %d | %s | "
          "%s | %s |" % (rnd, kind, rate[0], rate[1], rate[2], rate[3],
                         cpu[1], cpu[3], err, s.get("written", "-"),
                         s.get("batches", "-"), lat))
EOF
cat "$REPORT"
