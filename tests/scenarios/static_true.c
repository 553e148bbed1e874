/* Linked statically (tests/CMakeLists.txt builds static_* so): the dynamic
 * loader never reads LD_PRELOAD for it, so an exec of it leaves the traced
 * world, and the report must say so. Prints its pid and exits with argv[1]. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	printf("static_pid=%d\n", (int)getpid());
	return argc > 1 ? atoi(argv[1]) : 0;
}
