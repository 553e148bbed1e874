#!/usr/bin/env bats
# kcmptrace --leaks as a drop-in for valgrind --track-fds (issue 13): the
# facts valgrind's descriptor tests check, on scenario programs of our own
# (tests/scenarios/fd_checks.c) and real shells.

setup() {
	load helpers
	DATA=$(make_data_file)
}

# open_at_exit PID: the fds of PID's open-at-exit findings, sorted, on one line.
open_at_exit() {
	kcmptrace_query "[.findings[] | select(.kind == \"open-at-exit\" and .pid == $1) | .fd] | sort | map(tostring) | join(\" \")"
}

@test "copies of inherited descriptors made in the trace are open at exit: exec 7>&1, dup(2), dup2(1, 20)" {
	kcmptrace_run --leaks -- bash -c 'exec 7>&1; true'
	assert_success
	assert_invariants "$KCMPTRACE_JSON"
	B=$(kcmptrace_pid bash)
	assert_equal "$(open_at_exit "$B")" 7
	f='.findings[] | select(.kind == "open-at-exit")'
	assert_equal "$(kcmptrace_query "$f | .origin.call")" dup2
	assert_equal "$(kcmptrace_query "$f | .origin.program")" bash

	kcmptrace_run --leaks -- "$SCEN/fd_checks" copies
	assert_success
	D=$(kv dup_fd)
	P=$(kcmptrace_pid fd_checks)
	assert_equal "$(open_at_exit "$P")" "$(printf '%s\n' "$D" 20 | sort -n | paste -sd' ')"
	why=$(kcmptrace_query ".findings[] | select(.kind == \"open-at-exit\" and .fd == 20) | .explanation")
	[[ $why == *"from outside the trace, dup2 onto fd 20 at "*"(fd_checks.c:"* ]] || fail "explanation: $why"
	assert_equal "$(kcmptrace_query ".findings[] | select(.fd == $D) | .origin.call")" dup
	# the descriptors from outside themselves are not findings
	assert_equal "$(kcmptrace_query '[.findings[] | select(.fd <= 2)] | length')" 0
}
