#!/usr/bin/env bats
# Tracing must not change what a program does: the same descriptor numbers,
# the same output, the same exit status, with the launcher and with plain
# LD_PRELOAD. Every report must also obey the contract's invariants.

setup() {
	load helpers
}

# same_as_untraced CMD [ARG...]
same_as_untraced() {
	local want_out want_status
	run --separate-stderr kcmptrace_no_fd3 "$@"
	want_out=$output
	want_status=$status
	[[ -n $want_out ]] || fail "no output from the untraced run of $*: $stderr"

	traced "$@"
	assert_equal "$status" "$want_status"
	assert_equal "$output" "$want_out"
	assert_invariants

	preloaded "$@"
	assert_equal "$status" "$want_status"
	assert_equal "$output" "$want_out"
	assert_invariants
}

@test "same output traced and untraced: kcmp_manpage" {
	same_as_untraced "$SCEN/kcmp_manpage" "$(make_data_file)"
}

@test "same output traced and untraced: three_generations" {
	same_as_untraced "$SCEN/three_generations" "$(make_data_file)"
}

@test "same output traced and untraced: same_offset" {
	same_as_untraced "$SCEN/same_offset" "$(make_data_file)"
}

@test "same output traced and untraced: dup2_stdio" {
	same_as_untraced "$SCEN/dup2_stdio" "$BATS_TEST_TMPDIR/out"
}

@test "same output traced and untraced: many_fds 1000 2" {
	same_as_untraced "$SCEN/many_fds" 1000 2
}

@test "same output traced and untraced: exit_orders" {
	same_as_untraced "$SCEN/exit_orders" b-a "$(make_data_file)"
}

@test "same output traced and untraced: exec_keep" {
	same_as_untraced "$SCEN/exec_keep" "$(make_data_file)"
	same_as_untraced "$SCEN/exec_keep" --via-sh "$(make_data_file)"
}

@test "same output traced and untraced: leaky_server" {
	same_as_untraced "$SCEN/leaky_server"
}

@test "same output traced and untraced: fortified_open" {
	same_as_untraced "$SCEN/fortified_open" "$(make_data_file)"
}

@test "same output traced and untraced: errno_at_start (errno as main finds it, in a fork child, after exec)" {
	same_as_untraced "$SCEN/errno_at_start"
}

@test "same output traced and untraced: a shell pipeline" {
	same_as_untraced bash -c 'echo hi | tr h H; ls /proc/self/fd | wc -l'
}

@test "same output traced and untraced: the wait family (WNOHANG leaves *status, bad pointer gives EFAULT)" {
	same_as_untraced "$SCEN/wait_status"
	assert_line "waitpid WNOHANG: 0 status 42"
	assert_line "waitpid bad pointer: -1 errno EFAULT"
}
