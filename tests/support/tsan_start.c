/*
 * Preloaded after libtsan into every process of a `scripts/sanitize thread`
 * run. In a program that is not instrumented (bash, jq, coreutils) nothing
 * calls __tsan_init before main, and libtsan's setjmp interceptors then jump
 * through a pointer that is not yet set (bash segfaults in its first
 * sigsetjmp). This constructor starts the runtime, as an instrumented
 * executable's .preinit_array would.
 */
void __tsan_init(void);

__attribute__((constructor)) static void tsan_start(void)
{
	__tsan_init();
}
