#!/bin/sh
# layers.sh -- the gateway's files form no cycle (DESIGN.md: generic
# helpers live in leaf files that feature files use; feature files that
# must call each other do it through a registered callback).
#
# Two graphs between gateway/*.c files, each must be acyclic:
#   includes  f -> g when f includes, directly or through other headers,
#             a header g implements (gw_X.h is gw_X.c's; gw_ctx.h is
#             gw.c's, gw_link.h and gw_fed_seam.h gw_fed.c's,
#             gw_pres_seam.h gw_pres.c's; gw.h and gw_obs.h are
#             data and inline calls through gw->obs, nobody's);
#   calls     f -> g when f's object in libgw.a uses a symbol g's
#             defines (nm), what the linker sees whatever the headers say.
# Also: the leaf files use only leaf files, and gw.h declares no
# function.  Run by hand on any tree: layers.sh SRCDIR [LIBGW.A].
[ -n "$top_srcdir" ] && . "$top_srcdir/test/lib/testenv.sh"

SRC=${1:-$top_srcdir/gateway}
LIB=${2:-$top_builddir/gateway/libgw.a}
NM=${NM:-nm}
LEAVES="gw_base gw_lsnr gw_out gw_req gw_sipv gw_reg gw_digest gw_retry"

owner() {	# header basename -> implementing file stem, or nothing
	case $1 in
	gw.h|gw_obs.h) ;;
	gw_ctx.h) echo gw ;;
	gw_link.h|gw_fed_seam.h) echo gw_fed ;;
	gw_pres_seam.h) echo gw_pres ;;
	*) [ -f "$SRC/${1%.h}.c" ] && echo "${1%.h}" ;;
	esac
}

incs() {	# gateway headers a file includes
	sed -n 's|^#include "gateway/\([a-z_]*\.h\)".*|\1|p' "$1"
}

# include edges: the closure of each .c's gateway headers
include_edges() {
	for c in "$SRC"/*.c; do
		f=$(basename "$c" .c)
		seen=" "
		todo=$(incs "$c")
		while [ -n "$todo" ]; do
			next=
			for h in $todo; do
				case $seen in *" $h "*) continue ;; esac
				seen="$seen$h "
				[ -f "$SRC/$h" ] && next="$next $(incs "$SRC/$h")"
			done
			todo=$next
		done
		for h in $seen; do
			o=$(owner "$h")
			[ -n "$o" ] && [ "$o" != "$f" ] && echo "$f $o"
		done
	done | sort -u
}

# call edges: undefined symbols of one object defined by another
call_edges() {
	"$NM" -A "$LIB" 2>/dev/null | awk '
	{
		split($1, p, ":"); o = p[2]; sub(/\.o$/, "", o)
		if ($2 == "U") use[o, $3] = 1
		else if ($2 ~ /^[TDBRC]$/) def[$3] = o
	}
	END {
		for (k in use) {
			split(k, q, SUBSEP)
			if ((q[2] in def) && def[q[2]] != q[1])
				print q[1], def[q[2]]
		}
	}' | sort -u
}

# print one cycle of the edge list on stdin ("a -> b -> a"), if any
cycle() {
	awk '
	{ n[$1]++; e[$1, n[$1]] = $2; v[$1] = 1; v[$2] = 1 }
	function dfs(x,    i, y) {
		col[x] = 1; stk[++sp] = x
		for (i = 1; i <= n[x]; i++) {
			y = e[x, i]
			if (col[y] == 1) { found = y; return 1 }
			if (!col[y] && dfs(y)) return 1
		}
		col[x] = 2; sp--
		return 0
	}
	END {
		for (x in v)
			if (!col[x] && dfs(x)) {
				for (i = 1; i <= sp && stk[i] != found; i++) ;
				s = ""
				for (; i <= sp; i++) s = s stk[i] " -> "
				print s found
				exit
			}
	}'
}

is_leaf() { case " $LEAVES " in *" $1 "*) return 0 ;; esac; return 1; }

report() {	# name, edges file
	c=$(cycle <"$2")
	if [ -n "$c" ]; then
		echo "$1: cycle: $c"
		return 1
	fi
	bad=$(while read -r a b; do
		is_leaf "$a" && ! is_leaf "$b" && echo "$a -> $b"
	done <"$2")
	if [ -n "$bad" ]; then
		echo "$1: a leaf uses a feature file:" $bad
		return 1
	fi
	return 0
}

if [ -z "$top_srcdir" ] || [ $# -gt 0 ]; then
	tmp=${TMPDIR:-/tmp}/layers.$$
	include_edges >"$tmp.inc"
	rc=0
	report includes "$tmp.inc" || rc=1
	if [ -f "$LIB" ]; then
		call_edges >"$tmp.call"
		report calls "$tmp.call" || rc=1
	fi
	rm -f "$tmp.inc" "$tmp.call"
	exit $rc
fi

te_init layers
include_edges >"$TE_DIR/includes"
call_edges >"$TE_DIR/calls"
te_check "the include graph has edges (the script reads the sources)" \
	[ "$(wc -l <"$TE_DIR/includes")" -gt 20 ]
te_check "the call graph has edges (nm reads libgw.a)" \
	[ "$(wc -l <"$TE_DIR/calls")" -gt 20 ]
te_check "the dispatch depends on the presence service" \
	grep -qx "gw_sip gw_pres" "$TE_DIR/includes"
te_check "no include cycle among gateway files" \
	report includes "$TE_DIR/includes"
te_check "no call cycle among gateway files" \
	report calls "$TE_DIR/calls"
te_check "gw.h declares no function" \
	sh -c "! sed 's|/\\*.*\\*/||' '$SRC/gw.h' | grep -q '^[a-z].*('"

# the checks can fail: a copy of the sources where presence includes
# the dispatch's header, and one where a leaf includes a service's
mkdir "$TE_DIR/loop" "$TE_DIR/leaf"
cp "$SRC"/*.c "$SRC"/*.h "$TE_DIR/loop/"
cp "$SRC"/*.c "$SRC"/*.h "$TE_DIR/leaf/"
chmod u+w "$TE_DIR/loop"/* "$TE_DIR/leaf"/*	# from a read-only srcdir
echo '#include "gateway/gw_sip.h"' >>"$TE_DIR/loop/gw_pres.c"
echo '#include "gateway/gw_msg.h"' >>"$TE_DIR/leaf/gw_retry.c"
(SRC=$TE_DIR/loop; include_edges) >"$TE_DIR/loop.edges"
(SRC=$TE_DIR/leaf; include_edges) >"$TE_DIR/leaf.edges"
report loop "$TE_DIR/loop.edges" >"$TE_DIR/loop.out"
te_check "a cycle is found and named" \
	grep -Eq "^loop: cycle: .*gw_pres -> gw_sip|gw_sip -> gw_pres" \
	"$TE_DIR/loop.out"
report leaf "$TE_DIR/leaf.edges" >"$TE_DIR/leaf.out"
te_check "a leaf that uses a service is found" \
	grep -q "^leaf: a leaf uses a feature file: gw_retry -> gw_msg" \
	"$TE_DIR/leaf.out"
te_done
