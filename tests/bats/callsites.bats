#!/usr/bin/env bats
# Call sites: function, file and line of the call that made a descriptor,
# and with --stack=N the callers above it.

setup() {
	load helpers
}

@test "--stack=3: the creating call and its two callers, each with file and line" {
	traced "$SCEN/nested_open"
	assert_success
	P=$(root_pid)
	FD=$(kv fd)
	[[ $(fd_get "$P" "$FD" .origin.site) == "open_file+0x"*" (nested_open)" ]] ||
		fail "site: $(fd_get "$P" "$FD" .origin.site)"
	[[ $(fd_get "$P" "$FD" .origin.file) == */tests/scenarios/nested_open.c ]]
	assert_equal "$(fd_get "$P" "$FD" .origin.line)" 11
	# without --stack: no callers recorded
	assert_equal "$(fd_get "$P" "$FD" '.origin.stack // [] | length')" 0

	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --stack=3 --format=json -o "$R" -- "$SCEN/nested_open"
	assert_success
	P=$(root_pid)
	assert_equal "$(fd_get "$P" "$FD" '.origin.stack | length')" 2
	q_true '[fdent($p; $f) | .origin.stack[0] | test("^open_config\\+0x[0-9a-f]+ \\(nested_open.c:18\\)$")] == [true]' \
		--argjson p "$P" --argjson f "$FD"
	q_true '[fdent($p; $f) | .origin.stack[1] | test("^main\\+0x[0-9a-f]+ \\(nested_open.c:25\\)$")] == [true]' \
		--argjson p "$P" --argjson f "$FD"
}
