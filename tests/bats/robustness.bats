#!/usr/bin/env bats
# Programs that stress the shim: threads, forks from a thread, close() in a
# signal handler, programs that close everything, huge descriptor numbers.

setup() {
	load helpers
}

@test "threads: concurrent opens and closes, forks from a thread, close() in a signal handler" {
	run -0 kcmptrace_no_fd3 "$SCEN/threads_stress" 8 2000 50
	untraced=$output
	for round in 1 2 3; do
		traced "$SCEN/threads_stress" 8 2000 50
		assert_success
		assert_equal "$output" "$untraced"
		assert_invariants
		P=$(root_pid)
		# the eight descriptors the workers kept, and nothing they closed
		q_true '[proc($p).fds[] | select(.origin.how == "open" and .origin.call == "open" and .target == "/dev/null")] | length == 8' \
			--argjson p "$P"
		q_true '[proc($p).fds[] | select(.type == "pipe" or .type == "socket")] | map(select(.origin.how != "unknown")) | length == 0' \
			--argjson p "$P"
		q_true '[.processes[] | select(.ppid == $p)] | length == 50 and all(.end == {"how": "exit", "status": 7})' \
			--argjson p "$P"
	done
}

@test "a descriptor near the top of a raised limit: tracked, shared, memory stays small" {
	run -0 kcmptrace_no_fd3 "$SCEN/big_fd"
	untraced_rss=$(kv rss_kb)
	traced "$SCEN/big_fd"
	assert_success
	assert_invariants
	B=$(kv big_fd)
	P=$(root_pid)
	C=$(only_child "$P")
	assert_equal "$(fd_get "$P" "$B" .origin.call)" dup2
	assert_shared "$P" "$B" "$C" "$B"
	# the shim's table is sparse: a few pages, whatever the limit
	traced_rss=$(kv rss_kb)
	(( traced_rss - untraced_rss < 4096 )) || fail "traced RSS ${traced_rss} kB vs untraced ${untraced_rss} kB"
}

@test "a program that closes every number up to its limit, then opens and forks, still works and is traced" {
	cat >"$BATS_TEST_TMPDIR/closeall.sh" <<'SH'
for ((fd = 3; fd < 1024; fd++)); do eval "exec $fd>&-" 2>/dev/null; done
exec 5</etc/hostname
(exec cat <&5 >/dev/null)
echo done
SH
	run -0 kcmptrace_no_fd3 bash "$BATS_TEST_TMPDIR/closeall.sh"
	untraced=$output
	traced bash "$BATS_TEST_TMPDIR/closeall.sh"
	assert_success
	assert_equal "$output" "$untraced"
	assert_invariants
	P=$(root_pid)
	q_true '[.processes[] | select(.exe | test("/cat$"))] | length == 1'
}

@test "children that end without a snapshot (a raw exit_group, SIGKILL): their table's descriptors, with origins" {
	echo data >"$BATS_TEST_TMPDIR/f"
	traced "$SCEN/no_snapshot_exit" "$BATS_TEST_TMPDIR/f"
	assert_success
	P=$(root_pid)
	fd=$(kv fd)
	q_true 'proc($c).end == {"how": "exit", "status": 3}' --argjson c "$(kv raw)"
	q_true 'proc($c).end.how == "signal" and proc($c).end.signal == 9' --argjson c "$(kv killed)"
	for c in $(kv raw) $(kv killed); do
		q_true 'proc($c) | .snapshot == {"why": "table", "kcmp": "none"} and
			any(.notes[]; test("without a snapshot"))' --argjson c "$c"
		# its own open of the file, and a dup of that
		own=$(q '[proc($c).fds[] | select(.origin.how == "open" and .origin.call == "open")] |
			if length == 1 then .[0].fd else error("own open: \(.)") end' --argjson c "$c")
		q_true '[proc($c).fds[] | select(.origin.how == "dup" and .origin.fd == $o)] | length == 1' \
			--argjson c "$c" --argjson o "$own"
		# inherited: the parent's description (tracked, no kcmp for the dead)
		q_true 'fdent($c; $f).origin | .how == "inherited" and .pid == $p and .fd == $f' \
			--argjson c "$c" --argjson p "$P" --argjson f "$fd"
		assert_shared "$P" "$fd" "$c" "$fd"
		assert_not_shared "$P" "$fd" "$c" "$own"
	done
	# the text report says so once, naming both
	run --separate-stderr kcmptrace_no_fd3 "$KT" -- "$SCEN/no_snapshot_exit" "$BATS_TEST_TMPDIR/f"
	assert_success
	[[ $(grep -c 'ended without a snapshot of its descriptors' <<<"$stderr") == 1 ]]
	grep -qx "    in 2 processes: $(kv raw) no_snapshot_exit, $(kv killed) no_snapshot_exit" <<<"$stderr"
}

@test "a number closed and made again with raw system calls: another description, origin unknown, not the child's" {
	F=$(make_data_file)
	traced "$SCEN/raw_reuse" "$F" /etc/hostname
	assert_success
	assert_invariants
	P=$(root_pid)
	C=$(kv child)
	fd=$(kv fd)
	q_true 'fdent($p; $f) | .target == "/etc/hostname" and .origin.how == "unknown"' \
		--argjson p "$P" --argjson f "$fd"
	q_true 'fdent($c; $f) | .target == $file and .origin.how == "inherited"' \
		--argjson c "$C" --argjson f "$fd" --arg file "$F"
	assert_not_shared "$P" "$fd" "$C" "$fd"
}

@test "a pipe's read end replaced by its write end with a raw dup3: the snapshot says w, as F_GETFL does" {
	traced "$SCEN/raw_pipe_swap"
	assert_success
	assert_invariants
	P=$(root_pid)
	assert_equal "$(fd_get "$P" "$(kv r)" .access)" w
	assert_shared "$P" "$(kv r)" "$P" "$(kv w)"
}

@test "a descriptor opened for ioctl only (access mode 3) is kept, named ioctl, in an exec and an exit snapshot" {
	# open(2): O_ACCMODE (3) checks read and write permission and gives a
	# descriptor for ioctl only; the fd line of such a descriptor made the
	# whole trace unreadable ("bad access mode '-'") and lost the report.
	traced perl -e '$^F = 100; sysopen(F, "/dev/null", 3) or die "$!"; printf "%d\n", fileno(F); if (fork) { wait; require POSIX; POSIX::_exit(0) } else { exec "/bin/sleep", "0" }'
	assert_success
	assert_invariants
	F=$output
	P=$(root_pid)
	C=$(only_child "$P")
	assert_equal "$(fd_get "$P" "$F" .access)" ioctl
	assert_equal "$(fd_get "$P" "$F" .target)" /dev/null
	assert_equal "$(fd_get "$C" "$F" .access)" ioctl
	assert_shared "$P" "$F" "$C" "$F"
}
