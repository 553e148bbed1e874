/* A socket descriptor's addresses as the report says them, after its
 * target ("socket:[123] 127.0.0.1:8080 <-> 127.0.0.1:40312"): from the
 * "addr" record its process wrote, or, for processes read from outside,
 * from /proc/PID/net (live.c). */
#ifndef KT_ADDRESS_H
#define KT_ADDRESS_H

#include "trace.h"

/* "LOCAL <-> PEER", "listening on LOCAL", "LOCAL", with "unnamed" for an
 * unnamed UNIX end; malloc'd, or NULL when fd has no address to show. */
char *kt_address_text(const struct kt_fd *fd);

/* fd's target ("?" when unknown) followed by its address text; malloc'd. */
char *kt_target_shown(const struct kt_fd *fd);

#endif
