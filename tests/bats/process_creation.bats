#!/usr/bin/env bats
# Every way to make a process: the child is traced and its copies of the
# parent's descriptors are shown shared with the parent's.

setup() {
	load helpers
}

# proc_create MODE: the child holds the parent's shared_fd, same description.
check_child_shares() {
	F=$(make_data_file)
	traced "$SCEN/proc_create" "$1" "$F"
	assert_success
	assert_invariants
	S=$(kv shared_fd)
	C=$(kv child)
	P=$(root_pid)
	assert_shared "$P" "$S" "$C" "$S"
	assert_equal "$(fd_get "$C" "$S" .origin.how)" inherited
	q_true 'ofdent(ofd($p; $f)).evidence == "kcmp"' --argjson p "$P" --argjson f "$S"
	q_true 'proc($c).end == {"how": "exit", "status": 0}' --argjson c "$C"
}

@test "vfork: the child (run as a fork child) is traced and shares" {
	check_child_shares vfork
}

@test "clone without CLONE_VM: the child is traced, shares, and its end is known" {
	check_child_shares clone
}

@test "_Fork: the child is traced and shares" {
	check_child_shares _Fork
}

@test "syscall(SYS_clone) as a fork: the child is traced and shares" {
	check_child_shares syscall-fork
}

@test "daemon(): the daemon is traced, its parent exits 0, the daemon shares" {
	check_child_shares daemon
	D=$(kv child)
	q_true '(.processes | length) == 3'
	MID=$(q 'proc($d).ppid' --argjson d "$D")
	q_true 'proc($m).end == {"how": "exit", "status": 0}' --argjson m "$MID"
}

@test "syscall(SYS_dup): the copy is a dup of its source" {
	F=$(make_data_file)
	traced "$SCEN/proc_create" raw-dup "$F"
	assert_success
	S=$(kv shared_fd)
	D=$(kv dup_fd)
	P=$(root_pid)
	assert_shared "$P" "$S" "$P" "$D"
	assert_equal "$(fd_get "$P" "$D" .origin.how)" dup
	assert_equal "$(fd_get "$P" "$D" .origin.call)" syscall
	assert_equal "$(fd_get "$P" "$D" .origin.fd)" "$S"
}

@test "posix_spawn: file actions place descriptors on purpose, the rest is inherited" {
	traced "$SCEN/spawn_actions"
	assert_success
	assert_invariants
	P=$(root_pid)
	C=$(kv child)
	L=$(kv leaked_fd)
	X=$(kv cloexec_fd)
	W=$(kv pipe_write_fd)
	O=$(kv opened_fd)
	# dup2 action: the child's stdout is the parent's pipe write end
	assert_shared "$C" 1 "$P" "$W"
	assert_equal "$(fd_get "$C" 1 .origin.how)" inherited
	assert_equal "$(fd_get "$C" 1 .origin.call)" posix_spawn
	assert_equal "$(fd_get "$C" 1 .origin.fd)" "$W"
	# open action: a description of the child's own
	assert_equal "$(fd_get "$C" "$O" .origin.how)" open
	assert_equal "$(fd_get "$C" "$O" .origin.call)" posix_spawn
	# not placed: inherited without a call, the same description
	assert_shared "$C" "$L" "$P" "$L"
	assert_equal "$(fd_get "$C" "$L" .origin.how)" inherited
	assert_equal "$(fd_get "$C" "$L" .origin.call)" null
	assert_no_fd "$C" "$X"
	# the variable that told the child is not left in its environment
	run -0 kcmptrace_no_fd3 "$KT" -- env
	refute_line --regexp '^KCMPTRACE_SPAWN='
}

@test "posix_spawn: an inherited descriptor no file action placed leaked across the spawn's exec, once; placed ones did not" {
	need_kcmp
	traced "$SCEN/spawn_actions"
	assert_success
	P=$(root_pid)
	C=$(kv child)
	L=$(kv leaked_fd)
	# exactly one leak, of the child (its first image crossed an exec), for fd L
	q_true '[.findings[] | select(.kind == "leaked-across-exec")] | length == 1'
	q_true '[.findings[] | select(.kind == "leaked-across-exec")][0] | .pid == $c and .fd == $l' \
		--argjson c "$C" --argjson l "$L"
	q_true '[.findings[] | select(.kind == "leaked-across-exec")][0].message | test("inherited across posix_spawn\\(\\) of .*spawn_actions without close-on-exec")'
	q_true '[.findings[] | select(.kind == "leaked-across-exec")][0].origin.call == "open"'
	# the file actions' descriptors (dup2 onto 1, open onto opened_fd) are no finding
	q_true '[.findings[] | select(.pid == $c and .kind != "leaked-across-exec")] | length == 0' --argjson c "$C"
}

@test "posix_spawn done right (O_CLOEXEC, F_SETFD on purpose, /dev/fd/N on argv, no file actions) has no finding" {
	need_kcmp
	traced "$SCEN/spawn_clean"
	assert_success
	assert_equal "$(kv line)" from-child
	C2=$(kv child2)
	I=$(kv inheritable_fd)
	N=$(kv named_fd)
	# they did cross, as inherited descriptors of the parent's
	assert_equal "$(fd_get "$C2" "$I" .origin.how)" inherited
	assert_equal "$(fd_get "$C2" "$N" .origin.how)" inherited
	assert_no_fd "$C2" "$(kv cloexec_fd)"
	q_true '.findings == []'
}

@test "system(): the shell inherits the caller's non-close-on-exec descriptors, a leak across its exec; popen's placed end is none" {
	need_kcmp
	traced "$SCEN/popen_system"
	assert_success
	P=$(root_pid)
	PF=$(kv popen_fd)
	SC=$(q '[.processes[] | select(.ppid == $p and .argv == ["sh", "-c", "exit 7"])][0].pid' --argjson p "$P")
	PC=$(q '[.processes[] | select(.ppid == $p and .argv == ["sh", "-c", "echo popen-child"])][0].pid' --argjson p "$P")
	# popen without "e": its read end reached system()'s shell
	q_true '[.findings[] | select(.kind == "leaked-across-exec")] | length == 1'
	q_true '[.findings[] | select(.kind == "leaked-across-exec")][0] | .pid == $c and .fd == $f' \
		--argjson c "$SC" --argjson f "$PF"
	q_true '[.findings[] | select(.kind == "leaked-across-exec")][0].message | test("inherited across system\\(\\) of ")'
	q_true '[.findings[] | select(.pid == $c)] | length == 0' --argjson c "$PC"
}

@test "pthread_atfork child handler: what it closes and opens is the child's; the parent's descriptors keep their origins" {
	traced "$SCEN/atfork_close"
	assert_success
	assert_equal "$(kv child)" 0
	assert_invariants
	local P C args
	P=$(root_pid)
	C=$(only_child "$P")
	args=(--argjson a "$(kv a)" --argjson b "$(kv b)")
	# the parent: A opened in main, B its dup, one description
	q_true 'proc($p).fds as $f | ($f[] | select(.fd == $a)) as $fa | ($f[] | select(.fd == $b)) as $fb
	        | $fa.origin.how == "open" and $fa.target == "/dev/null" and ($fa.origin.site | test("^main"))
	          and $fb.origin.how == "dup" and $fb.ofd == $fa.ofd' --argjson p "$P" "${args[@]}"
	# the child: A's number reopened by the handler, B inherited
	q_true 'proc($c).fds as $f | ($f[] | select(.fd == $a)) as $fa | ($f[] | select(.fd == $b)) as $fb
	        | $fa.origin.how == "open" and ($fa.origin.site | test("^in_child")) and ($fa.target | endswith("atfork_close"))
	          and $fb.origin.how == "inherited"' --argjson c "$C" "${args[@]}"
}

@test "posix_spawn: an inherited descriptor the new program closes at once still crossed the exec (closed record)" {
	need_kcmp
	command -v python3 >/dev/null || skip "python3 is needed"
	traced python3 -c '
import os, ctypes
fd = ctypes.CDLL(None).open(b"/etc/hostname", 0)   # without O_CLOEXEC
pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exec %d<&-; exec true" % fd], os.environ)
print("fd=%d child=%d" % (fd, pid))
os.waitpid(pid, 0)'
	assert_success
	q_true '[.findings[] | select(.kind == "leaked-across-exec")] | length == 1'
	q_true '[.findings[] | select(.kind == "leaked-across-exec")][0] | .pid == $c and .fd == $f and .target == "/etc/hostname"' \
		--argjson c "$(kv child)" --argjson f "$(kv fd)"
}
