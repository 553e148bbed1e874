/* How much memory a program gets under its limits, and what its address
 * space is: the shim must not take what the program could have had.
 *
 *   alloc [MB]    (default 0) malloc MB MiB and touch one byte of each page
 *
 * stdout: alloc=ok|failed vm_kb=N rss_kb=N (VmSize and VmRSS after it)
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 0;
	char *p = mb ? malloc(mb << 20) : NULL;
	if (p)
		for (size_t i = 0; i < mb << 20; i += 4096)
			p[i] = 1;
	printf("alloc=%s vm_kb=%ld rss_kb=%ld\n", !mb || p ? "ok" : "failed", proc_status_field("VmSize"),
	       proc_status_field("VmRSS"));
	free(p);
	return 0;
}
