#!/usr/bin/env bats
# Processes that outlive the command (issue 9): with --wait=tree the
# launcher says once what it still waits for and how to stop waiting;
# SIGINT or SIGTERM then writes the report with them running, and a daemon
# (its own session) survives as it would without kcmptrace. Real ssh-agent
# and tmux; every daemon is ended in teardown; every wait is bounded.

setup() {
	load helpers
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir -p "$TMPDIR"
	OUT="$BATS_TEST_TMPDIR/out"
	ERR="$BATS_TEST_TMPDIR/err"
	R="$BATS_TEST_TMPDIR/r.json"
	KPID=
	DAEMON=
	TMUX_SOCKET=
}

teardown() {
	if [[ -n $TMUX_SOCKET ]]; then
		tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true
	fi
	if [[ -n $DAEMON ]]; then
		kill -TERM "$DAEMON" 2>/dev/null || true
	fi
	if [[ -n $KPID ]]; then
		kill -KILL "$KPID" 2>/dev/null || true
	fi
}

# launch CMD...: the launcher in a session of its own, SIGINT at its
# default, in the background. Sets KPID.
launch() {
	setsid env --default-signal=INT "$KT" --format=json -o "$R" -- "$@" >"$OUT" 2>"$ERR" 3>&- &
	KPID=$!
}

# wait_for FILE REGEX: until FILE holds a line matching REGEX (at most 20 s).
wait_for() {
	local i
	for ((i = 0; i < 400; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "nothing matched '$2' in $1: $(cat "$1")"
}

# wait_launcher: until the launcher exits (at most 20 s); status in $status.
wait_launcher() {
	local i
	for ((i = 0; i < 400; i++)); do
		kill -0 "$KPID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$KPID" 2>/dev/null && fail "the launcher still runs: $(cat "$ERR")"
	status=0
	wait "$KPID" || status=$?
}

# the notice, once: the process waited for (pid and program) and how to stop
assert_notice() {
	local pid=$1 prog=$2
	local lines
	lines=$(grep -c 'the command has ended; waiting for' "$ERR")
	assert_equal "$lines" 1
	grep -qF "$pid $prog" "$ERR" || fail "the notice does not name $pid $prog: $(cat "$ERR")"
	grep -qF "to stop waiting, Ctrl-C or kill -INT $KPID" "$ERR" || fail "no way out told: $(cat "$ERR")"
}

@test "ssh-agent -s: the launcher says what it waits for; SIGINT reports the agent running and leaves it alive" {
	launch ssh-agent -s -a "$BATS_TEST_TMPDIR/agent.sock"
	wait_for "$OUT" '^SSH_AGENT_PID='
	DAEMON=$(sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' "$OUT")
	wait_for "$ERR" 'waiting for'
	assert_notice "$DAEMON" "ssh-agent (own session)"
	kill -INT "$KPID"
	wait_launcher
	assert_equal "$status" 0
	kill -0 "$DAEMON" || fail "the agent did not survive the launcher"
	assert_invariants
	q_true 'proc($p).end.how == "running"' --argjson p "$DAEMON"
	# the agent is set-id: untraced, it cannot remove the trace at its end
	[[ -z $(ls -A "$TMPDIR") ]] || fail "left in the temporary directory: $(ls -A "$TMPDIR")"
	grep -c 'the command has ended' "$ERR" | grep -qx 1 || fail "the notice came more than once"
}

@test "tmux new -d: SIGTERM reports the server running, and it survives the launcher" {
	export TMUX_TMPDIR="$BATS_TEST_TMPDIR/tmux"
	mkdir -p "$TMUX_TMPDIR"
	TMUX_SOCKET="kt-outlive-$$"
	launch tmux -L "$TMUX_SOCKET" -f /dev/null new -d sleep 1000
	wait_for "$ERR" 'waiting for'
	DAEMON=$(tmux -L "$TMUX_SOCKET" display -p '#{pid}')
	assert_notice "$DAEMON" "tmux: server (own session)"
	kill -TERM "$KPID"
	wait_launcher
	[[ $status == 0 ]] || fail "the launcher exited $status: $(cat "$ERR")"
	kill -0 "$DAEMON" || fail "the tmux server did not survive the launcher"
	tmux -L "$TMUX_SOCKET" has-session || fail "the session is gone"
	assert_invariants
	q_true 'proc($p).end.how == "running"' --argjson p "$DAEMON"
	[[ -n $(ls -A "$TMPDIR") ]] || fail "the trace was removed while the server runs"
	tmux -L "$TMUX_SOCKET" kill-server
	TMUX_SOCKET=
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$DAEMON" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$DAEMON" 2>/dev/null; then
		fail "the tmux server did not end: $(grep -E 'State|PPid' "/proc/$DAEMON/status")"
	fi
	# (the pane's sleep dies of the hangup, running no shim code: when it
	# ends last, the trace is left to a later run, which removes it once
	# provably stale)
}

@test "a background job left in the session: named, then ended by the signal like the rest of the tree" {
	launch bash -c 'sleep 1000 & echo "sleep=$!"'
	wait_for "$OUT" '^sleep='
	local sleeper
	sleeper=$(kv sleep "$(cat "$OUT")")
	wait_for "$ERR" 'waiting for'
	assert_notice "$sleeper" "sleep"
	grep -qF "$sleeper sleep (own session)" "$ERR" && fail "the job is in the launcher's session"
	kill -TERM "$KPID"
	wait_launcher
	assert_equal "$status" 0 # the command's own status
	kill -0 "$sleeper" 2>/dev/null && fail "the job outlived the launcher"
	assert_invariants
	q_true 'proc($p).end == {"how": "signal", "signal": 15, "status": 15}' --argjson p "$sleeper"
	[[ -z $(ls -A "$TMPDIR") ]] || fail "left in the temporary directory: $(ls -A "$TMPDIR")"
}

@test "a tree that ends within the grace gets no notice" {
	run --separate-stderr kcmptrace_no_fd3 "$KT" --format=json -o "$R" -- bash -c 'sleep 0.2 & :'
	assert_success
	[[ -z $stderr ]] || fail "unexpected stderr: $stderr"
}
