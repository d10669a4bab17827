# pgsql.sh -- a private PostgreSQL cluster for a test (sourced, POSIX sh,
# after testenv.sh).
#
#   te_pgsql DIR ADDR PORT   initdb a cluster in DIR and start it on
#                            ADDR:PORT (TCP) and a Unix socket in DIR;
#                            sets TE_PG (a libpq conninfo string)
#   te_pgsql_stop DIR        fast shutdown (clients are disconnected)
#   te_pgsql_start DIR       start it again, same address
#
# PostgreSQL refuses to run as root.  A test run as root runs initdb,
# pg_ctl and the server as "nobody" (setpriv: no fork, no PAM, no login
# shell), in a directory that user owns; the test's own directory is
# made traversable (0711) for it.  Run as any other user, the cluster is
# that user's.  Authentication is "trust": the server listens on one
# loopback address and a socket inside the test's directory only.  The
# caller stops the cluster at exit: te_pgsql_stop in its EXIT trap.

# Debian keeps the server programs out of PATH, per major version.
if ! command -v initdb >/dev/null 2>&1; then
	for _pgbin in /usr/lib/postgresql/*/bin; do
		[ -x "$_pgbin/initdb" ] && PATH=$_pgbin:$PATH
	done
	export PATH
fi

te_pg_as()
{
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
			--reset-env "$@"
	else
		"$@"
	fi
}

te_pgsql()
{
	_pd=$1
	_pa=$2
	_pp=$3
	mkdir -p "$_pd"
	if [ "$(id -u)" = 0 ]; then
		chmod 711 "$(dirname "$_pd")"
		chown nobody:nogroup "$_pd"
	fi
	chmod 700 "$_pd"
	te_pg_as env PATH="$PATH" initdb -D "$_pd/data" -U stc \
		--auth=trust -E UTF8 --locale=C >"$_pd/initdb.log" 2>&1 ||
		{ cat "$_pd/initdb.log" >&2; return 1; }
	cat >>"$_pd/data/postgresql.conf" <<EOP
listen_addresses = '$_pa'
port = $_pp
unix_socket_directories = '$_pd'
fsync = off
EOP
	TE_PG="host=$_pa port=$_pp user=stc dbname=postgres"
	te_pgsql_start "$_pd"
}

te_pgsql_start()
{
	te_pg_as env PATH="$PATH" pg_ctl -D "$1/data" -l "$1/server.log" \
		-w -t 30 start >"$1/pg_ctl.log" 2>&1 ||
		{ cat "$1/pg_ctl.log" "$1/server.log" >&2; return 1; }
}

te_pgsql_stop()
{
	[ -f "$1/data/postmaster.pid" ] || return 0
	te_pg_as env PATH="$PATH" pg_ctl -D "$1/data" -m fast -w -t 30 \
		stop >>"$1/pg_ctl.log" 2>&1
}
