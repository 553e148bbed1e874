#!/usr/bin/env bats
# The shim never runs its own hooks by accident: its internal system calls
# go to the kernel (shim/common/sys.h), not through the syscall(), open(),
# close()... it exports, and the few hooks that call other hooks by name do
# it on purpose. Checked on the binary (relocations) and on a program whose
# record would show the shim's descriptors if they were noted. And the one
# list of hooks (shim/common/hooks.def) is what the library exports.

setup() {
	load helpers
}

# Hooks that call another hook by name on purpose: daemon's re-implementation
# (fork, open, dup2, close, _exit), vfork (fork), execl/execlp/execle (execv,
# execvp, execve); and syscall(SYS_fork/vfork/clone) runs fork(); forkpty's
# re-implementation (openpty, fork, close, login_tty, _exit).
ON_PURPOSE_PROCESS="_exit close dup2 execv execve execvp fork open"
ON_PURPOSE_SYSCALL="fork"
ON_PURPOSE_TTY="_exit close fork login_tty openpty"

# exported_hooks: the functions the shim exports, one a line, sorted.
exported_hooks() {
	nm -D --defined-only "$SHIM" | awk '$2 ~ /^[TtWi]$/ {print $3}' | sort -u
}

# text_relocs FILE: the symbols the code of FILE refers to by name (no
# version: its own exports), one a line, sorted.
text_relocs() {
	readelf -rW "$1" | awk '
		/^Relocation section/ { text = ($3 ~ /^.\.rela?\.(text|plt|dyn)/) ; next }
		text && NF >= 5 && $1 ~ /^[0-9a-f]+$/ && $5 !~ /@/ { print $5 }' | sort -u
}

@test "the shim's code calls no hook of its own by name, but those that do on purpose" {
	command -v readelf >/dev/null && command -v nm >/dev/null || skip "binutils (readelf, nm) not installed"
	local hooks got want objs o base allowed
	hooks=$(exported_hooks)
	grep -qx syscall <<<"$hooks" || fail "the shim does not export syscall: $hooks"

	# The library: no relocation against syscall, and against other hooks
	# only the ones called on purpose.
	got=$(comm -12 <(text_relocs "$SHIM") <(echo "$hooks") | tr '\n' ' ')
	want=$(tr ' ' '\n' <<<"$ON_PURPOSE_PROCESS $ON_PURPOSE_SYSCALL $ON_PURPOSE_TTY" | sort -u | tr '\n' ' ')
	[[ " $got " != *" syscall "* ]] || fail "libkcmptrace.so calls its own syscall() hook: relocations against hooks: $got"
	[[ $got == "$want" ]] || fail "relocations against the shim's own hooks: '$got', expected only '$want'"

	# Each object file of the shim and of shim/common: only hooks_process.c,
	# hooks_syscall.c and hooks_tty.c may call hooks, and only those.
	mapfile -t objs < <(find "$BUILD/CMakeFiles/kcmptrace_shim.dir" "$BUILD/CMakeFiles/kt_common.dir" \
		-name '*.o' 2>/dev/null | sort)
	((${#objs[@]} >= 10)) || skip "no object files of the shim under $BUILD/CMakeFiles"
	for o in "${objs[@]}"; do
		base=$(basename "$o" .o)
		case $base in
		hooks_process.c) allowed=$ON_PURPOSE_PROCESS ;;
		hooks_syscall.c) allowed=$ON_PURPOSE_SYSCALL ;;
		hooks_tty.c) allowed=$ON_PURPOSE_TTY ;;
		*) allowed= ;;
		esac
		got=$(comm -12 <(text_relocs "$o") <(echo "$hooks") |
			comm -23 - <(tr ' ' '\n' <<<"$allowed" | sed '/^$/d' | sort -u) | tr '\n' ' ')
		[[ -z $got ]] || fail "$base calls the shim's own hooks by name: $got"
	done
}

@test "the shim's own descriptors are not the program's: no extra entry, no moved generation" {
	traced "$SCEN/shim_own_fds"
	assert_success
	[[ $output != pidfd=unsupported ]] || skip "pidfd_getfd is not allowed here"
	assert_invariants
	P=$(root_pid)
	local mine=() f
	for f in $(kv sock_fds) $(kv go_fds) $(kv fresh_fds); do
		mine+=(${f//,/ })
	done
	mine+=("$(kv recv_fd)" "$(kv pidfd_fd)" "$(kv getfd_fd)" "$(kv raw_fd)")
	M=$(printf '%s\n' "${mine[@]}" | jq -cs 'sort')
	# The program's descriptors, and besides them only what it started with
	# (the test harness's)...
	q_true '[proc($p) | .fds[].fd] as $all | ($m - $all) == []' --argjson p "$P" --argjson m "$M"
	q_true '[proc($p) | .fds[] | select(.fd as $f | $m | index($f) | not) | select(.origin.how != "unknown")] == []' \
		--argjson p "$P" --argjson m "$M"
	# ...each the first generation of its number: the program closed none,
	# and nothing of the shim's was noted under any of them.
	q_true '[proc($p) | .fds[] | select(.gen != 2) | {fd, gen, origin}] == []' --argjson p "$P"
	# Only the program's own raw open is a "syscall" one.
	q_true '[proc($p) | .fds[] | select(.origin.call == "syscall") | .fd] == [$r]' \
		--argjson p "$P" --argjson r "$(kv raw_fd)"
	assert_equal "$(fd_get "$P" "$(kv recv_fd)" .origin.call)" recvmsg
	assert_equal "$(fd_get "$P" "$(kv getfd_fd)" .origin.call)" pidfd_getfd
}

@test "shim/common/hooks.def lists every function the shim exports, once, and nothing else" {
	command -v nm >/dev/null || skip "binutils (nm) not installed"
	local listed dups
	listed=$(sed -nE 's/^KT_[A-Z_]*\([^"]*"([^"]+)".*/\1/p' "$REPO/shim/common/hooks.def" | sort)
	dups=$(uniq -d <<<"$listed")
	[[ -z $dups ]] || fail "listed more than once in hooks.def: $dups"
	assert_equal "$(exported_hooks)" "$listed"
}
