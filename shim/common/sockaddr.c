/* Socket addresses' text (sockaddr.h). */
#include "sockaddr.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "sys.h"

/* Appending to a fixed buffer, cut short rather than overrun. */
struct out {
	char *s;
	size_t len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (n > KT_SOCKADDR_TEXT - 1 - o->len)
		n = KT_SOCKADDR_TEXT - 1 - o->len;
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void put_dec(struct out *o, unsigned v)
{
	char d[12];
	size_t i = sizeof d;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, d + i, sizeof d - i);
}

static void put_hex(struct out *o, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	char d[8];
	size_t i = sizeof d;
	do {
		d[--i] = hex[v & 15];
		v >>= 4;
	} while (v);
	put(o, d + i, sizeof d - i);
}

static void put_ipv4(struct out *o, const unsigned char a[4])
{
	for (int i = 0; i < 4; i++) {
		if (i)
			put(o, ".", 1);
		put_dec(o, a[i]);
	}
}

/* RFC 5952: the longest run of two or more zero groups as "::", lower-case
 * hex, an IPv4-mapped address with its dotted tail. */
static void put_ipv6(struct out *o, const unsigned char a[16])
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(a, mapped, sizeof mapped) == 0) {
		put(o, "::ffff:", 7);
		put_ipv4(o, a + 12);
		return;
	}
	unsigned g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	int best = -1, best_len = 1;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			put(o, "::", 2);
			i += best_len - 1;
			continue;
		}
		if (i && i != best + best_len)
			put(o, ":", 1);
		put_hex(o, g[i]);
	}
}

bool kt_sockaddr_format(const void *sa, size_t len, char out[KT_SOCKADDR_TEXT])
{
	struct out o = {out, 0};
	out[0] = '\0';
	sa_family_t family;
	if (len < sizeof family)
		return false;
	memcpy(&family, sa, sizeof family);
	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in;
		memcpy(&in, sa, sizeof in);
		if (in.sin_port == 0 && in.sin_addr.s_addr == 0)
			return false;
		put_ipv4(&o, (const unsigned char *)&in.sin_addr);
		put(&o, ":", 1);
		put_dec(&o, ntohs(in.sin_port));
		return true;
	}
	if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 in6;
		memcpy(&in6, sa, sizeof in6);
		static const unsigned char any[16];
		if (in6.sin6_port == 0 && memcmp(&in6.sin6_addr, any, sizeof any) == 0)
			return false;
		put(&o, "[", 1);
		put_ipv6(&o, (const unsigned char *)&in6.sin6_addr);
		put(&o, "]:", 2);
		put_dec(&o, ntohs(in6.sin6_port));
		return true;
	}
	if (family == AF_UNIX) {
		const char *path = (const char *)sa + offsetof(struct sockaddr_un, sun_path);
		size_t n = len - offsetof(struct sockaddr_un, sun_path);
		if (len <= offsetof(struct sockaddr_un, sun_path))
			return true; /* unnamed */
		if (n > sizeof(((struct sockaddr_un *)0)->sun_path))
			n = sizeof(((struct sockaddr_un *)0)->sun_path);
		if (path[0] != '\0') {
			put(&o, path, strnlen(path, n));
			return true;
		}
		/* Abstract: every byte of the name counts, NULs too (shown as
		 * "@", as ss and lsof do). */
		put(&o, "@", 1);
		for (size_t i = 1; i < n; i++)
			put(&o, path[i] ? &path[i] : "@", 1);
		return true;
	}
	return false;
}

int kt_sock_address(int fd, struct kt_sock_address *out)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof sa;
	memset(out, 0, sizeof *out);
	long r = kt_syscall(SYS_getsockname, fd, &sa, &len);
	if (r < 0)
		return (int)r;
	out->has_local = kt_sockaddr_format(&sa, len < sizeof sa ? len : sizeof sa, out->local);
	len = sizeof sa;
	if (kt_syscall(SYS_getpeername, fd, &sa, &len) == 0)
		out->has_peer = kt_sockaddr_format(&sa, len < sizeof sa ? len : sizeof sa, out->peer);
	int accepting = 0;
	socklen_t alen = sizeof accepting;
	if (kt_syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &alen) == 0)
		out->listening = accepting != 0;
	return 0;
}
