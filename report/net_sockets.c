/* Sockets' addresses from /proc/PID/net (net_sockets.h). */
#include "net_sockets.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "sockaddr.h"
#include "unix_peers.h"
#include "util.h"

/* "0100007F:3039" (IPv4) or 32 hex digits and a port (IPv6): each 32-bit
 * word as the kernel printed it, in this machine's byte order. */
static bool parse_ip(const char *s, bool v6, char out[KT_SOCKADDR_TEXT])
{
	size_t words = v6 ? 4 : 1;
	uint32_t w[4];
	for (size_t i = 0; i < words; i++) {
		char hex[9];
		memcpy(hex, s + 8 * i, 8);
		hex[8] = '\0';
		if (strlen(hex) != 8)
			return false;
		w[i] = (uint32_t)strtoul(hex, NULL, 16);
	}
	if (s[8 * words] != ':')
		return false;
	unsigned port = (unsigned)strtoul(s + 8 * words + 1, NULL, 16);
	if (v6) {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
		memcpy(&a.sin6_addr, w, sizeof a.sin6_addr);
		return kt_sockaddr_format(&a, sizeof a, out);
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	memcpy(&a.sin_addr, w, sizeof a.sin_addr);
	return kt_sockaddr_format(&a, sizeof a, out);
}

static char *dup_or_null(bool has, const char *s)
{
	return has ? kt_xstrdup(s) : NULL;
}

/* /proc/PID/net/tcp and friends: "sl local rem st ... uid timeout inode". */
static void load_ip(struct kt_net_sockets *s, int pid, const char *name, bool v6, bool tcp)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/net/%s", pid, name);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f)) {
		char local[64], remote[64];
		unsigned state;
		unsigned long long ino;
		if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*u %*u %llu", local, remote, &state,
			   &ino) != 4 || ino == 0)
			continue;
		char l[KT_SOCKADDR_TEXT], r[KT_SOCKADDR_TEXT];
		bool has_l = parse_ip(local, v6, l), has_r = parse_ip(remote, v6, r);
		bool listening = tcp && state == 0x0A; /* TCP_LISTEN */
		*KT_PUSH(s->v, s->n, s->cap) = (struct kt_net_socket){
			ino, dup_or_null(has_l, l), dup_or_null(has_r && !listening, r), listening, 0};
	}
	fclose(f);
}

/* /proc/PID/net/unix: "Num RefCount Protocol Flags Type St Inode Path";
 * the kernel writes an abstract name's NULs as "@", as sockaddr.h does. */
static void load_unix(struct kt_net_sockets *s, int pid, size_t *first, size_t *end)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/net/unix", pid);
	*first = *end = s->n;
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f)) {
		unsigned long flags;
		unsigned long long ino;
		int at = 0;
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %llu%n", &flags, &ino, &at) != 2 || ino == 0)
			continue;
		char *name = line + at;
		name += strspn(name, " ");
		name[strcspn(name, "\n")] = '\0';
		*KT_PUSH(s->v, s->n, s->cap) = (struct kt_net_socket){
			ino, kt_xstrdup(name), NULL, (flags & 0x10000) != 0 /* __SO_ACCEPTCON */, 0};
	}
	fclose(f);
	*end = s->n;
}

static int by_ino(const void *a, const void *b)
{
	const struct kt_net_socket *x = a, *y = b;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

void kt_net_sockets_load(struct kt_net_sockets *s, int pid)
{
	*s = (struct kt_net_sockets){0};
	load_ip(s, pid, "tcp", false, true);
	load_ip(s, pid, "tcp6", true, true);
	load_ip(s, pid, "udp", false, false);
	load_ip(s, pid, "udp6", true, false);
	size_t first, end;
	load_unix(s, pid, &first, &end);
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, by_ino);
	if (first == end)
		return;
	/* A UNIX socket's peer: the name of the socket sock_diag pairs it
	 * with ("" when that one is unnamed). The dump is of the report's own
	 * namespace: a peer not found there stays unknown. */
	struct kt_unix_peers peers = {0};
	kt_unix_peers_load(&peers);
	for (size_t i = 0; peers.loaded && i < s->n; i++) {
		uint32_t peer = s->v[i].ino <= UINT32_MAX ? kt_unix_peer_of(&peers, (uint32_t)s->v[i].ino) : 0;
		const struct kt_net_socket *other = peer ? kt_net_socket_find(s, peer) : NULL;
		s->v[i].peer_ino = peer;
		if (other != NULL && other->local != NULL)
			s->v[i].peer = kt_xstrdup(other->local);
	}
	kt_unix_peers_free(&peers);
}

void kt_net_sockets_free(struct kt_net_sockets *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].local);
		free(s->v[i].peer);
	}
	free(s->v);
	*s = (struct kt_net_sockets){0};
}

const struct kt_net_socket *kt_net_socket_find(const struct kt_net_sockets *s, uint64_t ino)
{
	struct kt_net_socket key = {.ino = ino};
	return s->n ? bsearch(&key, s->v, s->n, sizeof *s->v, by_ino) : NULL;
}
