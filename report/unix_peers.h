/* The peer of each UNIX socket, by inode, from the kernel's sock_diag
 * (NETLINK_SOCK_DIAG, UNIX_DIAG_PEER): /proc/PID/fdinfo does not say
 * which socket is the other end of a socketpair or a connection. */
#ifndef KT_UNIX_PEERS_H
#define KT_UNIX_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kt_unix_pair {
	uint32_t ino, peer;
};

struct kt_unix_peers {
	struct kt_unix_pair *pairs; /* sorted by ino */
	size_t n, cap;
	bool loaded; /* the dump worked */
};

/* Dump every UNIX socket of this network namespace that has a peer. */
void kt_unix_peers_load(struct kt_unix_peers *p);
void kt_unix_peers_free(struct kt_unix_peers *p);

/* The peer's inode of socket ino, 0 when unknown or none. */
uint32_t kt_unix_peer_of(const struct kt_unix_peers *p, uint32_t ino);

#endif
