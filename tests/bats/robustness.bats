#!/usr/bin/env bats
# Programs that stress the shim: threads, forks from a thread, close() in a
# signal handler, programs that close everything, huge descriptor numbers.

setup() {
	load helpers
}

@test "threads: concurrent opens and closes, forks from a thread, close() in a signal handler" {
	run -0 no_fd3 "$SCEN/threads_stress" 8 2000 50
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
