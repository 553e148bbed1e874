#!/usr/bin/env bats
# Findings on real programs that contain each bug, and none on clean ones;
# the --error-exitcode gate, suppressions and the dot picture. Written with
# the bats library kcmptrace ships (report/bats/kcmptrace.bash).

setup() {
	load helpers
	DATA=$(make_data_file)
}

# check_finding_json: the finding fields of the contract, on every finding.
# The start of a python program whose child a holds a pipe's read end r
# (and w) until the parent writes to go_w: the holder the shared-status
# tests name or leave out.
HOLDER_A='import os, sys, fcntl
r, w = os.pipe()
go_r, go_w = os.pipe()
a = os.fork()
if a == 0:
    os.close(go_w)
    os.read(go_r, 1)
    os._exit(0)'

# After a HOLDER_A program that printed fd, a and b: b holds the
# description too, and the one shared-status-flags finding names a only.
only_a_named() {
	assert_success
	check_findings_contract
	FD=$(kv fd)
	A=$(kv a)
	B=$(kv b)
	P=$(root_pid)
	assert_shared "$P" "$FD" "$B" "$FD"
	assert_finding shared-status-flags "$P" "$FD"
	[[ $(kcmptrace_query '[.findings[] | select(.kind == "shared-status-flags")] | length') == 1 ]] ||
		fail "$(kcmptrace_findings)"
	msg=$(kcmptrace_query '.findings[] | select(.kind == "shared-status-flags") | .message')
	[[ $msg == *"also held by $A (python3) fd $FD" ]] || fail "message: $msg"
	q_true '[.findings[] | select(.kind == "shared-status-flags") | .related] == [['"$A"']]'
}

check_findings_contract() {
	assert_invariants "$KCMPTRACE_JSON"
	local bad
	bad=$(kcmptrace_query '.findings[] | select(
		(.kind | IN("leaked-across-exec","pipe-end-held","shared-status-flags","shared-lock","bad-close","bad-use","close-unopened","stdio-buffer-duplicated","open-at-exit") | not)
		or (.severity | IN("error","warning","info") | not)
		or (.pid | type) != "number" or ((.fd | type) != "number" and .fd != null)
		or ((.ofd | type) != "number" and .ofd != null) or (.message | type) != "string"
		or (.explanation | type) != "string") | tojson')
	[[ -z $bad ]] || fail "findings break the contract: $bad"
	kcmptrace_query '.suppressed | type == "number"' | grep -qx true || fail "no suppressed count"
}

@test "leaky_server: the listening socket leaked across exec, named with its call site; the reader keeps the pipe's write end" {
	kcmptrace_run "$SCEN/leaky_server"
	assert_success
	check_findings_contract
	L=$(kv listen_fd)
	PW=$(kv pipe_write_fd)
	S=$(kcmptrace_pid 'leaky_server#1')
	H=$(kcmptrace_pid 'leaky_server#2')
	assert_shared "$S" "$L" "$H" "$L"
	assert_finding leaked-across-exec "$H" "$L"
	assert_finding pipe-end-held "$S" "$PW"
	msg=$(kcmptrace_query '.findings[] | select(.kind == "leaked-across-exec") | .explanation')
	[[ $msg == *"opened by $S (leaky_server) as fd $L with socket at main+0x"*"(leaky_server.c:"*") without SOCK_CLOEXEC, inherited by $H (leaky_server) across fork, kept across exec of "*leaky_server* ]] ||
		fail "explanation: $msg"
	kcmptrace_query '.findings[] | select(.kind == "leaked-across-exec") | .severity' | grep -qx warning
	kcmptrace_query '.findings[] | select(.kind == "pipe-end-held") | .severity' | grep -qx error
	# the site has file and line from the debug information
	q_true_on() { jq -e "$1" "$KCMPTRACE_JSON" >/dev/null || fail "not true: $1"; }
	q_true_on "[.processes[] | select(.pid == $S) | .fds[] | select(.fd == $L) | .origin | (.file | endswith(\"leaky_server.c\")) and .line > 0] == [true]"
	# fd 1, dup2'd there on purpose, is not a finding; only fd $L crossed
	run assert_no_fd_crossed_exec "$H"
	assert_failure
	assert_output --partial "fd $L (socket"
	refute_output --partial "fd 1 "
}

@test "reader_keeps_write_end: pipe-end-held on the reader, not on the writer; clean when fixed" {
	kcmptrace_run "$SCEN/reader_keeps_write_end"
	assert_success
	assert_output --partial "reader_said=hello"
	check_findings_contract
	W=$(kv write_fd)
	RD=$(kcmptrace_pid 'reader_keeps_write_end#3')
	assert_finding pipe-end-held "$RD" "$W"
	[[ $(kcmptrace_query '[.findings[]] | length') == 1 ]] || fail "$(kcmptrace_findings)"

	kcmptrace_run "$SCEN/reader_keeps_write_end" --fixed
	assert_success
	assert_no_findings
}

@test "child_nonblock: O_NONBLOCK set by a child on an inherited pipe end is a shared-status-flags finding" {
	kcmptrace_run "$SCEN/child_nonblock"
	assert_success
	assert_output --partial "parent_sees_nonblock=1"
	check_findings_contract
	FD=$(kv pipe_read_fd)
	P=$(kcmptrace_pid 'child_nonblock#1')
	C=$(kcmptrace_pid 'child_nonblock#2')
	assert_shared "$P" "$FD" "$C" "$FD"
	assert_finding shared-status-flags "$C" "$FD"
	msg=$(kcmptrace_query '.findings[0].message')
	[[ $msg == *"set O_NONBLOCK"*"also held by $P (child_nonblock) fd $FD"* ]] || fail "message: $msg"
	[[ $(kcmptrace_query '.findings | length') == 1 ]] || fail "$(kcmptrace_findings)"
}

@test "shared-status-flags names only the processes that held the description at the F_SETFL, not those forked after it" {
	# child a holds the read end while the parent sets O_NONBLOCK; child b
	# is forked after that and got the flag with its copy: nothing changed
	# under b
	kcmptrace_run python3 -c "$HOLDER_A"'
fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_NONBLOCK)
b = os.fork()
if b == 0:
    os._exit(0)
os.waitpid(b, 0)
os.write(go_w, b"x")
os.waitpid(a, 0)
print("fd=%d a=%d b=%d" % (r, a, b))'
	only_a_named
}

@test "shared-status-flags does not name processes that had ended before the F_SETFL" {
	# c ends by _exit, d by exit() (its real end is timed too), both reaped
	# before the parent sets O_NONBLOCK; a still holds the read end then
	kcmptrace_run python3 -c "$HOLDER_A"'
c = os.fork()
if c == 0:
    os._exit(0)
d = os.fork()
if d == 0:
    sys.exit(0)
os.waitpid(c, 0)
os.waitpid(d, 0)
fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_NONBLOCK)
os.write(go_w, b"x")
os.waitpid(a, 0)
print("fd=%d a=%d c=%d d=%d" % (r, a, c, d))'
	assert_success
	check_findings_contract
	FD=$(kv fd)
	A=$(kv a)
	C=$(kv c)
	D=$(kv d)
	P=$(root_pid)
	# they did hold it, to their ends
	assert_shared "$P" "$FD" "$C" "$FD"
	assert_shared "$P" "$FD" "$D" "$FD"
	assert_finding shared-status-flags "$P" "$FD"
	msg=$(kcmptrace_query '.findings[] | select(.kind == "shared-status-flags") | .message')
	[[ $msg == *"also held by $A (python3) fd $FD" ]] || fail "message: $msg"
	q_true '[.findings[] | select(.kind == "shared-status-flags") | .related] == [['"$A"']]'
}

@test "shared-status-flags names a process whose exit handler still runs at the F_SETFL" {
	# the child's exit snapshot comes before the call, its real end after
	# it; its handler changes no descriptor ("end-fds same" with a time)
	kcmptrace_run "$SCEN/exit_handler_holds"
	assert_success
	check_findings_contract
	FD=$(kv fd)
	C=$(kv child)
	P=$(root_pid)
	assert_shared "$P" "$FD" "$C" "$FD"
	assert_finding shared-status-flags "$P" "$FD"
	q_true '[.findings[] | select(.kind == "shared-status-flags") | .related] == [['"$C"']]'
}

@test "shared-status-flags does not name a process posix_spawn started after the F_SETFL" {
	# make spawns its jobs with posix_spawn after setting O_APPEND on its
	# stdout: they got the flag with their copy
	kcmptrace_run python3 -c "$HOLDER_A"'
fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_NONBLOCK)
os.set_inheritable(r, True)
b = os.posix_spawn("/bin/true", ["true"], os.environ)
os.waitpid(b, 0)
os.write(go_w, b"x")
os.waitpid(a, 0)
print("fd=%d a=%d b=%d" % (r, a, b))'
	only_a_named
}

@test "child_flock: a lock on an inherited description is a shared-lock finding" {
	kcmptrace_run "$SCEN/child_flock" "$DATA"
	assert_success
	assert_output --partial "lock_still_held=1"
	check_findings_contract
	FD=$(kv file_fd)
	C=$(kcmptrace_pid 'child_flock#2')
	assert_finding shared-lock "$C" "$FD"
	[[ $(kcmptrace_query '.findings[0].message') == *"flock(LOCK_EX)"* ]]
	[[ $(kcmptrace_query '.findings | length') == 1 ]] || fail "$(kcmptrace_findings)"
}

@test "double_close: the second close is a bad-close error with its call site" {
	kcmptrace_run "$SCEN/double_close" "$DATA"
	assert_success
	assert_output --partial "second_close=EBADF"
	check_findings_contract
	FD=$(kv fd)
	assert_finding bad-close double_close "$FD"
	msg=$(kcmptrace_query '.findings[0].message')
	[[ $msg == *"close($FD) at main+0x"*"(double_close.c:"*"double close"* ]] || fail "message: $msg"
	[[ $(kcmptrace_query '.findings[0].ofd') == null ]]
}

@test "a close-everything sweep is one close-unopened info, not bad-close errors; a bad close before fork is told once" {
	# perl's sweep also closes 3..6, which it opened and closed at start-up
	kcmptrace_run perl -MPOSIX -e 'POSIX::close($_) for 3..1023'
	assert_success
	check_findings_contract
	assert_no_findings bad-close
	[[ $(kcmptrace_query '[.findings[] | select(.kind == "close-unopened")] | length') == 1 ]] ||
		fail "$(kcmptrace_findings)"
	kcmptrace_query '.findings[] | select(.kind == "close-unopened") | .severity' | grep -qx info
	kcmptrace_query '.findings[] | select(.kind == "close-unopened") | .message' |
		grep -q 'closed [0-9]* numbers from fd [0-9]* to 1023 that were never open' ||
		fail "$(kcmptrace_findings)"
	[[ $(kcmptrace_query '[.processes[].notes[]] | length') == 0 ]] || fail "notes: $(kcmptrace_query '[.processes[].notes[]]')"

	# one double close, then three forks: the children did not close anything
	kcmptrace_run python3 -c '
import os
fd = os.open("/etc/hostname", os.O_RDONLY)
os.close(fd)
try:
    os.close(fd)
except OSError:
    pass
for i in range(3):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)'
	assert_success
	[[ $(kcmptrace_query '[.findings[] | select(.kind == "bad-close")] | length') == 1 ]] ||
		fail "$(kcmptrace_findings)"
	assert_finding bad-close "python3#1"
}

@test "setfd_exec: a descriptor made inheritable with F_SETFD is handed over on purpose, one opened without O_CLOEXEC leaks" {
	kcmptrace_run "$SCEN/setfd_exec" "$DATA"
	assert_success
	check_findings_contract
	C=$(kv child)
	assert_finding leaked-across-exec "$C" "$(kv leaked_fd)"
	n=$(kcmptrace_query "[.findings[] | select(.fd == $(kv passed_fd))] | length")
	assert_equal "$n" 0
	assert_equal "$(kcmptrace_query '.findings | length')" 1
}

@test "fd_passing: a received descriptor is the receiver's: its leak across exec, and a description the sender handed over" {
	need_kcmp
	# The child receives a pipe's write end (made O_CLOEXEC by the parent)
	# without MSG_CMSG_CLOEXEC and execs: its own leak, a warning, with
	# recvmsg as the call that made it inheritable.
	kcmptrace_run "$SCEN/fd_passing" exec
	assert_success
	check_findings_contract
	C=$(kv child)
	F=$(kv recv_fd)
	assert_finding leaked-across-exec "$C" "$F"
	assert_equal "$(kcmptrace_query "[.findings[] | select(.pid == $C and .kind == \"pipe-end-held\")] | length")" 0
	msg=$(kcmptrace_query ".findings[] | select(.kind == \"leaked-across-exec\") | .explanation")
	[[ $msg == *"with pipe2 at "*", received by $C "*"with recvmsg at "*" without O_CLOEXEC, kept across exec of "* ]] ||
		fail "explanation: $msg"
	# The parent's dup2 onto that number does not place it in the child.
	kcmptrace_run "$SCEN/fd_passing" exec-dup2
	assert_success
	assert_finding leaked-across-exec "$(kv child)" "$(kv recv_fd)"
	# Handed over (the sender closed its copy): a flag the receiver sets
	# affects nobody else.
	kcmptrace_run "$SCEN/fd_passing" handover "$DATA"
	assert_success
	assert_no_findings
}

@test "socketpair_keep: a parent that keeps the child's end of a socketpair is a pipe-end-held error; clean when fixed" {
	kcmptrace_run "$SCEN/socketpair_keep"
	assert_success
	check_findings_contract
	assert_equal "$(kv eof)" 0
	P=$(kcmptrace_query '.processes[0].pid')
	assert_finding pipe-end-held "$P" "$(kv child_end)"
	assert_equal "$(kcmptrace_query '.findings | length')" 1
	kcmptrace_run "$SCEN/socketpair_keep" --fixed
	assert_success
	assert_equal "$(kv eof)" 1
	assert_no_findings
}

@test "clean programs have no findings: kcmp_manpage, bash pipelines, exit_orders" {
	kcmptrace_run "$SCEN/kcmp_manpage" "$DATA"
	assert_success
	check_findings_contract
	assert_no_findings
	assert_no_fd_crossed_exec

	kcmptrace_run bash -c 'echo hi | cat'
	assert_success
	assert_output hi
	check_findings_contract
	assert_no_findings

	kcmptrace_run bash -c 'echo hi | while read -r l; do echo "got $l"; done'
	assert_success
	assert_no_findings

	for order in a-b b-a; do
		kcmptrace_run "$SCEN/exit_orders" "$order" "$DATA"
		assert_success
		assert_no_findings
		P=$(kcmptrace_pid 'exit_orders#1')
		assert_shared "$P" "$(kv pipe_read_fd)" 'exit_orders#2' "$(kv pipe_read_fd)"
		assert_not_shared "$P" "$(kv pipe_read_fd)" "$P" "$(kv pipe_write_fd)"
	done
}

@test "--leaks: open-at-exit findings (info) only when asked for; KCMPTRACE_LEAKS=1 does the same" {
	kcmptrace_run "$SCEN/exit_orders" a-b "$DATA"
	assert_no_findings
	kcmptrace_run --leaks -- "$SCEN/exit_orders" a-b "$DATA"
	assert_success
	check_findings_contract
	P=$(kcmptrace_pid 'exit_orders#1')
	assert_finding open-at-exit "$P" "$(kv file_fd)"
	[[ $(kcmptrace_query '[.findings[].severity] | unique | join(",")') == info ]]
	# stdio and descriptors from outside the trace are never findings
	[[ $(kcmptrace_query '[.findings[] | select(.fd <= 2)] | length') == 0 ]]

	R="$BATS_TEST_TMPDIR/leaks.json"
	run --separate-stderr kcmptrace_no_fd3 env KCMPTRACE_LEAKS=1 "$KT" --format=json -o "$R" -- "$SCEN/exit_orders" a-b "$DATA"
	assert_success
	q_true '[.findings[] | select(.kind == "open-at-exit")] | length > 0'
}

@test "--error-exitcode: N for a buggy program, the command's status for a clean one" {
	run kcmptrace_no_fd3 "$KT" --error-exitcode=42 -o /dev/null -- "$SCEN/double_close" "$DATA"
	assert_equal "$status" 42
	run kcmptrace_no_fd3 "$KT" --error-exitcode=42 -o /dev/null -- "$SCEN/leaky_server"
	assert_equal "$status" 42
	run kcmptrace_no_fd3 "$KT" --error-exitcode=42 -o /dev/null -- bash -c 'echo hi | cat; exit 3'
	assert_equal "$status" 3
	run kcmptrace_no_fd3 "$KT" --error-exitcode=42 -o /dev/null -- "$SCEN/kcmp_manpage" "$DATA"
	assert_equal "$status" 0
	# info findings gate only with --leaks, which is what makes them
	run kcmptrace_no_fd3 "$KT" --error-exitcode=42 --leaks -o /dev/null -- "$SCEN/exit_orders" a-b "$DATA"
	assert_equal "$status" 42
	# the report subcommand gates too
	D="$BATS_TEST_TMPDIR/trace"
	run kcmptrace_no_fd3 "$KT" --trace-dir "$D" -o /dev/null -- "$SCEN/double_close" "$DATA"
	assert_success
	run kcmptrace_no_fd3 "$KT" report --error-exitcode=7 -o /dev/null "$D"
	assert_equal "$status" 7
	run kcmptrace_no_fd3 "$KT" report -o /dev/null "$D"
	assert_success
}

@test "--suppressions: a matching rule silences a finding and counts it; bad files are one-line errors (exit 2)" {
	S="$BATS_TEST_TMPDIR/supp"
	printf '%s\n' '# the helper may have it' 'kind=leaked-across-exec program=leaky_* target=socket:*  # intended' >"$S"
	kcmptrace_run --suppressions="$S" -- "$SCEN/leaky_server"
	assert_success
	assert_no_findings leaked-across-exec
	assert_finding pipe-end-held
	[[ $(kcmptrace_query .suppressed) == 1 ]]
	printf 'kind=pipe-end-held\n' >"$S.2"
	kcmptrace_run --error-exitcode=9 --suppressions="$S" --suppressions "$S.2" -- "$SCEN/leaky_server"
	assert_success # everything suppressed: the gate stays open
	assert_no_findings
	[[ $(kcmptrace_query .suppressed) == 2 ]]
	# the text report says how many were suppressed
	run kcmptrace_no_fd3 "$KT" --suppressions="$S" -- "$SCEN/leaky_server"
	assert_output --partial "Findings: 1 in 1 context (1 error; 1 suppressed)"

	printf 'kind=leaked-across-exec\nprogramme=x\n' >"$S.bad"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --suppressions="$S.bad" -- true
	assert_equal "$status" 2
	assert_equal "$stderr" "kcmptrace: $S.bad:2: unknown key 'programme' (kind, program, target, made or frame)"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --suppressions="$S.missing" -- true
	assert_equal "$status" 2
	[[ $stderr == "kcmptrace: cannot read suppressions $S.missing: "* ]]
	[[ $(wc -l <<<"$stderr") == 1 ]]
}

@test "--suppressions frame=GLOB: matches the creating call's function or one of its callers, recorded without --stack; the text still shows one frame" {
	S="$BATS_TEST_TMPDIR/supp"
	local prog=("$SCEN/leak_in_helper" /etc/hostname)
	kcmptrace_run -- "${prog[@]}"
	assert_finding leaked-across-exec
	# the site's own function, a caller two frames up, and main
	for frame in open_no_cloexec 'log_open_*' main; do
		printf 'kind=leaked-across-exec frame=%s\n' "$frame" >"$S"
		kcmptrace_run --suppressions="$S" -- "${prog[@]}"
		assert_no_findings leaked-across-exec
		[[ $(kcmptrace_query .suppressed) == 1 ]] || fail "frame=$frame: $(kcmptrace_findings)"
	done
	# a function that is not on the stack, or a frame rule with another kind
	for rule in 'frame=server_*' 'frame=open_no_cloexec kind=bad-close'; do
		printf '%s\n' "$rule" >"$S"
		kcmptrace_run --suppressions="$S" -- "${prog[@]}"
		assert_finding leaked-across-exec
		[[ $(kcmptrace_query .suppressed) == 0 ]] || fail "$rule suppressed"
	done
	# callers recorded for the rules, shown only as --stack says (default: the site)
	printf 'frame=server_*\n' >"$S"
	run kcmptrace_no_fd3 "$KT" --suppressions="$S" -- "${prog[@]}"
	assert_output --partial "origin: open in leak_in_helper at open_no_cloexec+"
	refute_output --partial "< log_open_for_children"
	# kcmptrace report on a kept trace applies frame rules as well
	printf 'frame=log_open_*\n' >"$S"
	run kcmptrace_no_fd3 "$KT" --trace-dir "$BATS_TEST_TMPDIR/t" --suppressions="$S" -o "$BATS_TEST_TMPDIR/a.txt" -- "${prog[@]}"
	assert_success
	run kcmptrace_no_fd3 "$KT" report --suppressions="$S" --format=json -o "$R" "$BATS_TEST_TMPDIR/t"
	assert_success
	[[ $(kcmptrace_query .suppressed) == 1 ]]
}

@test "--format=dot: a graph of the tree, shared descriptions and findings in red" {
	run --separate-stderr kcmptrace_no_fd3 "$KT" --format=dot -o "$BATS_TEST_TMPDIR/g.dot" -- "$SCEN/leaky_server"
	assert_success
	G="$BATS_TEST_TMPDIR/g.dot"
	head -n1 "$G" | grep -qx 'digraph kcmptrace {'
	tail -n1 "$G" | grep -qx '}'
	grep -qE '^  p0 -> p1 \[' "$G"                   # parent -> child
	grep -qE '^  o[0-9]+ \[shape=ellipse, color=red' "$G" # the leaked socket
	grep -qE 'label="fd [0-9]+", color=red' "$G"
	# braces and quotes balance
	[[ $(tr -cd '{' <"$G" | wc -c) == $(tr -cd '}' <"$G" | wc -c) ]]
	[[ $(( $(tr -cd '"' <"$G" | wc -c) % 2 )) == 0 ]]
	if command -v dot >/dev/null; then
		# graphviz checks our output; it is not under test (nor under a
		# sanitizer run's preloaded runtime: TSan flags glib's own threads)
		LD_PRELOAD= dot -Tsvg "$G" >"$BATS_TEST_TMPDIR/g.svg"
		grep -q '<svg' "$BATS_TEST_TMPDIR/g.svg"
	fi
}

@test "the text report explains each finding in a paragraph within 100 columns" {
	run --separate-stderr kcmptrace_no_fd3 "$KT" -- "$SCEN/leaky_server"
	assert_success
	[[ $stderr == *"Findings"*"error pipe-end-held"*"warning leaked-across-exec"* ]] || fail "$stderr"
	# words, wherever the paragraph wraps
	[[ $(tr -s ' \n' '  ' <<<"$stderr") == *"without SOCK_CLOEXEC"* ]] || fail "$stderr"
	while IFS= read -r line; do
		(( ${#line} <= 100 )) || fail "line longer than 100 columns: $line"
	done <<<"$stderr"
}

@test "a descriptor named on the new program's command line (/dev/fd/N, /proc/self/fd/N) is passed on purpose, not leaked" {
	kcmptrace_run "$SCEN/exec_named" "$DATA" unnamed
	assert_success
	check_findings_contract
	assert_finding leaked-across-exec cat "$(kv fd)"
	for how in dev proc; do
		kcmptrace_run "$SCEN/exec_named" "$DATA" "$how"
		assert_success
		assert_line "some data"
		assert_no_findings leaked-across-exec
	done
}
