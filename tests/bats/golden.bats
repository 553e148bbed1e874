#!/usr/bin/env bats
# Golden tests of the report side (trace parser, model, findings, renderers):
# tests/golden/NAME/trace/ is a trace the tool made, normalised (fixed pids,
# start times, paths, inodes; see tests/golden/normalise.py), and
# NAME/report.json, NAME/report.txt and NAME/report[.VARIANT].{json,txt,dot}
# are its reports as rendered when scripts/golden made them. Each test renders
# the trace again and compares byte for byte. Only `kcmptrace report` runs:
# the shim is not involved, so any build must give the same output.
#
# After an intended change of the output: scripts/golden, then review
# `git diff tests/golden`.

setup() {
	load helpers
	GOLDEN="$REPO/tests/golden"
}

# variant_options VARIANT: set opts to the options of a report variant:
# VARIANT is words joined by "-", leaks (--leaks) or stackN (--stack=N), as
# in scripts/golden.
variant_options() {
	local w
	opts=()
	for w in ${1//-/ }; do
		case $w in
		leaks) opts+=(--leaks) ;;
		stack[0-9]*) opts+=("--stack=${w#stack}") ;;
		*) fail "unknown report variant '$w' in $1" ;;
		esac
	done
}

# check_golden NAME: render every expected report of tests/golden/NAME from
# a copy of its trace and diff it with the expected one.
check_golden() {
	local name=$1 dir="$GOLDEN/$1" copy="$BATS_TEST_TMPDIR/trace"
	[[ -d $dir/trace ]] || fail "no golden case $dir"
	[[ -f $dir/report.json && -f $dir/report.txt ]] || fail "$dir: report.json or report.txt missing"
	# the report may write to its trace (remove live/): never the checked-in one
	cp -r "$dir/trace" "$copy"
	local expected base variant format out diffs="" n=0
	local -a opts
	for expected in "$dir"/report*.json "$dir"/report*.txt "$dir"/report*.dot; do
		[[ -e $expected ]] || continue
		base=${expected##*/}
		format=${base##*.}
		variant=${base#report}
		variant=${variant%."$format"}
		variant=${variant#.}
		variant_options "$variant"
		[[ $format == txt ]] && format=text
		out="$BATS_TEST_TMPDIR/$base"
		run --separate-stderr env -u KCMPTRACE_LEAKS -u KCMPTRACE_STACK \
			"$KT" report --format="$format" "${opts[@]}" -o "$out" "$copy"
		[[ $status -eq 0 && -z $stderr ]] ||
			fail "kcmptrace report --format=$format ${opts[*]} $name: status $status, stderr: $stderr"
		# the one thing that differs from run to run: where the copy is
		python3 -c 'import sys; d, f = sys.argv[1:]; t = open(f).read().replace(d, "/golden/trace"); open(f, "w").write(t)' \
			"$copy" "$out"
		if [[ $format == json ]]; then
			assert_invariants "$out"
		fi
		if ! diff -u --label "expected tests/golden/$name/$base" --label "rendered now" \
			"$expected" "$out" >"$out.diff"; then
			diffs+="$(cat "$out.diff")"$'\n'
		fi
		n=$((n + 1))
	done
	[[ -z $diffs ]] || fail "the report of tests/golden/$name changed (if that is intended: scripts/golden, then review git diff):
$diffs"
	# reading a trace does not change it
	diff -r "$dir/trace" "$copy" || fail "kcmptrace report changed the trace of $name"
	((n >= 2))
}

@test "golden kcmp_manpage: kcmp same lines, dup, inherited, a description nobody shares" {
	check_golden kcmp_manpage
}

@test "golden without_kcmp: kcmp refused, tracked evidence only, a note" {
	check_golden without_kcmp
}

@test "golden leaky_server: leaked-across-exec, pipe-end-held, exec of inherited and dup2'd descriptors, --leaks" {
	check_golden leaky_server
}

@test "golden socketpair_keep: pipe-end-held for a socketpair's other end, a peer record" {
	check_golden socketpair_keep
}

@test "golden scm_rights: descriptors received with recvmsg and recvmmsg" {
	check_golden scm_rights
}

@test "golden events: setfl, flock and close-ebadf events and their findings" {
	check_golden events
}

@test "golden static_hold: an untraced static image observed from outside, reaped by its traced parent" {
	check_golden static_hold
}

@test "golden static_images: watched static images seen at their exit, their own descriptors and children" {
	check_golden static_images
}

@test "golden nested_open: call-site stacks, --stack=3" {
	check_golden nested_open
}

@test "golden: every case in tests/golden has its test in golden.bats" {
	local d name
	for d in "$GOLDEN"/*/; do
		name=$(basename "$d")
		grep -q "^	check_golden $name\$" "$BATS_TEST_FILENAME" ||
			fail "tests/golden/$name has no @test in tests/bats/golden.bats"
	done
}
