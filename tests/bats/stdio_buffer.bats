#!/usr/bin/env bats
# stdio-buffer-duplicated: output left in a stdio buffer at fork() that the
# child writes again at its exit (issue 13). The programs' output is checked
# too: the duplicate is real, and the same with and without the shim.

setup() {
	load helpers
	: "${BATS_TEST_TIMEOUT:=60}"
}

# traced_out OUT CMD [ARG...]: CMD traced, its stdout a pipe (as `cmd | cat`)
# copied to OUT; the report in $R. Fails when the launcher does.
traced_out() {
	local out="$1"
	shift
	R="$BATS_TEST_TMPDIR/r.json"
	rm -f "$R"
	kcmptrace_no_fd3 "$KT" --format=json -o "$R" -- "$@" | cat >"$out"
	[[ ${PIPESTATUS[0]} -eq 0 ]] || fail "traced run of $* failed"
	assert_invariants "$R"
}

# untraced_out OUT CMD [ARG...]: the same without the tracer.
untraced_out() {
	local out="$1"
	shift
	kcmptrace_no_fd3 "$@" | cat >"$out"
	[[ ${PIPESTATUS[0]} -eq 0 ]] || fail "run of $* failed"
}

# The one finding of the kind, as JSON (fails unless there is exactly one).
the_finding() {
	q '[.findings[] | select(.kind == "stdio-buffer-duplicated")]
		| if length == 1 then .[0] else error("stdio-buffer-duplicated findings: \(length)") end'
}

@test "the kcmp(2) man page's example piped: its parent's lines are written twice, one finding names both pids, stdout's pipe, the bytes and the fork" {
	traced_out "$BATS_TEST_TMPDIR/out" "$SCEN/kcmp_example"
	local parent child expected
	parent=$(root_pid)
	child=$(q "kids($parent) | .[0]")
	[[ $(grep -c "^Parent PID is $parent\$" "$BATS_TEST_TMPDIR/out") == 2 ]] ||
		fail "the parent's line is not written twice: $(cat "$BATS_TEST_TMPDIR/out")"
	expected=$(printf 'Parent PID is %d\nParent opened file on FD 3\n\n' "$parent" | wc -c)
	the_finding >/dev/null || fail "$(q '.findings')"
	q_true '.findings[0] | .kind == "stdio-buffer-duplicated" and .severity == "warning"'
	q_true ".findings[0] | .pid == $child and .related == [$parent] and .fd == 1"
	q_true ".findings[0] | .bytes == $expected and .bytes > 0"
	q_true '.findings[0] | .target | startswith("pipe:[")'
	q_true '.findings[0] | .origin.call == "fork" and .origin.program == "kcmp_example"'
	q_true '.findings[0] | .origin.site | test("^main\\+0x[0-9a-f]+ \\(kcmp_example\\)$")'
	# the fork's source line, the stream and both pids, in words
	q_true ".findings[0] | .message | test(\"^$child kcmp_example: $expected bytes of stdout \\\\(fd 1, pipe:\") and test(\"kcmp_example.c:[0-9]+\") and test(\"by $parent \")"
	q_true '.findings[0] | .explanation | test("Fix: fflush\\(NULL\\) before fork, or _exit\\(\\) in the child\\.$")'
	# the pipe is stdout of both processes: one description
	q_true ".findings[0].ofd == ofd($parent; 1) and .findings[0].ofd == ofd($child; 1)"
}

@test "the kcmp(2) man page's example writes the same bytes traced and untraced (pids aside)" {
	traced_out "$BATS_TEST_TMPDIR/traced" "$SCEN/kcmp_example"
	untraced_out "$BATS_TEST_TMPDIR/plain" "$SCEN/kcmp_example"
	diff <(sed -E 's/[0-9]+/N/g' "$BATS_TEST_TMPDIR/plain") <(sed -E 's/[0-9]+/N/g' "$BATS_TEST_TMPDIR/traced") ||
		fail "the output differs traced"
}

@test "a child that calls exit() or returns from main (also made by syscall(SYS_fork)): one finding with the byte count and the program's fork site; the output is byte-identical traced and untraced" {
	local mode
	for mode in exit return syscall; do
		traced_out "$BATS_TEST_TMPDIR/traced" "$SCEN/stdio_fork" "$mode"
		untraced_out "$BATS_TEST_TMPDIR/plain" "$SCEN/stdio_fork" "$mode"
		cmp "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/traced" || fail "$mode: output differs traced"
		[[ $(grep -c '^before fork$' "$BATS_TEST_TMPDIR/traced") == 2 ]] || fail "$mode: not duplicated"
		the_finding >/dev/null || fail "$mode: $(q '.findings')"
		q_true "(kids($(root_pid)) | .[0]) as \$child | .findings[0] | .bytes == 12 and .fd == 1 and .pid == \$child"
		q_true '.findings[0].origin.site | test("^main\\+0x[0-9a-f]+ \\(stdio_fork\\)$")'
	done
}

@test "a stream opened with fopen: the finding names its descriptor and file" {
	local f="$BATS_TEST_TMPDIR/log"
	traced_out "$BATS_TEST_TMPDIR/out" "$SCEN/stdio_fork" exit "$f"
	[[ $(grep -c '^before fork$' "$f") == 2 ]] || fail "not duplicated: $(cat "$f")"
	the_finding >/dev/null || fail "$(q '.findings')"
	q_true ".findings[0] | .fd == 3 and .target == \"$f\" and .bytes == 12"
	q_true '.findings[0] | .message | test(" of a stream \\(fd 3, ")'
}

@test "no finding when the parent flushed, the child _exits or execs, the stream is line buffered, or vfork made the child; the output is the same traced" {
	local mode
	for mode in flush _exit exec linebuf vfork; do
		traced_out "$BATS_TEST_TMPDIR/traced" "$SCEN/stdio_fork" "$mode"
		untraced_out "$BATS_TEST_TMPDIR/plain" "$SCEN/stdio_fork" "$mode"
		cmp "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/traced" || fail "$mode: output differs traced"
		# (TSan's own _exit flushes stdio, and its vfork is a fork: there the
		# copy is written untraced too, as cmp above saw)
		[[ ($mode == _exit || $mode == vfork) && ${KCMPTRACE_SANITIZER_RUN:-} == thread ]] ||
			[[ $(grep -c '^before fork$' "$BATS_TEST_TMPDIR/traced") == 1 ]] || fail "$mode: duplicated"
		assert_no_findings stdio-buffer-duplicated || fail "$mode"
	done
}

@test "kcmp_manpage (flushes before each fork) piped: no finding" {
	local data
	data=$(make_data_file)
	traced_out "$BATS_TEST_TMPDIR/out" "$SCEN/kcmp_manpage" "$data"
	[[ $(grep -c '^shared_fd=' "$BATS_TEST_TMPDIR/out") == 1 ]] || fail "$(cat "$BATS_TEST_TMPDIR/out")"
	assert_no_findings stdio-buffer-duplicated
}

@test "a kind=stdio-buffer-duplicated suppression rule silences it and counts it" {
	local s="$BATS_TEST_TMPDIR/supp"
	echo 'kind=stdio-buffer-duplicated program=stdio_fork' >"$s"
	R="$BATS_TEST_TMPDIR/r.json"
	kcmptrace_no_fd3 "$KT" --format=json -o "$R" --suppressions="$s" -- "$SCEN/stdio_fork" exit | cat >/dev/null
	assert_invariants "$R"
	assert_no_findings stdio-buffer-duplicated
	q_true '.suppressed == 1'
}
