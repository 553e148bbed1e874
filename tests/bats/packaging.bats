#!/usr/bin/env bats
# Installed like a Debian tool: --version from CMakeLists.txt, the man pages
# (linted, and in step with --help and the README), the JSON Schema, bash
# completion, and what `cmake --install` puts where. The .deb: deb.bats.

setup() {
	load helpers
	MAN1="$BUILD/doc/kcmptrace.1"
	MAN5="$BUILD/doc/kcmptrace-json.5"
}

# The version, as project(... VERSION X.Y.Z ...) in CMakeLists.txt says.
project_version() {
	sed -nE 's/^project\(kcmptrace VERSION ([0-9.]+) .*/\1/p' "$REPO/CMakeLists.txt"
}

@test "--version prints the version CMakeLists.txt defines" {
	local v
	v=$(project_version)
	[[ -n $v ]] || fail "no project(kcmptrace VERSION ...) in CMakeLists.txt"
	run --separate-stderr "$KT" --version
	assert_success
	assert_output "kcmptrace $v"
	# nowhere else: the C code has it from the build only
	run grep -rnF "\"$v\"" "$REPO/report" "$REPO/shim"
	assert_failure
}

@test "the man pages carry the version and lint clean (mandoc -T lint, groff -ww)" {
	# groff and troff (not ours) trip ASan when its runtime is preloaded into them
	[[ -z ${KCMPTRACE_SANITIZER_RUN:-} ]] || skip "groff under a preloaded sanitizer runtime"
	local page out
	for page in "$MAN1" "$MAN5"; do
		[[ -s $page ]] || fail "no $page"
		grep -qF "kcmptrace $(project_version)" "$page" || fail "$page lacks the version"
		out=$(mandoc -T lint -W warning "$page" 2>&1) || fail "mandoc -T lint $page: $out"
		[[ -z $out ]] || fail "mandoc -T lint $page: $out"
		out=$(groff -ww -z -man "$page" 2>&1)
		[[ -z $out ]] || fail "groff -ww $page: $out"
		# no @VARIABLE@ left unconfigured
		! grep -n '@[A-Z_]*@' "$page" || fail "$page: unconfigured variable"
	done
}

# options_in_help: every option --help lists, one a line, sorted.
options_in_help() {
	"$KT" --help | grep -E '^  -' | sed -E 's/^  (([^ ]| [^ ])*).*/\1/' |
		grep -oE -- '--?[a-z][a-z-]*' | sort -u
}

# man_section NAME: the source lines of section NAME of kcmptrace(1), with
# \- unescaped.
man_section() {
	sed 's/\\-/-/g' "$MAN1" | awk -v s=".SH $1" '$0 == s {on = 1; next} /^\.SH / {on = 0} on'
}

# options_in_man: every option that the man page's OPTIONS section lists
# (the heads of its .TP items).
options_in_man() {
	man_section OPTIONS | awk 'prev == ".TP" {print} {prev = $0}' |
		grep -oE -- '(^|[ "])--?[a-z][a-z-]*' | sed 's/^[ "]//' | sort -u
}

@test "kcmptrace(1) documents every option of --help, and no other" {
	local help man
	help=$(options_in_help)
	man=$(options_in_man)
	[[ $(wc -l <<<"$help") -ge 15 ]] || fail "too few options read from --help: $help"
	run diff <(echo "$help") <(echo "$man")
	[[ $status -eq 0 ]] || fail "options in --help (<) and kcmptrace(1) (>) differ:
$output"
}

@test "kcmptrace(1) documents every subcommand of the usage, and no other" {
	local usage man
	usage=$("$KT" --help | sed -nE 's/^(usage:|      ) +kcmptrace ([a-z]+) .*/\2/p' | sort -u)
	man=$(man_section DESCRIPTION | awk '/^\.SS Subcommands/ {on = 1; next} /^\.S[SH] / {on = 0}
		on && prev == ".TP" {print} {prev = $0}' | grep -oE '^\.BI? "?[a-z]+' | sed -E 's/.* "?//' | sort -u)
	[[ -n $usage ]] || fail "no subcommand read from --help"
	assert_equal "$man" "$usage"
}

@test "kcmptrace(1) documents every KCMPTRACE_* variable of the README's table and --help" {
	local want got
	want=$( (sed -nE 's/^\| `(KCMPTRACE_[A-Z_]+)` \|.*/\1/p' "$REPO/README.md"
		"$KT" --help | grep -oE 'KCMPTRACE_[A-Z_]+') | sort -u)
	got=$(man_section ENVIRONMENT | awk 'prev == ".TP" {print} {prev = $0}' |
		grep -oE 'KCMPTRACE_[A-Z_]+' | sort -u)
	[[ $(wc -l <<<"$want") -ge 6 ]] || fail "too few variables read: $want"
	run diff <(echo "$want") <(echo "$got")
	[[ $status -eq 0 ]] || fail "variables in the README/--help (<) and kcmptrace(1) (>) differ:
$output"
}

@test "kcmptrace(1)'s first example works as printed: a shell redirection reaches cat" {
	local example
	example=$(sed 's/\\-/-/g' "$MAN1" | grep -m1 -E "^kcmptrace --default-suppressions=no -- sh -c")
	[[ -n $example ]] || fail "example not found"
	example=${example/kcmptrace /"$KT" --format=json -o "$BATS_TEST_TMPDIR/r.json" }
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 bash -c "$example"
	assert_success
	assert_invariants
	q_true '[.findings[] | select(.kind == "leaked-across-exec" and .fd == 3 and .program == "cat")] | length == 1'
}

@test "the schema is a valid draft 2020-12 schema and refuses what the format does not have" {
	local bad="$BATS_TEST_TMPDIR/bad.json"
	traced "$SCEN/leaky_server"
	assert_success
	assert_invariants
	# a field nobody documented, a kind that does not exist, a missing field
	jq '.processes[0].surprise = 1' "$R" >"$bad"
	run python3 "$REPO/tests/support/validate_report.py" "$SCHEMA" "$bad"
	assert_failure
	assert_output --partial "surprise"
	jq '.findings[0].kind = "leaked"' "$R" >"$bad"
	run python3 "$REPO/tests/support/validate_report.py" "$SCHEMA" "$bad"
	assert_failure
	jq 'del(.ofds[0].evidence)' "$R" >"$bad"
	run python3 "$REPO/tests/support/validate_report.py" "$SCHEMA" "$bad"
	assert_failure
	assert_output --partial "evidence"
}

@test "every golden JSON report matches the schema" {
	local files=("$REPO"/tests/golden/*/report*.json)
	((${#files[@]} >= 5)) || fail "golden reports not found"
	assert_schema_valid "${files[@]}"
}

@test "the README's JSON section names every field of the schema" {
	local section missing=""
	section=$(awk '/^## The JSON report/ {on = 1; next} /^## / {on = 0} on' "$REPO/README.md")
	while read -r name; do
		# `name`, `x.name` or `name.y`, or as a key in the example
		grep -qE "[\`.\"]$name[\`.\"]" <<<"$section" || missing+=" $name"
	done < <(jq -r '[.. | objects | .properties? // empty | keys[]] | unique[]' "$SCHEMA")
	[[ -z $missing ]] || fail "fields in the schema the README's JSON section does not name:$missing"
}

@test "kcmptrace-json(5) names every field of the schema" {
	local page missing=""
	page=$(sed 's/\\-/-/g' "$MAN5")
	while read -r name; do
		grep -qE "(^|[ .{])$name([ .,:;)}]|$)" <<<"$page" || missing+=" $name"
	done < <(jq -r '[.. | objects | .properties? // empty | keys[]] | unique[]' "$SCHEMA")
	[[ -z $missing ]] || fail "fields in the schema kcmptrace-json(5) does not name:$missing"
}

# complete_words WORD...: COMPREPLY of the completion for the command line
# WORD... (the last word is the one being completed), one a line.
complete_words() {
	bash -c '
		[[ -f /usr/share/bash-completion/bash_completion ]] && source /usr/share/bash-completion/bash_completion
		source "$1"; shift
		# split as bash does, "=" a word of its own
		COMP_WORDS=()
		for w in "$@"; do
			if [[ $w == -*=* ]]; then COMP_WORDS+=("${w%%=*}" "=")
				[[ -n ${w#*=} ]] && COMP_WORDS+=("${w#*=}")
			else COMP_WORDS+=("$w"); fi
		done
		[[ ${COMP_WORDS[-1]} == = ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_kcmptrace kcmptrace "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' completion "$REPO/doc/completion.bash" "$@" 2>/dev/null
}

@test "completion: options, formats, the report subcommand" {
	run complete_words kcmptrace --for
	assert_output "--format="
	run complete_words kcmptrace --format=
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "dot json text "
	run complete_words kcmptrace --wait=c
	assert_output command
	run complete_words kcmptrace rep
	assert_line report
	run complete_words kcmptrace report --rem
	assert_output "--remove-if-done"
	run complete_words kcmptrace report --trace
	assert_output ""
	run complete_words kcmptrace snap
	assert_line snapshot
	run complete_words kcmptrace snapshot --tr
	assert_output "--tree"
	# a snapshot's operands are process ids: this shell's among them
	run complete_words kcmptrace snapshot "$$"
	assert_line "$$"
	# every option of --help is offered
	local opt
	run complete_words kcmptrace -
	for opt in $(options_in_help | grep -vx -- --remove-if-done); do
		[[ " ${lines[*]} " == *" $opt"[=\ ]* ]] || fail "completion lacks $opt: ${lines[*]}"
	done
}

@test "completion: files, directories, and the traced command" {
	mkdir -p "$BATS_TEST_TMPDIR/tracedir" && touch "$BATS_TEST_TMPDIR/rules.supp"
	cd "$BATS_TEST_TMPDIR"
	run complete_words kcmptrace --suppressions=rul
	assert_output rules.supp
	run complete_words kcmptrace -o rul
	assert_output rules.supp
	run complete_words kcmptrace --trace-dir tr
	assert_output tracedir
	run complete_words kcmptrace report trac
	assert_output tracedir
	run complete_words kcmptrace -- ech
	assert_line echo
	# past the command: its arguments, not kcmptrace's options
	run complete_words kcmptrace -- ls --lea
	[[ $output != *--leaks* ]] || fail "kcmptrace's options offered for ls: $output"
}

@test "cmake --install puts the man pages, schema, completion and bats library in place" {
	# groff and troff (not ours) trip ASan when its runtime is preloaded into them
	[[ -z ${KCMPTRACE_SANITIZER_RUN:-} ]] || skip "groff under a preloaded sanitizer runtime"
	local root="$BATS_TEST_TMPDIR/root"
	run cmake --install "$BUILD" --prefix "$root/usr"
	assert_success
	[[ -x $root/usr/bin/kcmptrace ]] || fail "no bin/kcmptrace"
	local f
	for f in share/man/man1/kcmptrace.1.gz share/man/man5/kcmptrace-json.5.gz \
		share/kcmptrace/report-v1.schema.json share/bash-completion/completions/kcmptrace \
		share/kcmptrace/bats/kcmptrace.bash; do
		[[ -s $root/usr/$f ]] || fail "not installed: $f"
	done
	run man -l "$root/usr/share/man/man1/kcmptrace.1.gz"
	assert_success
	assert_output --partial "--error-exitcode"
	# the installed copy, moved elsewhere, finds its library
	run --separate-stderr "$root/usr/bin/kcmptrace" --format=json -o "$BATS_TEST_TMPDIR/r.json" -- true
	assert_success
	assert_invariants "$BATS_TEST_TMPDIR/r.json"
}
