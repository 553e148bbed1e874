#!/usr/bin/env bats
# The text report in colour: --color=always|never|auto, NO_COLOR, TERM=dumb;
# a file or a pipe never coloured by default.

setup() {
	load helpers
	ESC=$'\033'
	# a trace of the bundled example, kept to be rendered several ways
	TRACE="$BATS_TEST_TMPDIR/trace"
	run kcmptrace_no_fd3 "$KT" --trace-dir "$TRACE" -o /dev/null -- "$SCEN/leaky_server"
	assert_success
}

# on_terminal CMD...: run CMD with a pseudo-terminal as its stdin, stdout and
# stderr (script(1)); $output is what it wrote there, CR-LF made LF.
on_terminal() {
	local cmd
	printf -v cmd '%q ' "$@"
	run script -qec "$cmd" /dev/null
	output=${output//$'\r'/}
}

@test "--color=always: severities, kinds, programs and headings coloured, the text otherwise the same" {
	run --separate-stderr "$KT" report --color=always "$TRACE"
	assert_success
	local colored=$output
	[[ $colored == *"${ESC}[1;31merror${ESC}[m ${ESC}[1mpipe-end-held${ESC}[m"* ]] || fail "no red error: $colored"
	[[ $colored == *"${ESC}[1;35mwarning${ESC}[m ${ESC}[1mleaked-across-exec${ESC}[m"* ]] || fail "no magenta warning"
	[[ $colored == *"${ESC}[32mleaky_server${ESC}[m"* ]] || fail "no green program name"
	[[ $colored == *"${ESC}[1mFindings:${ESC}[m"* ]] || fail "no bold heading"
	run --separate-stderr "$KT" report --color=never "$TRACE"
	assert_success
	[[ $output != *"$ESC"* ]] || fail "escape codes with --color=never"
	# the same report once the escapes are taken out: wrapping unchanged
	assert_equal "$(sed $'s/\033\\[[0-9;]*m//g' <<<"$colored")" "$output"
}

@test "--color=auto (the default): a terminal gets colour, a pipe and a file none" {
	TERM=xterm on_terminal env -u NO_COLOR "$KT" report "$TRACE"
	assert_success
	[[ $output == *"${ESC}[1;31merror"* ]] || fail "no colour on a terminal: $output"
	# a pipe
	run bash -c '"$1" report "$2" | cat' _ "$KT" "$TRACE"
	assert_success
	assert_output --partial "pipe-end-held"
	[[ $output != *"$ESC"* ]] || fail "escape codes in a pipe"
	# a file, kcmptrace on a terminal
	TERM=xterm on_terminal env -u NO_COLOR "$KT" report -o "$BATS_TEST_TMPDIR/r.txt" "$TRACE"
	assert_success
	grep -q "pipe-end-held" "$BATS_TEST_TMPDIR/r.txt" || fail "no report in the file"
	! grep -q "$ESC" "$BATS_TEST_TMPDIR/r.txt" || fail "escape codes in the file"
	# running a command: the report on the terminal's stderr
	TERM=xterm on_terminal env -u NO_COLOR "$KT" -- "$SCEN/leaky_server"
	assert_success
	[[ $output == *"${ESC}[1;35mwarning"* ]] || fail "no colour on a terminal: $output"
}

@test "NO_COLOR and TERM=dumb turn colour off on a terminal; --color=always still colours" {
	TERM=xterm on_terminal env NO_COLOR=1 "$KT" report "$TRACE"
	assert_success
	assert_output --partial "pipe-end-held"
	[[ $output != *"$ESC"* ]] || fail "escape codes with NO_COLOR"
	TERM=dumb on_terminal env -u NO_COLOR "$KT" report "$TRACE"
	assert_success
	[[ $output != *"$ESC"* ]] || fail "escape codes with TERM=dumb"
	# an empty NO_COLOR is not set (no-color.org)
	TERM=xterm on_terminal env NO_COLOR= "$KT" report "$TRACE"
	[[ $output == *"$ESC"* ]] || fail "no colour with an empty NO_COLOR"
	run --separate-stderr env NO_COLOR=1 "$KT" report --color=always "$TRACE"
	assert_success
	[[ $output == *"$ESC"* ]] || fail "--color=always did not colour"
}

@test "--color: JSON never coloured; a bad value is a usage error" {
	TERM=xterm on_terminal env -u NO_COLOR "$KT" report --color=always --format=json "$TRACE"
	assert_success
	[[ $output != *"$ESC"* ]] || fail "escape codes in JSON"
	run --separate-stderr "$KT" report --color=sometimes "$TRACE"
	assert_equal "$status" 2
	assert_one_line_error
	assert_equal "${stderr_lines[0]}" "kcmptrace: unknown --color 'sometimes' (auto, always or never) (try 'kcmptrace --help')"
}
