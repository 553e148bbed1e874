/* Socket addresses as traces and reports write them: "127.0.0.1:8080",
 * "[::1]:8080", a UNIX socket's path, "@name" for an abstract one, "" for
 * an unnamed one (a socketpair's ends, an unbound client). One formatter
 * for what a process asks of its own sockets (getsockname) and what the
 * report reads of others' (/proc/PID/net). No malloc, no stdio. */
#ifndef KT_SOCKADDR_H
#define KT_SOCKADDR_H

#include <stdbool.h>
#include <stddef.h>

/* Room for any address's text: a UNIX path is at most 108 bytes. */
#define KT_SOCKADDR_TEXT 160

/* The text of sa (len bytes, as getsockname gives it) into out. False
 * (out "") for a family other than AF_INET, AF_INET6 and AF_UNIX, and for
 * an IP socket bound to nothing (port 0 of the any-address): no address. */
bool kt_sockaddr_format(const void *sa, size_t len, char out[KT_SOCKADDR_TEXT]);

/* What a socket of this process is bound and connected to. */
struct kt_sock_address {
	bool has_local, has_peer; /* else unknown, unbound, or not connected */
	bool listening;           /* SO_ACCEPTCONN */
	char local[KT_SOCKADDR_TEXT], peer[KT_SOCKADDR_TEXT];
};

/* Ask the kernel about socket fd of this process by raw syscalls
 * (getsockname, getpeername, SO_ACCEPTCONN): for snapshots only, never on
 * a hook's path. Returns 0, or -errno when fd is no socket the calls can
 * name (a sandbox may refuse them too). */
int kt_sock_address(int fd, struct kt_sock_address *out);

#endif
