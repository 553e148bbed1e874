#!/usr/bin/env bats
# Socket addresses (issue 13): each socket descriptor's "address" (local,
# peer, listening), asked of the kernel by the traced process at its
# snapshots, or read from /proc/PID/net for processes seen from outside;
# shown after the target in the text report and in findings about it.

setup() {
	load helpers
	export BATS_TEST_TIMEOUT=60
	TXT="$BATS_TEST_TMPDIR/r.txt"
}

# traced_kept CMD...: traced, the trace kept in $T for the text report.
traced_kept() {
	T="$BATS_TEST_TMPDIR/trace"
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --trace-dir "$T" --format=json -o "$R" -- "$@"
}

# text_report: the text report of $T in $output (its exit status tells of
# findings, not asserted here).
text_report() {
	run --separate-stderr kcmptrace_no_fd3 "$KT" report "$T"
	[[ -n $output ]] || fail "no text report: $stderr"
}

# addr PID FD: the address object of PID's FD, compact.
addr() {
	q "proc($1) | .fds[] | select(.fd == $2) | .address" -c
}

@test "leaky_server: its listener on 127.0.0.1 (an ephemeral port), held by both processes, in JSON, text and the leak's message" {
	traced_kept "$SCEN/leaky_server"
	assert_success
	assert_invariants
	local L root child port text
	L=$(kv listen_fd)
	root=$(q 'roots[0]')
	child=$(q "kids($root)[0]")
	port=$(q "proc($root) | .fds[] | select(.fd == $L) | .address.local | capture(\"^127\\\\.0\\\\.0\\\\.1:(?<p>[0-9]+)$\").p")
	[[ $port =~ ^[0-9]+$ && $port -gt 0 ]] || fail "no 127.0.0.1:PORT local address: $(addr "$root" "$L")"
	assert_equal "$(addr "$root" "$L")" "{\"local\":\"127.0.0.1:$port\",\"peer\":null,\"listening\":true}"
	assert_equal "$(addr "$child" "$L")" "{\"local\":\"127.0.0.1:$port\",\"peer\":null,\"listening\":true}"
	# The target stays the inode, the same for both holders.
	q_true "[.processes[].fds[] | select(.type == \"socket\") | .target] | unique | length == 1 and (.[0] | test(\"^socket:\\\\[[0-9]+\\\\]$\"))"
	# Non-sockets have none.
	q_true '[.processes[].fds[] | select(.type != "socket") | .address] | all(. == null)'
	q_true "[.findings[] | select(.kind == \"leaked-across-exec\" and .pid == $child) | .message]
		| length == 1 and (.[0] | contains(\"listening on 127.0.0.1:$port\"))"
	text_report
	[[ $output =~ socket:\[[0-9]+\]\ listening\ on\ 127\.0\.0\.1:$port ]] ||
		fail "the text report does not show the address after the target: $output"
}

@test "a connected TCP pair: local and peer swapped between the two ends; a listener leaked across exec names its port" {
	traced_kept "$SCEN/socket_addresses" "$BATS_TEST_TMPDIR" --exec
	assert_success
	assert_invariants
	local root port cport child
	root=$(q 'roots[0]')
	port=$(kv port)
	cport=$(kv client_port)
	assert_equal "$(addr "$root" "$(kv listen_fd)")" "{\"local\":\"127.0.0.1:$port\",\"peer\":null,\"listening\":true}"
	assert_equal "$(addr "$root" "$(kv client_fd)")" "{\"local\":\"127.0.0.1:$cport\",\"peer\":\"127.0.0.1:$port\",\"listening\":false}"
	assert_equal "$(addr "$root" "$(kv accepted_fd)")" "{\"local\":\"127.0.0.1:$port\",\"peer\":\"127.0.0.1:$cport\",\"listening\":false}"
	child=$(q "kids($root)[0]")
	assert_equal "$(addr "$child" "$(kv listen_fd)")" "{\"local\":\"127.0.0.1:$port\",\"peer\":null,\"listening\":true}"
	q_true "[.findings[] | select(.kind == \"leaked-across-exec\" and .pid == $child and .fd == $(kv listen_fd))
		| .message] | length == 1 and (.[0] | test(\"[(]socket socket:\\\\[[0-9]+\\\\] listening on 127\\\\.0\\\\.0\\\\.1:$port[)]\"))"
	text_report
	assert_output --partial "127.0.0.1:$cport <-> 127.0.0.1:$port"
	assert_output --partial "127.0.0.1:$port <-> 127.0.0.1:$cport"
}

@test "UNIX sockets: a path, an abstract name (@), a socketpair's unnamed ends" {
	traced_kept "$SCEN/socket_addresses" "$BATS_TEST_TMPDIR"
	assert_success
	assert_invariants
	local root abstract
	root=$(q 'roots[0]')
	abstract=$(kv abstract)
	assert_equal "$(addr "$root" "$(kv unix_fd)")" "{\"local\":\"$BATS_TEST_TMPDIR/s.sock\",\"peer\":null,\"listening\":true}"
	assert_equal "$(addr "$root" "$(kv abstract_fd)")" "{\"local\":\"@$(kv abstract)\",\"peer\":null,\"listening\":false}"
	assert_equal "$(addr "$root" "$(kv pair_fd)")" '{"local":"","peer":"","listening":false}'
	assert_equal "$(addr "$root" "$(kv pair_fd2)")" '{"local":"","peer":"","listening":false}'
	text_report
	assert_output --partial "$BATS_TEST_TMPDIR/s.sock"
	assert_output --partial "@$abstract"
	assert_output --partial "unnamed <-> unnamed"
}

@test "IPv6: [::1]:PORT" {
	traced "$SCEN/socket_addresses" "$BATS_TEST_TMPDIR"
	assert_success
	[[ $(kv ipv6_fd) != -1 ]] || skip "no IPv6 loopback here"
	assert_invariants
	assert_equal "$(addr "$(q 'roots[0]')" "$(kv ipv6_fd)")" "{\"local\":\"[::1]:$(kv ipv6_port)\",\"peer\":null,\"listening\":true}"
}

@test "a live snapshot reads the same addresses from /proc/PID/net as the processes' own" {
	local dir="$BATS_TEST_TMPDIR/t" fifo="$BATS_TEST_TMPDIR/in" out="$BATS_TEST_TMPDIR/out" kpid live
	live="$BATS_TEST_TMPDIR/live.json"
	mkfifo "$fifo"
	"$KT" --trace-dir "$dir" -o /dev/null -- "$SCEN/socket_addresses" "$BATS_TEST_TMPDIR" --hold \
		<"$fifo" >"$out" 2>/dev/null 3>&- &
	kpid=$!
	exec 5>"$fifo"
	for _ in $(seq 100); do
		[[ -s $out ]] && [[ $(ls "$dir"/*.rec 2>/dev/null | wc -l) -ge 2 ]] && break
		sleep 0.1
	done
	sleep 0.3 # the child's exec of sleep
	run -0 kcmptrace_no_fd3 "$KT" report --format=json -o "$live" "$dir"
	echo done >&5
	exec 5>&-
	wait "$kpid"
	assert_invariants "$live"
	local line root port cport
	line=$(cat "$out")
	R="$live"
	root=$(q 'roots[0]')
	q_true "proc($root) | .snapshot.why == \"live\""
	port=$(kv port "$line")
	cport=$(kv client_port "$line")
	assert_equal "$(addr "$root" "$(kv listen_fd "$line")")" "{\"local\":\"127.0.0.1:$port\",\"peer\":null,\"listening\":true}"
	assert_equal "$(addr "$root" "$(kv client_fd "$line")")" "{\"local\":\"127.0.0.1:$cport\",\"peer\":\"127.0.0.1:$port\",\"listening\":false}"
	assert_equal "$(addr "$root" "$(kv accepted_fd "$line")")" "{\"local\":\"127.0.0.1:$port\",\"peer\":\"127.0.0.1:$cport\",\"listening\":false}"
	assert_equal "$(addr "$root" "$(kv unix_fd "$line")")" "{\"local\":\"$BATS_TEST_TMPDIR/s.sock\",\"peer\":null,\"listening\":true}"
	assert_equal "$(addr "$root" "$(kv abstract_fd "$line")")" "{\"local\":\"@$(kv abstract "$line")\",\"peer\":null,\"listening\":false}"
	assert_equal "$(addr "$root" "$(kv pair_fd "$line")")" '{"local":"","peer":"","listening":false}'
	# sleep, holding the listener across exec, seen live too.
	assert_equal "$(addr "$(q "kids($root)[0]")" "$(kv listen_fd "$line")")" "{\"local\":\"127.0.0.1:$port\",\"peer\":null,\"listening\":true}"
}

# ofd_of PID FD: the id of PID's FD's open file description.
ofd_of() {
	fd_get "$1" "$2" .ofd
}

@test "ofds[] carry their socket's address; a socketpair's two ends name each other (peer_ofd) when one process held both" {
	traced_kept "$SCEN/socket_addresses" "$BATS_TEST_TMPDIR" --exec
	assert_success
	assert_invariants
	local root key fd id
	root=$(q 'roots[0]')
	for key in listen_fd client_fd accepted_fd unix_fd abstract_fd pair_fd pair_fd2; do
		fd=$(kv "$key")
		id=$(ofd_of "$root" "$fd")
		assert_equal "$key: $(q ".ofds[] | select(.id == $id) | .address" -c)" "$key: $(addr "$root" "$fd")"
	done
	# the listener is held by the exec'd child too: one description, one address
	id=$(ofd_of "$root" "$(kv listen_fd)")
	q_true "[.ofds[] | select(.id == $id) | .holders | length] == [2]"
	assert_equal "$(q ".ofds[] | select(.id == $id) | .address.listening")" true
	q_true '[.ofds[] | select(.type != "socket") | .address] | all(. == null)'
	# the socketpair's ends, both kept by the root: each the other's peer
	local a b
	a=$(ofd_of "$root" "$(kv pair_fd)")
	b=$(ofd_of "$root" "$(kv pair_fd2)")
	assert_equal "$(q ".ofds[] | select(.id == $a) | .peer_ofd")" "$b"
	assert_equal "$(q ".ofds[] | select(.id == $b) | .peer_ofd")" "$a"
	assert_equal "$(q '[.ofds[] | select(.peer_ofd != null) | .id] | sort | map(tostring) | join(" ")')" \
		"$(printf '%s\n' "$a" "$b" | sort -n | paste -sd' ')"

	# ends split between parent and child before either's snapshot: no
	# process held both, the peer stays unknown
	traced "$SCEN/scm_rights" "$(make_data_file)"
	assert_success
	assert_invariants
	q_true '[.ofds[] | select(.type == "socket")] | length == 2 and all(.address == {"local": "", "peer": "", "listening": false})'
	q_true '[.ofds[] | select(.peer_ofd != null)] | length == 0'
}

@test "a live snapshot joins a socketpair's ends split between parent and child (peer_ofd, by sock_diag)" {
	local fifo="$BATS_TEST_TMPDIR/in" out="$BATS_TEST_TMPDIR/out" parent child a b pypid
	mkfifo "$fifo"
	# the child holds one end until the parent, holding the other, ends
	python3 -c '
import os, socket, sys
a, b = socket.socketpair()
pid = os.fork()
if pid == 0:
    a.close()
    b.recv(1)
    os._exit(0)
b.close()
print(f"parent={os.getpid()} child={pid} fd={a.fileno()}", flush=True)
sys.stdin.readline()' <"$fifo" >"$out" 3>&- &
	pypid=$!
	exec 5>"$fifo"
	for _ in $(seq 100); do
		[[ -s $out ]] && break
		sleep 0.1
	done
	parent=$(kv parent "$(cat "$out")")
	child=$(kv child "$(cat "$out")")
	R="$BATS_TEST_TMPDIR/live.json"
	run kcmptrace_no_fd3 "$KT" snapshot --tree --format=json -o "$R" "$parent"
	echo done >&5
	exec 5>&-
	wait "$pypid" # not bats' own background jobs (its timeout's)
	assert_invariants
	a=$(q "[proc($parent) | .fds[] | select(.type == \"socket\") | .ofd] | if length == 1 then .[0] else error(\"parent sockets: \(.)\") end")
	b=$(q "[proc($child) | .fds[] | select(.type == \"socket\") | .ofd] | if length == 1 then .[0] else error(\"child sockets: \(.)\") end")
	[[ $a != "$b" ]] || fail "one description for both ends: $a"
	assert_equal "$(q ".ofds[] | select(.id == $a) | .peer_ofd")" "$b"
	assert_equal "$(q ".ofds[] | select(.id == $b) | .peer_ofd")" "$a"
}
