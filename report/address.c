/* Socket addresses in words (address.h). */
#include "address.h"

#include <stdlib.h>

#include "util.h"

static const char *end_text(const char *addr)
{
	return addr == NULL ? NULL : addr[0] != '\0' ? addr : "unnamed";
}

char *kt_address_text(const struct kt_fd *fd)
{
	if (!fd->has_addr)
		return NULL;
	const char *local = end_text(fd->addr.local), *peer = end_text(fd->addr.peer);
	if (fd->addr.listening && local != NULL)
		return kt_xasprintf("listening on %s", local);
	if (peer != NULL)
		return kt_xasprintf("%s <-> %s", local ? local : "?", peer);
	return local != NULL ? kt_xstrdup(local) : NULL;
}

char *kt_target_shown(const struct kt_fd *fd)
{
	const char *target = fd->rec.target ? fd->rec.target : "?";
	char *address = kt_address_text(fd);
	if (address == NULL)
		return kt_xstrdup(target);
	char *shown = kt_xasprintf("%s %s", target, address);
	free(address);
	return shown;
}
