/* Hook: pthread_create. Until a process has a second thread, no other
 * thread can replace a descriptor the shim holds for a moment (own_fds.c). */
#include "shim.h"

KT_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
			     void *arg)
{
	kt_threads_possible();
	return KT_REAL(pthread_create)(thread, attr, start, arg);
}
