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

# ask_watch DIR: from outside the traced tree, plant a table that says this
# process execs an untraced image (what a traced process's shim writes) and
# ask the launcher on DIR/watch.sock to attach; print its answer and our
# TracerPid afterwards.
ask_watch() {
	python3 - "$1" <<'PY'
import glob, os, socket, struct, sys
d = sys.argv[1]
start = open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19]
table = bytearray(open(glob.glob(d + "/live/*.tbl")[0], "rb").read())
struct.pack_into("<i", table, 8, os.getpid())
struct.pack_into("<Q", table, 16, int(start))
struct.pack_into("<I", table, 28, 1)  # untraced
open("%s/live/%d-%s.tbl" % (d, os.getpid(), start), "wb").write(table)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(d + "/watch.sock")
s.send(struct.pack("ii", os.getpid(), 0))
answer = s.recv(1).decode()
tracer = [l.split()[1] for l in open("/proc/self/status") if l.startswith("TracerPid:")][0]
print("answer=%s tracer=%s" % (answer, tracer))
PY
}

@test "watch.sock: mode 0600 whatever the umask; a process outside the traced tree is never attached to" {
	((EUID == 0)) || grep -q 'CapEff:.*[1-9a-f]' /proc/self/status ||
		skip "the launcher watches static images only with CAP_SYS_PTRACE"
	D="$BATS_TEST_TMPDIR/trace"
	fifo="$BATS_TEST_TMPDIR/go"
	mkfifo "$fifo"
	(umask 000; exec 3>&-; exec "$KT" --trace-dir "$D" -o "$BATS_TEST_TMPDIR/r.txt" -- \
		sh -c 'read x <"$1"' sh "$fifo" >/dev/null 2>&1) &
	launcher=$!
	for _ in $(seq 100); do
		[[ -S $D/watch.sock ]] && compgen -G "$D/live/*.tbl" >/dev/null && break
		sleep 0.1
	done
	[[ -S $D/watch.sock ]] || fail "no watch.sock in $D"
	mode=$(stat -c %a "$D/watch.sock")
	run ask_watch "$D"
	echo go >"$fifo"
	wait "$launcher"
	assert_equal "$mode" 600
	assert_output "answer=n tracer=0"
}

# killed_run [SCRIPT]: a run whose launcher is killed with SIGKILL by its
# own command (sh -c 'SCRIPT kill -KILL $PPID'), leaving its temporary trace
# in $TMPDIR; prints that directory.
killed_run() {
	local before after
	before=$(ls -d "$TMPDIR"/kcmptrace.* 2>/dev/null || true)
	kcmptrace_no_fd3 "$KT" -o /dev/null -- sh -c "${1-} kill -KILL \$PPID" >/dev/null 2>&1 || true
	after=$(ls -d "$TMPDIR"/kcmptrace.* 2>/dev/null | grep -v -x -F "$before" || true)
	[[ -d $after ]] || fail "the killed run left no single new trace in $TMPDIR: $after"
	printf '%s\n' "$after"
}

@test "stale temporary traces of killed runs are removed by the next run, and only those" {
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir "$TMPDIR"
	stale=$(killed_run)
	touch -d '2 minutes ago' "$stale"
	run --separate-stderr kcmptrace_no_fd3 "$KT" -o /dev/null -- true
	assert_success
	[[ ! -e $stale ]] || fail "the stale trace $stale stayed: $(ls -A "$stale")"
	[[ -z $(ls -A "$TMPDIR") ]] || fail "left in TMPDIR: $(ls -A "$TMPDIR")"

	# too recent: another run may be about to use it
	recent=$(killed_run)
	# a foreign file inside: not provably ours, the directory stays whole
	foreign=$(killed_run)
	echo mine >"$foreign/notes.txt"
	# kept on purpose
	kept=$(killed_run)
	: >"$kept/kept"
	touch -d '2 minutes ago' "$foreign" "$kept"
	# a process of the trace still runs
	running=$(killed_run 'sleep 29.71 &') # a duration no other test uses
	touch -d '2 minutes ago' "$running"
	run --separate-stderr kcmptrace_no_fd3 "$KT" -o /dev/null -- true
	assert_success
	# (not pkill: procps hangs with a sanitizer runtime preloaded)
	kill $(pids_running "sleep 29.71") 2>/dev/null || true
	for d in "$recent" "$foreign" "$kept" "$running"; do
		compgen -G "$d/*.rec" >/dev/null || fail "$d lost its records (recent=$recent foreign=$foreign kept=$kept running=$running): $(ls -A "$d" 2>&1)"
	done
	assert_equal "$(cat "$foreign/notes.txt")" mine
}

@test "a thread that dup2()s over the low numbers while others fork and exit never reaches the shim's own files" {
	F="$BATS_TEST_TMPDIR/app-file"
	# under TSan each fork costs about a second: fewer of them
	local forks=300
	[[ ${KCMPTRACE_SANITIZER_RUN:-} != thread ]] || forks=30
	printf hello >"$F"
	traced "$SCEN/dup2_race" "$F" "$forks"
	assert_success
	assert_output "forks=$forks file=hello"
	assert_equal "$stderr" ""
	assert_equal "$(stat -c %s "$F")" 5
	assert_invariants
	printf hello >"$F"
	preloaded "$SCEN/dup2_race" "$F" "$forks"
	assert_success
	assert_output "forks=$forks file=hello"
	assert_equal "$(stat -c %s "$F")" 5
}

# in_tiny_tmpfs SIZE CMD...: run CMD in a private mount namespace where $M
# (made here) is a tmpfs of SIZE; the namespace and its mount go with it.
in_tiny_tmpfs() {
	((EUID == 0)) || skip "needs root to mount a tmpfs"
	command -v unshare >/dev/null || skip "needs unshare"
	M="$BATS_TEST_TMPDIR/tiny"
	mkdir -p "$M"
	local size=$1
	shift
	run --separate-stderr kcmptrace_no_fd3 unshare -m sh -c \
		'mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$2" || exit 99; shift 2; exec "$@"' \
		sh "$size" "$M" "$@"
	((status != 99)) || skip "cannot mount a tmpfs here"
}

@test "a tmpfs the program fills itself: it runs and exits as untraced, one warning, the report marks the loss" {
	cat >"$BATS_TEST_TMPDIR/fill.sh" <<'SH'
cat /dev/zero >"$1/fill" 2>/dev/null
cat /etc/hostname
(echo subshell; exit 0)
/bin/true && echo true ran
exit 3
SH
	in_tiny_tmpfs 2m sh "$BATS_TEST_TMPDIR/fill.sh" "$BATS_TEST_TMPDIR/tiny"
	assert_equal "$status" 3
	untraced=$output
	assert_equal "$stderr" ""
	R="$BATS_TEST_TMPDIR/r.json"
	# the trace directory is on the tiny tmpfs (TMPDIR), the report outside
	in_tiny_tmpfs 2m env TMPDIR="$BATS_TEST_TMPDIR/tiny" "$KT" --format=json -o "$R" -- \
		sh "$BATS_TEST_TMPDIR/fill.sh" "$BATS_TEST_TMPDIR/tiny"
	assert_equal "$status" 3
	assert_equal "$output" "$untraced"
	assert_equal "${#stderr_lines[@]}" 1
	[[ ${stderr_lines[0]} == "kcmptrace: "*" not fully recorded, writing the trace failed: No space left on device (ENOSPC): "*"; the report marks them" ]] ||
		fail "unexpected stderr: $stderr"
	assert_invariants
	q_true '[.processes[] | select(.unrecorded != null) | .unrecorded[] | select(.errno == "ENOSPC")] | length >= 1'
	# the command itself is there, with its exit status
	assert_equal "$(q '.processes[] | select(.pid == ($root | tonumber)) | .end.status' --arg root "$(root_pid)")" 3
}

@test "ulimit -v: memory that fits the program untraced fits it traced" {
	# ASan and TSan reserve terabytes of shadow address space: no ulimit -v fits them
	[[ -z ${KCMPTRACE_SANITIZER_RUN:-} ]] || skip "a sanitizer runtime needs unlimited address space"
	run -0 kcmptrace_no_fd3 bash -c 'ulimit -v 400000; exec "$1" 250' sh "$SCEN/alloc"
	assert_equal "$(kv alloc)" ok
	untraced_vm=$(kv vm_kb)
	traced bash -c 'ulimit -v 400000; exec "$1" 250' sh "$SCEN/alloc"
	assert_success
	assert_equal "$(kv alloc)" ok
	assert_equal "$stderr" ""
	assert_invariants
	# the shim's share of the address space: its table, a few pages
	traced_vm=$(kv vm_kb)
	((traced_vm - untraced_vm < 4096)) || fail "VmSize ${traced_vm} kB traced vs ${untraced_vm} kB"
}

@test "ulimit -f: the trace's files never exceed it (no SIGXFSZ); the program runs as untraced, one warning" {
	script='ulimit -f 8; echo hi; /bin/true; echo "true: $?"; (exit 4)'
	run kcmptrace_no_fd3 bash -c "$script"
	assert_equal "$status" 4
	untraced=$output
	traced bash -c "$script"
	assert_equal "$status" 4
	assert_equal "$output" "$untraced"
	assert_equal "${#stderr_lines[@]}" 1
	[[ ${stderr_lines[0]} == *"not fully recorded, writing the trace failed: File too large (EFBIG)"* ]] ||
		fail "unexpected stderr: $stderr"
	assert_invariants
	q_true '[.processes[] | select(.unrecorded != null) | .unrecorded[] | select(.errno == "EFBIG")] | length >= 1'
}

@test "a hard RLIMIT_NOFILE of 2^30: the shim's address space stays small" {
	((EUID == 0)) || skip "needs root to raise fs.nr_open"
	nr_open=$(cat /proc/sys/fs/nr_open)
	if ((nr_open < 1073741824)); then
		echo 1073741824 >/proc/sys/fs/nr_open || skip "cannot raise fs.nr_open"
	fi
	if ! bash -c 'ulimit -Hn 1073741824' 2>/dev/null; then
		echo "$nr_open" >/proc/sys/fs/nr_open
		skip "cannot raise the hard RLIMIT_NOFILE (needs CAP_SYS_RESOURCE)"
	fi
	script='ulimit -Hn 1073741824 && exec "$1"'
	run kcmptrace_no_fd3 bash -c "$script" sh "$SCEN/alloc"
	untraced_status=$status untraced_vm=$(kv vm_kb 2>/dev/null || echo 0)
	traced bash -c "$script" sh "$SCEN/alloc"
	traced_status=$status traced_output=$output traced_stderr=$stderr
	echo "$nr_open" >/proc/sys/fs/nr_open
	assert_equal "$untraced_status" 0
	assert_equal "$traced_status" 0
	assert_equal "$traced_stderr" ""
	traced_vm=$(kv vm_kb "$traced_output")
	((traced_vm - untraced_vm < 4096)) || fail "VmSize ${traced_vm} kB traced vs ${untraced_vm} kB"
	assert_invariants
}

@test "threads that dup2 onto ever higher numbers while others close: the table grows under them" {
	run -0 kcmptrace_no_fd3 "$SCEN/table_grow"
	untraced=$output
	traced "$SCEN/table_grow"
	assert_success
	assert_output "$untraced"
	assert_equal "$stderr" ""
	assert_invariants
	P=$(root_pid)
	C=$(only_child "$P")
	kept=$(kv kept "${lines[0]}")
	for fd in ${kept//,/ }; do
		assert_equal "$(fd_get "$P" "$fd" .origin.call)" dup2
		assert_equal "$(fd_get "$P" "$fd" '.origin.fd | type')" number
		assert_equal "$(fd_get "$C" "$fd" .origin.how)" inherited
		assert_shared "$P" "$fd" "$C" "$fd"
	done
}

@test "a table that cannot grow (ulimit -f): the program runs on, the report marks the loss, the descriptor is still listed" {
	# 40 kB: room for a first table (64 entries), not for one up to fd 299
	traced bash -c 'ulimit -f 40; exec "$1" 300' sh "$SCEN/big_fd"
	assert_success
	assert_equal "$(kv big_fd)" 299
	assert_equal "${#stderr_lines[@]}" 1
	[[ ${stderr_lines[0]} == *"not fully recorded, writing the trace failed: File too large (EFBIG)"* ]] ||
		fail "unexpected stderr: $stderr"
	assert_invariants
	P=$(root_pid)
	assert_equal "$(q '.processes[] | select(.pid == $p) | [.unrecorded[] | .what] | join(",")' --argjson p "$P")" table
	assert_equal "$(fd_get "$P" 299 .origin.how)" unknown
}

@test "-o FILE and a launcher killed with SIGKILL: FILE is left as it was (or absent), never emptied; a run that ends replaces it whole" {
	local F="$BATS_TEST_TMPDIR/out/report.txt" ready="$BATS_TEST_TMPDIR/ready"
	export TMPDIR="$BATS_TEST_TMPDIR/tmp" # the killed launchers' traces
	mkdir "$TMPDIR" "$BATS_TEST_TMPDIR/out"
	echo "the previous report" >"$F"
	chmod 640 "$F"
	# a traced command that would hang for a while (a duration no other test uses)
	"$KT" -o "$F" -- sh -c ': >"$1"; exec sleep 29.37' sh "$ready" >/dev/null 2>&1 3>&- &
	local launcher=$!
	for _ in $(seq 100); do [[ -e $ready ]] && break; sleep 0.1; done
	[[ -e $ready ]] || fail "the traced command did not start"
	kill -KILL "$launcher"
	wait "$launcher" || true
	# the tree the launcher left (not pkill: procps hangs with a sanitizer runtime preloaded)
	kill -KILL $(pids_running "sleep 29.37") 2>/dev/null || true
	assert_equal "$(cat "$F")" "the previous report"
	# nothing else left next to it
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/out")" report.txt

	# no file before: none after
	run kcmptrace_no_fd3 "$KT" -o "$BATS_TEST_TMPDIR/out/new.txt" -- sh -c 'kill -KILL $PPID'
	assert_equal "$status" 137
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/out")" report.txt

	# a run that ends: the whole report, in the file's mode
	run -0 --separate-stderr kcmptrace_no_fd3 "$KT" -o "$F" -- true
	assert_equal "$(head -1 "$F")" "kcmptrace: 1 process, 0 shared open file descriptions"
	assert_equal "$(stat -c %a "$F")" 640
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/out")" report.txt
	# a file that cannot be written is still refused before the command runs
	run --separate-stderr kcmptrace_no_fd3 "$KT" -o "$BATS_TEST_TMPDIR/none/r.txt" -- echo ran
	assert_failure
	assert_output ""
	assert_regex "$stderr" "cannot write report to .*/none/r.txt: No such file or directory"
}
