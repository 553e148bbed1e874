/* Before an exec into a static binary, ask the launcher (when there is one)
 * to watch the process until its exit (report/watch.c): the new image runs
 * without the shim, and the launcher then reads its last descriptors. */
#include "shim.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "sys.h"
#include "watch_proto.h"

/* Set in the thread whose exec the launcher watches: a failed exec must
 * then tell it to let go. */
static KT_TLS int watch_asked;

static int tell_launcher(pid_t tid, int32_t op)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t dl = strlen(kt_self.dir);
	if (dl + 1 + sizeof KT_WATCH_SOCKET > sizeof addr.sun_path)
		return 0;
	memcpy(addr.sun_path, kt_self.dir, dl);
	memcpy(addr.sun_path + dl, "/" KT_WATCH_SOCKET, sizeof KT_WATCH_SOCKET + 1);
	int s = kt_sys_socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	s = kt_sys_move_high(s);
	/* A launcher that does not answer must not hold up the program long. */
	struct timeval limit = {.tv_sec = 5};
	kt_sys_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
	kt_sys_setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
	int32_t msg[2] = {(int32_t)tid, op};
	char answer = 'n';
	/* No socket (a plain LD_PRELOAD run, no watching): nothing to do. */
	if (kt_sys_connect(s, &addr, sizeof addr) == 0 &&
	    kt_sys_write(s, msg, sizeof msg) == (ssize_t)sizeof msg)
		(void)kt_sys_read(s, &answer, 1);
	kt_sys_close(s);
	return answer == 'y';
}

void kt_watch_ask(void)
{
	watch_asked = tell_launcher(kt_sys_gettid(), KT_WATCH_ASK);
}

void kt_watch_release(void)
{
	if (watch_asked)
		tell_launcher(kt_sys_gettid(), KT_WATCH_RELEASE);
	watch_asked = 0;
}

void kt_watch_ask_child(pid_t child)
{
	tell_launcher(child, KT_WATCH_ASK_CHILD);
}
