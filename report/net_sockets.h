/* The addresses of another process's sockets, by inode, from the socket
 * tables of its network namespace (/proc/PID/net/tcp, tcp6, udp, udp6,
 * unix; a UNIX socket's peer from sock_diag, unix_peers.h): what the
 * report reads of processes it looks at from outside, which cannot call
 * getsockname on them. Other families (netlink, packet...) stay unknown. */
#ifndef KT_NET_SOCKETS_H
#define KT_NET_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct kt_net_socket {
	uint64_t ino;
	char *local, *peer; /* as an addr record's: NULL none, "" unnamed */
	bool listening;
	uint64_t peer_ino; /* a UNIX socket's peer by sock_diag, 0 when unknown */
};

struct kt_net_sockets {
	struct kt_net_socket *v; /* sorted by ino */
	size_t n, cap;
};

/* Read the tables of PID's network namespace (empty when unreadable). */
void kt_net_sockets_load(struct kt_net_sockets *s, int pid);
void kt_net_sockets_free(struct kt_net_sockets *s);

/* Socket ino's addresses, or NULL when not found. */
const struct kt_net_socket *kt_net_socket_find(const struct kt_net_sockets *s, uint64_t ino);

#endif
