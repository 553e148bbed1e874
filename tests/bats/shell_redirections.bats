#!/usr/bin/env bats
# Shell redirections on real bash and dash: a descriptor the shell opens
# because the script says so (`exec 3<FILE`, `exec 7>FILE`, `CMD 5<FILE`) is
# marked origin.made "shell-redirection" and is no finding by default (the
# built-in rule made=shell-redirection); --default-suppressions=no brings
# it back. Either way the verdict is the same whether open() returned the
# number the script named (bash and dash then keep it there) or a lower
# one that the shell moved with dup2 (bash and dash: open, dup2, close),
# and whether the script closes it later. A leak from a program that is
# not a shell is still reported.

setup() {
	load helpers
	OUT="$BATS_TEST_TMPDIR/out"
	# Every report here, also those of verdict's subshell, which the
	# checks after it read.
	R="$BATS_TEST_TMPDIR/r.json"
}

# run_sh SHELL SCRIPT [KCMPTRACE-OPTION...]: SHELL -c SCRIPT traced, JSON in
# $R, checked against the invariants.
run_sh() {
	local sh=$1 script=$2
	shift 2
	rm -f "$R"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --format=json -o "$R" "$@" -- "$sh" -c "$script"
	assert_success
	assert_invariants
}

# verdict SHELL SCRIPT: "default: FINDINGS suppressed N; off: FINDINGS" where
# FINDINGS are the leaked-across-exec findings as "program:fd:made"; $R
# stays the report of the second run.
verdict() {
	local on off
	run_sh "$1" "$2"
	on=$(q '.suppressed as $s | [.findings[] | select(.kind == "leaked-across-exec")
	         | "\(.program):\(.fd):\(.origin.made)"] | join(",") + " suppressed \($s)"')
	run_sh "$1" "$2" --default-suppressions=no
	off=$(q '[.findings[] | select(.kind == "leaked-across-exec")
	          | "\(.program):\(.fd):\(.origin.made)"] | join(",")')
	echo "default: $on; off: $off"
}

# made_of_cat FD: origin.made of cat's fd FD (the one process running cat).
made_of_cat() {
	q '[.processes[] | select(.argv[0] == "cat") | .fds[] | select(.fd == $f)
	    | .origin.made] | if length == 1 then .[0] else error("cat fd \($f): \(length)") end' \
		--argjson f "$1"
}

@test "exec 3<FILE (open returns 3): the shell's redirection, no finding by default, one with --default-suppressions=no (bash, dash)" {
	for sh in bash dash; do
		run_sh "$sh" 'exec 3</etc/hostname; cat /dev/null'
		assert_equal "$(made_of_cat 3)" shell-redirection
		q_true '.findings == [] and .suppressed == 1'
		run_sh "$sh" 'exec 3</etc/hostname; cat /dev/null' --default-suppressions=no
		q_true '[.findings[] | {kind, fd, program, made: .origin.made}]
		        == [{kind: "leaked-across-exec", fd: 3, program: "cat", made: "shell-redirection"}]
		        and .suppressed == 0'
		q_true '(.findings[0].origin.call | startswith("open"))
		        and .findings[0].origin.program == "'"$sh"'"'
	done
}

# Whether fd 7 was moved there by a dup (dup2, F_DUPFD), or opened there.
MOVED='[.processes[].fds[] | select(.fd == 7) | .origin
        | .how == "dup" or .before_exec.how == "dup"] | any'
OPENED='[.processes[].fds[] | select(.fd == 7) | .origin.call | startswith("open")] | any'

@test "exec 7>FILE: the same verdict whether open() returned 7 or 3 moved by dup2, and whether 7 was open and closed before (bash, dash)" {
	local want='default:  suppressed 1; off: cat:7:shell-redirection'
	for sh in bash dash; do
		# open returns 3, moved onto 7
		assert_equal "$(verdict "$sh" "exec 7>$OUT; cat /dev/null")" "$want"
		q_true "$MOVED"
		# 3 to 6 taken: open returns 7 itself
		assert_equal "$(verdict "$sh" "exec 3</etc/hostname 4<&3 5<&3 6<&3; exec 7>$OUT
			exec 3<&- 4<&- 5<&- 6<&-; cat /dev/null")" "$want"
		q_true "(($MOVED) | not) and ($OPENED)"
		# 7 opened and closed before
		assert_equal "$(verdict "$sh" "exec 7</etc/hostname; exec 7<&-; exec 7>$OUT
			cat /dev/null")" "$want"
	done
}

@test "exec 7>FILE closed later with exec 7>&-, the shell reusing 3 hundreds of times meanwhile: the child's descriptor is still the shell's redirection (bash, dash)" {
	# cat is forked (a command follows); the shell then opens at 3 again
	# and again (each exec 8< opens there, and moves it onto 8), so 3's
	# last generation is not the one the redirection onto 7 was opened at.
	local script="exec 7>$OUT; cat /dev/null; exec 7>&-
		i=0; while [ \$i -lt 300 ]; do exec 8</etc/hostname; echo x >&2; i=\$((i+1)); done
		exec 8<&-"
	for sh in bash dash; do
		assert_equal "$(verdict "$sh" "$script")" 'default:  suppressed 1; off: cat:7:shell-redirection'
		assert_equal "$(made_of_cat 7)" shell-redirection
	done
}

@test "exec 3<&- before the command: nothing reaches it, nothing is reported, nothing suppressed (bash, dash)" {
	for sh in bash dash; do
		run_sh "$sh" 'exec 3</etc/hostname; exec 3<&-; cat /dev/null'
		q_true '.findings == [] and .suppressed == 0'
		q_true '[.processes[] | select(.argv[0] == "cat") | .fds[] | select(.fd == 3)] == []'
	done
}

@test "a command's own redirection, cat 5<FILE: made in the forked shell, the same verdict (bash, dash)" {
	for sh in bash dash; do
		assert_equal "$(verdict "$sh" 'cat /dev/null 5</etc/hostname; :')" \
			'default:  suppressed 1; off: cat:5:shell-redirection'
		assert_equal "$(made_of_cat 5)" shell-redirection
	done
}

@test "a leak from a program that is no shell is still reported, also when it passes through a shell; the shell's own here-document pipe too" {
	# exec_keep opens a file without O_CLOEXEC and execs sh -c 'exec exec_keep ...'
	traced "$SCEN/exec_keep" --via-sh /etc/hostname
	assert_success
	assert_invariants
	q_true '[.findings[] | {kind, fd, made: .origin.made, program: .origin.program}]
	        == [{kind: "leaked-across-exec", fd: 3, made: null, program: "exec_keep"}]'
	q_true '.suppressed == 0'
	# dash hands the pipe of a here-document to $(...): made by pipe(), not
	# a redirection's open
	traced dash -c 'cat <<EOF
$(ls /dev/null)
EOF'
	assert_success
	assert_invariants
	q_true '[.findings[] | select(.kind == "leaked-across-exec") | .origin | [.call, .made]]
	        == [["pipe", null]]'
}

@test "the text report says it: the descriptor's origin and the finding's origin name the shell redirection" {
	run --separate-stderr kcmptrace_no_fd3 "$KT" --default-suppressions=no -o "$OUT.txt" -- \
		bash -c 'exec 3</etc/hostname; cat /dev/null'
	assert_success
	# long lines wrap (never cut): read the report as one line
	local text
	text=$(tr -s ' \n' ' ' <"$OUT.txt")
	run grep -o 'shell redirection: kept across exec (open at bash[^)]*))' <<<"$text"
	assert_equal "${#lines[@]}" 1
	run grep -o 'origin: open in bash at [^ ]* (a shell redirection)' <<<"$text"
	assert_equal "${#lines[@]}" 1
	run --separate-stderr kcmptrace_no_fd3 "$KT" -o "$OUT.txt" -- \
		bash -c 'exec 3</etc/hostname; cat /dev/null'
	assert_success
	run grep -c '^Findings: none (1 suppressed)' "$OUT.txt"
	assert_output 1
}

@test "--default-suppressions: no and --no-default-suppressions turn the built-in rules off, a user's made= rule works alone, a bad value is one line" {
	run_sh bash 'exec 3</etc/hostname; cat /dev/null' --no-default-suppressions
	q_true '(.findings | length) == 1 and .suppressed == 0'
	echo 'made=shell-redirection kind=leaked-across-exec program=cat' >"$BATS_TEST_TMPDIR/s.supp"
	run_sh bash 'exec 3</etc/hostname; cat /dev/null' --default-suppressions=no \
		--suppressions="$BATS_TEST_TMPDIR/s.supp"
	q_true '.findings == [] and .suppressed == 1'
	run_sh bash 'exec 3</etc/hostname; cat /dev/null' --default-suppressions=yes
	q_true '.findings == [] and .suppressed == 1'
	run --separate-stderr "$KT" --default-suppressions=maybe -- true
	assert_one_line_error
	assert_equal "$status" 2
	echo 'made=' >"$BATS_TEST_TMPDIR/bad.supp"
	run --separate-stderr "$KT" --suppressions="$BATS_TEST_TMPDIR/bad.supp" -- true
	assert_one_line_error
}

@test "a script running scripts (bash reads each from fd 255): every fd 255 is its own description, also when the tree starts with no high descriptor" {
	# bash's script descriptor is 255 in every bash: the child's, inherited
	# close-on-exec and gone at its exec, must not lend its description to
	# the new image's 255. A tree that inherits no high number starts every
	# image with a small table: the closed generation of 255 must be kept
	# beyond it all the same (the bug: each child's script joined its
	# parent's, as pyenv's shims showed).
	local dir=$BATS_TEST_TMPDIR/scripts
	mkdir -p "$dir"
	printf 'bash %q/child.sh\nx=$(bash %q/child.sh)\n: done\n' "$dir" "$dir" >"$dir/parent.sh"
	printf 'bash %q/grandchild.sh\n' "$dir" >"$dir/child.sh"
	printf 'sleep 0\n' >"$dir/grandchild.sh"
	rm -f "$R"
	run --separate-stderr without_inherited_fds "$KT" --format=json -o "$R" -- bash "$dir/parent.sh"
	assert_success
	assert_invariants
	# one description per script: parent, two child runs, two grandchild runs
	q_true '[.processes[] | .fds[] | select(.fd == 255)] as $s
	        | ($s | length) == 5 and ($s | map(.ofd) | unique | length) == 5
	        and ($s | map(.target | split("/") | last) | sort)
	            == ["child.sh", "child.sh", "grandchild.sh", "grandchild.sh", "parent.sh"]'
}
