/* The real libc functions behind the hooks, found with dlsym(RTLD_NEXT). */
#include "shim.h"

#include <dlfcn.h>
#include <stdatomic.h>

struct kt_real kt_real;

static void *next_symbol(const char *name)
{
	static Dl_info self;
	Dl_info found;
	if (!self.dli_fbase)
		dladdr((void *)next_symbol, &self);
	void *p = dlsym(RTLD_NEXT, name);
	/* Never call ourselves: that would recurse forever. */
	if (p && dladdr(p, &found) && found.dli_fbase == self.dli_fbase)
		return NULL;
	return p;
}

/* Resolve once; dlsym may allocate, and an allocator may open a file: a hook
 * that runs during resolution finds the pointer still NULL, and falls back. */
void kt_resolve(void)
{
	static atomic_int state; /* 0 not yet, 1 running, 2 done */
	static KT_TLS int resolving_here;
	int expected = 0;
	if (!atomic_compare_exchange_strong(&state, &expected, 1)) {
		/* Another thread resolves: wait for it. This thread (re-entered
		 * from dlsym): return, and the hook falls back to a system call. */
		while (!resolving_here && atomic_load(&state) != 2)
			;
		return;
	}
	resolving_here = 1;
	struct kt_real r;
#define RESOLVE(field, sym) (*(void **)&r.field = next_symbol(#sym))
	RESOLVE(open, open);
	RESOLVE(open64, open64);
	RESOLVE(openat, openat);
	RESOLVE(openat64, openat64);
	RESOLVE(creat, creat);
	RESOLVE(creat64, creat64);
	RESOLVE(open_2, __open_2);
	RESOLVE(open64_2, __open64_2);
	RESOLVE(openat_2, __openat_2);
	RESOLVE(openat64_2, __openat64_2);
	RESOLVE(dup, dup);
	RESOLVE(dup2, dup2);
	RESOLVE(dup3, dup3);
	RESOLVE(fcntl, fcntl);
	RESOLVE(fcntl64, fcntl64);
	RESOLVE(pipe, pipe);
	RESOLVE(pipe2, pipe2);
	RESOLVE(socket, socket);
	RESOLVE(socketpair, socketpair);
	RESOLVE(accept, accept);
	RESOLVE(accept4, accept4);
	RESOLVE(close, close);
	RESOLVE(fork, fork);
	RESOLVE(flock, flock);
	RESOLVE(waitpid, waitpid);
	RESOLVE(wait4, wait4);
	RESOLVE(waitid, waitid);
	RESOLVE(execve, execve);
	RESOLVE(execv, execv);
	RESOLVE(execvp, execvp);
	RESOLVE(execvpe, execvpe);
	RESOLVE(fexecve, fexecve);
	RESOLVE(execveat, execveat);
	RESOLVE(exit, exit);
	RESOLVE(_exit, _exit);
	RESOLVE(_Exit, _Exit);
	RESOLVE(fopen, fopen);
	RESOLVE(fopen64, fopen64);
	RESOLVE(freopen, freopen);
	RESOLVE(freopen64, freopen64);
	RESOLVE(fdopen, fdopen);
	RESOLVE(fclose, fclose);
	RESOLVE(tmpfile, tmpfile);
	RESOLVE(tmpfile64, tmpfile64);
	RESOLVE(popen, popen);
	RESOLVE(pclose, pclose);
	RESOLVE(opendir, opendir);
	RESOLVE(fdopendir, fdopendir);
	RESOLVE(closedir, closedir);
	RESOLVE(mkstemp, mkstemp);
	RESOLVE(mkostemp, mkostemp);
	RESOLVE(mkstemps, mkstemps);
	RESOLVE(mkostemps, mkostemps);
	RESOLVE(mkstemp64, mkstemp64);
	RESOLVE(mkostemp64, mkostemp64);
	RESOLVE(mkstemps64, mkstemps64);
	RESOLVE(mkostemps64, mkostemps64);
	RESOLVE(shm_open, shm_open);
	RESOLVE(posix_openpt, posix_openpt);
	RESOLVE(getpt, getpt);
	RESOLVE(eventfd, eventfd);
	RESOLVE(timerfd_create, timerfd_create);
	RESOLVE(signalfd, signalfd);
	RESOLVE(epoll_create, epoll_create);
	RESOLVE(epoll_create1, epoll_create1);
	RESOLVE(inotify_init, inotify_init);
	RESOLVE(inotify_init1, inotify_init1);
	RESOLVE(memfd_create, memfd_create);
	RESOLVE(pidfd_open, pidfd_open);
	RESOLVE(pidfd_getfd, pidfd_getfd);
	RESOLVE(fanotify_init, fanotify_init);
	RESOLVE(recvmsg, recvmsg);
	RESOLVE(recvmmsg, recvmmsg);
	RESOLVE(close_range, close_range);
	RESOLVE(closefrom, closefrom);
	RESOLVE(clone, clone);
	RESOLVE(_Fork, _Fork);
	RESOLVE(posix_spawn, posix_spawn);
	RESOLVE(posix_spawnp, posix_spawnp);
	RESOLVE(daemon, daemon);
	RESOLVE(spawn_fa_init, posix_spawn_file_actions_init);
	RESOLVE(spawn_fa_destroy, posix_spawn_file_actions_destroy);
	RESOLVE(spawn_fa_adddup2, posix_spawn_file_actions_adddup2);
	RESOLVE(spawn_fa_addopen, posix_spawn_file_actions_addopen);
	RESOLVE(syscall, syscall);
	RESOLVE(libc_start_main, __libc_start_main);
#undef RESOLVE
	kt_real = r;
	resolving_here = 0;
	atomic_store(&state, 2);
}
