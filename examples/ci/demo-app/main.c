/* demo-app — the program examples/ci/release-policy.sh builds and ships. */
#include <stdio.h>

#ifndef VERSION
#define VERSION "dev"
#endif

int
main(void)
{
	printf("demo-app %s\n", VERSION);
	return 0;
}
