/* The environment of an exec: a program that passes its own environment,
 * or has cleared or edited environ, must still start its new image traced.
 * LD_PRELOAD gets this library prepended when it lacks it (never
 * overwritten), and each KCMPTRACE_* setting of the trace is added when
 * missing (never replaced: a traced program may start a trace of its own).
 * What was added is named in KCMPTRACE_ADDED, and the new image's library
 * takes exactly that out of environ again before main (kt_env_hide): the
 * program sees the environment it was given.
 * No malloc: the caller provides the storage (exec is async-signal-safe). */
#include "shim.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#define MAX_SETTINGS 16
#define ADDED "KCMPTRACE_ADDED="
/* In KCMPTRACE_ADDED: LD_PRELOAD was missing (the name alone), or had
 * N bytes prepended ("LD_PRELOAD+N"). */
#define PREPENDED "LD_PRELOAD+"
/* The run's warning was said (warn_once.c): added when it was. */
#define SAID "KCMPTRACE_SAID="
static char said_entry[] = SAID "1";
static char preload_self[PATH_MAX];  /* this library, absolute */
static char settings_text[8192];     /* "KCMPTRACE_X=v\0KCMPTRACE_Y=w\0" */
static char *settings[MAX_SETTINGS]; /* into settings_text */
static size_t nsettings;

/* The name the loader found this library by: kept as it is when absolute
 * (a symlink in it resolves as well at the next exec, and realpath cost a
 * readlink per path component at every image's start), else made absolute
 * against the directory we start in (a relative LD_PRELOAD). */
static void find_self(void)
{
	Dl_info info;
	if (preload_self[0] || !dladdr((void *)find_self, &info) || !info.dli_fname)
		return;
	size_t len = strlen(info.dli_fname);
	if (info.dli_fname[0] == '/' && len < sizeof preload_self)
		memcpy(preload_self, info.dli_fname, len + 1);
	else if (!realpath(info.dli_fname, preload_self))
		preload_self[0] = '\0';
}

/* Variables of one exec, not settings of the trace. */
static int per_exec(const char *entry)
{
	return strncmp(entry, ADDED, sizeof ADDED - 1) == 0 ||
	       strncmp(entry, "KCMPTRACE_SPAWN=", 16) == 0 || strncmp(entry, SAID, sizeof SAID - 1) == 0;
}

void kt_env_init(void)
{
	find_self();
	size_t used = 0;
	for (char **e = environ; e && *e && nsettings < MAX_SETTINGS; e++) {
		size_t len = strlen(*e) + 1;
		if (strncmp(*e, "KCMPTRACE_", 10) != 0 || per_exec(*e) || used + len > sizeof settings_text)
			continue;
		memcpy(settings_text + used, *e, len);
		settings[nsettings++] = settings_text + used;
		used += len;
	}
}

const char *kt_env_setting_entry(const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < nsettings; i++)
		if (strncmp(settings[i], name, len) == 0 && settings[i][len] == '=')
			return settings[i];
	return NULL;
}

const char *kt_env_setting(const char *name)
{
	const char *entry = kt_env_setting_entry(name);
	return entry ? entry + strlen(name) + 1 : NULL;
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
	return n + MAX_SETTINGS + 4; /* settings, LD_PRELOAD, _SAID, _ADDED, NULL */
}

size_t kt_exec_env_text(char *const envp[])
{
	const char *preload = value_of(envp, "LD_PRELOAD", 10);
	size_t added = sizeof ADDED + sizeof PREPENDED + sizeof SAID + 24;
	for (size_t i = 0; i < nsettings; i++)
		added += strcspn(settings[i], "=") + 1;
	return sizeof "LD_PRELOAD=" + strlen(preload_self) + 1 + (preload ? strlen(preload) : 0) +
	       added;
}

static char *put_decimal(char *at, size_t v)
{
	char digits[24];
	size_t n = 0;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*at++ = digits[--n];
	return at;
}

/* "KCMPTRACE_ADDED=LD_PRELOAD+N KCMPTRACE_DIR ..." at text: what
 * kt_exec_env put into the environment. */
static char *added_entry(char *text, int need_preload, size_t prepended, int active, int said,
			 char *const envp[])
{
	char *at = text;
	memcpy(at, ADDED, sizeof ADDED - 1);
	at += sizeof ADDED - 1;
	if (need_preload && prepended) {
		memcpy(at, PREPENDED, sizeof PREPENDED - 1);
		at = put_decimal(at + sizeof PREPENDED - 1, prepended);
		*at++ = ' ';
	} else if (need_preload) {
		memcpy(at, "LD_PRELOAD ", 11);
		at += 11;
	}
	for (size_t i = 0; active && i < nsettings; i++) {
		size_t len = strcspn(settings[i], "=");
		if (value_of(envp, settings[i], len))
			continue;
		memcpy(at, settings[i], len);
		at += len;
		*at++ = ' ';
	}
	if (said) {
		memcpy(at, SAID, sizeof SAID - 2);
		at += sizeof SAID - 2;
		*at++ = ' ';
	}
	at[-1] = '\0'; /* the last separator, or the '=' of an empty list */
	return text;
}

char *const *kt_exec_env(char *const envp[], char **slots, char *text)
{
	if (!preload_self[0])
		return envp;
	/* A process no longer traced still tells a traced next image that
	 * the run's warning was said. */
	int active = atomic_load(&kt_active);
	const char *preload = value_of(envp, "LD_PRELOAD", 10);
	int preloaded = preload && preloads_self(preload);
	int said = kt_warn_once_said() && (active || preloaded) &&
		   !value_of(envp, SAID, sizeof SAID - 2);
	if (!active && !said)
		return envp;
	int need_preload = active && !preloaded;
	size_t missing = 0;
	for (size_t i = 0; active && i < nsettings; i++) {
		size_t len = strcspn(settings[i], "=");
		if (!value_of(envp, settings[i], len))
			missing++;
	}
	if (!need_preload && !missing && !said)
		return envp; /* the common case: nothing to copy */
	size_t prepended = 0;
	char *preload_entry = text;
	if (need_preload) {
		strcpy(text, "LD_PRELOAD=");
		strcat(text, preload_self);
		if (preload) { /* even empty: hidden again, it comes back as it was */
			strcat(text, ":");
			strcat(text, preload);
			prepended = strlen(preload_self) + 1;
		}
		text += strlen(text) + 1;
	}
	/* The program's own entries in their order (printenv shows it), ours
	 * in place of its LD_PRELOAD, else after them. */
	size_t k = 0;
	for (char *const *e = envp; e && *e; e++) {
		if (strncmp(*e, ADDED, sizeof ADDED - 1) == 0)
			continue;
		if (need_preload && *e + 11 == preload) /* the one value_of found */
			slots[k++] = preload_entry;
		else
			slots[k++] = *e;
	}
	if (need_preload && !preload)
		slots[k++] = preload_entry;
	for (size_t i = 0; active && i < nsettings; i++) {
		size_t len = strcspn(settings[i], "=");
		if (!value_of(envp, settings[i], len))
			slots[k++] = settings[i];
	}
	if (said)
		slots[k++] = said_entry;
	slots[k++] = added_entry(text, need_preload, prepended, active, said, envp);
	slots[k] = NULL;
	return slots;
}

/* ---- the new image: what the exec put there goes again ---- */

/* LD_PRELOAD=ours:theirs back to LD_PRELOAD=theirs, in place (the string
 * is this image's own, on its stack), when the first n bytes are still the
 * element we prepended. */
static void restore_preload(size_t n)
{
	char *value = getenv("LD_PRELOAD");
	if (!value || strlen(value) < n || n == 0 || value[n - 1] != ':')
		return;
	char first[PATH_MAX];
	if (n > sizeof first)
		return;
	memcpy(first, value, n - 1);
	first[n - 1] = '\0';
	if (preloads_self(first))
		memmove(value, value + n, strlen(value + n) + 1);
}

static void hide_one(const char *token, size_t len)
{
	char name[128];
	if (len >= sizeof name)
		return;
	memcpy(name, token, len);
	name[len] = '\0';
	if (strncmp(name, PREPENDED, sizeof PREPENDED - 1) == 0) {
		size_t n = 0;
		for (const char *c = name + sizeof PREPENDED - 1; *c >= '0' && *c <= '9'; c++)
			n = n * 10 + (size_t)(*c - '0');
		restore_preload(n);
	} else if (strcmp(name, "LD_PRELOAD") == 0 || strncmp(name, "KCMPTRACE_", 10) == 0) {
		unsetenv(name);
	}
}

void kt_env_hide(void)
{
	find_self(); /* an image not traced may still pass on KCMPTRACE_SAID */
	const char *added = getenv("KCMPTRACE_ADDED");
	if (!added)
		return;
	/* unsetenv moves pointers, not strings: the list stays readable. */
	for (const char *p = added; *p;) {
		size_t n = strcspn(p, " ");
		hide_one(p, n);
		p += n;
		p += strspn(p, " ");
	}
	unsetenv("KCMPTRACE_ADDED");
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

const char *kt_spawn_image_untraced(const char *path, int search)
{
	if (!path || search)
		return kt_exec_untraced(AT_FDCWD, path, 0);
	return file_untraced(AT_FDCWD, path, 0); /* a bare name is a path here */
}
