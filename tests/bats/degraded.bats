#!/usr/bin/env bats
# When tracing cannot be done fully: kcmp refused, or no trace can be
# written. The program must run on unchanged, and the report must say what
# it could not establish, never guess.

setup() {
	load helpers
}

# The kcmp(2) man page example with kcmp refused by seccomp.
manpage_without_kcmp() {
	F=$(make_data_file)
	traced "$SCEN/without_kcmp" "$@" "$SCEN/kcmp_manpage" "$F"
	assert_success
	assert_invariants
	S=$(kv shared_fd)
	SECOND=$(kv second_fd)
	D=$(kv dup_fd)
	P=$(root_pid)
	C=$(only_child "$P")
}

@test "kcmp refused (EPERM, as under Docker's default profile): said once, no kcmp evidence, sharing only as tracked" {
	manpage_without_kcmp
	q_true '.kcmp.available == false'
	q_true '.kcmp.detail | test("EPERM")'
	q_true 'all(.ofds[]; .evidence != "kcmp")'
	# fork and dup semantics still join descriptors, marked as tracked
	assert_shared "$P" "$S" "$C" "$S"
	assert_shared "$P" "$S" "$P" "$D"
	assert_equal "$(q 'ofdent(ofd($p; $f)) | .evidence' --argjson p "$P" --argjson f "$S")" tracked
	# nothing joins the second open: never guessed from the path
	assert_not_shared "$P" "$S" "$P" "$SECOND"
	# the text report says it once
	run --separate-stderr kcmptrace_no_fd3 "$KT" -- "$SCEN/without_kcmp" "$SCEN/kcmp_manpage" "$F"
	assert_success
	assert_equal "$(grep -ci 'kcmp.*unavailable\|unavailable.*kcmp' <<<"$stderr")" 1
}

@test "kcmp missing (ENOSYS, a kernel without CONFIG_KCMP): reported as unavailable" {
	manpage_without_kcmp --errno=ENOSYS
	q_true '.kcmp.available == false and (.kcmp.detail | test("ENOSYS"))'
	q_true 'all(.ofds[]; .evidence != "kcmp")'
}

@test "a parent that made itself non-dumpable: its fork child cannot compare with it, and its report says so" {
	[[ $(id -u) == 0 ]] || skip "needs root to start the tree as another user"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	# the report of a tree run as nobody, written where nobody may write
	# (and its trace in the default place, not in a TMPDIR of ours)
	local dir
	dir=$(mktemp -d /tmp/kt-nobody.XXXXXX)
	chmod 777 "$dir"
	run --separate-stderr kcmptrace_no_fd3 env -u TMPDIR setpriv --reuid=65534 --regid=65534 \
		--clear-groups "$KT" --format=json -o "$dir/r.json" -- "$SCEN/denied_parent"
	R="$BATS_TEST_TMPDIR/r.json"
	cp "$dir/r.json" "$R" || true
	rm -rf "$dir"
	assert_success
	assert_invariants
	P=$(root_pid)
	C=$(kv child)
	# the parent holds a copy of the child's pipe end (pidfd_getfd) that
	# nobody may compare: said, not shown as sharing
	assert_not_shared "$P" "$(kv copy_fd)" "$C" "$(kv write_fd)"
	q_true '[proc($c).notes[] | select(startswith("Could not compare with process \($p):"))] | length == 1' \
		--argjson c "$C" --argjson p "$P"
}

@test "trace directory not writable: one warning line, the program runs on unchanged" {
	F=$(make_data_file)
	run --separate-stderr kcmptrace_no_fd3 "$SCEN/kcmp_manpage" "$F"
	assert_success
	untraced_out=$output
	blocker="$BATS_TEST_TMPDIR/not-a-dir"
	: >"$blocker"
	run --separate-stderr kcmptrace_no_fd3 env KCMPTRACE_DIR="$blocker/trace" LD_PRELOAD="$SHIM" \
		"$SCEN/kcmp_manpage" "$F"
	assert_success
	assert_equal "$output" "$untraced_out"
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_regex "$stderr" '^kcmptrace: warning: .*not-a-dir/trace'
}

@test "no trace directory can be made (TMPDIR unusable): one warning line, exit status kept" {
	run --separate-stderr kcmptrace_no_fd3 env -u KCMPTRACE_DIR TMPDIR=/proc/self/nonexistent \
		LD_PRELOAD="$SHIM" bash -c 'echo out; (exit 7)'
	assert_failure 7
	assert_output out
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_regex "$stderr" '^kcmptrace: warning: '
}

@test "plain LD_PRELOAD, several processes that cannot write their trace: one warning line for the run, the program unchanged" {
	# the run starts traced; a subshell's limit then fails its children's traces
	script='(ulimit -f 1; /bin/true; /bin/true; sh -c "/bin/true; printenv KCMPTRACE_SAID"; echo sub); echo out; exit 3'
	run --separate-stderr kcmptrace_no_fd3 bash -c "$script"
	assert_equal "$status" 3
	assert_equal "$stderr" ""
	untraced=$output
	preloaded bash -c "$script"
	assert_equal "$status" 3
	# the same output: nothing of ours in the program's environment either
	assert_equal "$output" "$untraced"
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "${stderr_lines[0]}" '^kcmptrace: warning: cannot write the trace in .*: File too large$'
	assert_invariants
	q_true '[.processes[] | select(.unrecorded != null) | .unrecorded[] | select(.errno == "EFBIG")] | length >= 1'
}

@test "plain LD_PRELOAD under ulimit -f and -n: a report larger than the program may write is still written whole; a run that cannot start its trace leaves no directory" {
	# 100 kB is room for every record but not for the report of 150 processes
	for limit in "ulimit -S -f 100" "ulimit -S -n 24"; do
		R="$BATS_TEST_TMPDIR/r.json"
		rm -f "$R"
		run --separate-stderr kcmptrace_no_fd3 bash -c "$limit"'; exec env KCMPTRACE_OUTPUT="$0" KCMPTRACE_FORMAT=json LD_PRELOAD="$1" bash -c "for i in \$(seq 150); do /bin/true; done; echo out; exit 4"' "$R" "$SHIM"
		assert_equal "$status" 4
		assert_output out
		[[ -s $R ]] || fail "$limit: no report; stderr: $stderr"
		assert_invariants
		q_true '[.processes[] | select(.argv[0] == "/bin/true")] | length == 150'
	done
	(($(stat -c %s "$R") > 102400)) || fail "the report is too small to test the limit: $(stat -c %s "$R")"
	# the first process cannot write even its table: no trace, one warning,
	# and the directory it made is gone again
	run --separate-stderr kcmptrace_no_fd3 bash -c 'ulimit -S -f 1; exec env KCMPTRACE_OUTPUT="$0" LD_PRELOAD="$1" bash -c "/bin/true; echo out"' "$R.2" "$SHIM"
	assert_success
	assert_output out
	assert_equal "${#stderr_lines[@]}" 1
	[[ ${stderr_lines[0]} =~ ^kcmptrace:\ warning:\ cannot\ write\ the\ trace\ in\ ([^:]+): ]] || fail "$stderr"
	[[ ! -e ${BASH_REMATCH[1]} ]] || fail "left behind: ${BASH_REMATCH[1]}: $(ls -A "${BASH_REMATCH[1]}")"
}
