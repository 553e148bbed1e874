# kcmptrace helpers for bats test suites: run a command traced, then assert
# on its descriptors and findings. Needs jq. Load it from a test file:
#
#   setup() {
#       load /usr/local/share/kcmptrace/bats/kcmptrace   # installed copy
#   }
#
#   @test "the server does not leak its socket into helpers" {
#       kcmptrace_run ./server --once
#       [ "$status" -eq 0 ]
#       assert_no_findings
#       assert_no_fd_crossed_exec helper
#   }
#
# Settings (environment):
#   KCMPTRACE        the kcmptrace program (default: kcmptrace from PATH)
#   KCMPTRACE_ARGS   extra options for every kcmptrace_run, e.g.
#                    "--suppressions=tests/kcmptrace.supp"
#
# A process is named by its pid, by its program name (the basename of
# argv[0] or of the executable; it must be the only process of that name),
# or by NAME#N, the Nth process of that name in start order (1-based).
#
# The assertions print what they found on stderr and return 1, which fails
# the bats test.

KCMPTRACE="${KCMPTRACE:-kcmptrace}"
# The JSON report of the last kcmptrace_run.
KCMPTRACE_JSON=

_kcmptrace_fail() {
	printf 'kcmptrace: %s\n' "$*" >&2
	return 1
}

# kcmptrace_no_fd3 CMD [ARG...]: run CMD with fd 3 closed. bats keeps fd 3
# for its own output: a traced program that inherited it would keep the
# test run waiting (and show up in the report).
kcmptrace_no_fd3() {
	"$@" 3>&-
}

# kcmptrace_run [KCMPTRACE-OPTION...] [--] COMMAND [ARG...]
# Run COMMAND traced, with bats' run: $status is kcmptrace's exit status
# (the command's, or --error-exitcode's N), $output the command's output;
# the JSON report goes to $KCMPTRACE_JSON. When the first argument starts
# with "-", the arguments up to "--" are kcmptrace options; otherwise every
# argument belongs to the command.
kcmptrace_run() {
	local opts=() a
	for a in "$@"; do
		if [[ $1 != -* ]]; then
			break # no options: all of it is the command
		fi
		if [[ $a == -- ]]; then
			while [[ $1 != -- ]]; do
				opts+=("$1")
				shift
			done
			shift
			break
		fi
	done
	local dir="${BATS_TEST_TMPDIR:-${BATS_TMPDIR:-${TMPDIR:-/tmp}}}"
	KCMPTRACE_JSON=$(mktemp "$dir/kcmptrace.XXXXXX.json") || return 1
	local extra=()
	if [[ -n ${KCMPTRACE_ARGS:-} ]]; then
		read -r -a extra <<<"$KCMPTRACE_ARGS"
	fi
	run kcmptrace_no_fd3 "$KCMPTRACE" --format=json -o "$KCMPTRACE_JSON" "${extra[@]}" \
		"${opts[@]}" -- "$@"
	if [[ ! -s $KCMPTRACE_JSON ]]; then
		_kcmptrace_fail "no report written by: $KCMPTRACE ${opts[*]} -- $* (status $status): $output"
		return 1
	fi
	return 0
}

# kcmptrace_query FILTER [JQ-ARG...]: run a jq filter on the last report.
kcmptrace_query() {
	local filter="$1"
	shift
	[[ -n $KCMPTRACE_JSON ]] || {
		_kcmptrace_fail "no report: call kcmptrace_run first"
		return 1
	}
	jq -r "$@" "$_KCMPTRACE_JQ $filter" "$KCMPTRACE_JSON"
}

_KCMPTRACE_JQ='
def prog_of: (if (.argv | length) > 0 then .argv[0] else (.exe // "") end) | split("/") | last;
def exe_of: (.exe // "") | split("/") | last;
def named($n): [.processes[] | select(.name == $n or prog_of == $n or exe_of == $n)] | sort_by(.start, .pid);
def resolve($who):
  if ($who | test("^[0-9]+$")) then
    ($who | tonumber) as $p | [.processes[] | select(.pid == $p)]
    | if length == 1 then .[0].pid else error("no process with pid \($who)") end
  elif ($who | test("#[0-9]+$")) then
    ($who | capture("^(?<n>.*)#(?<i>[0-9]+)$")) as $c | named($c.n) as $l
    | if ($c.i | tonumber) >= 1 and ($c.i | tonumber) <= ($l | length) then $l[($c.i | tonumber) - 1].pid
      else error("no process \($who): \($l | length) named \($c.n)") end
  else named($who) as $l
    | if ($l | length) == 1 then $l[0].pid
      elif ($l | length) == 0 then error("no process named \($who); processes: \([.processes[] | "\(.pid) \(.name)"] | join(", "))")
      else error("\($l | length) processes named \($who) (pids \([$l[].pid] | map(tostring) | join(", "))): say \($who)#N or a pid") end
  end;
def fdent($p; $f): .processes[] | select(.pid == $p) | .fds[] | select(.fd == $f);
'

# kcmptrace_pid WHO: the pid of a process named as above.
kcmptrace_pid() {
	kcmptrace_query 'resolve($w)' --arg w "$1"
}

# kcmptrace_ofd WHO FD: the id of the open file description of WHO's FD.
kcmptrace_ofd() {
	local pid
	pid=$(kcmptrace_pid "$1") || return 1
	kcmptrace_query '[fdent($p; $f) | .ofd] | if length == 1 then .[0] else error("pid \($p) has no fd \($f)") end' \
		--argjson p "$pid" --argjson f "$2"
}

# kcmptrace_findings [KIND...]: the findings (of these kinds), one a line:
# "severity kind pid fd: message".
kcmptrace_findings() {
	local kinds
	kinds=$(printf '%s\n' "$@" | jq -R . | jq -cs 'map(select(. != ""))')
	kcmptrace_query '.findings[] | select(($k | length) == 0 or (.kind as $x | any($k[]; . == $x)))
		| "\(.severity) \(.kind) \(.pid) \(.fd): \(.message)"' --argjson k "$kinds"
}

# assert_no_findings [KIND...]: no findings at all (or none of these kinds).
assert_no_findings() {
	local found
	found=$(kcmptrace_findings "$@") || return 1
	if [[ -n $found ]]; then
		_kcmptrace_fail "expected no findings${1:+ of kind $*}, got:
$found"
		return 1
	fi
}

# assert_finding KIND [WHO [FD]]: at least one finding of KIND (about that
# process, and that descriptor).
assert_finding() {
	local kind="$1" pid=null fd=null n
	if [[ $# -ge 2 ]]; then
		pid=$(kcmptrace_pid "$2") || return 1
	fi
	[[ $# -ge 3 ]] && fd="$3"
	n=$(kcmptrace_query '[.findings[] | select(.kind == $k and ($p == null or .pid == $p) and ($f == null or .fd == $f))] | length' \
		--arg k "$kind" --argjson p "$pid" --argjson f "$fd") || return 1
	if [[ $n -eq 0 ]]; then
		_kcmptrace_fail "expected a $kind finding${2:+ for $2}${3:+ fd $3}; findings:
$(kcmptrace_findings)"
		return 1
	fi
}

# assert_shared WHO1 FD1 WHO2 FD2: both descriptors exist and share one open
# file description.
assert_shared() {
	local a b
	a=$(kcmptrace_ofd "$1" "$2") || return 1
	b=$(kcmptrace_ofd "$3" "$4") || return 1
	if [[ $a != "$b" ]]; then
		_kcmptrace_fail "$1 fd $2 (ofd $a) and $3 fd $4 (ofd $b) do not share an open file description"
		return 1
	fi
}

# assert_not_shared WHO1 FD1 WHO2 FD2: both exist, different descriptions.
assert_not_shared() {
	local a b
	a=$(kcmptrace_ofd "$1" "$2") || return 1
	b=$(kcmptrace_ofd "$3" "$4") || return 1
	if [[ $a == "$b" ]]; then
		_kcmptrace_fail "$1 fd $2 and $3 fd $4 share open file description $a"
		return 1
	fi
}

# assert_no_fd_crossed_exec [WHO]: no descriptor above 2 was carried across
# an exec (in any process, or in WHO), and no leaked-across-exec finding.
assert_no_fd_crossed_exec() {
	local pid=null found
	if [[ $# -ge 1 ]]; then
		pid=$(kcmptrace_pid "$1") || return 1
	fi
	found=$(kcmptrace_query '
		(.processes[] | select($p == null or .pid == $p) | .pid as $q | .fds[]
		 | select(.fd > 2 and .origin.how == "exec") | "\($q) fd \(.fd) (\(.type) \(.target)) crossed an exec"),
		(.findings[] | select(.kind == "leaked-across-exec" and ($p == null or .pid == $p)) | .message)' \
		--argjson p "$pid") || return 1
	if [[ -n $found ]]; then
		_kcmptrace_fail "descriptors crossed an exec:
$found"
		return 1
	fi
}
