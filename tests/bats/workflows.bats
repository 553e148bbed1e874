#!/usr/bin/env bats
# scripts/workflows (issue 9): a smoke run of three fast real workflows,
# untraced and traced; the full 27 are run by hand (too slow for the suite).

setup() {
	load helpers
}

# row NAME: the table row of workflow NAME in $output, its cells trimmed,
# one a line.
row() {
	local line
	line=$(printf '%s\n' "$output" | awk -F'|' -v n="$1" '$2 ~ "^ *" n " *$"')
	[[ -n $line ]] || fail "no row for $1 in: $output"
	awk -F'|' '{for (i = 2; i < NF; i++) { gsub(/^ +| +$/, "", $i); print $i }}' <<<"$line"
}

@test "scripts/workflows: dash, perl open2 and bash redirections behave the same traced, with only dash's true finding and no invariant violation" {
	command -v perl >/dev/null || skip "perl is not installed"
	command -v dash >/dev/null || skip "dash is not installed"
	K=$BATS_TEST_TMPDIR/keep
	run --separate-stderr "$REPO/scripts/workflows" --reps 1 --keep "$K" --only dash-script,perl-open2,bash-redirections
	assert_success
	for w in dash-script perl-open2 bash-redirections; do
		mapfile -t c < <(row "$w")
		assert_equal "${c[1]}" yes   # exit status
		assert_equal "${c[2]}" yes   # output
		if [[ $w == dash-script ]]; then
			# dash leaks its here-document pipe into a $(...) inside it
			assert_equal "${c[3]}" "leaked-across-exec=1 pipe-end-held=1"
		else
			[[ ${c[3]} == none* ]] || fail "$w: findings ${c[3]}"
		fi
		assert_equal "${c[4]}" none  # invariant violations
		# the kept report obeys the suite's invariants too
		assert_invariants "$K/$w/t.1.json"
	done
	# bash's redirections are the script's wish: suppressed, not reported
	R=$K/bash-redirections/t.1.json
	q_true '.suppressed > 0 and ([.findings[] | select(.kind == "leaked-across-exec")] | length) == 0'
}

@test "scripts/workflows: an unknown workflow is a one-line error" {
	run --separate-stderr "$REPO/scripts/workflows" --only no-such-workflow
	assert_failure 2
	assert_equal "$stderr" "workflows: no workflow no-such-workflow (see --list)"
}
