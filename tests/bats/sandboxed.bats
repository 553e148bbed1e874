#!/usr/bin/env bats
# Processes whose trace cannot be written in full: a seccomp sandbox (as
# man-db runs its helpers in) refuses the calls the shim writes with. The
# program's output, stderr and status stay its own; under the launcher one
# line says what could not be recorded and why, and the report marks those
# processes; plain LD_PRELOAD says one warning line for the run.

setup() {
	load helpers
}

# sandboxed_run [SANDBOXED-OPTION...]: the scenario untraced then traced
# (JSON report in $R), the same stdout and status; sets E (exec child),
# W (work child), G (grandchild) and P (the root).
sandboxed_run() {
	run --separate-stderr kcmptrace_no_fd3 "$SCEN/sandboxed" "$@" cat /etc/hostname
	assert_success
	assert_equal "$stderr" ""
	local untraced_lines=${#lines[@]}
	traced "$SCEN/sandboxed" "$@" cat /etc/hostname
	assert_success
	assert_equal "${#lines[@]}" "$untraced_lines"
	assert_line work
	assert_line grandchild
	assert_line "$(cat /etc/hostname)"
	assert_invariants
	E=$(kv exec_child)
	W=$(kv work_child)
	G=$(kv grandchild)
	P=$(root_pid)
}

# assert_lost PID WHAT ERRNO: the report marks PID as not recorded, WHAT
# being missing, refused by a seccomp filter with ERRNO.
assert_lost() {
	q_true 'proc($p) | .unrecorded | length == 1 and .[0].what == $w and .[0].errno == $e
		and .[0].cause == "seccomp" and (.[0].reason | test("seccomp"))' \
		--argjson p "$1" --arg w "$2" --arg e "$3"
}

@test "seccomp sandbox under the launcher: nothing on the program's stderr, one line naming what was not recorded" {
	sandboxed_run
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^kcmptrace: 3 processes not fully recorded, a seccomp filter refused writing the trace \(ENOSYS\): "
	assert_regex "$stderr" "(^|, |: )$W sandboxed(,|;)"
	assert_regex "$stderr" "(^|, |: )$G sandboxed(,|;)"
	assert_regex "$stderr" "(^|, |: )$E cat(,|;)"
	refute_regex "$stderr" "warning"
}

@test "seccomp sandbox: the report marks each process not recorded, with what is missing and why" {
	sandboxed_run
	q_true 'proc($p) | has("unrecorded") | not' --argjson p "$P"
	# the work child's exit snapshot: its table gives its descriptors
	assert_lost "$W" exit ENOSYS
	q_true 'proc($p) | .end == {"how": "exit", "status": 0} and .snapshot.why == "table" and (.fds | length > 0)' \
		--argjson p "$W"
	# the grandchild could not get a table: its parent's table named it
	assert_lost "$G" fork ENOSYS
	q_true 'proc($p) | .ppid == $w and (.argv[0] | endswith("sandboxed")) and .fds == []' \
		--argjson p "$G" --argjson w "$W"
	# the exec child: its exec of cat and after; what its table says it keeps
	assert_lost "$E" exec ENOSYS
	q_true 'proc($p) | .unrecorded[0].exe == "cat" and .end == {"how": "exit", "status": 0}' \
		--argjson p "$E"
	assert_equal "$(fd_get "$E" 1 .origin.how)" inherited
	# the text report says it where the processes are listed
	run --separate-stderr kcmptrace_no_fd3 "$KT" -o "$BATS_TEST_TMPDIR/r.txt" -- "$SCEN/sandboxed" cat /etc/hostname
	assert_success
	local txt
	txt=$(cat "$BATS_TEST_TMPDIR/r.txt")
	assert_regex "$txt" "sandboxed  exit 0  not recorded \(seccomp\)"
	assert_regex "$txt" "sandboxed  end unknown  not recorded \(seccomp\)"
	assert_regex "$txt" "sandboxed  exit 0  not recorded after exec of cat \(seccomp\)"
	assert_regex "$txt" "Its exit snapshot could not be written: a seccomp filter refused writing the trace \(ENOSYS\)"
	assert_regex "$txt" "Nothing from its exec of cat on could be written"
	# why it has no snapshot is told once, as the loss, not as a killed process
	refute_regex "$txt" "SIGKILL"
}

@test "seccomp sandbox refusing with EPERM: the same, the errno named" {
	sandboxed_run --errno=EPERM
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "a seccomp filter refused writing the trace \(EPERM\)"
	assert_lost "$W" exit EPERM
	assert_lost "$G" fork EPERM
	assert_lost "$E" exec EPERM
}

@test "a sandbox that refuses only O_DIRECTORY opens and kcmp (man-db's permissive one): every process recorded" {
	sandboxed_run --no-directory
	assert_equal "$stderr" ""
	q_true '[.processes[] | select(has("unrecorded"))] == []'
	q_true '.kcmp.available == false'
	# the exec'd cat took its own snapshot: its exit, with its descriptors
	q_true 'proc($p) | .name == "cat" and .snapshot.why == "exit" and (.fds | length > 0)' --argjson p "$E"
	q_true 'proc($p) | .snapshot.why == "exit"' --argjson p "$G"
}

@test "seccomp sandbox: a kept trace renders the same marks again" {
	local T="$BATS_TEST_TMPDIR/trace"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --trace-dir "$T" --format=json -o "$BATS_TEST_TMPDIR/a.json" \
		-- "$SCEN/sandboxed" cat /etc/hostname
	assert_success
	assert_invariants "$BATS_TEST_TMPDIR/a.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" report --format=json -o "$BATS_TEST_TMPDIR/b.json" "$T"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq -S 'del(.trace_dir)' "$BATS_TEST_TMPDIR/b.json")" \
		"$(jq -S 'del(.trace_dir)' "$BATS_TEST_TMPDIR/a.json")"
	assert_equal "$(jq '[.processes[] | select(has("unrecorded"))] | length' "$BATS_TEST_TMPDIR/b.json")" 3
}

@test "seccomp sandbox under plain LD_PRELOAD: one warning line for the run, and the report marks each process" {
	run --separate-stderr kcmptrace_no_fd3 "$SCEN/sandboxed" cat /etc/hostname
	local untraced=$output
	preloaded "$SCEN/sandboxed" cat /etc/hostname
	assert_success
	# the same lines (but the pids of the last one)
	assert_equal "$(sed 's/[0-9]\+/N/g' <<<"$output")" "$(sed 's/[0-9]\+/N/g' <<<"$untraced")"
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^kcmptrace: warning: .*Function not implemented$'
	assert_invariants
	q_true '[.processes[] | select(has("unrecorded"))] | length == 3'
}

@test "man-db under the launcher: man's output and stderr unchanged, its sandboxed helpers named once" {
	# groff and troff (not ours) trip ASan when its runtime is preloaded into them
	[[ -z ${KCMPTRACE_SANITIZER_RUN:-} ]] || skip "groff under a preloaded sanitizer runtime"
	command -v man >/dev/null || skip "man-db is not installed (scripts/setup installs it)"
	local page=/usr/share/man/man1/ls.1.gz
	[[ -e $page ]] || page=$(man -w ls 2>/dev/null) || skip "no manual page of ls"
	run --separate-stderr kcmptrace_no_fd3 man -P cat -l "$page"
	assert_success
	local untraced_out=$output untraced_err=$stderr
	traced man -P cat -l "$page"
	assert_success
	assert_equal "$output" "$untraced_out"
	# man's own stderr as it was, plus at most the launcher's word
	assert_equal "$(grep -v '^kcmptrace: ' <<<"$stderr")" "$untraced_err"
	refute_regex "$stderr" "warning"
	assert_invariants
	if q_true '[.processes[] | select(has("unrecorded"))] | length > 0' 2>/dev/null; then
		assert_equal "$(grep -c '^kcmptrace: ' <<<"$stderr")" 1
		assert_regex "$stderr" "^kcmptrace: [0-9]+ process(es)? not fully recorded, a seccomp filter refused writing the trace"
		q_true '[.processes[] | select(has("unrecorded")) | .unrecorded[].cause] | all(. == "seccomp")'
	fi
	# every process has its descriptors or says why not: groff and its
	# helpers (man-db's permissive sandbox) are recorded in full
	q_true '[.processes[] | select((.fds | length) == 0 and (has("unrecorded") | not)) | .pid] == []'
	q_true '[.processes[] | select(.name == "groff" or .name == "troff" or .name == "grotty")
		| select(has("unrecorded") or (.fds | length) == 0)] == []'
	q_true '[.processes[] | select(.name == "groff")] | length == 1'
}
