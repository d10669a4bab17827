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
# Name resolution inside the VM is Erlang's own DNS client configured by
# an inetrc file: the test's dnsmasq as the only nameserver, no
# /etc/resolv.conf, no /etc/hosts, no native (libc) resolver.
#
#   ej_start DIR IP DOMAIN CERTDIR DNSIP DNSPORT
#                         ejabberd serving DOMAIN on IP (c2s 5222, s2s
#                         5269); CERTDIR is te_certs' output holding
#                         ca.pem and DOMAIN.pem/DOMAIN.key; returns once
#                         the node is started.  Sets EJ_PID.
#   ej_ctl ARGS...        an ejabberdctl command on the running node
#   ej_register USER PASSWORD
#   ej_stop               stop the node (by its PID) and wait for it
#   ej_restart            stop, then start again with the same spool
#   ej_eval EXPR          evaluate an Erlang expression on the node,
#                         print the result (~p)
#
# Tunables: EJ_DIST_PORT (distribution, default 4370), EJ_TIMEOUT (s to
# wait for the start, default 60), EJ_LOGLEVEL (default info).

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
    port: 5222
    ip: "$EJ_IP"
    module: ejabberd_c2s
    starttls_required: true
  -
    port: 5269
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
EOT
}

# _ej_spawn: the VM in the foreground, a child of the test.
_ej_spawn()
{
	mkdir -p "$EJ_DIR/spool" "$EJ_DIR/log"
	_ej_exec "$EJ_ERL" \
	    -name "$EJ_NODE" -setcookie "$EJ_COOKIE" \
	    -kernel inet_dist_use_interface "$(_ej_erl_ip "$EJ_IP")" \
	    -erl_epmd_port "$EJ_DIST_PORT" -start_epmd false \
	    -noinput +K true +P 250000 \
	    -mnesia dir "\"$EJ_DIR/spool\"" \
	    -s ejabberd >"$EJ_DIR/log/erl.out" 2>&1 &
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
		if grep -q 'ejabberd .* is started in the node' \
		    "$EJ_DIR/log/ejabberd.log" 2>/dev/null &&
		    te_wait_tcp "$EJ_IP" 5222 5 &&
		    te_wait_tcp "$EJ_IP" 5269 5; then
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
	mkdir -p "$EJ_DIR"
	EJ_DIR=$(cd "$EJ_DIR" && pwd)
	EJ_DIST_PORT=${EJ_DIST_PORT:-4370}
	EJ_EPMD_PORT=${EJ_EPMD_PORT:-4371}
	EJ_NODE=ej$$@$EJ_IP
	EJ_COOKIE=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	_ej_config || return 1
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
