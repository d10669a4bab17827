# ejabberd.sh -- a private ejabberd for integration tests (sourced after
# testenv.sh, POSIX sh).
#
# The Debian package's ejabberdctl switches to the "ejabberd" user when
# run as root and defaults to /etc/ejabberd, /var/lib/ejabberd and
# /var/log/ejabberd, so it is not used: the Erlang VM is started
# directly, in the foreground, as a child of the test and as the current
# user.  Everything it writes (configuration, Mnesia spool, logs, crash
# dump, Erlang cookie) is under the test's directory.
#
# No epmd: the node listens for Erlang distribution on a fixed port of
# its own address (-erl_epmd_port, -start_epmd false), and the control
# commands reach it there, so nothing registers with or starts an epmd
# that another test could share.  ERL_EPMD_PORT is still pointed at a
# private port so that a stray lookup never meets another node's epmd.
#
# Name resolution.  ejabberd resolves a remote server in two steps with
# two different resolvers: the SRV record with Erlang's own DNS client
# (inet_res, configured by ERL_INETRC), then the address of each SRV
# target with net:getaddrinfo(), that is the C library's getaddrinfo,
# which reads /etc/nsswitch.conf, /etc/hosts and /etc/resolv.conf and
# knows nothing of inetrc.  So the VM runs in a mount namespace of its
# own (unshare -m, propagation private) in which those three files are
# replaced by the test's: hosts "files dns", an empty hosts file, and a
# resolv.conf whose only nameserver is a forwarding dnsmasq on STUBIP:53
# (resolv.conf has no port) that passes every query, uncached, to the
# test's dnsmasq.  inet_res asks the test's dnsmasq directly (inetrc:
# that nameserver only, no resolv.conf, no hosts file).  The machine's
# files and resolver are never read.
#
# Outgoing s2s connections leave from IP (outgoing_s2s_ipv4_address), so
# the server can live on an address of its own like any other host of a
# test.
#
#   ej_start DIR IP DOMAIN CERTDIR DNSIP DNSPORT STUBIP
#                         ejabberd serving DOMAIN on IP (c2s
#                         $EJ_C2S_PORT, s2s $EJ_S2S_PORT); CERTDIR is
#                         te_certs' output holding ca.pem and
#                         DOMAIN.pem/DOMAIN.key; the resolver as above;
#                         returns once the node is started.  Sets EJ_PID.
#   ej_ctl ARGS...        an ejabberdctl command on the running node
#   ej_register USER PASSWORD
#   ej_stop               stop the node (by its PID) and wait for it
#   ej_restart            stop, then start again with the same spool
#   ej_kill               kill the node with SIGKILL (a crash: nothing is
#                         closed cleanly) and reap it
#   ej_again              start the node again after ej_kill or ej_stop,
#                         same configuration and spool (Mnesia recovers
#                         from its log); returns once it is started
#   ej_eval EXPR          evaluate an Erlang expression on the node,
#                         print the result (~p)
#
# Tunables: EJ_C2S_PORT (5222), EJ_S2S_PORT (5269), EJ_DIST_PORT
# (distribution, default 4370), EJ_TIMEOUT (s to wait for the start,
# default 60), EJ_LOGLEVEL (default info), EJ_EXTRA (more top-level
# ejabberd.yml lines, verbatim).

EJ_ERL=/usr/bin/erl
EJ_LIBS=/usr/lib/x86_64-linux-gnu
EJ_PID=""

# _ej_erl_ip 127.0.131.10 -> {127,0,131,10}
_ej_erl_ip()
{
	echo "{$(echo "$1" | tr . ,)}"
}

# _ej_exec CMD...: become CMD with the node's private environment.
# env(1), erl and erlexec exec in turn, so when a background _ej_exec
# is started, $! is the VM's PID.  _ej_env runs CMD and returns.
_ej_env()
{
	(_ej_exec "$@")
}

_ej_exec()
{
	exec env HOME="$EJ_DIR" ERL_LIBS="$EJ_LIBS" ERL_INETRC="$EJ_DIR/inetrc" \
	    ERL_EPMD_PORT="$EJ_EPMD_PORT" \
	    ERL_CRASH_DUMP="$EJ_DIR/log/erl_crash.dump" \
	    EJABBERD_CONFIG_PATH="$EJ_DIR/ejabberd.yml" \
	    EJABBERD_LOG_PATH="$EJ_DIR/log/ejabberd.log" \
	    EJABBERD_PID_PATH="$EJ_DIR/ejabberd.pid" \
	    "$@"
}

# _ej_resolver: the files the VM's C library reads, and the forwarder
# its resolv.conf names.
_ej_resolver()
{
	printf 'hosts: files dns\n' >"$EJ_DIR/nsswitch.conf"
	: >"$EJ_DIR/hosts"
	printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$EJ_STUBIP" \
	    >"$EJ_DIR/resolv.conf"
	cat >"$EJ_DIR/stub.conf" <<EOT
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address=$EJ_STUBIP
server=$EJ_DNSIP#$EJ_DNSPORT
cache-size=0
no-negcache
log-queries
EOT
	te_spawn "$EJ_DIR/log/stub.log" dnsmasq -k -C "$EJ_DIR/stub.conf" \
	    --port=53 --pid-file="$EJ_DIR/stub.pid" --log-facility=- \
	    --user="$(id -un)"
	EJ_STUB_PID=$TE_LASTPID
	te_wait_udp "$EJ_STUBIP" 53 5
}

_ej_config()
{
	_ca=$EJ_CERTS/ca.pem
	cat "$EJ_CERTS/$EJ_DOMAIN.pem" "$EJ_CERTS/$EJ_DOMAIN.key" \
	    >"$EJ_DIR/$EJ_DOMAIN.pem"
	chmod 600 "$EJ_DIR/$EJ_DOMAIN.pem"
	# Erlang's resolver: only the test's dnsmasq, never the system's.
	cat >"$EJ_DIR/inetrc" <<EOT
{resolv_conf, ""}.
{hosts_file, ""}.
{nameserver, $(_ej_erl_ip "$EJ_DNSIP"), $EJ_DNSPORT}.
{lookup, [dns]}.
{timeout, 2000}.
{retry, 2}.
{inet6, false}.
EOT
	cat >"$EJ_DIR/ejabberd.yml" <<EOT
loglevel: ${EJ_LOGLEVEL:-info}
log_rotate_count: 0
hosts:
  - "$EJ_DOMAIN"
certfiles:
  - "$EJ_DIR/$EJ_DOMAIN.pem"
ca_file: "$_ca"
s2s_cafile: "$_ca"
acme:
  auto: false
listen:
  -
    port: $EJ_C2S_PORT
    ip: "$EJ_IP"
    module: ejabberd_c2s
    starttls_required: true
  -
    port: $EJ_S2S_PORT
    ip: "$EJ_IP"
    module: ejabberd_s2s_in
s2s_use_starttls: required
outgoing_s2s_families:
  - ipv4
outgoing_s2s_ipv4_address: "$EJ_IP"
auth_method: internal
auth_password_format: scram
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  s2s:
    allow: all
s2s_access: s2s
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
  mod_s2s_dialback: {}
  mod_stream_mgmt: {}
  mod_offline: {}
${EJ_EXTRA:-}
EOT
}

# _ej_spawn: the VM in the foreground, a child of the test, in its
# private mount namespace (unshare and sh exec in turn: $! stays the
# VM's PID).
_ej_spawn()
{
	mkdir -p "$EJ_DIR/spool" "$EJ_DIR/log"
	# a start again: only the lines of this start count
	_l=$(cat "$EJ_DIR/log/ejabberd.log" 2>/dev/null | wc -l)
	_ej_exec unshare -m --propagation private sh -c '
	    mount --bind "$0/nsswitch.conf" /etc/nsswitch.conf &&
	    mount --bind "$0/hosts" /etc/hosts &&
	    mount --bind "$0/resolv.conf" /etc/resolv.conf &&
	    exec "$@"' "$EJ_DIR" "$EJ_ERL" \
	    -name "$EJ_NODE" -setcookie "$EJ_COOKIE" \
	    -kernel inet_dist_use_interface "$(_ej_erl_ip "$EJ_IP")" \
	    -erl_epmd_port "$EJ_DIST_PORT" -start_epmd false \
	    -noinput +K true +P 250000 \
	    -mnesia dir "\"$EJ_DIR/spool\"" \
	    -s ejabberd >>"$EJ_DIR/log/erl.out" 2>&1 &
	EJ_PID=$!
	TE_PIDS="$TE_PIDS $EJ_PID"
	EJ_T0=$(date +%s.%N)
	_n=$((${EJ_TIMEOUT:-60} * 10))
	while [ $_n -gt 0 ]; do
		te_alive "$EJ_PID" || {
			echo "  ejabberd exited:"
			tail -20 "$EJ_DIR/log/erl.out" | sed 's/^/  | /'
			tail -20 "$EJ_DIR/log/ejabberd.log" 2>/dev/null |
			    sed 's/^/  | /'
			return 1
		}
		if tail -n +"$((_l + 1))" "$EJ_DIR/log/ejabberd.log" \
		    2>/dev/null | grep -q 'ejabberd .* is started in the node' &&
		    te_wait_tcp "$EJ_IP" "$EJ_C2S_PORT" 5 &&
		    te_wait_tcp "$EJ_IP" "$EJ_S2S_PORT" 5; then
			EJ_STARTED_IN=$(echo "$(date +%s.%N) $EJ_T0" |
			    awk '{ printf "%.1f", $1 - $2 }')
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	echo "  ejabberd did not start in ${EJ_TIMEOUT:-60} s"
	tail -20 "$EJ_DIR/log/ejabberd.log" 2>/dev/null | sed 's/^/  | /'
	return 1
}

ej_start()
{
	EJ_DIR=$1 EJ_IP=$2 EJ_DOMAIN=$3 EJ_CERTS=$4 EJ_DNSIP=$5 EJ_DNSPORT=$6
	EJ_STUBIP=$7
	mkdir -p "$EJ_DIR/log"
	EJ_DIR=$(cd "$EJ_DIR" && pwd)
	EJ_C2S_PORT=${EJ_C2S_PORT:-5222}
	EJ_S2S_PORT=${EJ_S2S_PORT:-5269}
	EJ_DIST_PORT=${EJ_DIST_PORT:-4370}
	EJ_EPMD_PORT=${EJ_EPMD_PORT:-4371}
	EJ_NODE=ej$$@$EJ_IP
	EJ_COOKIE=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	_ej_config || return 1
	_ej_resolver || { echo "  the resolver stub did not start"; return 1; }
	_ej_spawn
}

# ej_ctl ARGS...: a hidden control node that does not listen itself and
# finds the server's node on its fixed distribution port.
ej_ctl()
{
	_ej_env timeout 30 "$EJ_ERL" \
	    -name "ctl$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')@$EJ_IP" \
	    -setcookie "$EJ_COOKIE" -hidden -noinput \
	    -erl_epmd_port "$EJ_DIST_PORT" -start_epmd false \
	    -dist_listen false \
	    -s ejabberd_ctl -extra "$EJ_NODE" "$@"
}

ej_eval()
{
	_ej_env timeout 30 "$EJ_ERL" \
	    -name "ev$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')@$EJ_IP" \
	    -setcookie "$EJ_COOKIE" -hidden -noinput \
	    -erl_epmd_port "$EJ_DIST_PORT" -start_epmd false \
	    -dist_listen false \
	    -eval "io:format(\"~p~n\", [rpc:call('$EJ_NODE', erlang, apply, [fun() -> $1 end, []])]), halt()."
}

ej_register()
{
	ej_ctl register "$1" "$EJ_DOMAIN" "$2"
}

ej_stop()
{
	[ -n "$EJ_PID" ] || return 0
	# SIGTERM makes the VM run init:stop(): Mnesia is closed cleanly.
	te_stop "$EJ_PID"
	EJ_PID=""
}

ej_restart()
{
	ej_stop
	_ej_spawn
}

ej_kill()
{
	[ -n "$EJ_PID" ] || return 0
	kill -KILL "$EJ_PID" 2>/dev/null
	wait "$EJ_PID" 2>/dev/null
	EJ_PID=""
}

ej_again()
{
	[ -z "$EJ_PID" ] || return 1
	_ej_spawn
}
