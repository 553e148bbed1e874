#!/usr/bin/env bats
# Safe to run: kcmptrace never harms the program it traces, the files around
# it, or the machine (trace directories others control, special files).

setup() {
	load helpers
}

@test "a --trace-dir that other users can write is refused in one line; the command does not run" {
	D="$BATS_TEST_TMPDIR/shared"
	mkdir -m 0777 "$D"
	chmod 0777 "$D" # whatever the umask
	run --separate-stderr kcmptrace_no_fd3 "$KT" --trace-dir "$D" -- touch "$BATS_TEST_TMPDIR/ran"
	assert_one_line_error
	[[ $stderr == *"$D can be written by other users"* ]] || fail "unexpected error: $stderr"
	[[ ! -e $BATS_TEST_TMPDIR/ran ]] || fail "the command ran"
	[[ -z $(ls -A "$D") ]] || fail "something was written in $D: $(ls -A "$D")"
}

@test "plain LD_PRELOAD with a KCMPTRACE_DIR others can write: one warning, the program runs unchanged, nothing written there" {
	D="$BATS_TEST_TMPDIR/shared"
	mkdir "$D"
	chmod 0777 "$D"
	run --separate-stderr kcmptrace_no_fd3 env KCMPTRACE_DIR="$D" LD_PRELOAD="$SHIM" \
		sh -c 'echo out; (echo child); exit 3'
	assert_equal "$status" 3
	assert_equal "$output" "out
child"
	assert_equal "${#stderr_lines[@]}" 1
	[[ ${stderr_lines[0]} == "kcmptrace: warning: trace directory $D can be written by other users; tracing is off" ]] ||
		fail "unexpected warning: $stderr"
	[[ -z $(ls -A "$D") ]] || fail "something was written in $D: $(ls -A "$D")"
}

@test "a --trace-dir owned by another user is refused, even for root" {
	((EUID == 0)) || skip "needs root to give a directory to another user"
	D="$BATS_TEST_TMPDIR/theirs"
	mkdir -m 0700 "$D"
	chown nobody "$D"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --trace-dir "$D" -- touch "$BATS_TEST_TMPDIR/ran"
	assert_one_line_error
	[[ $stderr == *"$D is owned by another user"* ]] || fail "unexpected error: $stderr"
	[[ ! -e $BATS_TEST_TMPDIR/ran ]] || fail "the command ran"
}

@test "a private --trace-dir, made by kcmptrace or given, is used" {
	D="$BATS_TEST_TMPDIR/mine"
	traced_json_kept() {
		run --separate-stderr kcmptrace_no_fd3 "$KT" --format=json -o "$BATS_TEST_TMPDIR/r.json" --trace-dir "$1" -- true
		assert_success
		compgen -G "$1/*.rec" >/dev/null || fail "no records in $1"
	}
	traced_json_kept "$D"
	[[ $(stat -c %a "$D") == 700 ]] || fail "made with mode $(stat -c %a "$D")"
	mkdir -m 0755 "$BATS_TEST_TMPDIR/given"
	traced_json_kept "$BATS_TEST_TMPDIR/given"
}
