#!/usr/bin/env bats
# Origins of the descriptors made by libc functions that open, receive and
# close behind the open/close hooks: stdio and directory streams, mkstemp
# and the other makers, SCM_RIGHTS and pidfd_getfd, close_range and closefrom.

setup() {
	load helpers
}

# assert_origin PID FD HOW CALL [CLOEXEC]
assert_origin() {
	local got want="$3 $4${5:+ $5}"
	got=$(q '[fdent($p; $f)] | if length == 1 then .[0] | "\(.origin.how) \(.origin.call)" + (if $c == "" then "" else " \(.cloexec)" end)
		 else "pid \($p) has \(length) entries for fd \($f)" end' \
		--argjson p "$1" --argjson f "$2" --arg c "${5-}")
	[[ $got == "$want" ]] || fail "pid $1 fd $2: expected origin '$want', got '$got'"
}

@test "stdio and directory streams: fopen, freopen, tmpfile, popen, opendir are opens; fdopen keeps the open; closed streams are gone" {
	F=$(make_data_file)
	D=$(realpath "$BATS_TEST_TMPDIR")
	traced "$SCEN/stdio_dir" "$F" "$D"
	assert_success
	assert_invariants
	P=$(root_pid)
	assert_origin "$P" "$(kv fopen_fd)" open fopen false
	assert_origin "$P" "$(kv fopen_e_fd)" open fopen true
	assert_origin "$P" "$(kv fopen64_fd)" open fopen64 false
	assert_origin "$P" "$(kv freopen_fd)" open freopen false
	assert_origin "$P" "$(kv freopen64_fd)" open freopen64 false
	assert_origin "$P" "$(kv fdopen_fd)" open open false
	assert_origin "$P" "$(kv tmpfile_fd)" open tmpfile false
	assert_origin "$P" "$(kv tmpfile64_fd)" open tmpfile64 false
	assert_origin "$P" "$(kv popen_fd)" open popen true
	assert_origin "$P" "$(kv opendir_fd)" open opendir true
	assert_origin "$P" "$(kv fdopendir_fd)" open open true # fdopendir sets FD_CLOEXEC
	assert_equal "$(fd_get "$P" "$(kv fopen_fd)" .target)" "$F"
	assert_equal "$(fd_get "$P" "$(kv freopen_fd)" .target)" "$F"
	assert_equal "$(fd_get "$P" "$(kv popen_fd)" .type)" pipe
	assert_equal "$(fd_get "$P" "$(kv opendir_fd)" .type)" dir
	assert_no_fd "$P" "$(kv fclosed_fd)"
	assert_no_fd "$P" "$(kv pclosed_fd)"
	assert_no_fd "$P" "$(kv closedir_fd)"
	# the two popen'd shells are its children
	q_true '[.processes[] | select(.ppid == $p)] | length == 2 and all(.[]; .argv == ["sh", "-c", "true"])' \
		--argjson p "$P"
}

@test "mkstemp family, shm_open, posix_openpt, eventfd, timerfd, signalfd, epoll, inotify, memfd, pidfd: opens with their call" {
	traced "$SCEN/makers" "$BATS_TEST_TMPDIR"
	assert_success
	assert_invariants
	P=$(root_pid)
	assert_origin "$P" "$(kv mkstemp_fd)" open mkstemp false
	assert_origin "$P" "$(kv mkostemp_fd)" open mkostemp true
	assert_origin "$P" "$(kv mkstemps_fd)" open mkstemps false
	assert_origin "$P" "$(kv mkostemps_fd)" open mkostemps true
	assert_origin "$P" "$(kv mkstemp64_fd)" open mkstemp false
	assert_origin "$P" "$(kv mkostemp64_fd)" open mkostemp false
	assert_origin "$P" "$(kv mkstemps64_fd)" open mkstemps false
	assert_origin "$P" "$(kv mkostemps64_fd)" open mkostemps false
	assert_origin "$P" "$(kv shm_fd)" open shm_open true
	assert_origin "$P" "$(kv openpt_fd)" open posix_openpt false
	assert_origin "$P" "$(kv getpt_fd)" open posix_openpt false
	assert_origin "$P" "$(kv eventfd_fd)" open eventfd true
	assert_origin "$P" "$(kv timerfd_fd)" open timerfd_create false
	assert_origin "$P" "$(kv signalfd_fd)" open signalfd true # the second call made nothing new
	assert_origin "$P" "$(kv epoll_fd)" open epoll_create false
	assert_origin "$P" "$(kv epoll1_fd)" open epoll_create1 true
	assert_origin "$P" "$(kv inotify_fd)" open inotify_init false
	assert_origin "$P" "$(kv inotify1_fd)" open inotify_init1 true
	assert_origin "$P" "$(kv memfd_fd)" open memfd_create false
	assert_origin "$P" "$(kv pidfd_fd)" open pidfd_open true
	assert_origin "$P" "$(kv getfd_fd)" received pidfd_getfd true
	assert_equal "$(fd_get "$P" "$(kv eventfd_fd)" .target)" "anon_inode:[eventfd]"
	assert_equal "$(fd_get "$P" "$(kv openpt_fd)" .target)" /dev/ptmx
	if [[ $(kv fanotify_fd) -ge 0 ]]; then
		assert_origin "$P" "$(kv fanotify_fd)" open fanotify_init true
	fi
	if kcmp_works; then
		# pidfd_getfd copied this process's own descriptor: one description
		assert_shared "$P" "$(kv getfd_fd)" "$P" "$(kv getfd_target)"
	fi
}

@test "SCM_RIGHTS to a child: received by recvmsg/recvmmsg, the sender's descriptions (kcmp)" {
	need_kcmp
	F=$(make_data_file)
	traced "$SCEN/scm_rights" "$F"
	assert_success
	assert_invariants
	P=$(root_pid)
	C=$(only_child "$P")
	assert_origin "$C" "$(kv recv_file_fd)" received recvmsg false
	assert_origin "$C" "$(kv recv_pipe_fd)" received recvmsg false
	assert_origin "$C" "$(kv recvmmsg_fd)" received recvmmsg true
	assert_shared "$C" "$(kv recv_file_fd)" "$P" "$(kv file_fd)"
	assert_shared "$C" "$(kv recv_pipe_fd)" "$P" "$(kv pipe_read_fd)"
	assert_shared "$C" "$(kv recvmmsg_fd)" "$P" "$(kv pipe_write_fd)"
	q_true 'ofdent(ofd($p; $f)) | .evidence == "kcmp"' --argjson p "$P" --argjson f "$(kv file_fd)"
	assert_equal "$(fd_get "$C" "$(kv recv_file_fd)" .target)" "$F"
	# the sender (the socket's peer) and which of its descriptors it sent
	assert_equal "$(fd_get "$C" "$(kv recv_file_fd)" .origin.pid)" "$P"
	assert_equal "$(fd_get "$C" "$(kv recv_file_fd)" .origin.fd)" "$(kv file_fd)"
	assert_equal "$(fd_get "$C" "$(kv recvmmsg_fd)" .origin.fd)" "$(kv pipe_write_fd)"

	# the text report words it with the sender, the call and the site
	run --separate-stderr kcmptrace_no_fd3 "$KT" -- "$SCEN/scm_rights" "$F"
	assert_success
	[[ $stderr =~ "received from "[0-9]+" fd "[0-9]+" by recvmsg at "[^\ ] ]] ||
		fail "no 'received from PID fd N by recvmsg at SITE' in: $stderr"
	[[ $stderr =~ "received from "[0-9]+" fd "[0-9]+" by recvmmsg at "[^\ ] ]] ||
		fail "no 'received from PID fd N by recvmmsg at SITE' in: $stderr"
}

# grouping_of: the report's shared descriptions as "holder,holder..." lines,
# holders named by their process's place in the tree and their fd (pids
# differ from run to run, the grouping must not).
grouping_of() {
	q '(.processes | to_entries | map({key: (.value.pid | tostring), value: .key}) | from_entries) as $rank
	      | [.ofds[] | select((.holders | length) > 1)
	         | [.holders[] | "p\($rank[.pid | tostring]):\(.fd)"] | sort | join(",")] | sort | .[]'
}

@test "SCM_RIGHTS: the same grouping in 20 runs of one program" {
	need_kcmp
	F=$(make_data_file)
	local first="" now i
	for i in $(seq 20); do
		traced "$SCEN/scm_rights" "$F"
		assert_success
		assert_invariants
		now=$(grouping_of)
		[[ -n $now ]] || fail "run $i: no shared description"
		[[ -z $first ]] && first=$now
		[[ $now == "$first" ]] || fail "run $i grouped differently:
$now
first run:
$first"
	done
}

@test "SCM_RIGHTS: a sender gone before the receipt is joined by what it recorded, every run; two descriptions of one file are not guessed at" {
	F=$(make_data_file)
	local i
	# The sender sends, closes its copy and ends before the receiver takes
	# it (kcmp never sees both); its keeper child held the description.
	# What the sender recorded joins them, every run.
	for i in $(seq 5); do
		traced "$SCEN/sent_then_gone" "$F"
		assert_success
		assert_invariants
		P=$(root_pid)
		q_true '[.processes[] | select(.pid == $k) | .fds[] | select(.target == $f) | .ofd]
		        == [ofd($p; $r)]' --argjson k "$(kv keeper)" --argjson p "$P" \
			--argjson r "$(kv received_fd)" --arg f "$F" || fail "run $i: not joined: $(cat "$R")"
		# the sender is named by pid (it is gone: no start)
		assert_equal "$(fd_get "$P" "$(kv received_fd)" .origin.how)" received
		[[ $(fd_get "$P" "$(kv received_fd)" .origin.pid) =~ ^[0-9]+$ ]]
	done
	# Two descriptions of one file sent: which one arrived first cannot be
	# told by the file, so neither is joined (never a guess).
	traced "$SCEN/sent_then_gone" "$F" twice
	assert_success
	assert_invariants
	P=$(root_pid)
	q_true '[.processes[] | select(.pid == $k) | .fds[] | select(.target == $f) | .ofd] as $kept
	        | ($kept | length) == 1 and ([ofd($p; $a), ofd($p; $b)] | index($kept[0])) == null
	          and ofd($p; $a) != ofd($p; $b)' --argjson k "$(kv keeper)" --argjson p "$P" \
		--argjson a "$(kv received_fd)" --argjson b "$(kv received_fd2)" --arg f "$F"
}

@test "closefrom and close_range: same numbers as untraced, only what is open is listed, CLOSE_RANGE_CLOEXEC shows" {
	F=$(make_data_file)
	run --separate-stderr kcmptrace_no_fd3 "$SCEN/close_all" "$F"
	assert_success
	want=$output
	traced "$SCEN/close_all" "$F"
	assert_success
	assert_equal "$output" "$want"
	assert_invariants
	P=$(root_pid)
	K=$(kv kept_fd)
	X=$(kv cloexec_fd)
	assert_equal "$(kv cloexec_flag)" 1
	q_true '[proc($p) | .fds[].fd] == [0, 1, 2, $k, $x]' --argjson p "$P" --argjson k "$K" --argjson x "$X"
	assert_origin "$P" "$K" open open false
	assert_origin "$P" "$X" open open true
	assert_equal "$(fd_get "$P" "$K" .target)" "$F"
	assert_equal "$(fd_get "$P" "$X" .target)" /dev/null
}

@test "pidfd_getfd from another process: received from that process's descriptor, one description" {
	F=$(make_data_file)
	traced "$SCEN/pidfd_copy" "$F"
	assert_success
	[[ $output != pidfd=unsupported ]] || skip "pidfd_getfd is not allowed here"
	assert_invariants
	P=$(root_pid)
	C=$(kv child)
	PF=$(kv parent_fd)
	CF=$(kv copy_fd)
	assert_equal "$(fd_get "$C" "$CF" .origin.how)" received
	assert_equal "$(fd_get "$C" "$CF" .origin.call)" pidfd_getfd
	assert_equal "$(fd_get "$C" "$CF" .origin.pid)" "$P"
	assert_equal "$(fd_get "$C" "$CF" .origin.fd)" "$PF"
	assert_shared "$P" "$PF" "$C" "$CF"
}
