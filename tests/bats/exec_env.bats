#!/usr/bin/env bats
# The tree stays traced when a program execs with an environment of its
# own; images the loader cannot preload into are listed as untraced.

setup() {
	load helpers
}

# The single process of the run (exec keeps the pid) must show the last
# image, traced, holding the descriptor opened before the exec.
assert_traced_through_exec() {
	local want_exe="$1"
	assert_success
	assert_invariants
	K=$(kv kept_fd)
	P=$(root_pid)
	q_true '(.processes | length) == 1'
	assert_equal "$(q 'proc($p).exe' --argjson p "$P")" "$want_exe"
	q_true 'proc($p).images >= 2' --argjson p "$P"
	assert_equal "$(fd_get "$P" "$K" .origin.how)" exec
	assert_equal "$(fd_get "$P" "$K" .origin.call)" open
}

# Under scripts/sanitize the sanitizer runtime and its options travel in the
# environment: a program that drops its environment drops them too.
skip_if_sanitized() {
	[[ -z ${KCMPTRACE_SANITIZER_RUN:-} ]] || skip "the program drops the environment the sanitizer needs"
}

@test "exec with an empty environment: the new image is still traced" {
	skip_if_sanitized
	traced "$SCEN/exec_env" clear /bin/true
	assert_traced_through_exec "$(readlink -f /bin/true)"
}

@test "exec after unsetenv LD_PRELOAD: the new image is still traced" {
	traced "$SCEN/exec_env" drop-preload true
	assert_traced_through_exec "$(readlink -f /bin/true)"
}

@test "exec with another LD_PRELOAD: ours is prepended, theirs kept" {
	skip_if_sanitized
	traced "$SCEN/exec_env" other-preload /usr/bin/env
	assert_success
	assert_line --regexp '^LD_PRELOAD=/.*libkcmptrace\.so:libm\.so\.6$'
	assert_line 'PATH=/usr/bin:/bin'
	P=$(root_pid)
	assert_equal "$(q 'proc($p).exe' --argjson p "$P")" /usr/bin/env
}

@test "a KCMPTRACE_DIR the program sets itself is left alone" {
	other="$BATS_TEST_TMPDIR/other"
	mkdir "$other"
	export OTHER_TRACE_DIR="$other"
	traced "$SCEN/exec_env" keep-dir /bin/true
	assert_success
	# the new image wrote into the other trace, not the launcher's
	run -0 "$KT" report --format=json -o "$BATS_TEST_TMPDIR/other.json" "$other"
	R="$BATS_TEST_TMPDIR/other.json"
	q_true '[.processes[].exe] | index($t) != null' --arg t "$(readlink -f /bin/true)"
}

@test "exec of a static binary: listed as untraced, its exit status still known" {
	traced bash -c "$SCEN/static_true 5; echo status=\$?"
	assert_success
	assert_invariants
	assert_line status=5
	SP=$(kv static_pid)
	q_true 'proc($p).untraced == {"exe": $exe, "reason": "static binary"}' \
		--argjson p "$SP" --arg exe "$SCEN/static_true"
	q_true 'proc($p).end == {"how": "exit", "status": 5}' --argjson p "$SP"
	# the text report says so too
	run --separate-stderr no_fd3 "$KT" -- bash -c "$SCEN/static_true 0"
	assert_success
	assert_regex "$stderr" "untraced after exec of $SCEN/static_true \(static binary\)"
}

@test "a number closed on exec and reused by the new image names a new description" {
	# fd 9 is close-on-exec before the exec; the shell then opens /dev/null
	# onto 9 (same pid, same number) and dups it to 7
	cat >"$BATS_TEST_TMPDIR/reuse.py" <<'PY'
import os
fd = os.open("/etc/hostname", os.O_RDONLY)
os.set_inheritable(fd, True)
os.dup2(fd, 9, inheritable=False)
print(f"kept_fd={fd}", flush=True)
os.execv("/bin/sh", ["sh", "-c", "exec 9</dev/null; exec 7<&9; exec 9<&-"])
PY
	traced /usr/bin/python3 "$BATS_TEST_TMPDIR/reuse.py"
	assert_success
	assert_invariants
	P=$(root_pid)
	K=$(kv kept_fd)
	assert_equal "$(fd_get "$P" 7 .target)" /dev/null
	assert_equal "$(fd_get "$P" "$K" .target)" /etc/hostname
	assert_other_ofd "$P" 7 "$P" "$K"
}

@test "an untraced image's descriptors are observed from outside while it runs, compared by kcmp" {
	F=$(make_data_file)
	traced "$SCEN/untraced_observed" "$F"
	assert_success
	assert_invariants
	P=$(root_pid)
	C=$(kv child)
	S=$(kv shared_fd)
	O=$(kv own_fd)
	q_true 'proc($c).untraced.reason == "static binary"' --argjson c "$C"
	assert_equal "$(q 'proc($c).snapshot.why' --argjson c "$C")" observed
	# kept across the exec from its traced life: the parent's description
	assert_same_ofd "$P" "$S" "$C" "$S"
	assert_equal "$(fd_get "$C" "$S" .origin.how)" exec
	q_true 'ofdent(ofd($p; $f)).evidence == "kcmp"' --argjson p "$P" --argjson f "$S"
	# made by the untraced image itself: listed, its origin unknown
	assert_equal "$(fd_get "$C" "$O" .target)" "$SCEN/static_hold"
	assert_equal "$(fd_get "$C" "$O" .origin.how)" unknown
	assert_other_ofd "$C" "$O" "$P" "$S"
}
