/* The call names the record format writes (record.h, the CALL field of
 * "fd" lines) for the enum kt_call values the shared tables store. Both
 * are generated from shim/common/hooks.def; they must stay what they were
 * when the list was written by hand, and every recorded name must have its
 * own value. */
#include "table.h"

#include <stdio.h>
#include <string.h>

#include "unit.h"

/* By value, from KT_CALL_NONE (0) on. */
static const char *const expected[] = {
	NULL, "open", "open64", "openat", "openat64", "creat", "creat64", "__open_2", "__open64_2",
	"__openat_2", "__openat64_2", "dup", "dup2", "dup3", "fcntl", "pipe", "pipe2", "socket",
	"socketpair", "accept", "accept4", "fork", "fopen", "fopen64", "freopen", "freopen64",
	"fdopen", "tmpfile", "tmpfile64", "popen", "opendir", "mkstemp", "mkostemp", "mkstemps",
	"mkostemps", "shm_open", "posix_openpt", "eventfd", "timerfd_create", "signalfd",
	"epoll_create", "epoll_create1", "inotify_init", "inotify_init1", "memfd_create",
	"pidfd_open", "pidfd_getfd", "recvmsg", "recvmmsg", "fanotify_init", "syscall", "vfork",
	"clone", "_Fork", "posix_spawn", "daemon", "openpty", "login_tty",
};

int main(void)
{
	size_t n = sizeof expected / sizeof expected[0];
	CHECK(KT_CALL_NONE == 0);
	CHECK(KT_CALL_COUNT == n);
	for (size_t i = 0; i < n && i < KT_CALL_COUNT; i++) {
		const char *got = kt_call_name((enum kt_call)i);
		if (!expected[i] ? got != NULL : !got || strcmp(got, expected[i]) != 0) {
			fprintf(stderr, "call %zu: expected %s, got %s\n", i, expected[i] ? expected[i] : "NULL",
				got ? got : "NULL");
			failures++;
		}
		checks++;
		/* one value per name */
		for (size_t j = 1; j < i && expected[i]; j++)
			CHECK(strcmp(expected[i], expected[j]) != 0);
	}
	CHECK(kt_call_name(KT_CALL_COUNT) == NULL);
	CHECK(kt_call_name((enum kt_call)-1) == NULL);
	/* a few by their enum names, as the shim uses them */
	CHECK(strcmp(kt_call_name(KT_CALL_OPEN_2), "__open_2") == 0);
	CHECK(strcmp(kt_call_name(KT_CALL__FORK), "_Fork") == 0);
	CHECK(strcmp(kt_call_name(KT_CALL_POSIX_OPENPT), "posix_openpt") == 0);
	CHECK(strcmp(kt_call_name(KT_CALL_DAEMON), "daemon") == 0);
	CHECK(KT_CALL_LOGIN_TTY == KT_CALL_COUNT - 1);
	return unit_result("test_call_names");
}
