#!/usr/bin/env bats
# The command line: launcher and plain LD_PRELOAD, exit status, re-rendering a
# kept trace, bad input.

setup() {
	load helpers
}

@test "plain LD_PRELOAD: KCMPTRACE_OUTPUT and KCMPTRACE_FORMAT=json give the same facts as the launcher" {
	F=$(make_data_file)
	preloaded "$SCEN/kcmp_manpage" "$F"
	assert_success
	check_manpage "$F"
}

@test "plain LD_PRELOAD without KCMPTRACE_OUTPUT: text report on stderr, program output untouched" {
	run --separate-stderr kcmptrace_no_fd3 env LD_PRELOAD="$SHIM" KCMPTRACE_FORMAT=text "$SCEN/kcmp_manpage"
	assert_success
	assert_output --regexp '^shared_fd=[0-9]+ second_fd=[0-9]+ dup_fd=[0-9]+$'
	[[ -n $stderr ]] || fail "no report on stderr"
	[[ $stderr == *kcmp_manpage* ]] || fail "the report does not name the program: $stderr"
}

@test "plain LD_PRELOAD with KCMPTRACE_DIR keeps the trace for kcmptrace report" {
	F=$(make_data_file)
	D="$BATS_TEST_TMPDIR/trace"
	mkdir "$D"
	run --separate-stderr kcmptrace_no_fd3 env KCMPTRACE_DIR="$D" LD_PRELOAD="$SHIM" "$SCEN/kcmp_manpage" "$F"
	assert_success
	LINE=$output
	compgen -G "$D/*.rec" >/dev/null || fail "no records kept in $D"
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json -o "$R" "$D"
	assert_success
	output=$LINE
	check_manpage "$F"
}

@test "launcher: the report goes to stderr by default, JSON when asked" {
	run --separate-stderr kcmptrace_no_fd3 "$KT" --format=json -- "$SCEN/kcmp_manpage"
	assert_success
	assert_output --regexp '^shared_fd=[0-9]+ second_fd=[0-9]+ dup_fd=[0-9]+$'
	printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/stderr.json"
	R="$BATS_TEST_TMPDIR/stderr.json"
	assert_invariants
	q_true '.processes | length == 2'
}

@test "launcher: text is the default format" {
	run --separate-stderr kcmptrace_no_fd3 "$KT" -o "$BATS_TEST_TMPDIR/r.txt" -- "$SCEN/kcmp_manpage"
	assert_success
	[[ -s $BATS_TEST_TMPDIR/r.txt ]] || fail "no text report written"
	if jq -e . "$BATS_TEST_TMPDIR/r.txt" >/dev/null 2>&1; then
		fail "the default report is JSON, not text"
	fi
}

@test "exit status passes through: exit 3" {
	traced sh -c 'exit 3'
	assert_failure 3
	assert_invariants
	q_true '.processes | length == 1'
	assert_equal "$(q '.processes[0].end | {how, status}' -c)" '{"how":"exit","status":3}'
}

@test "exit status passes through: killed by SIGTERM gives 143" {
	traced sh -c 'kill -TERM $$'
	assert_failure 143
	assert_invariants
	q_true '.processes | length == 1'
	assert_equal "$(q '.processes[0].end | {how, status}' -c)" '{"how":"signal","status":15}'
}

@test "exit status passes through: killed by SIGKILL gives 137" {
	traced sh -c 'kill -KILL $$'
	assert_failure 137
	assert_invariants
	q_true '.processes | length == 1'
	assert_equal "$(q '.processes[0].end | {how, status}' -c)" '{"how":"signal","status":9}'
}

@test "plain LD_PRELOAD: exit status untouched, recorded in the report" {
	preloaded sh -c 'exit 3'
	assert_failure 3
	assert_invariants
	q_true '.processes | length == 1'
	assert_equal "$(q '.processes[0].end | {how, status}' -c)" '{"how":"exit","status":3}'
}

@test "kcmptrace report DIR re-renders a kept trace to the launcher's JSON" {
	F=$(make_data_file)
	D="$BATS_TEST_TMPDIR/trace"
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --format=json -o "$R" --trace-dir "$D" -- "$SCEN/kcmp_manpage" "$F"
	assert_success
	check_manpage "$F"
	shopt -s nullglob
	recs=("$D"/*.rec)
	[[ ${#recs[@]} -eq 2 ]] || fail "expected 2 process records in $D, got: $(ls -la "$D")"
	# a kept trace is its records: the tables of live/ go once nothing runs
	assert_equal "$(ls -A "$D" | grep -v '\.rec$')" ""

	run --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json -o "$BATS_TEST_TMPDIR/again.json" "$D"
	assert_success
	assert_equal "$(jq -S . "$BATS_TEST_TMPDIR/again.json")" "$(jq -S . "$R")"

	run --separate-stderr kcmptrace_no_fd3 "$KT" report --format=text -o "$BATS_TEST_TMPDIR/again.txt" "$D"
	assert_success
	[[ -s $BATS_TEST_TMPDIR/again.txt ]] || fail "no text re-render"
	# without -o: on standard output (no program shares it), nothing on stderr
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --format=text "$D"
	assert_success
	assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/again.txt")"
	assert_equal "$stderr" ""
}

@test "kcmptrace report ignores record kinds it does not know" {
	D="$BATS_TEST_TMPDIR/trace"
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --format=json -o "$R" --trace-dir "$D" -- "$SCEN/kcmp_manpage"
	assert_success
	for rec in "$D"/*.rec; do
		printf 'future-kind\tsome\tfields\n' >>"$rec"
	done
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json -o "$BATS_TEST_TMPDIR/again.json" "$D"
	assert_success
	assert_equal "$(jq -S . "$BATS_TEST_TMPDIR/again.json")" "$(jq -S . "$R")"
}

@test "bad input: unknown option" {
	run ! --separate-stderr kcmptrace_no_fd3 "$KT" --no-such-option -- true
	assert_one_line_error
	assert_output ""
}

@test "bad input: options of a run given to report" {
	mkdir "$BATS_TEST_TMPDIR/t"
	for opt in --no-watch "--trace-dir=$BATS_TEST_TMPDIR/x"; do
		run ! --separate-stderr kcmptrace_no_fd3 "$KT" report "$opt" "$BATS_TEST_TMPDIR/t"
		assert_equal "$status" 2
		assert_one_line_error
		assert_regex "$stderr" "is for running a command, not for report"
	done
}

@test "bad input: missing command" {
	run ! --separate-stderr kcmptrace_no_fd3 "$KT"
	assert_one_line_error
	run ! --separate-stderr kcmptrace_no_fd3 "$KT" --format=json --
	assert_one_line_error
}

@test "bad input: unknown format" {
	run ! --separate-stderr kcmptrace_no_fd3 "$KT" --format=xml -- true
	assert_one_line_error
}

@test "bad input: nonexistent command" {
	run ! --separate-stderr kcmptrace_no_fd3 "$KT" -- "$BATS_TEST_TMPDIR/no-such-command"
	assert_one_line_error
	assert_output ""
}

@test "bad input: report of a missing directory, of a file, of nothing" {
	run ! --separate-stderr kcmptrace_no_fd3 "$KT" report "$BATS_TEST_TMPDIR/no-such-dir"
	assert_one_line_error
	echo hello >"$BATS_TEST_TMPDIR/plain-file"
	run ! --separate-stderr kcmptrace_no_fd3 "$KT" report "$BATS_TEST_TMPDIR/plain-file"
	assert_one_line_error
	run ! --separate-stderr kcmptrace_no_fd3 "$KT" report
	assert_one_line_error
}

@test "bad input: report of an unreadable directory" {
	[[ $(id -u) -ne 0 ]] || skip "root reads any directory"
	D="$BATS_TEST_TMPDIR/trace"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --format=json -o "$BATS_TEST_TMPDIR/r.json" --trace-dir "$D" -- true
	assert_success
	chmod 000 "$D"
	run --separate-stderr kcmptrace_no_fd3 "$KT" report "$D"
	chmod 755 "$D"
	assert_one_line_error
}

# kept_trace DIR: a trace of kcmp_manpage kept in DIR
kept_trace() {
	run --separate-stderr kcmptrace_no_fd3 "$KT" --format=json -o "$BATS_TEST_TMPDIR/r.json" --trace-dir "$1" -- "$SCEN/kcmp_manpage"
	assert_success
	compgen -G "$1/*.rec" >/dev/null || fail "no records kept in $1"
}

@test "bad input: corrupt trace (bad magic)" {
	D="$BATS_TEST_TMPDIR/trace"
	kept_trace "$D"
	for rec in "$D"/*.rec; do
		sed -i '1s/.*/not-a-kcmptrace-record\t1/' "$rec"
	done
	run ! --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json -o "$BATS_TEST_TMPDIR/x.json" "$D"
	assert_one_line_error
}

@test "bad input: corrupt trace (a malformed fd record)" {
	D="$BATS_TEST_TMPDIR/trace"
	kept_trace "$D"
	rec=$(grep -l -P '^fd\t' "$D"/*.rec | head -n 1)
	[[ -n $rec ]] || fail "no fd record to corrupt in $D"
	sed -i -E '0,/^fd\t[0-9]+/s//fd\tnot-a-number/' "$rec"
	grep -q -P '^fd\tnot-a-number' "$rec" || fail "corruption did not apply"
	run ! --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json -o "$BATS_TEST_TMPDIR/x.json" "$D"
	assert_one_line_error
}

@test "bad input: corrupt trace (a truncated image record)" {
	D="$BATS_TEST_TMPDIR/trace"
	kept_trace "$D"
	rec=$(ls "$D"/*.rec | head -n 1)
	sed -i -E '0,/^image\t.*/s//image\t12/' "$rec"
	grep -q -P '^image\t12$' "$rec" || fail "corruption did not apply"
	run ! --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json -o "$BATS_TEST_TMPDIR/x.json" "$D"
	assert_one_line_error
}

@test "bad input: a FIFO named like a record gets one line, never a hang" {
	D="$BATS_TEST_TMPDIR/trace"
	kept_trace "$D"
	mkfifo "$D/999-1.rec"
	run ! --separate-stderr kcmptrace_no_fd3 timeout 20 "$KT" report -o "$BATS_TEST_TMPDIR/x.txt" "$D"
	refute [ "$status" -eq 124 ]
	assert_one_line_error
	[[ $stderr == *"999-1.rec: not a regular file"* ]] || fail "unexpected error: $stderr"
}

@test "report: a call site whose module is a FIFO is left unresolved, never a hang" {
	D="$BATS_TEST_TMPDIR/trace"
	kept_trace "$D"
	mkfifo "$BATS_TEST_TMPDIR/module"
	sed -i -E "s|\t[^\t]*(\+0x[0-9a-f]+)$|\t$BATS_TEST_TMPDIR/module\\1|" "$D"/*.rec
	grep -q "$BATS_TEST_TMPDIR/module+0x" "$D"/*.rec || fail "no call site was replaced"
	run --separate-stderr kcmptrace_no_fd3 timeout 20 "$KT" report --stack=2 "$D"
	assert_success
	assert_output --partial "module+0x"
}

@test "--wait=command: reported when the command ends, a descendant still running is live; its end removes the temporary trace" {
	need_kcmp
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir "$TMPDIR"
	fifo="$BATS_TEST_TMPDIR/go"
	mkfifo "$fifo"
	R="$BATS_TEST_TMPDIR/r.json"
	# cat blocks opening the FIFO until this test opens it for writing; the
	# shell ends once cat runs (exec done, blocked), so that it is traced
	run --separate-stderr kcmptrace_no_fd3 "$KT" --wait=command --format=json -o "$R" -- \
		bash -c "exec 7</etc/hostname; cat $fifo >/dev/null &
			until [[ \$(readlink /proc/\$!/exe) == */cat ]] && grep -q '^State:.*S' /proc/\$!/status; do :; done
			echo bg=\$!"
	assert_success
	BG=$(kv bg)
	assert_regex "$stderr" "still running; .* is removed when the last of them ends"
	assert_invariants
	q_true 'proc($p).end.how == "running" and proc($p).snapshot.why == "live"' --argjson p "$BG"
	# the shell's fd 7, inherited by cat, read from outside while cat runs
	P=$(root_pid)
	assert_shared "$P" 7 "$BG" 7
	[[ -n $(ls "$TMPDIR") ]] || fail "the trace went away while cat still runs"
	echo go >"$fifo"
	for _ in $(seq 100); do
		[[ -z $(ls "$TMPDIR") ]] && break
		sleep 0.1
	done
	[[ -z $(ls "$TMPDIR") ]] || fail "trace left behind: $(ls -R "$TMPDIR")"
}

@test "plain LD_PRELOAD leaves no trace directory behind" {
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir "$TMPDIR"
	run --separate-stderr kcmptrace_no_fd3 env -u KCMPTRACE_DIR KCMPTRACE_OUTPUT=/dev/null LD_PRELOAD="$SHIM" \
		bash -c 'echo hi | cat'
	assert_success
	assert_output hi
	[[ -z $(ls "$TMPDIR") ]] || fail "trace left behind: $(ls -R "$TMPDIR")"
}

@test "plain LD_PRELOAD: the last process to end removes the trace, though a killed one left its table" {
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir "$TMPDIR"
	fifo="$BATS_TEST_TMPDIR/go"
	mkfifo "$fifo"
	# sleep, killed, ends without removing its table; cat outlives the
	# first process (which reports) and is the last one to end
	run --separate-stderr kcmptrace_no_fd3 env -u KCMPTRACE_DIR KCMPTRACE_OUTPUT=/dev/null LD_PRELOAD="$SHIM" \
		bash -c "sleep 100 & kill -9 \$!; wait; cat $fifo >/dev/null &
			until [[ \$(readlink /proc/\$!/exe) == */cat ]] && grep -q '^State:.*S' /proc/\$!/status; do :; done"
	assert_success
	[[ -n $(ls "$TMPDIR") ]] || fail "the trace went away while cat still runs"
	echo go >"$fifo"
	for _ in $(seq 100); do
		[[ -z $(ls "$TMPDIR") ]] && break
		sleep 0.1
	done
	[[ -z $(ls "$TMPDIR") ]] || fail "trace left behind: $(ls -R "$TMPDIR")"
}

@test "an installed tree (cmake --install to another prefix) finds its own parts: launcher and plain LD_PRELOAD" {
	prefix="$BATS_TEST_TMPDIR/inst"
	run -0 cmake --install "$BUILD" --prefix "$prefix"
	R="$BATS_TEST_TMPDIR/r.json"
	run -0 --separate-stderr kcmptrace_no_fd3 "$prefix/bin/kcmptrace" --format=json -o "$R" -- /bin/true
	q_true '(.processes | length) == 1'
	rm "$R"
	run -0 --separate-stderr kcmptrace_no_fd3 env KCMPTRACE_OUTPUT="$R" KCMPTRACE_FORMAT=json \
		LD_PRELOAD="$prefix/lib/kcmptrace/libkcmptrace.so" /bin/true
	q_true '(.processes | length) == 1'
	[[ -f $prefix/share/kcmptrace/bats/kcmptrace.bash ]]
}

@test "a kept trace renders the same again: the ends the launcher reaped and the tables of killed processes are in it" {
	D="$BATS_TEST_TMPDIR/trace"
	# bash is killed: no snapshot of its own, its end known only to the
	# launcher, its descriptors only from its table
	run --separate-stderr kcmptrace_no_fd3 "$KT" --trace-dir "$D" --format=json -o "$BATS_TEST_TMPDIR/a.json" -- \
		bash -c 'exec 5</etc/hostname; kill -TERM $$'
	assert_equal "$status" 143
	R="$BATS_TEST_TMPDIR/a.json"
	assert_invariants
	q_true '.processes[0].end == {"how": "signal", "signal": 15, "status": 15}'
	q_true '[.processes[0].fds[].fd] | index(5) != null'
	for round in 1 2; do
		run --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json -o "$BATS_TEST_TMPDIR/b.json" "$D"
		assert_success
		assert_equal "$(jq -S . "$BATS_TEST_TMPDIR/b.json")" "$(jq -S . "$BATS_TEST_TMPDIR/a.json")"
	done
	# a static command's exit status, known only from the launcher's wait
	D2="$BATS_TEST_TMPDIR/trace2"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --no-watch --trace-dir "$D2" --format=json -o "$BATS_TEST_TMPDIR/c.json" -- \
		"$SCEN/static_own" /etc/hostname 5
	assert_equal "$status" 5
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json -o "$BATS_TEST_TMPDIR/d.json" "$D2"
	assert_success
	R="$BATS_TEST_TMPDIR/d.json"
	q_true '.processes[0].end == {"how": "exit", "status": 5}'
}

@test "argv elements that are empty or a lone dash are shown as given, not as absent" {
	traced /usr/bin/printf '%s' '' -
	assert_success
	assert_output -- -
	q_true '.processes[0].argv == ["/usr/bin/printf", "%s", "", "-"]'
}

@test "an empty record (a process killed as it began its trace) is left out with one line; the rest is reported" {
	D="$BATS_TEST_TMPDIR/trace"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --trace-dir "$D" --format=json -o "$BATS_TEST_TMPDIR/a.json" -- true
	assert_success
	: >"$D/99999-12345.rec"
	R="$BATS_TEST_TMPDIR/b.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json -o "$R" "$D"
	assert_success
	assert_equal "$(grep -c 'empty record' <<<"$stderr")" 1
	assert_invariants
	q_true '(.processes | length) == 1 and .processes[0].argv == ["true"]'
}
