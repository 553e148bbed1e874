#!/usr/bin/env bats
# Signals to the launcher while the command hangs (issue 11 items 4 and 5):
# a parent waits for its child while it holds the write end of the pipe the
# child reads to end of file. SIGTERM to the launcher alone (timeout, CI),
# SIGINT to the whole process group (a terminal's Ctrl-C), SIGUSR1 (a
# report of the running tree). Every wait below is bounded.

setup() {
	load helpers
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir -p "$TMPDIR"
	OUT="$BATS_TEST_TMPDIR/out"
	ERR="$BATS_TEST_TMPDIR/err"
	R="$BATS_TEST_TMPDIR/r.json"
	KPID=
}

teardown() {
	# never leave the hung tree behind, whatever failed
	local p
	for p in ${PARENT:-} ${CHILD:-} $KPID; do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# start_hung: the launcher in a session (and process group) of its own,
# SIGINT and SIGQUIT at their defaults (a background job of a script gets
# them ignored), until the tree hangs. Sets KPID, PARENT, CHILD.
start_hung() {
	setsid env --default-signal=INT,QUIT "$KT" --format=json -o "$R" "$@" -- \
		"$SCEN/parent_waits_holding_pipe" >"$OUT" 2>"$ERR" 3>&- &
	LAUNCHED=$!
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q '^ready' "$OUT" 2>/dev/null && break
		sleep 0.05
	done
	grep -q '^ready' "$OUT" || fail "the scenario did not start: $(cat "$ERR")"
	PARENT=$(kv parent "$(cat "$OUT")")
	CHILD=$(kv child "$(cat "$OUT")")
	KPID=$(stat_field "$PARENT" 4)
	[[ $(cat "/proc/$KPID/comm" 2>/dev/null) == kcmptrace ]] || fail "no launcher above $PARENT"
	[[ $(stat_field "$KPID" 5) == "$KPID" ]] || fail "the launcher leads no group"
}

# wait_launcher: until the launcher exits (at most 20 s); its status in $status.
wait_launcher() {
	local i
	for ((i = 0; i < 400; i++)); do
		kill -0 "$KPID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$KPID" 2>/dev/null && fail "the launcher still runs: $(cat "$ERR")"
	status=0
	wait "$LAUNCHED" || status=$?
}

# tree_gone: neither process of the scenario is left.
assert_tree_gone() {
	local p
	for p in "$PARENT" "$CHILD"; do
		if kill -0 "$p" 2>/dev/null; then
			fail "process $p outlived the launcher: $(cat "/proc/$p/stat" 2>/dev/null)"
		fi
	done
}

assert_tmp_empty() {
	local left
	left=$(ls -A "$TMPDIR")
	[[ -z $left ]] || fail "left in the temporary directory: $left"
}

# the pipe, the socketpair and the fds: described, not "unknown"
assert_described() {
	local P=$1 C=$2 sock write read
	sock=$(kv sock_fd "$(cat "$OUT")")
	write=$(kv write_fd "$(cat "$OUT")")
	read=$(kv read_fd "$(cat "$OUT")")
	assert_equal "$(fd_get "$P" "$write" .type)" pipe
	assert_equal "$(fd_get "$C" "$read" .type)" pipe
	# both ends of one pipe: the same inode, different descriptions
	assert_equal "$(fd_get "$P" "$write" .target)" "$(fd_get "$C" "$read" .target)"
	assert_equal "$(fd_get "$P" "$sock" .type)" socket
	assert_equal "$(fd_get "$C" "$sock" .type)" socket
	assert_shared "$P" "$sock" "$C" "$sock"
}

# assert_ends N: the parent was killed by signal N; its child too, or it
# read end of file once its parent was gone and exited (the launcher
# signals parents first, so that it reaps the orphan and tells its end).
assert_ends() {
	q_true 'proc($p).end == {"how": "signal", "signal": $n, "status": $n}' \
		--argjson p "$PARENT" --argjson n "$1"
	q_true 'proc($c).end | . == {"how": "signal", "signal": $n, "status": $n} or . == {"how": "exit", "status": 0}' \
		--argjson c "$CHILD" --argjson n "$1"
}

@test "SIGTERM to the launcher alone: live snapshot, the tree ends, report complete, exit 143" {
	need_kcmp
	start_hung
	kill -TERM "$KPID"
	wait_launcher
	assert_equal "$status" 143
	assert_tree_gone
	assert_tmp_empty
	assert_invariants
	assert_described "$PARENT" "$CHILD"
	# seen alive before the signal reached them: every descriptor known,
	# every shared description confirmed by kcmp
	q_true '[.processes[].fds[] | select(.type == "unknown" or .access == null)] | length == 0'
	q_true '[.ofds[] | select((.holders | length) > 1) | .evidence] | length > 0 and all(. == "kcmp")'
	q_true 'proc($p).snapshot.why == "signal"' --argjson p "$PARENT"
	# what each was blocked on at that look outlives them into the report
	# (the child may read end of file once its parent is gone, and exit)
	q_true 'proc($p).blocked.call == "wait4" and proc($p).blocked.pid == $c' \
		--argjson p "$PARENT" --argjson c "$CHILD"
	q_true 'proc($c) | .snapshot.why == "exit" or (.blocked.call == "read" and .blocked.fd == $fd)' \
		--argjson c "$CHILD" --argjson fd "$(kv read_fd "$(cat "$OUT")")"
	assert_ends 15
	local file
	file=$(kv file_fd "$(cat "$OUT")")
	assert_equal "$(fd_get "$PARENT" "$file" .target)" /dev/null
	assert_equal "$(fd_get "$CHILD" "$file" .target)" /dev/null
}

@test "SIGTERM with --trace-dir: the kept trace's report tells what each was blocked on, as the launcher's did" {
	need_kcmp
	local T=$BATS_TEST_TMPDIR/kept again=$BATS_TEST_TMPDIR/again.json
	start_hung --trace-dir "$T"
	kill -TERM "$KPID"
	wait_launcher
	assert_equal "$status" 143
	assert_tree_gone
	assert_invariants
	run "$KT" report --format=json -o "$again" "$T"
	assert_success
	assert_invariants "$again"
	# the look saw the parent in wait4 (not vacuous), and the kept trace too
	q_true 'proc($p).snapshot.why == "signal" and proc($p).blocked.call == "wait4"' \
		--argjson p "$PARENT"
	R=$again q_true 'proc($p).snapshot.why == "signal" and proc($p).blocked.call == "wait4" and proc($p).blocked.pid == $c' \
		--argjson p "$PARENT" --argjson c "$CHILD"
	# process by process: snapshot.why and blocked (a key absent stays absent)
	local per='[.processes[] | {pid, start, why: .snapshot.why, has: has("blocked"), blocked}]'
	jq -e -n --slurpfile a "$R" --slurpfile b "$again" \
		"(\$a[0] | $per) == (\$b[0] | $per) and (\$a[0] | $per | length) == 2" >/dev/null ||
		fail "blocked or snapshot.why differ: $(diff <(jq -S "$per" "$R") <(jq -S "$per" "$again"))"
	# and the report as a whole, but for where the trace is
	jq -e -n --slurpfile a "$R" --slurpfile b "$again" \
		'($a[0] | del(.trace_dir)) == ($b[0] | del(.trace_dir))' >/dev/null ||
		fail "the reports differ: $(diff <(jq -S 'del(.trace_dir)' "$R") <(jq -S 'del(.trace_dir)' "$again"))"
}

@test "SIGHUP and SIGQUIT to the launcher end the run the same way (129, 131)" {
	local sig want
	for sig in HUP QUIT; do
		start_hung
		kill -"$sig" "$KPID"
		wait_launcher
		want=$((128 + $(kill -l "$sig")))
		assert_equal "$status" "$want"
		assert_tree_gone
		assert_tmp_empty
		assert_invariants
		assert_ends "$(kill -l "$sig")"
	done
}

@test "SIGINT to the whole process group (Ctrl-C): the tree ends, pipes and sockets still named, exit 130" {
	need_kcmp
	start_hung
	kill -INT -- -"$KPID"
	wait_launcher
	assert_equal "$status" 130
	assert_tree_gone
	assert_tmp_empty
	assert_invariants
	assert_described "$PARENT" "$CHILD"
	# the child may die before its parent and be reaped by it, which
	# the same Ctrl-C kills before it can tell: its end may be unknown
	q_true 'proc($p).end == {"how": "signal", "signal": 2, "status": 2}' --argjson p "$PARENT"
	# no descriptor of a pipe or socket is left without its type
	q_true '[.processes[].fds[] | select(.target != null and (.target | test("^(pipe|socket):")) and .type == "unknown")] | length == 0'
	# nor 0, 1 and 2, which came from outside the trace: the image that
	# found them at its start described them then
	q_true '[.processes[].fds[] | select(.fd <= 2) | select(.type == "unknown" or .target == null or .access == null)] | length == 0'
}

@test "SIGUSR1: a report of the running tree next to -o FILE, and the run goes on" {
	need_kcmp
	start_hung
	kill -USR1 "$KPID"
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q 'written to' "$ERR" && break
		sleep 0.05
	done
	assert_equal "$(cat "$ERR")" "kcmptrace: report of the running tree written to $R.1"
	kill -0 "$PARENT" && kill -0 "$CHILD" && kill -0 "$KPID" || fail "the run did not go on"
	assert_invariants "$R.1"
	local final=$R
	R=$R.1
	q_true '[.processes[] | .end.how] == ["running", "running"]'
	q_true '[.processes[] | .snapshot.why] == ["request", "request"]'
	assert_described "$PARENT" "$CHILD"
	q_true '[.ofds[] | select((.holders | length) > 1) | .evidence] | all(. == "kcmp")'
	# what each waits for, and the deadlock they are in
	q_true 'proc($c).blocked.call == "read" and proc($p).blocked.call == "wait4"' \
		--argjson c "$CHILD" --argjson p "$PARENT"
	# (under TSan every process has the runtime's thread: never judged stuck)
	[[ ${KCMPTRACE_SANITIZER_RUN:-} == thread ]] ||
		q_true '[.findings[] | select(.kind == "deadlock")] | length == 1'
	R=$final
	[[ ! -s $R ]] || fail "the final report was written before the end"
	kill -TERM "$KPID"
	wait_launcher
	assert_equal "$status" 143
	assert_tree_gone
	assert_tmp_empty
	assert_invariants
}

@test "SIGUSR1 without -o: the report of the running tree goes to stderr" {
	need_kcmp
	setsid "$KT" --format=json -- "$SCEN/parent_waits_holding_pipe" >"$OUT" 2>"$ERR" 3>&- &
	LAUNCHED=$!
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q '^ready' "$OUT" 2>/dev/null && break
		sleep 0.05
	done
	PARENT=$(kv parent "$(cat "$OUT")")
	CHILD=$(kv child "$(cat "$OUT")")
	KPID=$(stat_field "$PARENT" 4)
	kill -USR1 "$KPID"
	for ((i = 0; i < 200; i++)); do
		jq -e . "$ERR" >/dev/null 2>&1 && break
		sleep 0.05
	done
	R=$ERR
	assert_invariants
	q_true '[.processes[] | .end.how] == ["running", "running"]'
	kill -TERM "$KPID"
	wait_launcher
	assert_equal "$status" 143
	assert_tree_gone
}

@test "a signal the caller ignored stays ignored: SIGINT to the launcher alone does nothing" {
	# a script's background job gets SIGINT ignored; so does its command
	setsid env --ignore-signal=INT "$KT" --format=json -o "$R" -- \
		"$SCEN/parent_waits_holding_pipe" >"$OUT" 2>"$ERR" 3>&- &
	LAUNCHED=$!
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q '^ready' "$OUT" 2>/dev/null && break
		sleep 0.05
	done
	PARENT=$(kv parent "$(cat "$OUT")")
	CHILD=$(kv child "$(cat "$OUT")")
	KPID=$(stat_field "$PARENT" 4)
	kill -INT -- -"$KPID"
	kill -USR1 "$KPID" # a request answered proves the INT was taken (or not) first
	for ((i = 0; i < 200; i++)); do
		[[ -s $R.1 ]] && break
		sleep 0.05
	done
	kill -0 "$PARENT" && kill -0 "$CHILD" && kill -0 "$KPID" || fail "an ignored SIGINT ended the run"
	kill -TERM "$KPID"
	wait_launcher
	assert_equal "$status" 143
	assert_tree_gone
}

@test "a process killed before anything looked: each descriptor as the call that made it recorded it" {
	# The child makes a pipe, opens a file by path, a socketpair and a
	# socket, dups the pipe's write end, and is killed (SIGKILL) before any
	# fork or exec had the shim look at them: only its table is left.
	local file="$BATS_TEST_TMPDIR/opened by path"
	echo data >"$file"
	traced "$SCEN/killed_holding" "$file"
	assert_success
	assert_invariants
	local C
	C=$(kv child "$output")
	q_true 'proc($c).snapshot.why == "table"' --argjson c "$C"
	local r w f p0 p1 s d
	r=$(kv read_fd "$output") w=$(kv write_fd "$output") f=$(kv file_fd "$output")
	p0=$(kv pair0_fd "$output") p1=$(kv pair1_fd "$output") s=$(kv sock_fd "$output")
	d=$(kv dup_fd "$output")
	# a pipe with its inode, both ends named alike, each with its access
	assert_equal "$(fd_get "$C" "$r" .type)" pipe
	assert_equal "$(fd_get "$C" "$w" .type)" pipe
	[[ $(fd_get "$C" "$r" .target) =~ ^pipe:\[[0-9]+\]$ ]] || fail "pipe target: $(fd_get "$C" "$r" .target)"
	assert_equal "$(fd_get "$C" "$w" .target)" "$(fd_get "$C" "$r" .target)"
	assert_equal "$(fd_get "$C" "$d" .target)" "$(fd_get "$C" "$r" .target)"
	assert_equal "$(fd_get "$C" "$r" .access)" r
	assert_equal "$(fd_get "$C" "$w" .access)" w
	assert_equal "$(fd_get "$C" "$d" .access)" w
	# the file by the path it was opened with
	assert_equal "$(fd_get "$C" "$f" .target)" "$file"
	assert_equal "$(fd_get "$C" "$f" .type)" file
	assert_equal "$(fd_get "$C" "$f" .access)" r
	# sockets are sockets
	local fd
	for fd in "$p0" "$p1" "$s"; do
		assert_equal "$(fd_get "$C" "$fd" .type)" socket
		assert_equal "$(fd_get "$C" "$fd" .access)" rw
	done
	[[ $(fd_get "$C" "$p0" .target) =~ ^socket:\[[0-9]+\]$ ]] || fail "socketpair target"
	# socket() and accept() record their inode too: each socket by its own
	# inode, a dup of the accepted one in its description
	local l c a ad
	l=$(kv listen_fd "$output") c=$(kv client_fd "$output") a=$(kv accepted_fd "$output")
	ad=$(kv accepted_dup_fd "$output")
	for fd in "$s" "$l" "$c" "$a" "$ad"; do
		assert_equal "$(fd_get "$C" "$fd" .type)" socket
		assert_equal "$(fd_get "$C" "$fd" .access)" rw
		[[ $(fd_get "$C" "$fd" .target) =~ ^socket:\[[0-9]+\]$ ]] ||
			fail "fd $fd: target $(fd_get "$C" "$fd" .target), not socket:[INODE]"
	done
	q_true '[proc($c).fds[] | select(.fd as $f | $socks | index($f)) | .target] | unique | length == 6' \
		--argjson c "$C" --argjson socks "[$p0, $p1, $s, $l, $c, $a]"
	assert_equal "$(fd_get "$C" "$ad" .target)" "$(fd_get "$C" "$a" .target)"
	assert_equal "$(fd_get "$C" "$ad" .ofd)" "$(fd_get "$C" "$a" .ofd)"
	q_true '[proc($c).fds[] | select(.fd as $f | $socks | index($f)) | .ofd] | unique | length == 6' \
		--argjson c "$C" --argjson socks "[$p0, $p1, $s, $l, $c, $a, $ad]"
	# nothing the child made is unknown
	q_true '[proc($c).fds[] | select(.fd as $f | $made | index($f)) | select(.type == "unknown" or .target == null or .access == null)] | length == 0' \
		--argjson c "$C" --argjson made "[$r, $w, $f, $p0, $p1, $s, $d, $l, $c, $a, $ad]"
}
