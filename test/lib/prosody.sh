# prosody.sh -- a throw-away Prosody for integration tests (sourced after
# testenv.sh, POSIX sh).
#
# One Prosody serves one XMPP domain on an address of its own, runs in
# the foreground as the current user with its configuration, data, log
# and pid file in a directory of the test, trusts only the test's CA, and
# resolves names only through the dnsmasq the test started (libunbound
# forwards every query to that server and reads neither the machine's
# /etc/resolv.conf nor its hosts file; it is told that loopback servers
# may be asked and that the test. names are not its own: by default it
# answers test. itself, NXDOMAIN, RFC 6761).
#
#   ps_config DIR DOMAIN IP CERTDIR DNSADDR[:PORT]
#                     write DIR/prosody.cfg.lua (s2s on IP:$PS_S2S_PORT,
#                     c2s on IP:$PS_C2S_PORT, s2s_secure_auth, the
#                     certificate CERTDIR/DOMAIN.{pem,key} and CA
#                     CERTDIR/ca.pem as te_certs makes them)
#   ps_certs CERTDIR DOMAIN:IP...  the CA and certificates (te_certs)
#   ps_adduser DIR USER PASSWORD   an account USER@DOMAIN
#   ps_start DIR      start it, wait until s2s and c2s listen; PS_PID
#   ps_stop DIR       stop the Prosody started from DIR (by its PID)
#
# Settings read by ps_config: PS_S2S_PORT (5269), PS_C2S_PORT (5222),
# PS_EXTRA (more global configuration lines, verbatim).

PS_S2S_PORT=${PS_S2S_PORT:-5269}
PS_C2S_PORT=${PS_C2S_PORT:-5222}
PS_EXTRA=${PS_EXTRA:-}

ps_certs()
{
	te_certs "$@"
}

ps_config()
{
	_pd=$1 _dom=$2 _ip=$3 _cd=$4 _dns=$5
	mkdir -p "$_pd/data" "$_pd/certs"
	_pd=$(cd "$_pd" && pwd)
	_cd=$(cd "$_cd" && pwd)
	# Prosody looks for the certificate of a host in its own certs dir
	# too; a copy keeps the key private to this instance.
	cp "$_cd/$_dom.pem" "$_pd/certs/$_dom.crt"
	cp "$_cd/$_dom.key" "$_pd/certs/$_dom.key"
	chmod 600 "$_pd/certs/$_dom.key"
	case $_dns in
	*:*) _ns="${_dns%%:*}@${_dns#*:}" ;;
	*) _ns=$_dns ;;
	esac
	echo "$_dom" >"$_pd/domain"
	echo "$_ip" >"$_pd/address"
	cat >"$_pd/prosody.cfg.lua" <<EOT
-- written by test/lib/prosody.sh
run_as_root = true
pidfile = "$_pd/prosody.pid"
data_path = "$_pd/data"
certificates = "$_pd/certs"
log = { debug = "$_pd/prosody.log" }
interfaces = { "$_ip" }
local_interfaces = { "$_ip" }
c2s_interfaces = { "$_ip" }
s2s_interfaces = { "$_ip" }
c2s_ports = { $PS_C2S_PORT }
s2s_ports = { $PS_S2S_PORT }
c2s_direct_tls_ports = {}
s2s_direct_tls_ports = {}
use_ipv6 = false
modules_enabled = { "roster", "saslauth", "tls", "dialback", "disco",
	"ping", "time", "version" }
modules_disabled = { "offline" }
authentication = "internal_plain"
storage = "internal"
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = true
s2s_timeout = 10
ssl = {
	cafile = "$_cd/ca.pem";
	verify = { "peer", "client_once" };
}
unbound = {
	resolvconf = false; hoststxt = false; forward = "$_ns";
	options = {
		["do-not-query-localhost:"] = "no";
		["local-zone:"] = "test. transparent";
	};
}
$PS_EXTRA
VirtualHost "$_dom"
	ssl = {
		certificate = "$_pd/certs/$_dom.crt";
		key = "$_pd/certs/$_dom.key";
		cafile = "$_cd/ca.pem";
	}
EOT
}

# ps_adduser DIR USER PASSWORD: the account file Prosody's internal
# storage reads (internal_plain: the password as written).
ps_adduser()
{
	_pd=$1 _u=$2 _pw=$3
	_dom=$(cat "$_pd/domain")
	_esc=$(printf '%s' "$_dom" | sed 's/\./%2e/g; s/-/%2d/g')
	mkdir -p "$_pd/data/$_esc/accounts"
	printf 'return {\n\t["password"] = "%s";\n};\n' "$_pw" \
		>"$_pd/data/$_esc/accounts/$_u.dat"
}

ps_start()
{
	_pd=$1
	_ip=$(cat "$_pd/address")
	te_spawn "$_pd/stdout.log" env PROSODY_CONFIG="$_pd/prosody.cfg.lua" \
		prosody -F --config "$_pd/prosody.cfg.lua"
	PS_PID=$TE_LASTPID
	echo "$PS_PID" >"$_pd/test.pid"
	te_wait_tcp "$_ip" "$PS_S2S_PORT" 15 &&
		te_wait_tcp "$_ip" "$PS_C2S_PORT" 5 || {
		echo "  prosody did not start:"
		tail -20 "$_pd/stdout.log" "$_pd/prosody.log" 2>/dev/null |
			sed 's/^/  | /'
		return 1
	}
}

ps_stop()
{
	_pd=$1
	[ -f "$_pd/test.pid" ] || return 0
	te_stop "$(cat "$_pd/test.pid")"
	rm -f "$_pd/test.pid"
}
