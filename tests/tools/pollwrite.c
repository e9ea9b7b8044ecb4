// SPDX-License-Identifier: GPL-2.0
/*
 * A writer that waits in poll(), as event loops do: small non-blocking writes on
 * an MPTCP socket, and a poll() for POLLOUT whenever one returns EAGAIN. Python
 * cannot issue small writes fast enough under TCG to fill a wide path, C can.
 *
 *   pollwrite server PORT
 *       listens (says "listening" on stderr), accepts one MPTCP connection,
 *       reads until EOF, prints "received N"
 *   pollwrite client ADDR PORT BYTES WRITE_SIZE
 *       connects (IPv4, MPTCP), sets TCP_NODELAY, waits a second (for the
 *       joins), writes BYTES in WRITE_SIZE pieces, shuts its write side down and
 *       waits for the server's EOF; prints "sent N in S s, P polls, longest L s"
 *
 * The client exits 3 when a poll() waits 10 s without POLLOUT while it still has
 * data to write (the connection was writeable, poll never said so), 1 on an
 * error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	static char buf[65536];
	long long total = 0;
	int l, c, one = 1;
	ssize_t n;

	l = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1)) {
		perror("pollwrite server: socket/bind/listen");
		return 1;
	}
	fprintf(stderr, "listening\n");
	c = accept(l, NULL, NULL);
	if (c < 0) {
		perror("pollwrite server: accept");
		return 1;
	}
	while ((n = read(c, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0) {
		perror("pollwrite server: read");
		return 1;
	}
	printf("received %lld\n", total);
	return 0;
}

static int client(const char *addr, int port, long long total, long size)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	static char buf[65536];
	long long sent = 0, polls = 0;
	double t0, longest = 0;
	int s, one = 1;

	if (size <= 0 || size > (long)sizeof(buf) || inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "pollwrite: bad address or write size\n");
		return 2;
	}
	memset(buf, 'm', sizeof(buf));
	s = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) ||
	    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) {
		perror("pollwrite client: socket/connect");
		return 1;
	}
	sleep(1);
	if (fcntl(s, F_SETFL, O_NONBLOCK)) {
		perror("pollwrite client: O_NONBLOCK");
		return 1;
	}
	t0 = now();
	while (sent < total) {
		long w = total - sent < size ? (long)(total - sent) : size;
		struct pollfd p = { .fd = s, .events = POLLOUT };
		ssize_t n = write(s, buf, w);
		double t, d;
		int r;

		if (n > 0) {
			sent += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN) {
			perror("pollwrite client: write");
			return 1;
		}
		t = now();
		r = poll(&p, 1, 10000);
		polls++;
		d = now() - t;
		if (d > longest)
			longest = d;
		if (r < 0) {
			perror("pollwrite client: poll");
			return 1;
		}
		if (r == 0) {
			printf("no POLLOUT for 10 s with %lld of %lld bytes written (%lld polls)\n",
			       sent, total, polls);
			return 3;
		}
	}
	printf("sent %lld in %.2f s, %lld polls, longest %.3f s\n", sent, now() - t0, polls,
	       longest);
	fflush(stdout);
	if (shutdown(s, SHUT_WR)) {
		perror("pollwrite client: shutdown");
		return 1;
	}
	fcntl(s, F_SETFL, 0);
	while (read(s, buf, sizeof(buf)) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]));
	if (argc == 6 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atoll(argv[4]), atol(argv[5]));
	fprintf(stderr, "usage: pollwrite server PORT | client ADDR PORT BYTES WRITE_SIZE\n");
	return 2;
}
