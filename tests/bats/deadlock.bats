#!/usr/bin/env bats
# What a hung process tree is blocked on, and the deadlock finding:
# `kcmptrace snapshot --tree` on real trees started without kcmptrace.
# Every tree runs in a session of its own under `timeout`, and is killed
# (its whole process group) when the test ends.

setup() {
	load helpers
	# TSan's runtime adds a thread to every process, and a process is
	# stuck only when each of its threads is: TSan's sleeps on a timer
	[[ ${KCMPTRACE_SANITIZER_RUN:-} != thread ]] || skip "under TSan every process has a second thread"
	TREE=
}

teardown() {
	if [[ -n $TREE ]]; then
		kill -KILL -- "-$TREE" 2>/dev/null || true
	fi
}

# start_tree CMD...: CMD in a new session (TREE: its pid and process group),
# in the background, killed after 60 s whatever happens.
start_tree() {
	setsid timeout -s KILL 60 "$@" >"$BATS_TEST_TMPDIR/tree.out" 2>&1 </dev/null 3>&- &
	TREE=$!
	disown
}

# The processes of the tree's session, but timeout itself.
tree_pids() {
	local p
	for p in $(pids_where 6 "$TREE"); do
		[[ $p != "$TREE" ]] && echo "$p"
	done
}

# settle N: wait (10 s at most) until the tree has N processes besides
# timeout, each asleep in the same system call at two looks in a row.
settle() {
	local i p before now
	for ((i = 0; i < 100; i++)); do
		before=$(tree_state)
		sleep 0.1
		now=$(tree_state)
		if [[ -n $now && $now == "$before" && $(tree_pids | wc -l) -eq $1 ]] &&
			! grep -qE ' (running|R)$' <<<"$now"; then
			return 0
		fi
	done
	fail "the tree did not settle: $(tree_state)"
}

tree_state() {
	local p
	for p in $(tree_pids); do
		echo "$p $(cut -d' ' -f1 "/proc/$p/syscall" 2>/dev/null) $(sed 's/.*) \(.\).*/\1/' "/proc/$p/stat" 2>/dev/null)"
	done
}

# snap [OPTIONS]: snapshot the tree as JSON into $R, checked.
snap() {
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr "$KT" snapshot --tree --format=json -o "$R" "$@" "$TREE"
	assert_success
	assert_invariants
}

the_pid() { # the_pid MODE-KEY: a value of the scenario's ready line
	kv "$1" "$(head -1 "$BATS_TEST_TMPDIR/tree.out")"
}

hang_pid() { # the scenario's first process (timeout's child)
	pids_where 4 "$TREE"
}

@test "deadlock: a parent writes to its child through a pipe, then waits for it holding the write end" {
	need_kcmp
	start_tree "$SCEN/hang" pipe_wait
	settle 2
	snap
	local parent child wfd
	parent=$(hang_pid)
	child=$(the_pid child)
	wfd=$(the_pid write_fd)
	q_true 'proc($p).blocked | .call == "wait4" and .pid == $c' --argjson p "$parent" --argjson c "$child"
	q_true 'proc($c).blocked | .call == "read" and .fd == 3' --argjson c "$child"
	q_true '[.processes[] | .snapshot.why == "snapshot" and .end.how == "running"] | all'
	q_true '[.findings[] | select(.kind == "deadlock")] | length == 1'
	q_true '. as $r | .findings[] | select(.kind == "deadlock") | .severity == "error" and
		.cycle == [{"pid": $p, "call": "wait4", "fd": null, "ofd": null, "waits_for": [$c]},
			   {"pid": $c, "call": "read", "fd": 3, "ofd": ($r | ofd($c; 3)), "waits_for": [$p]}]' \
		--argjson p "$parent" --argjson c "$child"
	run --separate-stderr "$KT" snapshot --tree "$TREE"
	assert_success
	assert_output --partial "reads pipe:["
	assert_output --partial "the only holder of a write end is $parent (hang) fd $wfd"
	assert_output --partial "Fix: close fd $wfd in $parent (hang) before waitpid."
	assert_output --partial "origins) is unknown"
}

@test "deadlock: the same through a socketpair: the parent keeps its end while it waits" {
	need_kcmp
	start_tree "$SCEN/hang" socketpair_wait
	settle 2
	snap
	local parent child
	parent=$(hang_pid)
	child=$(the_pid child)
	q_true '.findings[] | select(.kind == "deadlock") | [.cycle[] | [.pid, .call, .waits_for]] ==
		[[$p, "wait4", [$c]], [$c, "read", [$p]]]' --argjson p "$parent" --argjson c "$child"
	q_true '.findings[] | select(.kind == "deadlock") | .explanation |
		contains("Fix: close fd \($e) in \($p) (hang) before waitpid")' --argjson p "$parent" --argjson e "$(the_pid end)"
}

@test "deadlock: a process reads a pipe whose only write end it holds itself" {
	start_tree "$SCEN/hang" self_read
	settle 1
	snap
	local p
	p=$(hang_pid)
	q_true '.findings | map(select(.kind == "deadlock")) | length == 1'
	q_true '. as $r | .findings[] | select(.kind == "deadlock") | .pid == $p and .fd == $fd and
		.cycle == [{"pid": $p, "call": "read", "fd": $fd, "ofd": ($r | ofd($p; $fd)), "waits_for": [$p]}]' \
		--argjson p "$p" --argjson fd "$(the_pid read_fd)"
	q_true '.findings[] | select(.kind == "deadlock") | .explanation | contains("itself fd \($w)")' \
		--argjson w "$(the_pid write_fd)"
}

@test "deadlock: a shell holds a process substitution's write end while it waits for it" {
	need_kcmp
	start_tree bash -c 'exec 3> >(exec cat >/dev/null); echo ready; wait $!'
	settle 2
	snap
	local sh cat
	sh=$(hang_pid)
	cat=$(pids_where 4 "$sh")
	q_true 'proc($s).blocked.call == "wait4" and proc($c).blocked == {"call": "read", "fd": 0,
		"wchan": proc($c).blocked.wchan}' --argjson s "$sh" --argjson c "$cat"
	q_true '.findings | map(select(.kind == "deadlock")) | length == 1'
	q_true '.findings[] | select(.kind == "deadlock") | [.cycle[] | {pid, call, fd, waits_for}] ==
		[{"pid": $s, "call": "wait4", "fd": null, "waits_for": [$c]},
		 {"pid": $c, "call": "read", "fd": 0, "waits_for": [$s]}]' --argjson s "$sh" --argjson c "$cat"
	q_true '.findings[] | select(.kind == "deadlock") | .explanation | contains("Fix: close fd 3 in \($s) (bash)")' \
		--argjson s "$sh"
}

@test "deadlock: two processes each write a full pipe that the other should read" {
	need_kcmp
	start_tree "$SCEN/hang" full_pipes
	settle 2
	snap
	local p c
	p=$(hang_pid)
	c=$(the_pid child)
	q_true '[proc($p, $c).blocked.call] == ["write", "write"]' --argjson p "$p" --argjson c "$c"
	q_true '.findings[] | select(.kind == "deadlock") | [.cycle[] | {pid, call, waits_for}] ==
		[{"pid": $p, "call": "write", "waits_for": [$c]}, {"pid": $c, "call": "write", "waits_for": [$p]}]' \
		--argjson p "$p" --argjson c "$c"
	q_true '.findings[] | select(.kind == "deadlock") | .explanation | contains("which is full")'
}

@test "deadlock: a chain of three" {
	need_kcmp
	start_tree "$SCEN/hang" chain3
	settle 3
	snap
	local p a b
	p=$(hang_pid)
	a=$(the_pid a)
	b=$(the_pid b)
	q_true '.findings | map(select(.kind == "deadlock")) | length == 1'
	q_true '.findings[] | select(.kind == "deadlock") | [.cycle[] | [.pid, .call, .waits_for]] ==
		[[$p, "wait4", [$a]], [$a, "read", [$b]], [$b, "read", [$p]]]' \
		--argjson p "$p" --argjson a "$a" --argjson b "$b"
	q_true '.findings[] | select(.kind == "deadlock") | .explanation |
		contains("Fix: close fd \($w) in \($b) (hang) before read")' --argjson b "$b" --argjson w "$(the_pid a_write)"
}

@test "deadlock: flock through a second descriptor of a file the process has locked" {
	start_tree "$SCEN/hang" flock_self "$BATS_TEST_TMPDIR/lock"
	settle 1
	snap
	local p
	p=$(hang_pid)
	q_true 'proc($p).blocked | .call == "flock" and .fd == $fd' --argjson p "$p" --argjson fd "$(the_pid second)"
	q_true '. as $r | .findings[] | select(.kind == "deadlock") | .cycle == [{"pid": $p, "call": "flock",
		"fd": $fd, "ofd": ($r | ofd($p; $fd)), "waits_for": [$p]}]' --argjson p "$p" --argjson fd "$(the_pid second)"
}

@test "not a deadlock: sleep 30 | cat" {
	# (long enough to settle under a sanitizer on a loaded machine; the
	# tree is killed at the end of the test)
	start_tree bash -c 'sleep 30 | cat'
	settle 3
	snap
	q_true '[.findings[] | select(.kind == "deadlock")] == []'
	q_true '[.processes[] | select(.name == "sleep") | .blocked.call] | all(. == "clock_nanosleep" or . == "nanosleep")'
}

@test "not a deadlock: a reader fed from a pipe whose write end a process outside the tree holds" {
	exec {w}> >(exec setsid timeout -s KILL 60 "$SCEN/hang" reader >"$BATS_TEST_TMPDIR/tree.out" 3>&-)
	TREE=$!
	settle 1
	snap
	q_true 'proc($p).blocked | .call == "read" and .fd == 0' --argjson p "$(hang_pid)"
	q_true '.findings == []'
	exec {w}>&-
}

@test "not a deadlock: a process reading its own pipe while a process outside holds another write end" {
	start_tree "$SCEN/hang" self_read
	settle 1
	# This shell opens the pipe's write end again, through /proc.
	exec {w}>"/proc/$(hang_pid)/fd/$(the_pid write_fd)"
	snap
	exec {w}>&-
	q_true '[.findings[] | select(.kind == "deadlock")] == []'
}

@test "not a deadlock: a program waiting on its terminal" {
	# script(1) gives the reader a terminal; its own input is a pipe
	# that stays open and empty.
	start_tree bash -c 'sleep 60 | exec script -qfc "exec $0 reader" /dev/null' "$SCEN/hang"
	# (the reader is in the terminal's session, not in the tree's)
	settle 3
	local reader i
	for ((i = 0; i < 100; i++)); do
		reader=$(pids_running "$SCEN/hang reader") && [[ -n $(grep '^0 ' "/proc/$reader/syscall") ]] && break
		sleep 0.1
	done
	snap
	q_true 'proc($r).blocked | .call == "read" and .fd == 0' --argjson r "$reader"
	q_true '[.findings[] | select(.kind == "deadlock")] == []'
}

@test "snapshot: a process we may not inspect is listed with the reason" {
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	[[ $(id -u) == 0 ]] || skip "needs root to start a process as another user"
	start_tree setpriv --reuid=65534 --regid=65534 --clear-groups "$SCEN/hang" self_read
	settle 1
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr setpriv --reuid=65533 --regid=65533 --clear-groups \
		"$KT" snapshot --format=json "$(hang_pid)" "$$"
	assert_success
	cat >"$R" <<<"$output"
	assert_invariants
	q_true 'proc($p).notes | any(contains("could not be inspected"))' --argjson p "$(hang_pid)"
	q_true '[.processes[].pid] | length == 2'
}

@test "not proven: a user who may not inspect every process gets a stall (info), not a deadlock" {
	[[ $(id -u) == 0 ]] || skip "needs root to start processes as another user"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	# As nobody, this test's own shell (root) cannot be inspected.
	start_tree setpriv --reuid=65534 --regid=65534 --clear-groups "$SCEN/hang" pipe_wait
	settle 2
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$KT" snapshot --tree --format=json "$(hang_pid)"
	assert_success
	cat >"$R" <<<"$output"
	assert_invariants
	q_true '[.findings[] | select(.kind == "deadlock")] == []'
	q_true '[.findings[] | select(.kind == "stall") | .severity] == ["info"]'
	q_true '.findings[] | select(.kind == "stall") | (.cycle | length) == 2 and
		(.explanation | contains("could not be inspected"))'
}

@test "snapshot: a pid that does not exist is one line and a failure" {
	run --separate-stderr "$KT" snapshot 2147483647
	assert_one_line_error
	assert_equal "$stderr" "kcmptrace: no process 2147483647"
	run --separate-stderr "$KT" snapshot
	assert_one_line_error
	run --separate-stderr "$KT" snapshot 12x
	assert_one_line_error
}

@test "snapshot: every format, of a tree not started under kcmptrace" {
	need_kcmp
	start_tree "$SCEN/hang" pipe_wait
	settle 2
	run --separate-stderr "$KT" snapshot --tree --format=dot "$TREE"
	assert_success
	assert_output --partial "digraph"
	run --separate-stderr "$KT" snapshot --tree --quiet "$TREE"
	assert_success
	assert_output --partial "error deadlock"
	run --separate-stderr "$KT" snapshot --tree --error-exitcode=7 "$TREE"
	assert_failure 7
}

@test "deadlock under plain LD_PRELOAD: the report of the kept trace, taken while it hangs, names where the write end was made" {
	need_kcmp
	local dir="$BATS_TEST_TMPDIR/trace"
	mkdir -m 700 "$dir"
	start_tree env LD_PRELOAD="$SHIM" KCMPTRACE_DIR="$dir" "$SCEN/hang" pipe_wait
	settle 2
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr "$KT" report --format=json -o "$R" "$dir"
	assert_success
	assert_invariants
	local parent child wfd
	child=$(the_pid child)
	parent=$(the_pid pid)
	wfd=$(the_pid write_fd)
	q_true '[.processes[] | select(.pid == $p or .pid == $c) | .snapshot.why] == ["live", "live"]' \
		--argjson p "$parent" --argjson c "$child"
	q_true '.findings[] | select(.kind == "deadlock") | [.cycle[].pid] == [$p, $c] and
		.origin.call == "pipe" and (.origin.site | startswith("xpipe+")) and
		(.explanation | contains("fd \($w), made by pipe at xpipe+"))' \
		--argjson p "$parent" --argjson c "$child" --argjson w "$wfd"
}

@test "blocked: an open of a FIFO waiting for a writer is named, with its path, and is no deadlock" {
	local fifo="$BATS_TEST_TMPDIR/the fifo"
	start_tree "$SCEN/hang" fifo_open "$fifo"
	settle 1
	snap
	q_true 'proc($p).blocked | .call == "openat" and .fifo == true and .path == $f' --arg f "$fifo" \
		--argjson p "$(hang_pid)"
	q_true '[.findings[] | select(.kind == "deadlock")] | length == 0'
	run "$KT" snapshot "$(hang_pid)"
	assert_output --partial "openat of FIFO $fifo, waiting for a writer"
}

@test "blocked: splice on its two descriptors; from a pipe whose only write end it holds is a deadlock" {
	start_tree "$SCEN/hang" splice_self
	settle 1
	snap
	local p
	p=$(hang_pid)
	q_true 'proc($p).blocked | .call == "splice" and .fds == [$i, $o]' --argjson p "$p" \
		--argjson i "$(the_pid in)" --argjson o "$(the_pid out)"
	q_true '.findings | map(select(.kind == "deadlock")) | length == 1'
	q_true '.findings[] | select(.kind == "deadlock") | [.cycle[] | [.pid, .call, .waits_for]] == [[$p, "splice", [$p]]]' \
		--argjson p "$p"
}

@test "deadlock: a thread reads a pipe whose only write end its process holds; the main thread waits in pthread_join" {
	start_tree "$SCEN/hang" thread_read
	settle 1
	snap
	local p
	p=$(hang_pid)
	q_true 'proc($p).blocked | .call == "read" and .fd == $fd and .tid > 0 and .tid != $p' \
		--argjson p "$p" --argjson fd "$(the_pid read)"
	q_true '.findings | map(select(.kind == "deadlock")) | length == 1'
	q_true '.findings[] | select(.kind == "deadlock") | [.cycle[] | [.pid, .call, .fd, .waits_for]] == [[$p, "read", $fd, [$p]]]' \
		--argjson p "$p" --argjson fd "$(the_pid read)"
}
