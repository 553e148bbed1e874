#!/usr/bin/env bats
# The Debian package: built by scripts/deb (CPack, from the install rules),
# unpacked with dpkg -x into a scratch root, its kcmptrace run on the bundled
# example; lintian finds no errors.

setup_file() {
	# cpack and dpkg are not ours; with a sanitizer runtime preloaded into
	# them (scripts/sanitize) they can hang in a futex. The package holds
	# no instrumented code to check anyway.
	[[ -z ${KCMPTRACE_SANITIZER_RUN:-} ]] || return 0
	# Built once for the file (setup_file has no per-test timeout).
	local repo
	repo="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
	DEB=$("$repo/scripts/deb" "${KCMPTRACE_BUILD:-$repo/build}-deb" 2>"$BATS_FILE_TMPDIR/deb.log" | tail -n 1) ||
		DEB=
	export DEB
	ROOT="$BATS_FILE_TMPDIR/root"
	export ROOT
	if [[ -f $DEB ]]; then
		dpkg -x "$DEB" "$ROOT"
	fi
}

setup() {
	load helpers
	[[ -z ${KCMPTRACE_SANITIZER_RUN:-} ]] || skip "packaging tools hang with the sanitizer runtime preloaded"
	[[ -f $DEB && -x $ROOT/usr/bin/kcmptrace ]] ||
		fail "scripts/deb made no package: $(cat "$BATS_FILE_TMPDIR/deb.log")"
	MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
}

field() {
	dpkg-deb -f "$DEB" "$1"
}

@test "deb: name, version from CMakeLists.txt, dependencies from shlibdeps" {
	assert_equal "$(field Package)" kcmptrace
	assert_equal "$(field Version)" \
		"$(sed -nE 's/^project\(kcmptrace VERSION ([0-9.]+) .*/\1/p' "$REPO/CMakeLists.txt")"
	assert_equal "$(field Architecture)" "$(dpkg --print-architecture)"
	# computed from the binaries: libc and libdw with versions
	[[ $(field Depends) =~ libc6\ \(\>=\ [0-9.]+\) ]] || fail "Depends: $(field Depends)"
	[[ $(field Depends) == *libdw1* ]] || fail "Depends: $(field Depends)"
}

@test "deb: files in their Debian places" {
	local f
	for f in usr/bin/kcmptrace "usr/lib/$MULTIARCH/kcmptrace/libkcmptrace.so" \
		usr/share/man/man1/kcmptrace.1.gz usr/share/man/man5/kcmptrace-json.5.gz \
		usr/share/kcmptrace/report-v1.schema.json usr/share/kcmptrace/bats/kcmptrace.bash \
		usr/share/bash-completion/completions/kcmptrace usr/share/doc/kcmptrace/copyright \
		usr/share/doc/kcmptrace/changelog.gz; do
		[[ -s $ROOT/$f ]] || fail "not in the package: $f"
	done
	# the man page names the library where the package puts it
	run man -l "$ROOT/usr/share/man/man1/kcmptrace.1.gz"
	assert_success
	assert_output --partial "/usr/lib/$MULTIARCH/kcmptrace/libkcmptrace.so"
	# stripped: no debug sections left
	run file "$ROOT/usr/bin/kcmptrace" "$ROOT/usr/lib/$MULTIARCH/kcmptrace/libkcmptrace.so"
	refute_output --partial "not stripped"
}

@test "deb: the unpacked kcmptrace traces the bundled example and finds its leaks" {
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 env -u KCMPTRACE_LIB "$ROOT/usr/bin/kcmptrace" \
		--format=json -o "$R" -- "$SCEN/leaky_server"
	assert_success
	assert_invariants
	q_true '[.findings[].kind] | sort == ["leaked-across-exec", "pipe-end-held"]'
	run "$ROOT/usr/bin/kcmptrace" --version
	assert_output "kcmptrace $(field Version)"
}

@test "deb: plain LD_PRELOAD of the unpacked library reports through the unpacked kcmptrace" {
	R="$BATS_TEST_TMPDIR/r.json"
	run --separate-stderr kcmptrace_no_fd3 env KCMPTRACE_OUTPUT="$R" KCMPTRACE_FORMAT=json \
		LD_PRELOAD="$ROOT/usr/lib/$MULTIARCH/kcmptrace/libkcmptrace.so" "$SCEN/leaky_server"
	assert_success
	assert_invariants
	q_true '[.findings[].kind] | sort == ["leaked-across-exec", "pipe-end-held"]'
}

@test "deb: lintian reports no errors" {
	run lintian --tag-display-limit 0 "$DEB"
	# exit status 2 is for errors (warnings: 0)
	[[ $status -eq 0 ]] || fail "lintian $DEB: $output"
	refute_output --regexp '^E: '
}
