#!/usr/bin/env bats
# Thousands of descriptors in processes alive together.

setup() {
	load helpers
}

# check_many_fds N K ORDER
check_many_fds() {
	local n=$1 k=$2 order=$3 first last dups opens P kids X
	traced "$SCEN/many_fds" "$n" "$k" "$order"
	assert_success
	first=$(kv first_fd)
	last=$(kv last_fd)
	dups=$(kv child_dups)
	opens=$(kv child_opens)
	assert_equal "$(kv fds)" "$n"
	assert_equal "$((last - first + 1))" "$n"
	assert_invariants
	P=$(root_pid)
	mapfile -t kids < <(children "$P")
	[[ ${#kids[@]} -eq $k ]] || fail "expected $k children, got: ${kids[*]}"
	q_true ".processes | length == $((k + 1))"

	local args=(--argjson p "$P" --argjson first "$first" --argjson last "$last" --argjson n "$n")
	# The parent: every descriptor of the block once, i%3==1 a dup of the one
	# before, all others distinct descriptions.
	q_true '[proc($p).fds[] | select(.fd >= $first and .fd <= $last)] | sort_by(.fd) as $f
	        | ($f | length) == $n
	          and ([$f[].fd] == [range($first; $last + 1)])
	          and all(range(1; $n); . as $i | if $i % 3 == 1 then $f[$i].ofd == $f[$i - 1].ofd else $f[$i].ofd != $f[$i - 1].ofd end)
	          and ([$f[].ofd] | unique | length) == ([range(0; $n) | select(. % 3 != 1)] | length)
	          and all(range(0; $n); . as $i | $f[$i].origin.how == (if $i % 3 == 1 then "dup" else "open" end))' "${args[@]}"

	for X in "${kids[@]}"; do
		# the same block, each one the parent's description
		q_true '(proc($p).fds | map({key: (.fd | tostring), value: .ofd}) | from_entries) as $pofd
		        | [proc($c).fds[] | select(.fd >= $first and .fd <= $last)]
		        | length == $n and all(.[]; .ofd == $pofd[.fd | tostring] and .origin.how == "inherited")' \
			"${args[@]}" --argjson c "$X"
		# plus its own dups (sharing with their sources) and opens (new descriptions)
		q_true '(proc($p).fds | length) as $pn | (proc($c).fds | length) == $pn + $dups + $opens' \
			"${args[@]}" --argjson c "$X" --argjson dups "$dups" --argjson opens "$opens"
		q_true '(proc($c).fds | map({key: (.fd | tostring), value: .ofd}) | from_entries) as $cofd
		        | [proc($c).fds[] | select(.fd > $last and .origin.how == "dup")]
		        | length == $dups and all(.[]; .ofd == $cofd[.origin.fd | tostring])' \
			"${args[@]}" --argjson c "$X" --argjson dups "$dups"
		q_true '[.processes[] | select(.pid != $c) | .fds[].ofd] as $others
		        | [proc($c).fds[] | select(.fd > $last and .origin.how == "open")]
		        | length == $opens and ([.[].ofd] | unique | length) == $opens
		          and all(.[]; .ofd as $o | any($others[]; . == $o) | not)' \
			"${args[@]}" --argjson c "$X" --argjson opens "$opens"
	done
	q_true 'all(.processes[]; .end == {"how": "exit", "status": 0})'
}

@test "3000 descriptors, 3 children that dup and open their own, children exit in order" {
	check_many_fds 3000 3 forward
}

@test "500 descriptors, 3 children, children exit in reverse order" {
	check_many_fds 500 3 reverse
}

@test "200 children alive at once: each description of an ending process is linked once, to a live holder; the trace grows linearly" {
	local D="$BATS_TEST_TMPDIR/trace" P
	mkdir -m 700 "$D"
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --format=json -o "$R" --trace-dir "$D" -- "$SCEN/live_children" 200
	assert_success
	assert_output "children=200"
	assert_invariants
	P=$(root_pid)
	# The read end: the 200 children's fd, one description with kcmp's word.
	q_true '[.processes[] | select(.ppid == $p) | .fds[] | select(.type == "pipe" and .access == "r")] as $r
	        | ($r | length) == 200 and ([$r[].ofd] | unique | length) == 1
	          and ([.ofds[] | select(.id == $r[0].ofd)][0].evidence == "kcmp")' --argjson p "$P"
	# Each child links each of its descriptions once (the old way linked
	# each to every live child: about 200 * 200 / 2 * 4 lines).
	local same fds
	same=$(cat "$D"/*.rec | grep -c '^same	')
	fds=$(q '[.processes[].fds[]] | length')
	((same <= fds)) || fail "$same same lines for $fds descriptors in 201 processes"
}
