#!/usr/bin/env bats
# Reports that stay readable on big trees: identical findings told once per
# context (every one kept in JSON), descriptions held by many processes
# summed up, notes in words, --quiet, "Findings: none", and --stack frames
# under a finding's origin.

setup() {
	load helpers
	DATA=$(make_data_file)
	T="$BATS_TEST_TMPDIR/trace"
	TXT="$BATS_TEST_TMPDIR/r.txt"
	R="$BATS_TEST_TMPDIR/r.json"
}

# many N [KCMPTRACE-OPTION...]: leak_many's N children exec /bin/true with
# fd FD leaked; the JSON report in $R, the trace kept in $T, the text
# report of it in $TXT. Sets FD and KIDS (the children, in fork order).
many() {
	local n=$1
	shift
	rm -rf "$T"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --format=json -o "$R" --trace-dir "$T" "$@" -- \
		"$SCEN/leak_many" "$DATA" "$n" /bin/true
	assert_success
	assert_invariants
	FD=$(kv fd)
	IFS=, read -r -a KIDS <<<"$(kv children)"
	[[ ${#KIDS[@]} == "$n" ]] || fail "children: $output"
	run --separate-stderr kcmptrace_no_fd3 "$KT" report -o "$TXT" "$@" "$T"
	assert_success
}

# assert_width FILE: no line longer than the report's 100 columns.
assert_width() {
	local line
	while IFS= read -r line; do
		((${#line} <= 100)) || fail "line longer than 100 columns: $line"
	done <"$1"
}

@test "many identical findings: one context in the text report, every finding in JSON with its context" {
	many 12
	# JSON: each child has its finding, all of one context that counts them
	for k in "${KIDS[@]}"; do
		assert_finding leaked-across-exec "$k" "$FD"
	done
	q_true '[.findings[] | select(.kind == "leaked-across-exec")] | length == 12'
	c=$(q '[.findings[] | select(.kind == "leaked-across-exec") | .context] | unique |
		if length == 1 then .[0] else error("contexts: \(.)") end')
	kids_json=$(printf '%s\n' "${KIDS[@]}" | jq -cs .)
	q_true '.finding_contexts[] | select(.id == $c) | .count == 12 and .processes == 12 and
		.pids == $kids and .kind == "leaked-across-exec" and .severity == "warning" and
		.fd == $fd and .target == $data and .origin.call == "open" and .origin.program == "leak_many"' \
		--argjson c "$c" --argjson kids "$kids_json" --argjson fd "$FD" --arg data "$DATA"
	# every finding belongs to a listed context, and the counts add up
	q_true '[.finding_contexts[].id] as $ids | all(.findings[]; .context as $x | any($ids[]; . == $x))'
	q_true '([.finding_contexts[].count] | add) == (.findings | length)'
	q_true '. as $r | [.finding_contexts[] | .id as $i |
		.count == ([$r.findings[] | select(.context == $i)] | length)] | all'
	# text: one entry, a count and the first children by pid and name
	grep -qx 'Findings: 12 in 1 context (12 warnings)' "$TXT" || fail "$(cat "$TXT")"
	[[ $(grep -c '^  warning leaked-across-exec' "$TXT") == 1 ]] || fail "$(cat "$TXT")"
	grep -qx "  warning leaked-across-exec  fd $FD  $DATA" "$TXT"
	line=$(grep '^    x12 in 12 processes: ' "$TXT") || fail "no count line: $(cat "$TXT")"
	shown=$(grep -o '[0-9][0-9]* true' <<<"$line" | wc -l)
	((shown >= 3)) || fail "too few processes named: $line"
	want="    x12 in 12 processes: ${KIDS[0]} true, ${KIDS[1]} true, ${KIDS[2]} true"
	[[ $line == "$want"* ]] || fail "expected the first children in order: $line"
	[[ $line == *"... and $((12 - shown)) more" ]] || fail "$line"
	assert_width "$TXT"
}

@test "a description held by many processes is summed up by program in the text report; JSON lists every holder" {
	many 12
	ofd=$(q '[fdent($p; $f) | .ofd][0]' --argjson p "$(root_pid)" --argjson f "$FD")
	q_true '[ofdent($o) | .holders[]] | length == 13' --argjson o "$ofd"
	# the header, the first 5 holders, then the sum
	block=$(awk -v h="  ofd $ofd " 'index($0, h) == 1 {on = 1; print; next}
		on && /^    / {print; next} {on = 0}' "$TXT")
	[[ $(wc -l <<<"$block") == 7 ]] || fail "expected 7 lines: $block"
	[[ $(sed -n 7p <<<"$block") == "    13 holders in 13 processes, the first 5 above: true (12), leak_many (1)" ]] ||
		fail "$block"
	# a description with few holders lists them all
	run --separate-stderr kcmptrace_no_fd3 "$KT" -o "$TXT" -- "$SCEN/leak_many" "$DATA" 3 /bin/true
	assert_success
	! grep -q 'holders in' "$TXT" || fail "$(cat "$TXT")"
}

@test "--error-exitcode and suppressions count every finding of a context" {
	many 4
	run --separate-stderr kcmptrace_no_fd3 "$KT" --error-exitcode=42 -o "$TXT" -- \
		"$SCEN/leak_many" "$DATA" 4 /bin/true
	assert_equal "$status" 42
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --error-exitcode=42 -o "$TXT" "$T"
	assert_equal "$status" 42
	printf 'kind=leaked-across-exec program=true\n' >"$BATS_TEST_TMPDIR/supp"
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --error-exitcode=42 \
		--suppressions="$BATS_TEST_TMPDIR/supp" -o "$TXT" "$T"
	assert_success
	grep -qx 'Findings: none (4 suppressed)' "$TXT" || fail "$(cat "$TXT")"
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json \
		--suppressions="$BATS_TEST_TMPDIR/supp" -o "$R" "$T"
	assert_success
	assert_invariants
	q_true '.suppressed == 4 and .findings == [] and .finding_contexts == []'
}

@test "--quiet: the findings and their summary line only, for the text report only" {
	run --separate-stderr kcmptrace_no_fd3 "$KT" --quiet -o "$TXT" -- "$SCEN/leak_many" "$DATA" 3 /bin/true
	assert_success
	FD=$(kv fd)
	[[ $(head -n1 "$TXT") == "Findings: 3 in 1 context (3 warnings)" ]] || fail "$(cat "$TXT")"
	grep -qx "  warning leaked-across-exec  fd $FD  $DATA" "$TXT"
	! grep -qE '^(kcmptrace: |Shared open file descriptions|Descriptors that share nothing|Process tree|Notes)' "$TXT" ||
		fail "tables in a quiet report: $(cat "$TXT")"
	assert_width "$TXT"
	# with nothing to report, one line
	run --separate-stderr kcmptrace_no_fd3 "$KT" --quiet -- /bin/true
	assert_success
	assert_equal "$stderr" "Findings: none"
	# not a JSON or dot option
	run --separate-stderr kcmptrace_no_fd3 "$KT" --quiet --format=json -- /bin/true
	assert_equal "$status" 2
	assert_one_line_error
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --quiet --format=dot "$BATS_TEST_TMPDIR"
	assert_equal "$status" 2
	assert_one_line_error
	run kcmptrace_no_fd3 "$KT" --help
	assert_line --partial "--quiet"
}

@test "without findings the text report says so: Findings: none" {
	run --separate-stderr kcmptrace_no_fd3 "$KT" -o "$TXT" -- "$SCEN/kcmp_manpage" "$DATA"
	assert_success
	grep -qx 'Findings: none' "$TXT" || fail "$(cat "$TXT")"
	traced "$SCEN/kcmp_manpage" "$DATA"
	assert_success
	assert_invariants
	q_true '.findings == [] and .finding_contexts == []'
}

@test "--stack=N: the callers of a finding's origin, under its origin line" {
	many 2 --stack=3
	origin=$(grep -A2 '^    origin: ' "$TXT") || fail "no origin line: $(cat "$TXT")"
	[[ $(sed -n 1p <<<"$origin") == "    origin: open in leak_many at open_file+0x"*"(leak_many.c:"*")" ]] ||
		fail "$origin"
	[[ $(sed -n 2p <<<"$origin") == "      < open_log+0x"*"(leak_many.c:"*")" ]] || fail "$origin"
	[[ $(sed -n 3p <<<"$origin") == "      < main+0x"*"(leak_many.c:"*")" ]] || fail "$origin"
	q_true 'all(.findings[]; .origin.stack | length == 2 and (.[0] | startswith("open_log+0x"))
		and (.[1] | startswith("main+0x")))'
	# the default shows the site alone
	run --separate-stderr kcmptrace_no_fd3 "$KT" report -o "$TXT" "$T"
	assert_success
	grep -q '^    origin: open in leak_many at open_file+0x' "$TXT"
	! grep -q '^      < ' "$TXT" || fail "$(cat "$TXT")"
}

@test "notes say in words what happened, what it means and what to do, with no raw errno" {
	# kcmp refused (EPERM) by a seccomp filter
	rm -rf "$T"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --trace-dir "$T" -o "$TXT" -- \
		"$SCEN/without_kcmp" "$SCEN/kcmp_manpage" "$DATA"
	assert_success
	grep -q '^  Some kcmp(KCMP_FILE) comparisons failed with EPERM (Operation not permitted): the kernel' "$TXT" ||
		fail "$(cat "$TXT")"
	grep -q 'rests on what kcmptrace saw' "$TXT"          # what it means
	grep -q 'lower kernel.yama.ptrace_scope' "$TXT"      # what to do
	! grep -qi 'errno' "$TXT" || fail "$(cat "$TXT")"
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json -o "$R" "$T"
	assert_success
	assert_invariants
	q_true '[.processes[].notes[]] | length > 0 and all(test("errno") | not) and any(test("EPERM"))'
	# --quiet still says, in one line, that the trace is incomplete
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --quiet "$T"
	assert_success
	assert_line "Notes: 1 kind (the trace is incomplete); run without --quiet to read them"
	refute_line --partial "Some kcmp(KCMP_FILE) comparisons failed"
	# two children that end without a snapshot: one entry for both
	run --separate-stderr kcmptrace_no_fd3 "$KT" -o "$TXT" -- "$SCEN/no_snapshot_exit" "$DATA"
	assert_success
	[[ $(grep -c 'ended without a snapshot of its descriptors' "$TXT") == 1 ]] || fail "$(cat "$TXT")"
	grep -qE "^    in 2 processes: $(kv raw) no_snapshot_exit, $(kv killed) no_snapshot_exit\$" "$TXT" ||
		fail "$(cat "$TXT")"
	assert_width "$TXT"
}
