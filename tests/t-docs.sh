#!/usr/bin/env bash
# The key reference is written by hand twice (the README's key table and
# doc/picovm.conf.5); the key table in config/keys.c is the truth, and
# `picovm --help` prints it (name, type, default).  For every key of
# --help: the README table has a row for it and picovm.conf.5 an entry
# (`.TP` then `.B KEY` under KEYS), both with the same type and default;
# and neither documents a key that --help does not list.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ ! -x "$PICOVM" ]; then
	skip docs "no $PICOVM (run make first)"
	exit 0
fi
README=$TOP/README.md
MAN=$TOP/doc/picovm.conf.5

# --help: "  KEY = TYPE  (required|default X|default: TEXT)" -> KEY\tTYPE\tKIND\tVALUE
"$PICOVM" --help >"$WORK/help.out" 2>&1
awk '
/^  [^ ]+ = [^ ]+/ {
	key = $1; type = $3
	kind = "none"; val = ""
	if (match($0, /  \(.*\)$/)) {
		d = substr($0, RSTART + 3, RLENGTH - 4)
		if (d == "required") kind = "req"
		else if (d ~ /^default: /) { kind = "doc"; val = substr(d, 10) }
		else if (d ~ /^default /) { kind = "val"; val = substr(d, 9) }
	}
	printf "%s\t%s\t%s\t%s\n", key, type, kind, val
}' "$WORK/help.out" >"$WORK/keys.tsv"
nkeys=$(wc -l <"$WORK/keys.tsv")
if [ "$nkeys" -lt 20 ]; then
	fail "docs: --help lists the keys" "only $nkeys key lines in --help"
	exit 0
fi
pass "docs: --help lists $nkeys keys"

# README: the rows of the table headed "| key | type | default | ...":
# KEY\tTYPE\tDEFAULT (cells as written).
awk '
/^\| key \| type \| default \|/ { t = 1; next }
t && /^\| --- / { next }
t && !/^\|/ { t = 0 }
t {
	n = split($0, c, / \| /)
	key = c[1]; sub(/^\| /, "", key); gsub(/`/, "", key)
	printf "%s\t%s\t%s\n", key, c[2], c[3]
}' "$README" >"$WORK/readme.tsv"

# picovm.conf.5, under KEYS: KEY\tTYPE-LINE\tDEFAULT\tREQUIRED (0/1), with
# the roff of the type line and of "Default:" turned into text.
awk '
function roff(line,   m, rest, n, a, i, out) {
	m = line; sub(/ .*/, "", m)
	rest = line; sub(/^[^ ]* ?/, "", rest)
	n = split(rest, a, " ")
	out = ""
	for (i = 1; i <= n; i++)
		out = out ((m == ".B" || m == ".I") && i > 1 ? " " : "") a[i]
	gsub(/\\f[RBIP]/, "", out); gsub(/\\%/, "", out); gsub(/\\-/, "-", out)
	return out
}
function flush() {
	if (key != "")
		printf "%s\t%s\t%s\t%d\n", key, type, def, req
	key = ""
}
/^\.SH / { flush(); keys = ($0 == ".SH KEYS"); next }
!keys { prev = $0; next }
prev == ".TP" && /^\.B [^ ]+$/ {
	flush(); key = $2; type = ""; def = "-"; req = 0; want = "type"
	prev = $0; next
}
key != "" && want == "type" { type = roff($0); want = "" }
key != "" && want == "def" {
	def = def (def == "" ? "" : " ") (/^\./ ? roff($0) : $0); want = ""
}
key != "" && /^required[.,]/ { req = 1 }
key != "" && /^Default:/ {
	def = $0; sub(/^Default: */, "", def)
	if (def == "" || def !~ /[.)]$/) want = "def"
}
{ prev = $0 }
END { flush() }' "$MAN" >"$WORK/man.tsv"

strip() { # text without backticks and trailing punctuation
	local s=${1//\`/}
	s=${s%%[.,:]}
	printf '%s' "$s"
}

# default_ok readme|man TEXT: whether TEXT (the README's default cell, or
# the page's "Default:" sentence as text) states the default --help gives
# ($kind $val: req, val VALUE, or doc TEXT).  Free-text defaults (doc):
# "none", or the README's words found in both --help's and the page's.
default_ok() {
	local where=$1 text=$2 first r
	case $kind in
	req)
		if [ "$where" = readme ]; then
			[[ $text == "(required"* ]]
		else
			[ "$mreq" = 1 ]
		fi ;;
	val)
		if [ "$where" = readme ]; then
			first=$(sed -n 's/^[^`]*`\([^`]*\)`.*/\1/p' <<<"$text")
			[ "$first" = "$val" ]
		elif [ -z "$val" ] || [ "$val" = '""' ]; then
			[ "$text" = empty ]
		else
			[ "${text%% *}" = "$val" ]
		fi ;;
	doc)
		if [ "$val" = none ]; then
			[[ $text == none* ]]
		else
			r=$(strip "$rdef")
			[ -n "$r" ] && [[ $val == *"$r"* ]] && [[ $(strip "$text") == *"$r"* ]]
		fi ;;
	*) false ;;
	esac
}

while IFS=$'\t' read -r key type kind val; do
	rdef=
	row=$(awk -F'\t' -v k="$key" '$1 == k' "$WORK/readme.tsv")
	ent=$(awk -F'\t' -v k="$key" '$1 == k' "$WORK/man.tsv")
	if [ -z "$row" ]; then
		fail "docs: README documents $key" "no row for \`$key\` in the README key table"
	else
		IFS=$'\t' read -r _ rtype rdef <<<"$row"
		# The type column: the type, "choice" for named values, or
		# the sink's outputs spelled out.
		want=$type
		case $type in
		*file:PATH) rtype=$(strip "$rtype"); rtype=${rtype//, /|} ;;
		*\|*) want=choice ;;
		esac
		if [ "$rtype" = "$want" ]; then
			pass "docs: README type of $key"
		else
			fail "docs: README type of $key" "README says '$rtype', the key table '$want'"
		fi
		if default_ok readme "$rdef"; then
			pass "docs: README default of $key"
		else
			fail "docs: README default of $key" "README says '$rdef'; --help says '$kind $val'"
		fi
	fi
	if [ -z "$ent" ]; then
		fail "docs: picovm.conf.5 documents $key" "no '.TP' '.B $key' entry under KEYS"
		continue
	fi
	IFS=$'\t' read -r _ mtype mdef mreq <<<"$ent"
	mtype=$(strip "${mtype%% *}")
	case $type in
	*file:PATH) mtype=$type ;;	# the outputs are spelled out in prose
	*\|*) type=choice ;;
	esac
	if [ "$mtype" = "$type" ]; then
		pass "docs: picovm.conf.5 type of $key"
	else
		fail "docs: picovm.conf.5 type of $key" "the page says '$mtype', the key table '$type'"
	fi
	if default_ok man "$(strip "$mdef")"; then
		pass "docs: picovm.conf.5 default of $key"
	else
		fail "docs: picovm.conf.5 default of $key" "the page says '$mdef'; --help says '$kind $val'"
	fi
done <"$WORK/keys.tsv"

# Nothing documented that does not exist.
for f in readme man; do
	while IFS=$'\t' read -r key _; do
		if ! awk -F'\t' -v k="$key" '$1 == k { f = 1 } END { exit !f }' "$WORK/keys.tsv"; then
			fail "docs: $f documents only real keys" "'$key' is not a key (not in --help)"
		fi
	done <"$WORK/$f.tsv"
done
pass "docs: README and picovm.conf.5 checked against $nkeys keys"
exit 0
