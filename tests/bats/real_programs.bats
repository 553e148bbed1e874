#!/usr/bin/env bats
# Proof on real programs: Debian's GNU make, python3, bash and a C program using
# popen and system(), traced; the JSON is checked with jq. Each test also
# measures the origin coverage: the share of reported descriptors whose
# origin.how is not "unknown", leaving out the root process's descriptors
# present at start (the ones this shell hands it).

setup() {
	load helpers
}

# The descriptors a traced command starts with: this shell's, without
# bats's fd 3 (kcmptrace_no_fd3 closes it).
start_fds() {
	local f out=()
	for f in /proc/$BASHPID/fd/*; do
		f=${f##*/}
		[[ $f == 3 ]] || out+=("$f")
	done
	printf '%s\n' "${out[@]}" | jq -cs .
}

COVERAGE='
roots as $r
| [.processes[] | .pid as $p | .fds[] | {pid: $p, fd, how: .origin.how, target}
   | .fd as $f
   | select((($r | index($p)) != null and .how == "unknown" and ($start | index($f)) != null) | not)]
| {total: length, known: (map(select(.how != "unknown")) | length),
   unknown: map(select(.how == "unknown") | "pid \(.pid) fd \(.fd) \(.target)")}
'

# coverage: sets COV_TOTAL, COV_KNOWN, COV_PCT and COV_UNKNOWN (one
# "pid P fd N TARGET" a line) for the report $R.
coverage() {
	local c
	c=$(jq -c --argjson start "$(start_fds)" "$JQDEFS $COVERAGE" "$R") || fail "coverage: jq failed"
	COV_TOTAL=$(jq -r .total <<<"$c")
	COV_KNOWN=$(jq -r .known <<<"$c")
	COV_UNKNOWN=$(jq -r '.unknown[]' <<<"$c")
	COV_PCT=$((COV_TOTAL ? 100 * COV_KNOWN / COV_TOTAL : 100))
}

assert_full_coverage() {
	coverage
	# the figure, in the test log (a TAP comment on bats's own output)
	echo "# origin coverage: $COV_KNOWN/$COV_TOTAL ($COV_PCT%)" >&3
	((COV_TOTAL > 0)) || fail "no descriptors counted"
	[[ $COV_KNOWN == "$COV_TOTAL" ]] ||
		fail "origin coverage $COV_KNOWN/$COV_TOTAL ($COV_PCT%); unknown:
$COV_UNKNOWN"
}

@test "GNU make -j2, recursive: the jobserver pipe is inherited by the sub-makes and shared between them (kcmp); full origin coverage" {
	command -v make >/dev/null || skip "make is not installed (scripts/setup installs it)"
	need_kcmp
	local T=$BATS_TEST_TMPDIR
	mkdir -p "$T/sub" "$T/leaf"
	printf 'all:\n\t+$(MAKE) -s -C sub\n' >"$T/Makefile"
	# sub has two jobs, one of them a make of its own, which has two jobs
	printf 'all: a b\na:\n\t+$(MAKE) -s -C ../leaf\nb:\n\t@echo sub-b\n' >"$T/sub/Makefile"
	printf 'all: c d\nc:\n\t@echo "leaf-makeflags $$MAKEFLAGS"\nd:\n\t@echo leaf-d\n' >"$T/leaf/Makefile"
	traced make -s -j2 -C "$T"
	assert_success
	assert_invariants
	auth=$(grep -o -- '--jobserver-auth=[0-9]*,[0-9]*' <<<"$output") || fail "no --jobserver-auth in: $output"
	auth=${auth#*=}
	JR=${auth%,*}
	JW=${auth#*,}
	TOP=$(root_pid)
	q_true 'proc($p).argv[0] == "make"' --argjson p "$TOP"
	SUB=$(q '[.processes[] | select(.ppid == $p and .argv[0] == "make")] | if length == 1 then .[0].pid else error("sub-makes: \(length)") end' --argjson p "$TOP")
	LEAF=$(q '[.processes[] | select(.ppid == $p and .argv[0] == "make")] | if length == 1 then .[0].pid else error("leaf makes: \(length)") end' --argjson p "$SUB")

	# the sub-make got both ends from the top make, which made the pipe
	for fd in "$JR" "$JW"; do
		assert_equal "$(fd_get "$SUB" "$fd" .type)" pipe
		assert_equal "$(fd_get "$SUB" "$fd" .origin.how)" inherited
		assert_equal "$(fd_get "$SUB" "$fd" .origin.pid)" "$TOP"
		assert_equal "$(fd_get "$SUB" "$fd" .origin.fd)" "$fd"
		# the two makes still holding it at their exit: one description, by kcmp
		assert_shared "$SUB" "$fd" "$LEAF" "$fd"
		q_true 'ofdent(ofd($p; $f)).evidence == "kcmp"' --argjson p "$SUB" --argjson f "$fd"
	done
	assert_equal "$(fd_get "$SUB" "$JR" .access)" r
	assert_equal "$(fd_get "$SUB" "$JW" .access)" w
	assert_not_shared "$SUB" "$JR" "$SUB" "$JW"
	assert_equal "$(fd_get "$SUB" "$JR" .target)" "$(fd_get "$LEAF" "$JW" .target)"
	# the top make (the jobserver's master) closes the pipe before it exits
	assert_no_fd "$TOP" "$JR"
	assert_no_fd "$TOP" "$JW"
	assert_full_coverage
}

@test "python3 subprocess.Popen(pass_fds=(fd,), close_fds=True): the passed descriptor is the parent's description in the child, the others are gone; full origin coverage" {
	[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 is missing (scripts/setup installs python3)"
	need_kcmp
	cat >"$BATS_TEST_TMPDIR/popen.py" <<'PY'
import os, subprocess
keep = os.open("/dev/null", os.O_RDONLY)
other = os.open("/dev/null", os.O_RDONLY)
os.set_inheritable(other, True)
# the child checks for itself which descriptors it has
out = subprocess.run(["/bin/sh", "-c", f"[ -e /proc/self/fd/{keep} ] && [ ! -e /proc/self/fd/{other} ] && echo yes"],
                     pass_fds=(keep,), close_fds=True, capture_output=True, text=True).stdout
print(f"keep_fd={keep} other_fd={other} child_ok={out.strip() or 'no'}", flush=True)
PY
	traced /usr/bin/python3 "$BATS_TEST_TMPDIR/popen.py"
	assert_success
	assert_invariants
	K=$(kv keep_fd)
	O=$(kv other_fd)
	P=$(root_pid)
	q_true 'proc($p).exe | test("python3")' --argjson p "$P"
	C=$(q '[.processes[] | select(.ppid == $p and .argv[0] == "/bin/sh")] | if length == 1 then .[0].pid else error("children: \(length)") end' --argjson p "$P")
	assert_shared "$P" "$K" "$C" "$K"
	q_true 'ofdent(ofd($p; $f)).evidence == "kcmp" or ofdent(ofd($p; $f)).evidence == "tracked"' --argjson p "$P" --argjson f "$K"
	assert_equal "$(fd_get "$P" "$K" .origin.how)" open
	assert_equal "$(fd_get "$C" "$K" .origin.how)" exec   # inherited by the fork, kept across exec
	assert_equal "$(fd_get "$C" "$K" .origin.call)" fork
	assert_no_fd "$C" "$O"
	# what the child had is what the report lists for it: 0, 1, 2 and the passed one
	q_true '[proc($c) | .fds[].fd] == ([0, 1, 2, $k] | sort)' --argjson c "$C" --argjson k "$K"
	assert_equal "$(kv child_ok)" yes
	assert_full_coverage
}

@test "popen and system(): the popen'd shell's stdout is the other end of the parent's pipe, the system() shell is in the tree and inherited the popen end (kcmp); full origin coverage" {
	need_kcmp
	traced "$SCEN/popen_system"
	assert_success
	assert_equal "$(kv line)" popen-child
	assert_equal "$(kv system_status)" 7
	assert_invariants
	P=$(root_pid)
	PF=$(kv popen_fd)
	PC=$(q '[.processes[] | select(.ppid == $p and .argv == ["sh", "-c", "echo popen-child"])] | if length == 1 then .[0].pid else error("popen children: \(length)") end' --argjson p "$P")
	SC=$(q '[.processes[] | select(.ppid == $p and .argv == ["sh", "-c", "exit 7"])] | if length == 1 then .[0].pid else error("system children: \(length)") end' --argjson p "$P")
	q_true 'proc($c).end == {"how": "exit", "status": 7}' --argjson c "$SC"

	assert_equal "$(fd_get "$P" "$PF" .origin.how)" open
	assert_equal "$(fd_get "$P" "$PF" .origin.call)" popen
	assert_equal "$(fd_get "$P" "$PF" .access)" r
	# a pipe has two open file descriptions: the child writes into the
	# other end of the same pipe
	assert_equal "$(fd_get "$PC" 1 .target)" "$(fd_get "$P" "$PF" .target)"
	assert_equal "$(fd_get "$PC" 1 .access)" w
	assert_not_shared "$PC" 1 "$P" "$PF"
	# popen without "e" leaves the read end inheritable: system()'s shell got it
	assert_shared "$SC" "$PF" "$P" "$PF"
	q_true 'ofdent(ofd($p; $f)).evidence == "kcmp"' --argjson p "$P" --argjson f "$PF"
	assert_equal "$(fd_get "$SC" "$PF" .origin.how)" inherited

	# glibc's popen spawns the shell with an internal posix_spawn whose file
	# action dup2s the pipe's write end onto the child's stdout, then closes
	# the parent's copy: the child's start-up knows it as the far end of the
	# parent's popen pipe
	assert_equal "$(fd_get "$PC" 1 .origin.how)" inherited
	assert_equal "$(fd_get "$PC" 1 .origin.call)" popen
	assert_equal "$(fd_get "$PC" 1 .origin.pid)" "$P"
	assert_full_coverage
}

@test "a bash pipeline echo | grep: the read and write ends are distinct descriptions, each held by its side; full origin coverage" {
	# grep keeps its stdin to the end (cat closes it before exiting)
	traced bash -c 'echo hi | grep h; true'
	assert_success
	assert_output hi
	assert_invariants
	B=$(root_pid)
	C=$(q '[.processes[] | select(.ppid == $b and .name == "grep") | .pid] |
		if length == 1 then .[0] else error("grep: \(.)") end' --argjson b "$B")
	W=$(q '[.processes[] | select(.ppid == $b and .pid != $c) | .pid] |
		if length == 1 then .[0] else error("writer: \(.)") end' --argjson b "$B" --argjson c "$C")
	q_true 'fdent($w; 1) | .type == "pipe" and .access == "w"' --argjson w "$W"
	q_true 'fdent($c; 0) | .type == "pipe" and .access == "r"' --argjson c "$C"
	assert_equal "$(fd_get "$C" 0 .target)" "$(fd_get "$W" 1 .target)"
	assert_not_shared "$C" 0 "$W" 1
	assert_holders "$(kcmptrace_ofd "$C" 0)" "$C:0"
	assert_holders "$(kcmptrace_ofd "$W" 1)" "$W:1"
	assert_full_coverage
}

@test "script under a pipe: a number the earlier image closed, reused behind the shim after exec (openpty), is not joined to its old description" {
	command -v script >/dev/null || skip "no script(1)"
	# bash dup2s the pipe's write end onto fd 1 and closes the pipe's own
	# number before the exec of script; script's openpty then opens the
	# terminal pair out of the shim's sight, reusing that number
	traced bash -c 'script -qc true /dev/null | cat'
	assert_success
	assert_invariants
	S=$(kcmptrace_pid script)
	assert_equal "$(fd_get "$S" 1 .type)" pipe
	PTS=$(q '[proc($s) | .fds[] | select(.target | startswith("/dev/pts/")) | .fd] |
		if length == 1 then .[0] else error("terminals of script: \(.)") end' --argjson s "$S")
	assert_not_shared "$S" 1 "$S" "$PTS"
	# openpty is interposed: the terminal is the one script's shell runs on
	assert_equal "$(fd_get "$S" "$PTS" .origin.call)" openpty
	SH=$(only_child "$S")
	assert_shared "$S" "$PTS" "$SH" 0
}

@test "bash saves fd 1 around a redirection and restores it: each ls's stdout is the shell's own (one ofd)" {
	# `echo x >&2` makes bash copy fd 1 to fd 10 or above (F_DUPFD), point
	# fd 1 elsewhere, and dup2 the copy back (then close it): the copy is
	# gone by any snapshot, but it is the link between the two fd 1s
	traced bash -c 'ls /dev/null; echo x >&2; ls /dev/null; :'
	assert_success
	assert_invariants
	B=$(root_pid)
	mapfile -t kids < <(children "$B")
	[[ ${#kids[@]} -eq 2 ]] || fail "expected two ls, got: ${kids[*]}"
	assert_shared "$B" 1 "${kids[0]}" 1
	assert_shared "$B" 1 "${kids[1]}" 1
}

@test "bash saves fd 1, restores it, and saves it again around hundreds of closes: both ls's stdout are still the shell's own" {
	# the first copy (fd 10) and the fd 1 it was made from are closed, then
	# fd 10 is reused by the second save and 400 closes follow (each exec 5<
	# opens at 3 and moves it onto 5): the links between the two fd 1s
	# must outlive any ring of recent closes
	traced bash -c 'ls /dev/null
		{ :; } >&2
		{ for i in $(seq 200); do exec 5</dev/null; exec 5<&-; done; } >&2
		ls /dev/null; :'
	assert_success
	assert_invariants
	B=$(root_pid)
	mapfile -t kids < <(q '[.processes[] | select(.name == "ls") | .pid] | .[]')
	[[ ${#kids[@]} -eq 2 ]] || fail "expected two ls, got: ${kids[*]}"
	assert_shared "$B" 1 "${kids[0]}" 1
	assert_shared "$B" 1 "${kids[1]}" 1
	q_true '[.processes[].notes[]] | map(select(test("not kept"))) == []'
}

@test "forkpty: the terminal pair from openpty, the child's 0, 1 and 2 from login_tty, all seen though glibc makes them with internal calls" {
	traced "$SCEN/pty_fork"
	assert_success
	assert_output --regexp 'said=hello$'
	assert_invariants
	P=$(root_pid)
	C=$(kv child)
	M=$(kv master)
	assert_equal "$(fd_get "$P" "$M" .origin.call)" openpty
	for fd in 0 1 2; do
		assert_equal "$(fd_get "$C" $fd .origin.how)" dup
		assert_equal "$(fd_get "$C" $fd .origin.call)" login_tty
	done
	assert_shared "$C" 0 "$C" 2
	assert_not_shared "$C" 0 "$P" "$M"
}

@test "python os.set_inheritable (ioctl FIONCLEX) makes a descriptor inheritable on purpose: no leak is claimed" {
	traced python3 -c 'import os; fd=os.open("/etc/hostname", 0); os.set_inheritable(fd, True); print(fd); os.execvp("true", ["true"])'
	assert_success
	assert_invariants
	FD=$output
	P=$(root_pid)
	q_true '[.findings[] | select(.kind == "leaked-across-exec")] == []'
	# inheritable: kept across the exec into true
	assert_equal "$(fd_get "$P" "$FD" .origin.how)" exec
}

@test "python multiprocessing: a Process started after a Pool ended holds the Pool's pipe, whose writers had ended before it was forked: no pipe-end-held" {
	cat >"$BATS_TEST_TMPDIR/mp.py" <<-'PY'
	import multiprocessing as mp
	def sq(x): return x * x
	def child(): pass
	if __name__ == "__main__":
	    mp.set_start_method("fork")
	    with mp.Pool(2) as pool:
	        print(sum(pool.map(sq, range(10))))
	    p = mp.Process(target=child)
	    p.start()
	    p.join()
	PY
	kcmptrace_run python3 "$BATS_TEST_TMPDIR/mp.py"
	assert_success
	assert_output 285
	q_true '[.findings[] | select(.kind == "pipe-end-held")] == []'
}
