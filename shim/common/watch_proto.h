/* The watch protocol: in a trace directory made by the launcher, the
 * socket on which a traced process about to exec a static binary asks the
 * launcher to watch it until its exit (report/watch.c, shim/watch.c). The
 * asker sends two int32: its thread id and KT_WATCH_ASK (or, after that
 * exec failed, KT_WATCH_RELEASE); the launcher answers 'y' once done, else
 * 'n'. */
#ifndef KT_WATCH_PROTO_H
#define KT_WATCH_PROTO_H

#define KT_WATCH_SOCKET "watch.sock"
#define KT_WATCH_ASK 0
#define KT_WATCH_RELEASE 1
/* After a posix_spawn into a static binary, the spawner sends the child's
 * pid instead of its thread id: the child runs that image already. */
#define KT_WATCH_ASK_CHILD 2

#endif
