/* Hooks: posix_spawn and posix_spawnp, and the file actions that place
 * descriptors in the child. glibc forks and execs inside posix_spawn, out of
 * the shim's sight; the new image finds its descriptors' sources by kcmp
 * against this (its parent) process at start-up. What the file actions did
 * is passed to it in KCMPTRACE_SPAWN=PPID:T=TIME,FD=d,FD=o (d: dup2, o: open), so
 * that its report can say a descriptor was placed there on purpose.
 * KCMPTRACE_SPAWN is passed by every posix_spawn, with or without file
 * actions: it tells the child that its image started by an exec its parent
 * made (the descriptors it inherits crossed an exec, as after fork + exec).
 * system() spawns its shell inside glibc: its child knows it from the
 * parent's table (in_system).
 * The spawned environment is repaired like an exec's (env.c). */
#include "shim.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Actions per file-actions object, recorded as they are added. Not a hot
 * path, and never used from a signal handler: a spin lock is enough. */
#define SPAWN_SLOTS 32
static struct {
	const void *fa;
	char text[400]; /* "FD=d,FD=o," */
	/* All of them, for a child that will run no shim (spawn_untraced.c). */
	struct kt_spawn_act acts[KT_SPAWN_ACTS];
	int nacts;
} spawn_slots[SPAWN_SLOTS];
static atomic_flag spawn_lock = ATOMIC_FLAG_INIT;

static void lock(void)
{
	while (atomic_flag_test_and_set_explicit(&spawn_lock, memory_order_acquire))
		;
}

static void unlock(void)
{
	atomic_flag_clear_explicit(&spawn_lock, memory_order_release);
}

static int slot_of(const void *fa, int create)
{
	int free_slot = -1;
	for (int i = 0; i < SPAWN_SLOTS; i++) {
		if (spawn_slots[i].fa == fa)
			return i;
		if (!spawn_slots[i].fa && free_slot < 0)
			free_slot = i;
	}
	if (create && free_slot >= 0) {
		spawn_slots[free_slot].fa = fa;
		spawn_slots[free_slot].text[0] = '\0';
		spawn_slots[free_slot].nacts = 0;
	}
	return create ? free_slot : -1;
}

/* kind 'd' (src onto fd), 'o', 'O' (an open with O_CLOEXEC) or 'c'. The
 * text (for a traced child) says only what places a descriptor. */
static void note_action(const void *fa, int fd, char kind, int src)
{
	lock();
	int i = slot_of(fa, 1);
	if (i >= 0 && kind != 'c') {
		size_t len = strlen(spawn_slots[i].text);
		snprintf(spawn_slots[i].text + len, sizeof spawn_slots[i].text - len, "%d=%c,", fd,
			 kind == 'd' ? 'd' : 'o');
	}
	/* Too many to keep: a close goes first (the child's table is checked
	 * against what the child holds, which drops what a close closed; a
	 * dup2 or open dropped instead would leave its number unexplained:
	 * a spawn that closes every number it does not pass), else the oldest
	 * (a later action undoes an earlier one on the same number). */
	if (i >= 0) {
		struct kt_spawn_act *acts = spawn_slots[i].acts;
		int n = spawn_slots[i].nacts;
		if (n == KT_SPAWN_ACTS) {
			int drop = 0;
			while (drop < n && acts[drop].kind != 'c')
				drop++;
			if (drop == n)
				drop = 0;
			memmove(acts + drop, acts + drop + 1, (size_t)(n - drop - 1) * sizeof acts[0]);
			n--;
		}
		acts[n] = (struct kt_spawn_act){fd, src, kind};
		spawn_slots[i].nacts = n + 1;
	}
	unlock();
}

/* The actions of fa, for spawn_untraced.c; their count. */
static int actions_of(const posix_spawn_file_actions_t *fa, struct kt_spawn_act *out)
{
	int n = 0;
	lock();
	int i = fa ? slot_of(fa, 0) : -1;
	if (i >= 0) {
		n = spawn_slots[i].nacts;
		memcpy(out, spawn_slots[i].acts, (size_t)n * sizeof *out);
	}
	unlock();
	return n;
}

static void forget(const void *fa)
{
	lock();
	int i = slot_of(fa, 0);
	if (i >= 0)
		spawn_slots[i].fa = NULL;
	unlock();
}

KT_EXPORT int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa)
{
	forget(fa);
	return KT_REAL(spawn_fa_init)(fa);
}

KT_EXPORT int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa)
{
	forget(fa);
	return KT_REAL(spawn_fa_destroy)(fa);
}

KT_EXPORT int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd)
{
	int r = KT_REAL(spawn_fa_adddup2)(fa, fd, newfd);
	if (r == 0)
		note_action(fa, newfd, 'd', fd);
	return r;
}

KT_EXPORT int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd)
{
	int r = KT_REAL(spawn_fa_addclose)(fa, fd);
	if (r == 0)
		note_action(fa, fd, 'c', -1);
	return r;
}

KT_EXPORT int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa, int fd,
						const char *path, int oflag, mode_t mode)
{
	int r = KT_REAL(spawn_fa_addopen)(fa, fd, path, oflag, mode);
	if (r == 0)
		note_action(fa, fd, (oflag & O_CLOEXEC) ? 'O' : 'o', -1);
	return r;
}

/* envp plus KCMPTRACE_SPAWN, repaired: storage from the caller's stack. */
static char *const *spawn_env(const posix_spawn_file_actions_t *fa, char *const envp[], char **slots,
			      char *text, char *var, size_t var_len)
{
	char *const *env = kt_exec_env(envp, slots + 1, text);
	int i = -1;
	lock();
	if (fa)
		i = slot_of(fa, 0);
	/* T=: when, for the order against an F_SETFL (record.h "spawned") */
	snprintf(var, var_len, "KCMPTRACE_SPAWN=%d:T=%llu,%s", (int)kt_self.pid,
		 (unsigned long long)kt_now_ns(), i >= 0 ? spawn_slots[i].text : "");
	unlock();
	/* Put it first, ahead of the (possibly repaired) rest. */
	size_t n = 0;
	while (env && env[n])
		n++;
	if (env != slots + 1)
		memcpy(slots + 1, env, (n + 1) * sizeof *slots);
	slots[0] = var;
	return slots;
}

#define SPAWN_ENV(fa, envp, env)                                                                   \
	char *env##_slots[kt_exec_env_slots(envp) + 1];                                            \
	char env##_text[kt_exec_env_text(envp)];                                                   \
	char env##_var[480];                                                                       \
	char *const *env = kt_on()	       ? spawn_env(fa, envp, env##_slots, env##_text,      \
							   env##_var, sizeof env##_var)        \
			   : kt_warn_once_said() ? kt_exec_env(envp, env##_slots, env##_text)      \
						 : (envp)

/* A child that will run no shim is put in the trace by us, once it runs
 * (spawn_untraced.c): it needs its pid even when the caller does not. */
#define SPAWN_UNTRACED_CALL(real, pid, path, search, fa, attr, argv, env)                         \
	do {                                                                                       \
		struct kt_spawn_untraced su;                                                       \
		kt_spawn_untraced_before(&su, path, search);                                       \
		if (!su.why)                                                                       \
			return KT_REAL(real)(pid, path, fa, attr, argv, env);                      \
		struct kt_spawn_act acts[KT_SPAWN_ACTS];                                           \
		int nacts = actions_of(fa, acts);                                                  \
		pid_t child = -1;                                                                  \
		int r = KT_REAL(real)(&child, path, fa, attr, argv, env);                          \
		if (r == 0 && pid)                                                                 \
			*pid = child;                                                              \
		kt_spawn_untraced_after(&su, r == 0 ? child : -1, argv, acts, nacts);              \
		return r;                                                                          \
	} while (0)

KT_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	SPAWN_ENV(fa, envp, env);
	SPAWN_UNTRACED_CALL(posix_spawn, pid, path, 0, fa, attr, argv, env);
}

KT_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	SPAWN_ENV(fa, envp, env);
	SPAWN_UNTRACED_CALL(posix_spawnp, pid, file, 1, fa, attr, argv, env);
}

/* glibc's system() spawns /bin/sh with internal calls: the shell finds in
 * this process's table that a system() call is in progress (it returns
 * only once the shell has ended). */
KT_EXPORT int system(const char *command)
{
	if (!kt_on())
		return KT_REAL(system)(command);
	kt_table_system(1);
	int r = KT_REAL(system)(command);
	int saved = errno;
	kt_table_system(-1);
	errno = saved;
	return r;
}
