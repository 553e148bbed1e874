/* The environment of an exec: a program that passes its own environment,
 * or has cleared or edited environ, must still start its new image traced.
 * LD_PRELOAD gets this library prepended when it lacks it (never
 * overwritten), and each KCMPTRACE_* setting of the trace is added when
 * missing (never replaced: a traced program may start a trace of its own).
 * No malloc: the caller provides the storage (exec is async-signal-safe). */
#include "shim.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#define MAX_SETTINGS 16
static char preload_self[PATH_MAX];  /* this library, absolute */
static char settings_text[8192];     /* "KCMPTRACE_X=v\0KCMPTRACE_Y=w\0" */
static char *settings[MAX_SETTINGS]; /* into settings_text */
static size_t nsettings;

void kt_env_init(void)
{
	Dl_info info;
	if (dladdr((void *)kt_env_init, &info) && info.dli_fname &&
	    !realpath(info.dli_fname, preload_self))
		preload_self[0] = '\0';
	size_t used = 0;
	for (char **e = environ; e && *e && nsettings < MAX_SETTINGS; e++) {
		size_t len = strlen(*e) + 1;
		if (strncmp(*e, "KCMPTRACE_", 10) != 0 || used + len > sizeof settings_text)
			continue;
		memcpy(settings_text + used, *e, len);
		settings[nsettings++] = settings_text + used;
		used += len;
	}
}

static const char *value_of(char *const *envp, const char *name, size_t len)
{
	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

/* Whether a LD_PRELOAD value names this library (elements are separated by
 * ':' or spaces, as ld.so reads them). */
static int preloads_self(const char *value)
{
	size_t self_len = strlen(preload_self);
	const char *base = strrchr(preload_self, '/');
	base = base ? base + 1 : preload_self;
	for (const char *p = value; *p;) {
		size_t n = strcspn(p, ": ");
		if ((n == self_len && strncmp(p, preload_self, n) == 0) ||
		    /* the same file named another way: trust the name */
		    (n >= strlen(base) && strncmp(p + n - strlen(base), base, strlen(base)) == 0))
			return 1;
		p += n;
		p += strspn(p, ": ");
	}
	return 0;
}

size_t kt_exec_env_slots(char *const envp[])
{
	size_t n = 0;
	while (envp && envp[n])
		n++;
	return n + MAX_SETTINGS + 2;
}

size_t kt_exec_env_text(char *const envp[])
{
	const char *preload = value_of(envp, "LD_PRELOAD", 10);
	return sizeof "LD_PRELOAD=" + strlen(preload_self) + 1 + (preload ? strlen(preload) : 0);
}

char *const *kt_exec_env(char *const envp[], char **slots, char *text)
{
	if (!preload_self[0] || !atomic_load(&kt_active))
		return envp;
	const char *preload = value_of(envp, "LD_PRELOAD", 10);
	int need_preload = !preload || !preloads_self(preload);
	size_t missing = 0;
	for (size_t i = 0; i < nsettings; i++) {
		size_t len = strcspn(settings[i], "=");
		if (!value_of(envp, settings[i], len))
			missing++;
	}
	if (!need_preload && !missing)
		return envp; /* the common case: nothing to copy */
	size_t k = 0;
	for (char *const *e = envp; e && *e; e++)
		if (!need_preload || strncmp(*e, "LD_PRELOAD=", 11) != 0)
			slots[k++] = *e;
	if (need_preload) {
		strcpy(text, "LD_PRELOAD=");
		strcat(text, preload_self);
		if (preload && *preload) {
			strcat(text, ":");
			strcat(text, preload);
		}
		slots[k++] = text;
	}
	for (size_t i = 0; i < nsettings; i++) {
		size_t len = strcspn(settings[i], "=");
		if (!value_of(envp, settings[i], len))
			slots[k++] = settings[i];
	}
	slots[k] = NULL;
	return slots;
}

/* ---- images the loader will not preload into ---- */

#include "image.h"
#include "sys.h"

static const char *file_untraced(int dirfd, const char *path, int at_flags)
{
	int fd = kt_sys_openat(dirfd, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0 && (at_flags & AT_EMPTY_PATH) && path && !*path)
		fd = kt_sys_fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return NULL; /* the exec will fail (or not be readable): nothing to say */
	fd = kt_sys_move_high(fd);
	const char *why = kt_image_untraced(fd);
	kt_sys_close(fd);
	return why;
}

const char *kt_exec_untraced(int dirfd, const char *path, int flags)
{
	if (!path)
		return NULL;
	if (strchr(path, '/') || dirfd != AT_FDCWD || !*path)
		return file_untraced(dirfd, path, flags);
	/* A bare name (execvp): search PATH as the exec will. */
	const char *search = getenv("PATH");
	if (!search)
		search = "/bin:/usr/bin";
	char candidate[PATH_MAX];
	for (const char *p = search;; p++) {
		size_t n = strcspn(p, ":");
		size_t len = strlen(path);
		if (n + len + 2 <= sizeof candidate) {
			memcpy(candidate, n ? p : ".", n ? n : 1);
			size_t at = n ? n : 1;
			candidate[at] = '/';
			memcpy(candidate + at + 1, path, len + 1);
			if (kt_sys_faccessat(AT_FDCWD, candidate, X_OK) == 0)
				return file_untraced(AT_FDCWD, candidate, 0);
		}
		p += n;
		if (!*p)
			return NULL;
	}
}
