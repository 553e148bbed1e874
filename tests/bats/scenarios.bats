#!/usr/bin/env bats
# Process trees traced by the launcher: do the reports get the open file
# descriptions right?

setup() {
	load helpers
}

@test "kcmp man page example: fork shares, a second open does not, dup does" {
	F=$(make_data_file)
	traced "$SCEN/kcmp_manpage" "$F"
	assert_success
	check_manpage "$F"
}

@test "bash pipeline echo | cat: the writer holds the write end; cat closed its stdin before exiting" {
	traced bash -c 'echo hi | cat'
	assert_success
	assert_output hi
	assert_invariants
	B=$(root_pid)
	CAT=$(q '[.processes[] | select(.exe | test("/cat$"))] | if length == 1 then .[0].pid else error("cat processes: \(length)") end')
	W=$(q '[.processes[] | select(.pid != $cat and .ppid == $b) | .pid] | if length == 1 then .[0] else error("writers: \(.)") end' \
		--argjson cat "$CAT" --argjson b "$B")
	q_true 'proc($c).ppid == $b and proc($c).argv == ["cat"]' --argjson c "$CAT" --argjson b "$B"
	assert_equal "$(fd_get "$W" 1 .type)" pipe
	assert_equal "$(fd_get "$W" 1 .access)" w
	T=$(fd_get "$W" 1 .target)
	assert_holders "$(kcmptrace_ofd "$W" 1)" "$W:1"
	# coreutils cat closes its stdin itself before exit: a closed descriptor
	# never appears, and nobody else holds the pipe
	assert_no_fd "$CAT" 0
	q_true '[.processes[].fds[] | select(.target == $t)] | length == 1' --arg t "$T"
	# cat's stdout is the shell's, inherited and kept across the exec
	assert_shared "$CAT" 1 "$B" 1
	assert_equal "$(fd_get "$CAT" 1 .origin.how)" exec
	q_true 'all(.processes[]; .end == {"how": "exit", "status": 0})'
}

@test "bash pipeline into a reading subshell: the pipe's read and write ends are distinct descriptions held by the right processes" {
	traced bash -c 'echo hi | while read -r l; do echo "got $l"; done'
	assert_success
	assert_output "got hi"
	assert_invariants
	B=$(root_pid)
	mapfile -t kids < <(children "$B")
	[[ ${#kids[@]} -eq 2 ]] || fail "expected two children of bash, got: ${kids[*]}"
	# the reader has the pipe on fd 0, the writer is the other child
	RD=$(q '[.processes[] | select(.ppid == $b) | select(any(.fds[]; .fd == 0 and .type == "pipe")) | .pid]
	        | if length == 1 then .[0] else error("readers: \(.)") end' --argjson b "$B")
	W=$(q '[.processes[] | select(.ppid == $b and .pid != $r) | .pid] | .[0]' --argjson b "$B" --argjson r "$RD")
	assert_equal "$(fd_get "$W" 1 .type)" pipe
	assert_equal "$(fd_get "$W" 1 .access)" w
	assert_equal "$(fd_get "$RD" 0 .type)" pipe
	assert_equal "$(fd_get "$RD" 0 .access)" r
	assert_equal "$(fd_get "$RD" 0 .target)" "$(fd_get "$W" 1 .target)"
	assert_not_shared "$RD" 0 "$W" 1
	assert_holders "$(kcmptrace_ofd "$RD" 0)" "$RD:0"
	assert_holders "$(kcmptrace_ofd "$W" 1)" "$W:1"
	# the shell closed both ends after forking the two sides
	q_true '[proc($b).fds[] | select(.target == $t)] == []' --argjson b "$B" --arg t "$(fd_get "$W" 1 .target)"
	# the reader's stdout is the shell's
	assert_shared "$RD" 1 "$B" 1
	q_true 'all(.processes[]; .end == {"how": "exit", "status": 0})'
}

@test "fortified 64-bit opens (__open64_2, __openat64_2, open64) are seen as opens and inherited" {
	F=$(make_data_file)
	traced "$SCEN/fortified_open" "$F"
	assert_success
	assert_invariants
	P=$(root_pid)
	C=$(only_child "$P")
	for key in open_2_fd openat_2_fd open64_fd; do
		fd=$(kv "$key")
		assert_equal "$(fd_get "$P" "$fd" .origin.how)" open
		assert_equal "$(fd_get "$P" "$fd" .target)" "$F"
		assert_equal "$(fd_get "$C" "$fd" .origin.how)" inherited
		assert_shared "$P" "$fd" "$C" "$fd"
		assert_holders "$(kcmptrace_ofd "$P" "$fd")" "$P:$fd $C:$fd"
	done
	q_true '[fdent($p; $f) | .origin.call | test("openat")] == [true]' --argjson p "$P" --argjson f "$(kv openat_2_fd)"
}

check_exec_keep() {
	local F="$1" K CL P
	assert_success
	K=$(kv kept_fd)
	CL=$(kv cloexec_fd)
	assert_invariants
	q_true '.processes | length == 1'   # one entry per pid, though it exec'd
	P=$(root_pid)
	q_true 'proc($p) | .argv[1:] == ["--after-exec", $k, $c] and .exe == $exe and .end == {"how": "exit", "status": 0}' \
		--argjson p "$P" --arg k "$K" --arg c "$CL" --arg exe "$(realpath "$SCEN/exec_keep")"
	assert_equal "$(fd_get "$P" "$K" .origin.how)" exec
	assert_equal "$(fd_get "$P" "$K" .type)" file
	assert_equal "$(fd_get "$P" "$K" .target)" "$F"
	assert_equal "$(fd_get "$P" "$K" .cloexec)" false
	assert_no_fd "$P" "$CL"
}

@test "exec: a descriptor without O_CLOEXEC is kept with origin exec, the O_CLOEXEC one is gone" {
	F=$(make_data_file)
	traced "$SCEN/exec_keep" "$F"
	check_exec_keep "$F"
}

@test "exec twice (through /bin/sh -c 'exec ...'): still one process entry, last image" {
	F=$(make_data_file)
	traced "$SCEN/exec_keep" --via-sh "$F"
	check_exec_keep "$F"
	q_true '.processes[0].argv[0] | endswith("/exec_keep")'
}

# find_generations: sets G, M, C from the report of three_generations
find_generations() {
	G=$(root_pid)
	M=$(q '. as $r | [.processes[] | select(.ppid == $g) | .pid as $m | select(any($r.processes[]; .ppid == $m)) | .pid]
	       | if length == 1 then .[0] else error("middle generation: \(.)") end' --argjson g "$G")
	C=$(q '[.processes[] | select(.ppid == $m) | .pid] | if length == 1 then .[0] else error("grandchildren: \(.)") end' \
		--argjson m "$M")
	q_true '.processes | length == 3'
}

@test "three generations: the middle closes, grandparent and grandchild still share (grandchild exits first)" {
	need_kcmp
	F=$(make_data_file)
	traced "$SCEN/three_generations" "$F"
	assert_success
	assert_output "shared_fd=$(kv shared_fd) order=child-first"
	S=$(kv shared_fd)
	assert_invariants
	find_generations
	assert_shared "$G" "$S" "$C" "$S"
	assert_no_fd "$M" "$S"
	assert_holders "$(kcmptrace_ofd "$G" "$S")" "$G:$S $C:$S"
	q_true 'ofdent($id).evidence == "kcmp"' --argjson id "$(kcmptrace_ofd "$G" "$S")"
	assert_equal "$(fd_get "$C" "$S" .origin.how)" inherited
	assert_equal "$(fd_get "$C" "$S" .origin.pid)" "$M"
	q_true 'all(.processes[]; .end == {"how": "exit", "status": 0})'
}

@test "three generations: the grandparent exits while the grandchild holds the description" {
	need_kcmp
	F=$(make_data_file)
	traced "$SCEN/three_generations" --grandparent-first "$F"
	assert_success
	S=$(kv shared_fd)
	assert_invariants
	find_generations
	assert_shared "$G" "$S" "$C" "$S"
	assert_no_fd "$M" "$S"
	assert_holders "$(kcmptrace_ofd "$G" "$S")" "$G:$S $C:$S"
	q_true 'proc($g).end == {"how": "exit", "status": 0} and proc($m).end == {"how": "exit", "status": 0}' \
		--argjson g "$G" --argjson m "$M"
	# the grandchild may outlive the report
	q_true 'proc($c).end.how == "exit" or proc($c).end.how == "running"' --argjson c "$C"
}

@test "three generations, plain LD_PRELOAD: the grandchild is still running when the grandparent writes the report" {
	need_kcmp
	F=$(make_data_file)
	preloaded "$SCEN/three_generations" --grandparent-first "$F"
	assert_success
	S=$(kv shared_fd)
	assert_invariants
	find_generations
	assert_equal "$(q 'proc($c).end.how' --argjson c "$C")" running
	# a running process's descriptors come from its live table
	assert_shared "$G" "$S" "$C" "$S"
	assert_no_fd "$M" "$S"
	assert_holders "$(kcmptrace_ofd "$G" "$S")" "$G:$S $C:$S"
}

@test "two separate opens of one file at the same offset are different descriptions" {
	F=$(make_data_file)
	traced "$SCEN/same_offset" "$F"
	assert_success
	S=$(kv shared_fd)
	PO=$(kv parent_own_fd)
	CO=$(kv child_own_fd)
	assert_invariants
	P=$(root_pid)
	C=$(only_child "$P")
	assert_shared "$P" "$S" "$C" "$S"
	assert_not_shared "$P" "$PO" "$C" "$CO"
	assert_not_shared "$P" "$PO" "$P" "$S"
	assert_not_shared "$C" "$CO" "$P" "$S"
	assert_holders "$(kcmptrace_ofd "$P" "$PO")" "$P:$PO"
	assert_holders "$(kcmptrace_ofd "$C" "$CO")" "$C:$CO"
	assert_holders "$(kcmptrace_ofd "$P" "$S")" "$P:$S $C:$S"
	for pf in "$P:$PO" "$C:$CO" "$P:$S"; do
		assert_equal "$(fd_get "${pf%:*}" "${pf#*:}" .target)" "$F"
		assert_equal "$(fd_get "${pf%:*}" "${pf#*:}" .access)" r
	done
	assert_equal "$(fd_get "$P" "$PO" .origin.how)" open
	assert_equal "$(fd_get "$C" "$CO" .origin.how)" open
}

@test "dup2 onto stdout and stdin, then fork: all copies are one description each" {
	F="$BATS_TEST_TMPDIR/out"
	traced "$SCEN/dup2_stdio" "$F"
	assert_success
	F=$(realpath "$F")
	assert_equal "$(cat "$F")" "child read hello"
	FD=$(kv file_fd)
	PR=$(kv pipe_read_fd)
	PW=$(kv pipe_write_fd)
	assert_invariants
	P=$(root_pid)
	C=$(only_child "$P")

	assert_shared "$P" 1 "$P" "$FD"
	assert_shared "$C" 1 "$P" 1
	assert_shared "$P" 0 "$P" "$PR"
	assert_shared "$C" 0 "$P" 0
	assert_not_shared "$P" "$PR" "$P" "$PW"
	assert_holders "$(kcmptrace_ofd "$P" 1)" "$P:1 $P:$FD $C:1 $C:$FD"
	assert_holders "$(kcmptrace_ofd "$P" 0)" "$P:0 $P:$PR $C:0 $C:$PR"
	assert_holders "$(kcmptrace_ofd "$P" "$PW")" "$P:$PW $C:$PW"

	assert_equal "$(fd_get "$P" 1 .origin.how)" dup
	assert_equal "$(fd_get "$P" 1 .origin.call)" dup2
	assert_equal "$(fd_get "$P" 1 .origin.fd)" "$FD"
	assert_equal "$(fd_get "$P" 1 .type)" file
	assert_equal "$(fd_get "$P" 1 .target)" "$F"
	assert_equal "$(fd_get "$P" 1 .access)" w
	assert_equal "$(fd_get "$P" 0 .origin.how)" dup
	assert_equal "$(fd_get "$P" 0 .origin.fd)" "$PR"
	assert_equal "$(fd_get "$P" 0 .type)" pipe
	assert_equal "$(fd_get "$P" 0 .access)" r
	assert_equal "$(fd_get "$C" 1 .origin.how)" inherited
}

check_exit_order() {
	local order="$1" F FD PR PW P kids X
	F=$(make_data_file)
	traced "$SCEN/exit_orders" "$order" "$F"
	assert_success
	FD=$(kv file_fd)
	PR=$(kv pipe_read_fd)
	PW=$(kv pipe_write_fd)
	assert_equal "$(kv order)" "$order"
	assert_invariants
	P=$(root_pid)
	mapfile -t kids < <(children "$P")
	[[ ${#kids[@]} -eq 2 ]] || fail "expected two children, got: ${kids[*]}"
	for X in "${kids[@]}"; do
		assert_shared "$X" "$FD" "$P" "$FD"
		assert_shared "$X" "$PR" "$P" "$PR"
		assert_shared "$X" "$PW" "$P" "$PW"
	done
	assert_not_shared "$P" "$PR" "$P" "$PW"
	assert_not_shared "$P" "$FD" "$P" "$PR"
	for fd in "$FD" "$PR" "$PW"; do
		assert_holders "$(kcmptrace_ofd "$P" "$fd")" "$P:$fd ${kids[0]}:$fd ${kids[1]}:$fd"
	done
	q_true 'all(.processes[]; .end == {"how": "exit", "status": 0})'
}

@test "exit orders: parent waits, child a exits before child b" {
	check_exit_order a-b
}

@test "exit orders: parent waits, child b exits before child a" {
	check_exit_order b-a
}

@test "leaky_server: the helper holds the server's listening socket; the server still holds the pipe's write end" {
	traced "$SCEN/leaky_server"
	assert_success
	L=$(kv listen_fd)
	PW=$(kv pipe_write_fd)
	assert_invariants
	S=$(root_pid)
	H=$(only_child "$S")
	assert_shared "$S" "$L" "$H" "$L"
	assert_equal "$(fd_get "$S" "$L" .type)" socket
	assert_equal "$(fd_get "$H" "$L" .origin.how)" exec
	q_true 'proc($h).argv == ["leaky_server", "--helper"]' --argjson h "$H"
	# the write end the server forgot: the same description as the helper's stdout
	assert_shared "$S" "$PW" "$H" 1
	assert_holders "$(kcmptrace_ofd "$S" "$PW")" "$S:$PW $H:1"
}
