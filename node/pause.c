/* nodelet-pause: PID 1 of a pod sandbox, like Kubernetes' pause. It holds the
 * pod's network, ipc and uts namespaces open, reaps whatever is orphaned to
 * it, exits 0 on SIGTERM or SIGINT and otherwise sleeps. Static, no libraries
 * beyond libc: it runs from a rootfs of its own. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static void on_chld(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		if (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0 ||
		    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			printf("nodelet-pause: a pod sandbox's PID 1; holds its namespaces, reaps "
			       "orphans, exits on SIGTERM/SIGINT\n");
			return 0;
		}
		fprintf(stderr, "nodelet-pause: unexpected argument `%s` (try --help)\n", argv[1]);
		return 2;
	}
	if (getpid() != 1)
		fprintf(stderr, "nodelet-pause: warning: not PID 1 (pid %d)\n", (int)getpid());

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_term;
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return 1;
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	if (sigaction(SIGCHLD, &sa, NULL) < 0)
		return 1;
	for (;;)
		pause();
}
