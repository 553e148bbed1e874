#!/usr/bin/env bats
# kcmptrace --leaks as a drop-in for valgrind --track-fds (issue 13): the
# facts valgrind's descriptor tests check, on scenario programs of our own
# (tests/scenarios/fd_checks.c) and real shells.

setup() {
	load helpers
	DATA=$(make_data_file)
}

# open_at_exit PID: the fds of PID's open-at-exit findings, sorted, on one line.
open_at_exit() {
	kcmptrace_query "[.findings[] | select(.kind == \"open-at-exit\" and .pid == $1) | .fd] | sort | map(tostring) | join(\" \")"
}

@test "copies of inherited descriptors made in the trace are open at exit: exec 7>&1, dup(2), dup2(1, 20)" {
	kcmptrace_run --leaks -- bash -c 'exec 7>&1; true'
	assert_success
	assert_invariants "$KCMPTRACE_JSON"
	B=$(kcmptrace_pid bash)
	assert_equal "$(open_at_exit "$B")" 7
	f='.findings[] | select(.kind == "open-at-exit")'
	assert_equal "$(kcmptrace_query "$f | .origin.call")" dup2
	assert_equal "$(kcmptrace_query "$f | .origin.program")" bash

	kcmptrace_run --leaks -- "$SCEN/fd_checks" copies
	assert_success
	D=$(kv dup_fd)
	P=$(kcmptrace_pid fd_checks)
	assert_equal "$(open_at_exit "$P")" "$(printf '%s\n' "$D" 20 | sort -n | paste -sd' ')"
	why=$(kcmptrace_query ".findings[] | select(.kind == \"open-at-exit\" and .fd == 20) | .explanation")
	[[ $why == *"from outside the trace, dup2 onto fd 20 at "*"(fd_checks.c:"* ]] || fail "explanation: $why"
	assert_equal "$(kcmptrace_query ".findings[] | select(.fd == $D) | .origin.call")" dup
	# the descriptors from outside themselves are not findings
	assert_equal "$(kcmptrace_query '[.findings[] | select(.fd <= 2)] | length')" 0
}

# calls_at_exit PID: the calls that made the descriptors of PID's
# open-at-exit findings, by fd (the descriptor's own call, as valgrind
# names it: a dup's is the dup, while the finding's origin is the open of
# its description).
calls_at_exit() {
	kcmptrace_query "[.findings[] | select(.kind == \"open-at-exit\" and .pid == $1) | .fd] as \$f |
		[.processes[] | select(.pid == $1) | .fds[] | select(.fd as \$d | \$f | index(\$d))] |
		sort_by(.fd) | map(.origin.call) | join(\" \")"
}

# fds_of [KEY]: KEY's comma-separated numbers in $output, space-separated.
fds_of() {
	kv "${1:-fds}" | tr , ' '
}

@test "leak_kinds: each leak valgrind's fdleak tests check is open-at-exit, fd for fd, with its creating call" {
	local mode calls
	for mode in open:open creat:creat dup:"open dup" dup2:"open dup2" fcntl:"open fcntl fcntl" \
		pipe:"pipe pipe" socketpair:"socketpair socketpair"; do
		calls=${mode#*:} mode=${mode%%:*}
		if [[ $mode == creat ]]; then
			kcmptrace_run --leaks -- "$SCEN/leak_kinds" creat "$BATS_TEST_TMPDIR"
		elif [[ $mode == pipe || $mode == socketpair ]]; then
			kcmptrace_run --leaks -- "$SCEN/leak_kinds" "$mode"
		else
			kcmptrace_run --leaks -- "$SCEN/leak_kinds" "$mode" "$DATA"
		fi
		assert_success
		P=$(kcmptrace_pid leak_kinds)
		assert_equal "$mode: $(open_at_exit "$P")" "$mode: $(fds_of)"
		assert_equal "$mode: $(calls_at_exit "$P")" "$mode: $calls"
	done

	# ipv4: the server's listener and accepted end; the client's inherited
	# listener and its connected socket, with the addresses both ways
	kcmptrace_run --leaks -- "$SCEN/leak_kinds" ipv4
	assert_success
	S=$(kcmptrace_pid 'leak_kinds#1')
	C=$(kcmptrace_pid 'leak_kinds#2')
	assert_equal "$(open_at_exit "$S")" "$(fds_of)"
	assert_equal "$(open_at_exit "$C")" "$(fds_of child_fds)"
	assert_equal "$(calls_at_exit "$S")" "socket accept"
	assert_equal "$(calls_at_exit "$C")" "fork socket" # the listener inherited
	port=$(kv port)
	read -r l a <<<"$(fds_of)"
	assert_equal "$(fd_get "$S" "$l" .address.local)" "127.0.0.1:$port"
	assert_equal "$(fd_get "$S" "$l" .address.listening)" true
	read -r _ c <<<"$(fds_of child_fds)"
	assert_equal "$(fd_get "$S" "$a" .address.peer)" "$(fd_get "$C" "$c" .address.local)"

	# across exec: the exec'd image holds the kept one (open at its exit, and
	# leaked across the exec), not the close-on-exec one; the parent both
	kcmptrace_run --leaks -- "$SCEN/leak_kinds" exec "$DATA"
	assert_success
	P=$(kcmptrace_pid 'leak_kinds#1')
	C=$(kcmptrace_pid 'leak_kinds#2')
	assert_equal "$(open_at_exit "$P")" "$(fds_of)"
	assert_equal "$(open_at_exit "$C")" "$(kv kept)"
	q_true "[.findings[] | select(.kind == \"leaked-across-exec\") | [.pid, .fd]] == [[$C, $(kv kept)]]"
}

# bad_close_field FIELD: FIELD of the one bad-close finding (fails otherwise).
bad_close_field() {
	kcmptrace_query "[.findings[] | select(.kind == \"bad-close\")] | if length == 1 then .[0]$1 else error(\"bad-close findings: \(length)\") end"
}

@test "a close() after a close the tracer did not see is told as such, not as a double close" {
	kcmptrace_run "$SCEN/fd_checks" raw_close "$DATA"
	assert_success
	assert_output --partial "second_close=EBADF"
	FD=$(kv fd)
	assert_finding bad-close fd_checks "$FD"
	msg=$(bad_close_field .message)
	[[ $msg == *"fd $FD was not open (closed behind the tracer's back"* ]] || fail "message: $msg"
	[[ $msg != *"double close"* ]] || fail "message: $msg"

	# a close through syscall(SYS_close) is seen: the later close() is a
	# double close, and the message names the syscall that closed it first
	kcmptrace_run "$SCEN/fd_checks" syscall_close "$DATA"
	assert_success
	msg=$(bad_close_field .message)
	[[ $msg == *"double close) by syscall(SYS_close) at by_syscall"*"(fd_checks.c:"* ]] || fail "message: $msg"
}

@test "a double close names the earlier close's site and the open's site" {
	kcmptrace_run "$SCEN/fd_checks" close_twice "$DATA"
	assert_success
	FD=$(kv fd)
	msg=$(bad_close_field .message)
	[[ $msg == *"close($FD) at closed_then_closed"*"fd $FD had already been closed (a double close) by close() at by_close"*"(fd_checks.c:"*"; it was opened at xopen"*"(scenario.h:"* ]] ||
		fail "message: $msg"
	why=$(bad_close_field .explanation)
	[[ $why == *"by close() at by_close"*"it was opened at xopen"* ]] || fail "explanation: $why"
}

@test "close_range over numbers already closed is a double close of each" {
	kcmptrace_run "$SCEN/fd_checks" range_twice "$DATA"
	assert_success
	A=$(kv first)
	Z=$(kv last)
	got=$(kcmptrace_query '[.findings[] | select(.kind == "bad-close") | .fd] | sort | map(tostring) | join(" ")')
	assert_equal "$got" "$(seq -s' ' "$A" "$Z")"
	kcmptrace_query '[.findings[] | select(.kind == "bad-close") | .origin.call] | unique == ["close_range"]' | grep -qx true
	msg=$(kcmptrace_query ".findings[] | select(.fd == $A) | .message")
	[[ $msg == *"close_range() at range_twice"*"closed fd $A again: it had already been closed (a double close) by close_range() at range_twice"* ]] ||
		fail "message: $msg"
	# a sweep to the limit over numbers closed before is no double close
	kcmptrace_run python3 -c '
import os
fds = [os.open("/dev/null", os.O_RDONLY) for i in range(3)]
for fd in fds:
    os.close(fd)
os.closerange(fds[0], 4096)'
	assert_success
	assert_no_findings bad-close
}

@test "python's subprocess closes all but the kept descriptors piece by piece (close_range up to each kept one): no double close" {
	# The child closes the parent's pipe ends, then close_range(3, keep - 1)
	# and close_range(keep + 1, ~0): the first piece passes over the numbers
	# it has just closed, as any sweep does.
	kcmptrace_run /usr/bin/python3 -c '
import subprocess
p = subprocess.Popen(["sort"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
print(p.communicate("b\na\n")[0].split())'
	assert_success
	assert_output "['a', 'b']"
	assert_invariants "$KCMPTRACE_JSON"
	assert_no_findings bad-close
}

@test "close() of invalid numbers: negative and above the limit are bad closes; close(-1) only with --report-close-minus-one" {
	kcmptrace_run "$SCEN/fd_checks" invalid
	assert_success
	assert_output --partial "minus_one=EBADF minus_seven=EBADF"
	ABOVE=$(kv above)
	assert_equal "$(kcmptrace_query '[.findings[] | select(.kind == "bad-close")] | length')" 2
	kcmptrace_query '.findings[] | select(.kind == "bad-close") | .message' | grep -q 'close(-7) at invalid.*no descriptor number (negative)' ||
		fail "$(kcmptrace_findings)"
	assert_finding bad-close fd_checks "$ABOVE"
	kcmptrace_query '.findings[] | select(.fd == $a) | .message' --argjson a "$ABOVE" | grep -q 'not below the RLIMIT_NOFILE limit' ||
		fail "$(kcmptrace_findings)"
	run ! grep -q 'close(-1)' <<<"$(kcmptrace_findings)"

	kcmptrace_run --report-close-minus-one -- "$SCEN/fd_checks" invalid
	assert_success
	assert_equal "$(kcmptrace_query '[.findings[] | select(.kind == "bad-close")] | length')" 3
	kcmptrace_query '.findings[] | select(.kind == "bad-close") | .message' | grep -q 'close(-1) called 1 time, first at invalid' ||
		fail "$(kcmptrace_findings)"
	# the setting of plain LD_PRELOAD runs does the same
	preloaded env KCMPTRACE_CLOSE_MINUS_ONE=1 "$SCEN/fd_checks" invalid
	assert_success
	q_true '[.findings[] | select(.kind == "bad-close" and (.message | contains("close(-1)")))] | length == 1'
}

@test "plain LD_PRELOAD: a program that closes fd 2 still gets its report on the stderr it started with" {
	# stderr a file: opened again by its name
	run --separate-stderr kcmptrace_no_fd3 env KCMPTRACE_LEAKS=1 LD_PRELOAD="$SHIM" \
		"$SCEN/fd_checks" close_stderr "$DATA"
	assert_success
	assert_output "kept_fd=$(kv kept_fd)"
	FD=$(kv kept_fd)
	[[ $stderr == *"Findings: 1 in 1 context (1 info)"*"info open-at-exit"*"fd $FD  $DATA"* ]] || fail "stderr: $stderr"
	[[ $output != *Findings* ]] || fail "the report went to stdout: $output"

	# stderr a pipe: through the parent that still holds it
	run --separate-stderr kcmptrace_no_fd3 bash -c '
		exec 4>&2 2> >(cat >"$4")
		KCMPTRACE_LEAKS=1 LD_PRELOAD="$1" "$2" close_stderr "$3"
		exec 2>&4 4>&-
		wait $!' _ "$SHIM" "$SCEN/fd_checks" "$DATA" "$BATS_TEST_TMPDIR/piped"
	assert_success
	assert_output "kept_fd=$FD"
	grep -q "info open-at-exit" "$BATS_TEST_TMPDIR/piped" || fail "piped stderr: $(cat "$BATS_TEST_TMPDIR/piped")"

	# no stderr at all: the report is kept in the trace directory
	mkdir "$BATS_TEST_TMPDIR/t"
	run kcmptrace_no_fd3 bash -c 'exec 2>&-; exec "$@"' _ env TMPDIR="$BATS_TEST_TMPDIR/t" \
		KCMPTRACE_LEAKS=1 LD_PRELOAD="$SHIM" "$SCEN/fd_checks" close_stderr "$DATA"
	assert_success
	reports=("$BATS_TEST_TMPDIR"/t/kcmptrace.*/report)
	[[ ${#reports[@]} -eq 1 && -f ${reports[0]} ]] || fail "no kept report: $(ls -R "$BATS_TEST_TMPDIR/t")"
	grep -q "Process tree" "${reports[0]}" || fail "report: $(cat "${reports[0]}")"
}

@test "the text report wraps call sites instead of cutting them; --stack=N frames are in the finding's paragraph too" {
	run --separate-stderr kcmptrace_no_fd3 "$KT" --leaks --stack=3 -- "$SCEN/nested_open" "$DATA"
	assert_success
	local long
	long=$(awk 'length($0) > 100' <<<"$stderr")
	[[ -z $long ]] || fail "lines over 100 columns: $long"
	# each frame whole in the descriptor's line, the origin lines and the paragraph
	for line in 11 18 25; do
		n=$(grep -o "(nested_open.c:$line)" <<<"$stderr" | wc -l)
		[[ $n -eq 3 ]] || fail "(nested_open.c:$line) shown $n times, not 3:
$stderr"
	done
	para=$(sed -n '/^Findings/,$p' <<<"$stderr" | tr -s ' \n' ' ')
	[[ $para == *"with open at open_file+0x"*"(nested_open.c:11) < open_config+0x"*"(nested_open.c:18) < main+0x"*"(nested_open.c:25)."* ]] ||
		fail "paragraph: $para"
	run ! grep -E '(\.\.\.\)|< [^ ]*\.\.\.)' <<<"$stderr"
}

@test "open-at-exit is what exit handlers left open; the sharing snapshot stays where main returned" {
	kcmptrace_run --leaks -- "$SCEN/fd_checks" atexit "$DATA"
	assert_success
	C=$(kv closed_at_exit)
	O=$(kv opened_at_exit)
	P=$(kcmptrace_pid fd_checks)
	# fd C, closed by the handler, is no leak; fd O, opened there, is
	assert_equal "$(open_at_exit "$P")" "$O"
	f=".findings[] | select(.kind == \"open-at-exit\" and .fd == $O)"
	assert_equal "$(kcmptrace_query "$f | .origin.call")" open
	[[ $(kcmptrace_query "$f | .origin.site") == "at_exit+0x"* ]] || fail "$(kcmptrace_query "$f | .origin")"
	[[ $(kcmptrace_query "$f | .explanation") == *"after main returned, by an exit handler or a destructor."* ]] ||
		fail "$(kcmptrace_query "$f | .explanation")"
	# the process's descriptors are those of the snapshot when main returned
	assert_equal "$(fd_get "$P" "$C" .target)" "$DATA"
	assert_no_fd "$P" "$O"
}

@test "a descriptor an exit handler closed inside libc (endmntent's fclose) is not open at exit" {
	kcmptrace_run --leaks -- "$SCEN/fd_checks" atexit_libc "$DATA"
	assert_success
	C=$(kv closed_at_exit)
	P=$(kcmptrace_pid fd_checks)
	# nothing the shim saw changed since main returned; the listing did
	assert_equal "$(open_at_exit "$P")" ""
	assert_equal "$(fd_get "$P" "$C" .target)" "$DATA"
}

# bad_use_field CALL FIELD: FIELD of the one bad-use finding of CALL on the
# closed number $FD (fails otherwise).
bad_use_field() {
	kcmptrace_query "[.findings[] | select(.kind == \"bad-use\" and .fd == $FD and .origin.call == \$c)] | if length == 1 then .[0]$2 else error(\"bad-use findings of \(\$c): \(length)\") end" --arg c "$1"
}

@test "bad-use: read, write, fstat, lseek and send on a closed descriptor name the close and the open; a number never open says so" {
	run -0 "$SCEN/bad_use" "$DATA" 3>&-
	untraced=$output
	kcmptrace_run "$SCEN/bad_use" "$DATA"
	assert_success
	# the program sees the same results and errno values as without the tracer
	assert_equal "$output" "$untraced"
	assert_output --partial "read=-1/EBADF write=-1/EBADF fstat=-1/EBADF lseek=-1/EBADF send=-1/EBADF never_read=-1/EBADF"
	FD=$(kv fd)
	N=$(kv never)
	P=$(kcmptrace_pid bad_use)
	local call msg
	for call in read write fstat lseek send; do
		assert_equal "$(bad_use_field "$call" .severity)" error
		assert_equal "$(bad_use_field "$call" .pid)" "$P"
		[[ $(bad_use_field "$call" .origin.site) == "main+0x"* ]] || fail "$call: $(bad_use_field "$call" .origin)"
		msg=$(bad_use_field "$call" .message)
		[[ $msg == "$P bad_use: $call($FD) at main+0x"*"(bad_use.c:"*") failed with EBADF: fd $FD was closed by close() at open_then_close+0x"*"(bad_use.c:28) (opened at open_then_close+0x"*"(bad_use.c:25))" ]] ||
			fail "$call: $msg"
	done
	q_true "[.findings[] | select(.kind == \"bad-use\" and .fd == $FD)] | length == 5"
	# the number never opened: one read; the program's fcntl(F_GETFD) probe is no finding
	q_true "[.findings[] | select(.kind == \"bad-use\" and .fd == $N) | .origin.call] == [\"read\"]"
	msg=$(kcmptrace_query ".findings[] | select(.kind == \"bad-use\" and .fd == $N) | .message")
	[[ $msg == *"read($N) at main+0x"*"(bad_use.c:"*"failed with EBADF: fd $N was never open" ]] || fail "message: $msg"
	assert_no_findings bad-close

	# the same calls on an open descriptor: none
	run -0 "$SCEN/bad_use" clean "$DATA" 3>&-
	untraced=$output
	kcmptrace_run "$SCEN/bad_use" clean "$DATA"
	assert_success
	assert_equal "$output" "$untraced"
	assert_no_findings bad-use
}

@test "bad-use: the fortified _chk reads (__read_chk, __pread64_chk, __recv_chk, __recvfrom_chk), sendmmsg, recvmmsg, ioctl and the other watched calls on a closed descriptor" {
	local calls="read pread recv recvfrom pwrite readv writev sendto sendmsg recvmsg sendmmsg recvmmsg ioctl fcntl"
	# the program reaches glibc through the _chk names, whose internal
	# reads no read, pread, recv or recvfrom hook sees
	local imports
	imports=$(nm -D --undefined-only "$SCEN/bad_use_calls" | awk '{print $2}' | sed 's/@.*//')
	for sym in __read_chk __pread64_chk __recv_chk __recvfrom_chk sendmmsg recvmmsg ioctl; do
		grep -qx "$sym" <<<"$imports" || fail "bad_use_calls does not call $sym: $imports"
	done
	for sym in read pread64 recv recvfrom; do
		run ! grep -qx "$sym" <<<"$imports"
	done

	run -0 "$SCEN/bad_use_calls" "$DATA" 3>&-
	untraced=$output
	kcmptrace_run "$SCEN/bad_use_calls" "$DATA"
	assert_success
	# the program sees the same results and errno values as without the tracer
	assert_equal "$output" "$untraced"
	FD=$(kv fd)
	P=$(kcmptrace_pid bad_use_calls)
	local call msg line
	for call in $calls; do
		assert_equal "$(kv "$call")" "-1/EBADF"
		assert_equal "$(bad_use_field "$call" .severity)" error
		assert_equal "$(bad_use_field "$call" .pid)" "$P"
		# the program's line, also for the _chk calls (whose inline
		# wrappers in glibc's headers are not where the program called)
		line=$(grep -n "show(\"$call\"," "$REPO/tests/scenarios/bad_use_calls.c" | cut -d: -f1)
		msg=$(bad_use_field "$call" .message)
		[[ $msg == "$P bad_use_calls: $call($FD) at main+0x"*" (bad_use_calls.c:$line) failed with EBADF: fd $FD was closed by close() at main+0x"*"(bad_use_calls.c:"* ]] ||
			fail "$call: $msg"
	done
	# one finding per call, no other
	q_true "[.findings[] | select(.kind == \"bad-use\") | .origin.call] | sort == (\"$calls\" | split(\" \") | sort)"
	assert_equal "$(kcmptrace_query '[.findings[] | select(.kind != "bad-use")] | length')" 0

	# the same calls on the open descriptor fail otherwise (ENOTSOCK) or not at all: none
	run -0 "$SCEN/bad_use_calls" clean "$DATA" 3>&-
	untraced=$output
	kcmptrace_run "$SCEN/bad_use_calls" clean "$DATA"
	assert_success
	assert_equal "$output" "$untraced"
	assert_output --partial "recvmmsg=-1/ENOTSOCK ioctl=0/0"
	assert_no_findings bad-use
}
