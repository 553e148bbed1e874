/* UNIX socket peers from sock_diag (see unix_peers.h). */
#include "unix_peers.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

static bool send_dump(int fd)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} msg = {
		.nlh = {.nlmsg_len = sizeof msg, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.req = {.sdiag_family = AF_UNIX, .udiag_states = ~0u, .udiag_show = UDIAG_SHOW_PEER},
	};
	struct sockaddr_nl nladdr = {.nl_family = AF_NETLINK};
	return sendto(fd, &msg, sizeof msg, 0, (struct sockaddr *)&nladdr, sizeof nladdr) ==
	       (ssize_t)sizeof msg;
}

static void take(struct kt_unix_peers *p, const struct nlmsghdr *h)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
	for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, len);
	     a = RTA_NEXT(a, len))
		if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			uint32_t peer;
			memcpy(&peer, RTA_DATA(a), sizeof peer);
			*KT_PUSH(p->pairs, p->n, p->cap) = (struct kt_unix_pair){m->udiag_ino, peer};
		}
}

/* Read the dump's answers until NLMSG_DONE. */
static bool receive(int fd, struct kt_unix_peers *p)
{
	static char buf[32768];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0)
			return false;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return true;
			if (h->nlmsg_type == NLMSG_ERROR)
				return false;
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				take(p, h);
		}
	}
}

static int by_ino(const void *a, const void *b)
{
	const struct kt_unix_pair *x = a, *y = b;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

void kt_unix_peers_load(struct kt_unix_peers *p)
{
	*p = (struct kt_unix_peers){0};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return;
	p->loaded = send_dump(fd) && receive(fd, p);
	close(fd);
	qsort(p->pairs, p->n, sizeof *p->pairs, by_ino);
}

void kt_unix_peers_free(struct kt_unix_peers *p)
{
	free(p->pairs);
	*p = (struct kt_unix_peers){0};
}

uint32_t kt_unix_peer_of(const struct kt_unix_peers *p, uint32_t ino)
{
	struct kt_unix_pair key = {ino, 0};
	const struct kt_unix_pair *hit = p->n ? bsearch(&key, p->pairs, p->n, sizeof key, by_ino) : NULL;
	return hit != NULL ? hit->peer : 0;
}
