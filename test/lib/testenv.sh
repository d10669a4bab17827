# testenv.sh -- shell helpers for integration tests (sourced, POSIX sh).
#
# Every server a test starts is a child of the test, runs in the
# foreground on a 127.x.y.z address of its own, and is stopped by its PID
# when the test ends, however it ends.  Nothing here reads or changes
# /etc/resolv.conf or any system service.
#
#   te_init NAME            private directory $TE_DIR, cleanup on exit
#   te_spawn LOG CMD...     start CMD in the background, remember its PID
#   te_stop PID             SIGTERM, then SIGKILL after 3 s; reaps it
#   te_wait_for FILE RE S   wait up to S seconds for RE in FILE
#   te_wait_tcp ADDR PORT S wait until something listens on ADDR:PORT/tcp
#   te_certs DIR NAME:IP... a CA and one certificate per NAME (SAN DNS
#                           NAME and IP ADDR), made with certtool
#   te_dnsmasq ADDR PORT CONFLINES  serve the given records on ADDR:PORT
#   te_slapd DIR ADDR PORT SUFFIX LDIF  a loaded slapd on ADDR:PORT
#   te_fifo_write FIFO TEXT a command line to a client, bounded in time
#   te_ok / te_fail MSG     count a check; te_check MSG CMD... runs CMD
#   te_done                 print the tally, exit non-zero on failure

TE_PIDS=""
TE_DIRS=""
TE_PASS=0
TE_FAIL=0

te_init()
{
	TE_NAME=$1
	TE_DIR=${top_builddir:-.}/test/tmp.$TE_NAME.$$
	rm -rf "$TE_DIR"
	mkdir -p "$TE_DIR"
	chmod 700 "$TE_DIR"
	TE_DIR=$(cd "$TE_DIR" && pwd)
	trap 'te_cleanup' EXIT
	trap 'exit 130' INT TERM
}

te_cleanup()
{
	for p in $TE_PIDS; do
		te_stop "$p"
	done
	TE_PIDS=""
	if [ "${TE_KEEP:-0}" = 0 ] && [ "$TE_FAIL" = 0 ]; then
		rm -rf "$TE_DIR" $TE_DIRS
	fi
}

# te_short_dir NAME: make a new directory with a short path, for what
# the daemons bind a Unix socket in (sun_path holds 107 bytes, and a
# build tree such as make distcheck's can be deep), and set TE_SHORT to
# it.  Removed with TE_DIR; a link to it is left in TE_DIR as NAME.
te_short_dir()
{
	TE_SHORT=$(mktemp -d "${TMPDIR:-/tmp}/stc-$1.XXXXXX") || return 1
	TE_DIRS="$TE_DIRS $TE_SHORT"
	ln -s "$TE_SHORT" "$TE_DIR/$1"
}

te_spawn()
{
	_log=$1
	shift
	"$@" >"$_log" 2>&1 &
	TE_LASTPID=$!
	TE_PIDS="$TE_PIDS $TE_LASTPID"
}

te_alive()
{
	[ -r "/proc/$1/status" ] || return 1
	! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

te_stop()
{
	_p=$1
	if te_alive "$_p"; then
		kill -TERM "$_p" 2>/dev/null
		_i=0
		while te_alive "$_p" && [ $_i -lt 30 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		te_alive "$_p" && kill -KILL "$_p" 2>/dev/null
	fi
	wait "$_p" 2>/dev/null
	_np=""
	for _q in $TE_PIDS; do
		[ "$_q" = "$_p" ] || _np="$_np $_q"
	done
	TE_PIDS=$_np
	return 0
}

te_wait_for()
{
	_f=$1 _re=$2 _s=$3
	_n=$((_s * 10))
	while [ $_n -gt 0 ]; do
		if [ -f "$_f" ] && tr -d '\r' <"$_f" |
		    sed 's/\x1b\[[0-9;]*m//g' | grep -Eq -- "$_re"; then
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

te_wait_tcp()
{
	_a=$1 _p=$2 _s=$3
	_n=$((_s * 10))
	while [ $_n -gt 0 ]; do
		ss -Hltn "src $_a:$_p" 2>/dev/null | grep -q . && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

te_wait_udp()
{
	_a=$1 _p=$2 _s=$3
	_n=$((_s * 10))
	while [ $_n -gt 0 ]; do
		ss -Hlun "src $_a:$_p" 2>/dev/null | grep -q . && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# te_certs DIR NAME:IP [NAME:IP ...]
# Writes DIR/ca.pem, DIR/ca.key and for each NAME: NAME.pem, NAME.key
# (mode 0600), NAME.chain.pem.  Extra SANs for a name: NAME:IP:ALT.
te_certs()
{
	_d=$1
	shift
	mkdir -p "$_d"
	cat >"$_d/ca.tmpl" <<EOT
cn = "stconnector test CA"
organization = "stconnector tests"
serial = 1
expiration_days = 3650
ca
cert_signing_key
crl_signing_key
EOT
	certtool --no-text --generate-privkey --key-type=ecdsa \
		--curve=secp256r1 --outfile "$_d/ca.key" 2>/dev/null || return 1
	certtool --no-text --generate-self-signed --load-privkey "$_d/ca.key" \
		--template "$_d/ca.tmpl" --outfile "$_d/ca.pem" 2>/dev/null ||
		return 1
	_serial=2
	for _spec in "$@"; do
		_name=${_spec%%:*}
		_rest=${_spec#*:}
		_ip=${_rest%%:*}
		{
			echo "cn = \"$_name\""
			echo "organization = \"stconnector tests\""
			echo "serial = $_serial"
			echo "expiration_days = 825"
			echo "dns_name = \"$_name\""
			[ "$_rest" != "${_rest#*:}" ] &&
				echo "dns_name = \"${_rest#*:}\""
			echo "ip_address = \"$_ip\""
			echo "tls_www_server"
			echo "tls_www_client"
			echo "signing_key"
			echo "encryption_key"
		} >"$_d/$_name.tmpl"
		certtool --no-text --generate-privkey --key-type=ecdsa \
			--curve=secp256r1 --outfile "$_d/$_name.key" \
			2>/dev/null || return 1
		chmod 600 "$_d/$_name.key"
		certtool --no-text --generate-certificate \
			--load-privkey "$_d/$_name.key" \
			--load-ca-certificate "$_d/ca.pem" \
			--load-ca-privkey "$_d/ca.key" \
			--template "$_d/$_name.tmpl" \
			--outfile "$_d/$_name.pem" 2>/dev/null || return 1
		cat "$_d/$_name.pem" "$_d/ca.pem" >"$_d/$_name.chain.pem"
		_serial=$((_serial + 1))
	done
}

# te_dnsmasq ADDR PORT FILE: FILE holds host-record=/srv-host= lines.
# Answers carry TTL 1 unless FILE sets local-ttl.  Sets TE_DNS_PID.
te_dnsmasq()
{
	_a=$1 _p=$2 _recs=$3
	{
		echo "no-resolv"
		echo "no-hosts"
		echo "no-poll"
		echo "bind-interfaces"
		echo "listen-address=$_a"
		echo "local=/test/"
		echo "log-queries"
		grep -q '^local-ttl=' "$_recs" || echo "local-ttl=1"
		cat "$_recs"
	} >"$TE_DIR/dnsmasq.conf"
	te_spawn "$TE_DIR/dnsmasq.log" dnsmasq -k -C "$TE_DIR/dnsmasq.conf" \
		--port="$_p" --pid-file="$TE_DIR/dnsmasq.pid" --log-facility=- \
		--user="$(id -un)"
	TE_DNS_PID=$TE_LASTPID
	te_wait_udp "$_a" "$_p" 5
}

# te_slapd DIR ADDR PORT SUFFIX LDIF: a throw-away slapd in DIR (mdb,
# rootdn cn=admin,SUFFIX with password "secret", passwords readable by
# nobody but their owner), loaded with LDIF by slapadd, serving
# ldap://ADDR:PORT as a child of the test; returns once it answers.
# Sets TE_SLAPD_PID.
te_slapd()
{
	_d=$1 _a=$2 _p=$3 _suffix=$4 _ldif=$5
	mkdir -p "$_d/db"
	cat >"$_d/slapd.conf" <<EOT
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $_d/slapd.pid
argsfile $_d/slapd.args
loglevel none
database mdb
maxsize 104857600
suffix "$_suffix"
rootdn "cn=admin,$_suffix"
rootpw secret
directory $_d/db
index objectClass eq
index uid eq
index mail eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
EOT
	slapadd -q -f "$_d/slapd.conf" -l "$_ldif" >"$_d/slapadd.log" 2>&1 || {
		echo "  slapadd failed:"; sed 's/^/  | /' "$_d/slapadd.log"
		return 1
	}
	te_spawn "$_d/slapd.log" slapd -f "$_d/slapd.conf" \
		-h "ldap://$_a:$_p/" -d 0
	TE_SLAPD_PID=$TE_LASTPID
	_n=0
	until ldapsearch -x -H "ldap://$_a:$_p" -b "" -s base \
	    >/dev/null 2>&1; do
		_n=$((_n + 1))
		[ $_n -gt 50 ] && return 1
		sleep 0.1
	done
}

# te_fifo_write FIFO TEXT: a line to a program reading FIFO (a SIP
# client's command input).  Bounded: when the reader is gone, the write
# fails after 5 s instead of blocking the test forever.
te_fifo_write()
{
	timeout 5 sh -c 'printf "%s\n" "$2" >"$1"' _ "$1" "$2" || {
		echo "  nobody reads $1 (its program exited?)"
		return 1
	}
}

te_ok()
{
	TE_PASS=$((TE_PASS + 1))
	echo "ok   - $*"
}

te_fail()
{
	TE_FAIL=$((TE_FAIL + 1))
	echo "FAIL - $*"
}

te_check()
{
	_msg=$1
	shift
	if "$@"; then te_ok "$_msg"; else te_fail "$_msg"; fi
}

te_done()
{
	echo "$TE_NAME: $TE_PASS passed, $TE_FAIL failed"
	[ "$TE_FAIL" = 0 ]
}
