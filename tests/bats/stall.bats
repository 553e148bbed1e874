#!/usr/bin/env bats
# The launcher's own look at a stuck tree (--stall, --on-deadlock): when
# every traced process has been asleep for --stall seconds it analyses the
# tree from outside, writes a proven deadlock at once, and with
# --on-deadlock=kill ends the tree. Every run is bounded by timeout.

setup() {
	load helpers
	# TSan's runtime adds a thread to every process, and a process is
	# stuck only when each of its threads is: TSan's sleeps on a timer
	[[ ${KCMPTRACE_SANITIZER_RUN:-} != thread ]] || skip "under TSan every process has a second thread"
	LAUNCHER=
}

teardown() {
	if [[ -n $LAUNCHER ]]; then
		kill -KILL -- "-$LAUNCHER" 2>/dev/null || true
	fi
}

@test "--on-deadlock=kill: a parent waiting for a child that reads the pipe it holds is reported at once, the tree ended, exit 143" {
	R="$BATS_TEST_TMPDIR/r.json"
	local t0=$SECONDS
	run --separate-stderr kcmptrace_no_fd3 timeout -s KILL 60 "$KT" --stall=1 --on-deadlock=kill \
		--format=json -o "$R" -- "$SCEN/hang" pipe_wait
	assert_equal "$status" 143
	((SECONDS - t0 < 30)) || fail "took $((SECONDS - t0)) s"
	grep -qF "deadlock: report of the stuck tree written to $R.deadlock" <<<"$stderr" ||
		fail "stderr: $stderr"
	# the report written at the stall: the cycle, the pipe's write end
	local final=$R
	R="$R.deadlock"
	assert_invariants
	q_true '[.findings[] | select(.kind == "deadlock")] | length == 1'
	q_true '[.findings[] | select(.kind == "deadlock")][0].cycle as $c
	        | ($c | length) == 2 and ([$c[].call] | sort) == ["read", "wait4"]'
	q_true 'all(.processes[]; .snapshot.why == "stall" and .end.how == "running")'
	# the final report: the parent ended by the signal (its child then
	# reads end of file and may end on its own), nothing left behind
	R=$final
	assert_invariants
	q_true '(.processes | length) == 2 and .processes[0].end == {"how": "signal", "signal": 15, "status": 15}
	        and (.processes[1].end.how | IN("signal", "exit"))'
	[[ -z $(ls "$TMPDIR" 2>/dev/null | grep kcmptrace) ]] || fail "trace left: $(ls "$TMPDIR")"
}

@test "--on-deadlock=kill with --error-exitcode=N exits N; without -o the deadlock report goes to stderr" {
	run --separate-stderr kcmptrace_no_fd3 timeout -s KILL 60 "$KT" --stall=0.5 --on-deadlock=kill \
		--error-exitcode=9 -- "$SCEN/hang" self_read
	assert_equal "$status" 9
	grep -q 'error deadlock' <<<"$stderr" || fail "no deadlock in: $stderr"
}

@test "--on-deadlock=wait (the default): the deadlock is written once and the run goes on until the launcher is told to stop" {
	R="$BATS_TEST_TMPDIR/r.json"
	setsid timeout -s KILL 60 "$KT" --stall=0.5 --format=json -o "$R" -- "$SCEN/hang" chain3 \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" </dev/null 3>&- &
	LAUNCHER=$!
	local i kt
	for ((i = 0; i < 200; i++)); do
		[[ -s $R.deadlock ]] && break
		sleep 0.1
	done
	[[ -s $R.deadlock ]] || fail "no deadlock report after 20 s: $(cat "$BATS_TEST_TMPDIR/err")"
	sleep 1.5 # several more stall periods: still one report, the tree still there
	kt=$(pids_where 4 "$LAUNCHER")
	[[ -n $kt ]] || fail "the launcher is gone"
	assert_equal "$(grep -c 'deadlock: report' "$BATS_TEST_TMPDIR/err")" 1
	kill -TERM "$kt"
	wait "$LAUNCHER" || status=$?
	assert_equal "${status:-0}" 143
	LAUNCHER=
	local final=$R
	R="$R.deadlock"
	assert_invariants
	q_true '[.findings[] | select(.kind == "deadlock")][0].cycle | length == 3'
	R=$final
	assert_invariants
}

@test "stalls that are no deadlock are never reported mid-run: a sleeping writer, a reader fed from outside the tree" {
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 timeout -s KILL 60 "$KT" --stall=0.3 --format=json -o "$R" -- \
		bash -c 'sleep 1.5 | cat; :'
	assert_success
	[[ ! -e $R.deadlock ]] || fail "a deadlock was reported: $(cat "$R.deadlock")"
	assert_invariants
	q_true '[.findings[] | select(.kind == "deadlock" or .kind == "stall")] == []'
	# the reader's stdin is a pipe whose writer (sleep) is outside the trace
	run --separate-stderr bash -c "(sleep 1.5; echo x) | timeout -s KILL 60 '$KT' --stall=0.3 --format=json -o '$R' -- '$SCEN/hang' reader 3>&-"
	assert_success
	[[ ! -e $R.deadlock ]] || fail "a deadlock was reported: $(cat "$R.deadlock")"
}

@test "--stall and --on-deadlock: bad values are one line, non-zero" {
	run --separate-stderr "$KT" --stall=abc -- true
	assert_one_line_error
	run --separate-stderr "$KT" --stall=-1 -- true
	assert_one_line_error
	run --separate-stderr "$KT" --on-deadlock=maybe -- true
	assert_one_line_error
}
