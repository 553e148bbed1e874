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

# The launcher watches static images only with CAP_SYS_PTRACE (README).
can_watch() {
	local caps
	caps=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
	(( (0x$caps >> 19) & 1 ))
}

needs_watch() {
	can_watch || skip "the launcher watches static images only with CAP_SYS_PTRACE"
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

@test "exec with another LD_PRELOAD: ours is prepended for the loader, the program sees only theirs" {
	skip_if_sanitized
	traced "$SCEN/exec_env" other-preload /usr/bin/env
	assert_success
	assert_equal "$output" "$(printf 'kept_fd=3\nLD_PRELOAD=libm.so.6\nPATH=/usr/bin:/bin')"
	assert_traced_through_exec /usr/bin/env
}

# same_env ENV-ARGS...: `env ENV-ARGS... printenv` prints, traced, exactly
# what it prints untraced, and printenv is still traced: its own process
# entry (the exec keeps the pid) with its descriptors.
same_env() {
	skip_if_sanitized
	run -0 --separate-stderr kcmptrace_no_fd3 env "$@" printenv
	local untraced=$output
	traced env "$@" printenv
	assert_success
	assert_equal "$output" "$untraced"
	assert_equal "$stderr" ""
	assert_invariants
	P=$(root_pid)
	q_true '(.processes | length) == 1'
	q_true 'proc($p) | .exe == $exe and .images == 2 and .snapshot.why == "exit"
		and ([.fds[].fd] | index(1) != null)' --argjson p "$P" --arg exe "$(readlink -f "$(command -v printenv)")"
}

@test "env -i printenv: the variables the library put back for the new image are not shown to it" {
	same_env -i
	assert_output ""
}

@test "env -i FOO=1 printenv: only what env passed" {
	same_env -i FOO=1
	assert_output FOO=1
}

@test "env -i with a LD_PRELOAD of the program's own, in the middle: shown as it was, in its place" {
	same_env -i A=1 LD_PRELOAD=libm.so.6 B=2
	assert_output "$(printf 'A=1\nLD_PRELOAD=libm.so.6\nB=2')"
}

@test "env -i with an empty LD_PRELOAD and a KCMPTRACE_ setting of the program's own: its values" {
	same_env -i LD_PRELOAD= KCMPTRACE_STACK=4
	assert_output "$(printf 'LD_PRELOAD=\nKCMPTRACE_STACK=4')"
}

@test "a cleared environment through two execs (env -i sh -c ...): each image sees its own, both traced" {
	skip_if_sanitized
	local script='printenv; X=1 exec printenv'
	run -0 --separate-stderr kcmptrace_no_fd3 env -i /bin/sh -c "$script"
	local untraced=$output
	traced env -i /bin/sh -c "$script"
	assert_success
	assert_equal "$output" "$untraced"
	assert_line X=1
	assert_invariants
	q_true '[.processes[] | select(.name == "printenv")] | length == 2'
	q_true '[.processes[] | select(.name == "printenv") | .fds | length > 0] | all'
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
	run --separate-stderr kcmptrace_no_fd3 "$KT" -- bash -c "$SCEN/static_true 0"
	assert_success
	assert_regex "$stderr" "untraced after exec of $SCEN/static_true \(static binary\)"
}

@test "a descriptor kept across exec of a set-id program (not traced): the finding names that program" {
	# tmux's server leaks its socket into the set-gid utempter helper; the
	# finding said "exec of a new program" and the explanation "an exec".
	[[ $(id -u) == 0 ]] || skip "making a set-gid copy for another group takes root"
	grp=$(getent group nogroup utmp | head -n1 | cut -d: -f1)
	[[ -n $grp ]] || skip "no group nogroup or utmp"
	SG=$BATS_TEST_TMPDIR/sgtrue
	cp "$(readlink -f /bin/true)" "$SG"
	chgrp "$grp" "$SG"
	chmod g+s "$SG"
	R=$BATS_TEST_TMPDIR/r.json
	run --separate-stderr kcmptrace_no_fd3 "$KT" --default-suppressions=no --format=json -o "$R" -- \
		bash -c "exec 7</etc/hostname; exec '$SG'"
	assert_success
	assert_invariants
	q_true '[.processes[] | select(.untraced.reason == "set-id program")] | length == 1'
	q_true '[.findings[] | select(.kind == "leaked-across-exec" and .fd == 7)] | length == 1'
	q_true '.findings[] | select(.fd == 7) | (.message | contains("kept across exec of \($sg) (set-id program, not traced)"))
		and (.explanation | contains("kept across exec of \($sg).")) ' --arg sg "$SG"
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
	assert_not_shared "$P" 7 "$P" "$K"
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
	# the launcher's look at its exit, else the parent's look before that
	if can_watch; then
		assert_equal "$(q 'proc($c).snapshot.why' --argjson c "$C")" exit-observed
	else
		assert_equal "$(q 'proc($c).snapshot.why' --argjson c "$C")" observed
	fi
	# kept across the exec from its traced life: the parent's description
	assert_shared "$P" "$S" "$C" "$S"
	assert_equal "$(fd_get "$C" "$S" .origin.how)" exec
	q_true 'ofdent(ofd($p; $f)).evidence == "kcmp"' --argjson p "$P" --argjson f "$S"
	# made by the untraced image itself: listed, its origin unknown
	assert_equal "$(fd_get "$C" "$O" .target)" "$SCEN/static_hold"
	assert_equal "$(fd_get "$C" "$O" .origin.how)" unknown
	assert_not_shared "$C" "$O" "$P" "$S"
}

# glibc's posix_spawn clones and execs inside libc: no shim runs in the
# child, so its parent has to put it in the trace.
assert_spawned_static() {
	assert_success
	assert_invariants
	P=$(root_pid)
	C=$(kv child)
	S=$(kv shared_fd)
	X=$(kv cloexec_fd)
	O=$(kv own_fd)
	q_true 'proc($c) | .ppid == $p and .untraced == {"exe": $exe, "reason": "static binary"}
		and .end == {"how": "exit", "status": 0} and .argv == ["static_hold"]' \
		--argjson p "$P" --argjson c "$C" --arg exe "$SCEN/static_hold"
	# what it inherited: the parent's description, kept across the spawn's exec
	assert_shared "$P" "$S" "$C" "$S"
	assert_equal "$(fd_get "$C" "$S" .origin.how)" exec
	# placed by a file action: the parent's pipe end
	I=$(kv stdin_fd)
	assert_equal "$(fd_get "$C" 0 .target)" "$(fd_get "$P" "$I" .target)"
	assert_shared "$P" "$I" "$C" 0
	assert_equal "$(fd_get "$C" 0 .origin.call)" posix_spawn
	# closed by the exec (the image's own open may reuse the number)
	q_true '[proc($c).fds[] | select(.fd == $x and .fd != $o)] | length == 0' \
		--argjson c "$C" --argjson x "$X" --argjson o "$O"
	# made by the untraced image itself: listed, origin unknown
	assert_equal "$(fd_get "$C" "$O" .target)" "$SCEN/static_hold"
	assert_equal "$(fd_get "$C" "$O" .origin.how)" unknown
	assert_not_shared "$C" "$O" "$P" "$S"
	# the inherited file is a leak into the new program; what the actions placed is not
	q_true '[.findings[] | select(.pid == $c) | {kind, fd}] == [{"kind": "leaked-across-exec", "fd": $s}]' \
		--argjson c "$C" --argjson s "$S"
	q_true '.findings[] | select(.pid == $c) | .message | contains("inherited across posix_spawn() of \($exe)")' \
		--argjson c "$C" --arg exe "$SCEN/static_hold"
}

@test "posix_spawn of a static binary: listed untraced, with what it inherited, seen at its exit" {
	F=$(make_data_file)
	traced "$SCEN/spawn_static" "$F"
	assert_spawned_static
	if can_watch; then
		assert_equal "$(q 'proc($c).snapshot.why' --argjson c "$C")" exit-observed
	fi
	# posix_spawnp by a bare name, found in PATH
	traced "$SCEN/spawn_static" "$F" -p
	assert_spawned_static
}

@test "posix_spawn of a static binary with more file actions than the shim keeps: the dup2s still place 0 and 1" {
	F=$(make_data_file)
	# 40 closes after the two dup2s: the oldest actions kept no longer
	# fit, and a close is the one the kcmp check can do without
	traced "$SCEN/spawn_static" "$F" -c 40
	assert_spawned_static
	assert_equal "$(fd_get "$C" 1 .origin.call)" posix_spawn
}

@test "posix_spawn of a static binary, not watched: its parent observes it from outside" {
	F=$(make_data_file)
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --no-watch --format=json -o "$R" -- "$SCEN/spawn_static" "$F"
	assert_spawned_static
	assert_equal "$(q 'proc($c).snapshot.why' --argjson c "$C")" observed
}

@test "posix_spawn of a static binary after a fork, not watched: the fork child that holds only its parent's still observes it" {
	F=$(make_data_file)
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --no-watch --format=json -o "$R" -- "$SCEN/fork_then_spawn_static" "$F"
	assert_success
	assert_invariants
	P=$(root_pid)
	C=$(kv child)
	S=$(kv static)
	O=$(kv own_fd)
	q_true 'proc($s) | .ppid == $p and .untraced.reason == "static binary"' --argjson p "$P" --argjson s "$S"
	# the child's exit is the only look at it: its parent waited for both
	assert_equal "$(q 'proc($s).snapshot.why' --argjson s "$S")" observed
	assert_equal "$(fd_get "$S" "$O" .target)" "$SCEN/static_hold"
	assert_equal "$(fd_get "$S" "$O" .origin.how)" unknown
	assert_shared "$C" "$(kv shared_fd)" "$S" "$(kv shared_fd)"
}

@test "a parent execs by a raw system call while its fork child lives: the child compares with the new image's table" {
	F=$(make_data_file)
	traced "$SCEN/raw_exec_parent" "$F"
	assert_success
	assert_invariants
	P=$(root_pid)
	C=$(kv child)
	M=$(kv moved_fd)
	q_true 'proc($p).images == 2' --argjson p "$P"
	# the second image moved the file the child inherited: only its table
	# names the new number, and kcmp says it is the child's description
	assert_shared "$P" "$M" "$C" "$(kv shared_fd)"
	q_true 'ofdent(ofd($p; $f)).evidence == "kcmp"' --argjson p "$P" --argjson f "$M"
}

@test "a static image that outlives every traced process: the launcher sees its descriptors at its exit" {
	needs_watch
	F=$(make_data_file)
	traced bash -c "exec 7<'$F'; exec '$SCEN/static_own' '$F' 5"
	assert_failure 5
	P=$(root_pid)
	own=$(kv own)
	copy=$(kv dup)
	other=$(kv other)
	q_true 'proc($p) | .untraced.reason == "static binary" and .end == {"how": "exit", "status": 5}
		and .snapshot == {"why": "exit-observed", "kcmp": "ok"}' --argjson p "$P"
	# made by the image: listed with their target; the dup is the same
	# description by kcmp, the second open another one
	for fd in "$own" "$copy" "$other"; do
		assert_equal "$(fd_get "$P" "$fd" .target)" "$F"
		assert_equal "$(fd_get "$P" "$fd" .origin.how)" unknown
	done
	assert_shared "$P" "$own" "$P" "$copy"
	q_true 'ofdent(ofd($p; $f)).evidence == "kcmp"' --argjson p "$P" --argjson f "$own"
	assert_not_shared "$P" "$own" "$P" "$other"
	# kept across the exec from the shell: its origin there
	q_true 'fdent($p; 7) | .target == $f and .origin.how == "exec" and .origin.call == "dup2"' \
		--argjson p "$P" --arg f "$F"
	assert_not_shared "$P" 7 "$P" "$own"
	# the text report names who made them
	run --separate-stderr kcmptrace_no_fd3 "$KT" -- bash -c "exec '$SCEN/static_own' '$F' 0"
	assert_success
	assert_regex "$stderr" "fd $own +made by the untraced image"
	# --no-watch: only what the exec snapshot knew, not the image's own
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --no-watch --format=json -o "$R" -- \
		bash -c "exec '$SCEN/static_own' '$F' 0"
	assert_success
	P=$(root_pid)
	q_true 'proc($p).snapshot.why == "exec"' --argjson p "$P"
	assert_no_fd "$P" "$own"
}

@test "a watched static image behaves as without the launcher: output, status, signals" {
	needs_watch
	F=$(make_data_file)
	for how in 0 3 -15; do
		run -- kcmptrace_no_fd3 bash -c "exec '$SCEN/static_own' '$F' $how"
		untraced_status=$status untraced_output=$output
		traced bash -c "exec '$SCEN/static_own' '$F' $how"
		assert_equal "$status" "$untraced_status"
		assert_equal "$output" "$untraced_output"
	done
	static_output=$output
	# the last run: killed by SIGTERM, and seen at its exit all the same
	q_true 'proc($p) | .end == {"how": "signal", "signal": 15, "status": 15}
		and .snapshot.why == "exit-observed"' --argjson p "$(root_pid)"
	# a job-control stop stays a stop its parent sees, and SIGCONT resumes it
	cat >"$BATS_TEST_TMPDIR/stop.py" <<'PY'
import os, signal, sys
go_r, go_w = os.pipe()  # the child exits once told: after it was seen to continue
pid = os.fork()
if pid == 0:
    os.dup2(go_r, 0)
    os.execv(sys.argv[1], [sys.argv[1], sys.argv[2], "-19"])
os.close(go_r)
_, st = os.waitpid(pid, os.WUNTRACED)
print("stopped", os.WSTOPSIG(st) if os.WIFSTOPPED(st) else st)
os.kill(pid, signal.SIGCONT)
_, st = os.waitpid(pid, os.WCONTINUED)
print("continued", os.WIFCONTINUED(st))
os.write(go_w, b"x")
_, st = os.waitpid(pid, 0)
print("exit", os.WEXITSTATUS(st))
PY
	run -0 kcmptrace_no_fd3 timeout 20 python3 "$BATS_TEST_TMPDIR/stop.py" "$SCEN/static_own" "$F"
	untraced_output=$output
	traced timeout 20 python3 "$BATS_TEST_TMPDIR/stop.py" "$SCEN/static_own" "$F"
	assert_success
	assert_equal "$output" "$untraced_output"
	assert_line "stopped 19"
	# no launcher (plain LD_PRELOAD): nobody to ask, the program runs on
	preloaded bash -c "exec '$SCEN/static_own' '$F' 4"
	assert_failure 4
	assert_output "$static_output"
}

@test "children of a watched static image: listed untraced and seen at their exit; one that execs a traced program is let go" {
	needs_watch
	F=$(make_data_file)
	traced bash -c "exec 7<'$F'; exec '$SCEN/static_fork' '$F' /bin/cat '$F'"
	assert_success
	assert_invariants
	assert_line "some data"
	P=$(root_pid)
	A=$(kv static_child)
	B=$(kv exec_child)
	# the root is named for the image it runs now
	q_true 'proc($p) | .name == "static_fork" and .snapshot.why == "exit-observed"' --argjson p "$P"
	q_true 'proc($a) | .ppid == $p and .untraced.reason == "static binary"
		and .end == {"how": "exit", "status": 6} and .snapshot.why == "exit-observed"' \
		--argjson a "$A" --argjson p "$P"
	# its own open of the file, and fd 7: its parent's description, by kcmp
	q_true '[proc($a).fds[] | select(.target == $f and .fd != 7)] | length == 1' \
		--argjson a "$A" --arg f "$F"
	assert_shared "$P" 7 "$A" 7
	q_true 'ofdent(ofd($p; 7)).evidence == "kcmp"' --argjson p "$P"
	# the child that execs cat (dynamic, LD_PRELOAD kept) is traced again
	q_true 'proc($b) | .ppid == $p and .untraced == null and .name == "cat" and .snapshot.why == "exit"' \
		--argjson b "$B" --argjson p "$P"
	assert_shared "$P" 7 "$B" 7
}

@test "a static command is watched from its exec; a child exec'd without the library's environment stays watched" {
	needs_watch
	F=$(make_data_file)
	traced "$SCEN/static_fork" "$F" -e /bin/cat "$F"
	assert_success
	assert_invariants
	P=$(root_pid)
	B=$(kv exec_child)
	q_true 'proc($p) | .untraced == {"exe": $exe, "reason": "static binary"}
		and .end == {"how": "exit", "status": 0} and .snapshot.why == "exit-observed"' \
		--argjson p "$P" --arg exe "$SCEN/static_fork"
	q_true 'proc($b) | .ppid == $p and .name == "cat"
		and .untraced == {"exe": $cat, "reason": "environment without the library"}
		and .end == {"how": "exit", "status": 0} and .snapshot.why == "exit-observed"' \
		--argjson b "$B" --argjson p "$P" --arg cat "$(readlink -f /bin/cat)"
	q_true '[.processes[]] | length == 3'
}

@test "a static command that cannot be watched (--no-watch) is still listed, untraced, with its status" {
	F=$(make_data_file)
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --no-watch --format=json -o "$R" -- "$SCEN/static_own" "$F" 3
	assert_failure 3
	assert_invariants
	q_true '.processes | length == 1 and (.[0] | .untraced.reason == "static binary"
		and .end == {"how": "exit", "status": 3} and .argv[0] == $cmd)' --arg cmd "$SCEN/static_own"
}

@test "an exec into a static binary that fails: the process goes on traced, errno intact, its child traced" {
	F=$(make_data_file)
	cp "$SCEN/static_true" "$BATS_TEST_TMPDIR/not_executable"
	chmod a-x "$BATS_TEST_TMPDIR/not_executable"
	run -0 kcmptrace_no_fd3 "$SCEN/exec_fails" "$BATS_TEST_TMPDIR/not_executable" "$F"
	untraced_first=${lines[0]}
	traced "$SCEN/exec_fails" "$BATS_TEST_TMPDIR/not_executable" "$F"
	assert_success
	assert_invariants
	assert_equal "${lines[0]}" "$untraced_first"
	assert_equal "$(kv tracer)" 0
	P=$(root_pid)
	C=$(kv child)
	fd=$(kv fd)
	for p in "$P" "$C"; do
		q_true 'proc($p) | .untraced == null and .snapshot.why == "exit"' --argjson p "$p"
	done
	q_true 'fdent($p; $f).origin.how == "open"' --argjson p "$P" --argjson f "$fd"
	q_true 'fdent($c; $f).origin | .how == "inherited" and .pid == $p' \
		--argjson c "$C" --argjson p "$P" --argjson f "$fd"
	q_true '[proc($c).fds[] | select(.origin.how == "open" and .target == $file)] | length == 1' \
		--argjson c "$C" --arg file "$F"
}
