#!/bin/sh
# pgsql.sh -- the state store's unit tests (test_sto_pg) against a real
# PostgreSQL server: a private cluster made with initdb in the test's
# directory and started with pg_ctl on 127.0.119.1:5432 (and a Unix
# socket in that directory); as root it runs as "nobody" (see
# test/lib/pgsql.sh).  test_sto_pg stops and starts the server itself to
# show the store degraded and recovering.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"
. "$top_srcdir/test/lib/pgsql.sh"

te_init store-pg
PGD=$TE_DIR/pg
trap 'te_pgsql_stop "$PGD"; te_cleanup' EXIT

if ! te_pgsql "$PGD" 127.0.119.1 5432; then
	te_fail "a PostgreSQL cluster starts on 127.0.119.1:5432"
	te_done
	exit 1
fi
te_ok "a PostgreSQL cluster starts on 127.0.119.1:5432"
STO_PG=$TE_PG
STO_PG_STOP=". '$top_srcdir/test/lib/pgsql.sh'; te_pgsql_stop '$PGD'"
STO_PG_START=". '$top_srcdir/test/lib/pgsql.sh'; te_pgsql_start '$PGD'"
export STO_PG STO_PG_STOP STO_PG_START
te_check "the store's unit tests pass against PostgreSQL" \
	"$top_builddir/test/test_sto_pg"
te_done
