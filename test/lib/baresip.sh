# baresip.sh -- baresip as a chat user in shell tests.  Source after
# testenv.sh, with D (the test directory) and DNS (the test's dnsmasq
# address, port 5353) set.
#
# bs NAME IP GWIP ACCOUNT CONTACTS CURRENT: a baresip client on IP:5060,
#	registered through GWIP:5060 as ACCOUNT (a baresip account line),
#	CONTACTS its contact list (one per line, each watched), CURRENT the
#	contact /message goes to; stdin is the FIFO $D/bs.NAME/in.
# bs_cmd NAME LINE: a command typed into NAME's baresip.
# bs_log NAME: what NAME's baresip printed, without colours.
# sees NAME STATE CONTACT [SECONDS]: NAME's /contacts shows CONTACT in
#	STATE (Online, Offline, Busy, Unknown) within SECONDS (5).
# notsees: the opposite.

bs()
{
	_d=$D/bs.$1
	mkdir -p "$_d"
	cat >"$_d/config" <<EOT
poll_method		epoll
sip_listen		$2:5060
dns_server		$DNS:5353
audio_player		aufile,$_d/play.wav
audio_source		ausine,440
audio_alert		aufile,$_d/alert.wav
module_path		/usr/lib/baresip/modules
module			g711.so
module			ausine.so
module			aufile.so
module			stdio.so
module_tmp		uuid.so
module_tmp		account.so
module_app		contact.so
module_app		menu.so
module_app		presence.so
EOT
	printf '%s;regint=600;pubint=0;answermode=manual;audio_codecs=pcmu;outbound="sip:%s:5060;transport=udp"\n' \
		"$4" "$3" >"$_d/accounts"
	printf '%s\n' "$5" >"$_d/contacts"
	printf '%s\n' "$6" >"$_d/current_contact"
	mkfifo "$_d/in"
	te_spawn "$_d/out.log" sh -c "exec baresip -f '$_d' <'$_d/in'"
	eval "BS_$1=\$TE_LASTPID"
	sleep 86400 >"$_d/in" &
	TE_PIDS="$TE_PIDS $!"
	te_wait_for "$_d/out.log" "All 1 useragent registered successfully" 5
}
notsees() { ! sees "$@" >/dev/null; }
bs_cmd() { te_fifo_write "$D/bs.$1/in" "$2"; }
bs_log() { tr -d '\r' <"$D/bs.$1/out.log" | sed 's/\x1b\[[0-9;]*m//g'; }

sees()
{
	_i=0 _n=$(( ${4:-5} * 5 ))
	while [ $_i -lt "$_n" ]; do
		_before=$(bs_log "$1" | wc -l)
		bs_cmd "$1" /contacts
		sleep 0.2
		bs_log "$1" | tail -n +"$((_before + 1))" |
			grep -Eq -- "$2 +$3 " && return 0
		_i=$((_i + 1))
	done
	echo "  $1's contacts:"
	bs_log "$1" | grep -E ' (Online|Offline|Busy|Unknown) ' | tail -4 | sed 's/^/  | /'
	return 1
}
