# Shared by every tests/bats/*.bats file: `load helpers` in setup.
#
# The suite is built on the helpers kcmptrace installs for users' own bats
# tests (report/bats/kcmptrace.bash: kcmptrace_query, kcmptrace_ofd,
# assert_shared...); what is here is the suite's own. Programs run under
# test go through kcmptrace_no_fd3: bats keeps fd 3 for its own output, and
# a traced program that inherits it would keep the test run waiting.
# (Closing fd 3 for `run` itself instead would break bats's own warnings,
# e.g. the one for an exit status of 127.)

bats_require_minimum_version 1.5.0

bats_load_library bats-support
bats_load_library bats-assert

REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
BUILD="${KCMPTRACE_BUILD:-$REPO/build}"
KT="$BUILD/kcmptrace"
SHIM="$BUILD/libkcmptrace.so"
SCEN="$BUILD/scenarios"

load "$REPO/report/bats/kcmptrace"
KCMPTRACE="$KT"
# The library's kcmptrace_run, its report checked like every other one.
eval "$(declare -f kcmptrace_run | sed '1s/^kcmptrace_run/_kcmptrace_run_unchecked/')"
kcmptrace_run() {
	_kcmptrace_run_unchecked "$@" || return 1
	assert_invariants "$KCMPTRACE_JSON"
}
# The library's report is the suite's $R.
declare -gn KCMPTRACE_JSON=R

# The JSON report of the last traced/preloaded run.
R=

# traced CMD [ARG...]: run CMD under the launcher, JSON report to $R; the
# command's stdout lands in $output, the launcher's stderr in $stderr.
traced() {
	R="$BATS_TEST_TMPDIR/r.json"
	rm -f "$R"
	run --separate-stderr kcmptrace_no_fd3 "$KT" --format=json -o "$R" -- "$@"
}

# preloaded CMD [ARG...]: the same with plain LD_PRELOAD, the first traced
# process writing the report to $KCMPTRACE_OUTPUT.
preloaded() {
	R="$BATS_TEST_TMPDIR/r.json"
	rm -f "$R"
	run --separate-stderr kcmptrace_no_fd3 env KCMPTRACE_OUTPUT="$R" KCMPTRACE_FORMAT=json \
		LD_PRELOAD="$SHIM${LD_PRELOAD:+ $LD_PRELOAD}" "$@"
}

# without_inherited_fds CMD [ARG...]: CMD with only 0, 1 and 2 open, as on
# a fresh CI machine (bats' fd 3 and what a terminal or job runner left
# open, which change how large each image's descriptor table starts).
without_inherited_fds() {
	(
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			if ((fd > 2)); then eval "exec $fd>&-"; fi
		done
		exec "$@"
	)
}

# assert_one_line_error: failed, and said so in one "kcmptrace: ..." line.
assert_one_line_error() {
	assert_failure
	if [[ ${#stderr_lines[@]} -ne 1 ]]; then
		fail "expected one line on stderr, got ${#stderr_lines[@]}:
$stderr"
	fi
	if [[ ${stderr_lines[0]} != "kcmptrace: "* ]]; then
		fail "the error does not start with 'kcmptrace: ': $stderr"
	fi
}

# kv KEY [LINE]: the value of KEY=VALUE in LINE (default: $output).
kv() {
	local w line="${2-$output}"
	for w in $line; do
		if [[ $w == "$1="* ]]; then
			printf '%s\n' "${w#*=}"
			return 0
		fi
	done
	echo "kv: no $1= in: $line" >&2
	return 1
}

# jq functions over a report (beside kcmptrace_query's: fdent, resolve...).
JQDEFS='
def proc($p): .processes[] | select(.pid == $p);
def ofd($p; $f): [fdent($p; $f) | .ofd] | if length == 1 then .[0] else null end;
def pids: [.processes[].pid];
def roots: pids as $all | [.processes[] | select(.ppid as $pp | any($all[]; . == $pp) | not) | .pid];
def kids($p): [.processes[] | select(.ppid == $p) | .pid];
def ofdent($id): .ofds[] | select(.id == $id);
def holders($id): [ofdent($id) | .holders[] | {pid, fd}] | sort;
'

# q FILTER [JQ-ARGS...]: run FILTER (with the functions above) on $R, raw output.
q() {
	local filter="$1"
	shift
	kcmptrace_query "$JQDEFS $filter" "$@"
}

# q_true FILTER [JQ-ARGS...]: fail the test unless FILTER yields true.
q_true() {
	local filter="$1"
	shift
	local got
	got=$(q "$filter" "$@") || fail "jq failed on: $filter"
	[[ $got == true ]] || fail "expected true from: $filter $*
got: $got"
}

# root_pid: the one process whose parent is not traced.
root_pid() {
	q 'roots | if length == 1 then .[0] else error("expected one root process, got \(.)") end'
}

# children PID: the traced children of PID, one a line, in start order.
children() {
	q '[.processes[] | select(.ppid == $p)] | sort_by(.start, .pid) | .[].pid' --argjson p "$1"
}

# fd_get PID FD JQPATH: a field of one descriptor entry, e.g. fd_get 12 3 .origin.how
fd_get() {
	q "[fdent(\$p; \$f)] | if length == 1 then .[0]$3 else error(\"pid \(\$p) fd \(\$f): \(length) entries\") end" \
		--argjson p "$1" --argjson f "$2"
}

has_fd() {
	[[ $(q '[fdent($p; $f)] | length' --argjson p "$1" --argjson f "$2") == 1 ]]
}

assert_no_fd() {
	if has_fd "$1" "$2"; then
		fail "pid $1 should not list fd $2: $(q '[fdent($p; $f)]' --argjson p "$1" --argjson f "$2")"
	fi
}

# assert_holders OFD_ID "PID:FD PID:FD ...": the ofd's holder list, exactly.
assert_holders() {
	local want got
	want=$(for h in $2; do echo "{\"pid\":${h%%:*},\"fd\":${h##*:}}"; done | jq -cs 'sort')
	got=$(q 'holders($id)' -c --argjson id "$1")
	[[ $got == "$want" ]] || fail "ofd $1 holders: expected $want, got $got"
}

# The contract's invariants, checked on every report: prints one line per
# violation.
INVARIANTS='
def oneof($xs): . as $v | any($xs[]; . == $v);
[
  (if .version != 1 then "version is \(.version)" else empty end),
  (if (.kcmp.available | type) != "boolean" then "kcmp.available is not a boolean" else empty end),
  (if (.findings | type) != "array" then "findings is not an array" else empty end),
  (.processes | group_by(.pid)[] | select(length > 1) | "pid \(.[0].pid) has \(length) entries"),
  (.processes[] | select((.pid | type) != "number" or (.ppid | type) != "number")
     | "process with non-numeric pid/ppid: \(.pid) \(.ppid)"),
  (.processes[] | select((.argv | type) != "array") | "pid \(.pid): argv is not an array"),
  (.processes[] | select(.end.how | oneof(["exit","signal","running","unknown"]) | not)
     | "pid \(.pid): end.how \(.end.how)"),
  (.processes[] | .pid as $p | .fds | group_by(.fd)[] | select(length > 1)
     | "pid \($p): fd \(.[0].fd) listed \(length) times"),
  (.processes[] | . as $pr | .fds[] |
     ( select(.type | oneof(["file","dir","pipe","socket","chr","blk","anon","fifo","unknown"]) | not)
         | "pid \($pr.pid) fd \(.fd): type \(.type)" ),
     ( select(.access | oneof(["r","w","rw","ioctl"]) | not)
         | select(.access != null or $pr.snapshot.why != "table")
         | "pid \($pr.pid) fd \(.fd): access \(.access)" ),
     ( select((.cloexec | type) != "boolean") | "pid \($pr.pid) fd \(.fd): cloexec \(.cloexec)" ),
     ( select((.ofd | type) != "number") | "pid \($pr.pid) fd \(.fd): ofd \(.ofd)" ),
     ( select(.origin.how | oneof(["open","dup","inherited","exec","received","unknown"]) | not)
         | "pid \($pr.pid) fd \(.fd): origin.how \(.origin.how)" ),
     ( select(.origin.how == "dup" and ((.origin.fd | type) != "number" or .origin.fd < 0))
         | "pid \($pr.pid) fd \(.fd): dup without a source fd: \(.origin)" ),
     ( select(.origin.how == "inherited" and (.origin.pid != $pr.ppid
                or ((.origin.fd | type) != "number" and .origin.call != "popen")))
         | "pid \($pr.pid) (ppid \($pr.ppid)) fd \(.fd): inherited but origin is \(.origin)" )),
  (.ofds | group_by(.id)[] | select(length > 1) | "ofd \(.[0].id) listed \(length) times"),
  (.ofds[] | select(.evidence | oneof(["kcmp","tracked","none"]) | not) | "ofd \(.id): evidence \(.evidence)"),
  ( ([.processes[] | .fds[] | {key: (.ofd | tostring), value: .address}] | group_by(.key)
      | map({key: .[0].key, value: (map(.value) | unique)}) | from_entries) as $addrs
    | .ofds[] | . as $x | select(.address != null and
        (($addrs[.id | tostring] // []) | any(.[]; . == $x.address) | not))
    | "ofd \(.id): address \(.address | tojson), none of its holders has it: \($addrs[.id | tostring] | tojson)" ),
  ( (.ofds | map({key: (.id | tostring), value: .}) | from_entries) as $o
    | .ofds[] | select(.peer_ofd != null) | . as $x
    | select($o[$x.peer_ofd | tostring].peer_ofd != $x.id or $x.type != "socket")
    | "ofd \(.id): peer_ofd \(.peer_ofd), whose peer_ofd is \($o[$x.peer_ofd | tostring].peer_ofd)" ),
  ( ([.processes[] | .pid as $p | .fds[] | {id: .ofd, pid: $p, fd}]
      | group_by(.id) | map({key: (.[0].id | tostring), value: (map({pid, fd}) | sort)}) | from_entries) as $carried
    | ( (.ofds[] | (.holders | map({pid, fd}) | sort) as $h | ($carried[.id | tostring] // []) as $c
          | select($h != $c) | "ofd \(.id): holders \($h | tojson) but carried by \($c | tojson)"),
        (($carried | keys) - [.ofds[].id | tostring] | .[] | "ofd \(.) is carried by descriptors but not listed in ofds") ) ),
  ( (.ofds | map({key: (.id | tostring), value: .type}) | from_entries) as $t
    | .processes[] | .pid as $p | .fds[] | select($t[.ofd | tostring] != null and $t[.ofd | tostring] != .type)
    | "pid \($p) fd \(.fd): type \(.type) but its ofd \(.ofd) has type \($t[.ofd | tostring])" ),
  ( [.processes[] | .pid as $p | .fds[] | select(.access | oneof(["r","w","rw","ioctl"]))
      | {ofd, access, where: "\($p):\(.fd)"}]
    | group_by(.ofd)[] | select((map(.access) | unique | length) > 1)
    | "ofd \(.[0].ofd) holds descriptors of different access modes: \(map("\(.where) \(.access)") | join(", "))" ),
  ( [.processes[] | .pid as $p | .fds[] | select(.target != null)
      | {ofd, target: (.target | sub(" \\(deleted\\)$"; "")), where: "\($p):\(.fd)"}]
    | group_by(.ofd)[] | select((map(.target) | unique | length) > 1)
    | "ofd \(.[0].ofd) holds descriptors of different targets: \(map("\(.where) \(.target)") | join(", "))" )
] | .[]
'

# The report's JSON Schema, as installed (share/kcmptrace).
SCHEMA="$REPO/doc/report-v1.schema.json"

# assert_schema_valid FILE...: each report validates against the schema
# (python3-jsonschema).
assert_schema_valid() {
	local out
	out=$(python3 "$REPO/tests/support/validate_report.py" "$SCHEMA" "$@" 2>&1) ||
		fail "report does not match $SCHEMA:
$out"
}

# assert_invariants [FILE]: the report (default $R) is valid JSON obeying the
# contract's invariants and the schema.
assert_invariants() {
	local f="${1:-$R}" out
	[[ -s $f ]] || fail "no report at $f"
	out=$(jq -r "$INVARIANTS" "$f" 2>&1) || fail "jq failed on $f: $out"
	[[ -z $out ]] || fail "report invariants violated in $f:
$out"
	assert_schema_valid "$f"
}

# kcmp_works: does kcmp(KCMP_FILE) work on this machine (kernel, seccomp)?
kcmp_works() {
	"$SCEN/kcmp_probe" >/dev/null 2>&1
}

# need_kcmp: skip a test whose truth only kcmp can establish.
need_kcmp() {
	kcmp_works || skip "kcmp(KCMP_FILE) is not available here: $("$SCEN/kcmp_probe" 2>&1 3>&-)"
}

# check_manpage FILE: the assertions on a traced `kcmp_manpage FILE` run whose
# stdout is in $output and report in $R (shared by the launcher and the plain
# LD_PRELOAD tests).
check_manpage() {
	local file="$1" S SEC DUP P C kids id
	S=$(kv shared_fd)
	SEC=$(kv second_fd)
	DUP=$(kv dup_fd)
	assert_invariants
	P=$(root_pid)
	mapfile -t kids < <(children "$P")
	[[ ${#kids[@]} -eq 1 ]] || fail "expected one child of $P, got: ${kids[*]}"
	C=${kids[0]}
	q_true '.processes | length == 2'

	assert_shared "$P" "$S" "$C" "$S"     # fork shares the description
	assert_not_shared "$P" "$SEC" "$P" "$S"  # a second open() does not
	assert_shared "$P" "$DUP" "$P" "$S"   # dup() does
	assert_not_shared "$C" "$S" "$P" "$SEC"
	assert_no_fd "$C" "$DUP"                # made after the fork
	id=$(kcmptrace_ofd "$P" "$S")
	assert_holders "$id" "$P:$S $P:$DUP $C:$S"
	assert_holders "$(kcmptrace_ofd "$P" "$SEC")" "$P:$SEC"

	assert_equal "$(fd_get "$P" "$S" .origin.how)" open
	assert_equal "$(fd_get "$P" "$SEC" .origin.how)" open
	assert_equal "$(fd_get "$P" "$DUP" .origin.how)" dup
	assert_equal "$(fd_get "$P" "$DUP" .origin.fd)" "$S"
	assert_equal "$(fd_get "$C" "$S" .origin.how)" inherited
	assert_equal "$(fd_get "$C" "$S" .origin.pid)" "$P"
	assert_equal "$(fd_get "$C" "$S" .origin.fd)" "$S"
	assert_equal "$(fd_get "$P" "$S" .type)" file
	assert_equal "$(fd_get "$P" "$S" .target)" "$file"
	assert_equal "$(fd_get "$P" "$S" .access)" r
	assert_equal "$(fd_get "$P" "$S" .cloexec)" false
	q_true 'ofdent($id) | .type == "file" and .target == $t and (.evidence == "kcmp" or .evidence == "tracked")' \
		--argjson id "$id" --arg t "$file"

	q_true '[.processes[] | .end] == [{"how": "exit", "status": 0}, {"how": "exit", "status": 0}]'
	q_true 'proc($p) | (.argv[0] | endswith("kcmp_manpage")) and .exe == $exe and .ppid != null' \
		--argjson p "$P" --arg exe "$(realpath "$SCEN/kcmp_manpage")"
	if kcmp_works; then
		q_true '.kcmp.available == true'
	fi
}

# a data file for the scenarios: $BATS_TEST_TMPDIR/data, by its real path
make_data_file() {
	local f="$BATS_TEST_TMPDIR/data"
	printf 'some data\n' >"$f"
	realpath "$f"
}

# only_child PID: the one traced child of PID (fails otherwise).
only_child() {
	q '[.processes[] | select(.ppid == $p) | .pid] | if length == 1 then .[0] else error("children of \($p): \(.)") end' \
		--argjson p "$1"
}

# pids_where FIELD VALUE: the processes whose /proc/PID/stat field FIELD
# (as proc(5) counts: 4 the parent, 5 the process group, 6 the session) is
# VALUE. Plain bash, no pgrep: procps' pgrep can hang in a futex when the
# sanitizer runtime is preloaded into it (scripts/sanitize).
pids_where() {
	local field=$1 value=$2 stat line p
	local -a f
	for stat in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$stat" || continue
		read -ra f <<<"${line##*) }"
		if [[ ${f[field - 3]} == "$value" ]]; then
			p=${stat#/proc/}
			echo "${p%/stat}"
		fi
	done
}

# pids_running PREFIX: the processes whose command line (arguments joined
# by spaces) starts with PREFIX.
pids_running() {
	local cmdline p
	local -a args
	for cmdline in /proc/[0-9]*/cmdline; do
		mapfile -d '' -t args 2>/dev/null <"$cmdline" || continue
		if [[ "${args[*]}" == "$1"* ]]; then
			p=${cmdline#/proc/}
			echo "${p%/cmdline}"
		fi
	done
}

# stat_field PID FIELD: field FIELD of /proc/PID/stat as proc(5) counts
# (4 the parent, 5 the process group); empty when PID is gone. No ps:
# procps hangs with a sanitizer runtime preloaded.
stat_field() {
	local line
	local -a f
	read -r line 2>/dev/null <"/proc/$1/stat" || return 0
	read -ra f <<<"${line##*) }"
	echo "${f[$2 - 3]}"
}
