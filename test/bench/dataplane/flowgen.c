/*
 * flowgen - paced UDP sender to many distinct destinations (one datagram each), for measuring how
 * many new flows per second a loom agent sets up. Compiled at run time by dataplane_bench.sh.
 *
 *   flowgen BASE FIRST COUNT RATE [PORT] [BATCH]
 *
 * Sends COUNT UDP datagrams (18-byte payload: 64-byte frames) to BASE+FIRST, BASE+FIRST+1, ...,
 * BASE+FIRST+COUNT-1 (BASE an IPv4 address, the offset added as a 32-bit integer), port PORT
 * (default 9), at RATE datagrams/s, in sendmmsg batches of BATCH (default 32). The pacer sleeps
 * (clock_nanosleep, absolute) until a batch is due when it is more than 100 us away and spins
 * otherwise. Prints one line:
 *   sent N errors E secs S rate R start_ns T0 end_ns T1
 * (T0/T1 in CLOCK_REALTIME ns, so a script can line them up with its own timestamps).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 256

static int64_t ns_now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s BASE FIRST COUNT RATE [PORT] [BATCH]\n", argv[0]);
        return 2;
    }
    struct in_addr base;
    if (inet_pton(AF_INET, argv[1], &base) != 1) { fprintf(stderr, "bad BASE\n"); return 2; }
    uint32_t first = (uint32_t)strtoul(argv[2], NULL, 0);
    long count = atol(argv[3]);
    double rate = atof(argv[4]);
    int port = argc > 5 ? atoi(argv[5]) : 9;
    int batch = argc > 6 ? atoi(argv[6]) : 32;
    if (count <= 0 || rate <= 0 || batch <= 0) { fprintf(stderr, "bad arguments\n"); return 2; }
    if (batch > MAX_BATCH) batch = MAX_BATCH;
    /* At low rates send smaller batches so the stream stays smooth (a batch every >= 50 us). */
    while (batch > 1 && batch / rate > 0.001) batch /= 2;

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket"); return 1; }
    int sndbuf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

    static struct sockaddr_in dst[MAX_BATCH];
    static struct mmsghdr msgs[MAX_BATCH];
    static struct iovec iov;
    static char payload[18] = "loom-flowgen-00000";
    iov.iov_base = payload;
    iov.iov_len = sizeof payload;
    for (int i = 0; i < MAX_BATCH; i++) {
        dst[i].sin_family = AF_INET;
        dst[i].sin_port = htons((uint16_t)port);
        msgs[i].msg_hdr.msg_name = &dst[i];
        msgs[i].msg_hdr.msg_namelen = sizeof dst[i];
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    uint32_t base_h = ntohl(base.s_addr);
    long sent = 0, errors = 0;
    int64_t t0_real = ns_now(CLOCK_REALTIME);
    int64_t t0 = ns_now(CLOCK_MONOTONIC);
    for (long i = 0; i < count; i += batch) {
        int n = (int)(count - i < batch ? count - i : batch);
        /* Batch i is due at t0 + i / rate. */
        int64_t due = t0 + (int64_t)((double)i * 1e9 / rate);
        for (;;) {
            int64_t now = ns_now(CLOCK_MONOTONIC);
            if (now >= due) break;
            if (due - now > 100000) {
                int64_t wake = due - 50000;
                struct timespec ts = { .tv_sec = wake / 1000000000, .tv_nsec = wake % 1000000000 };
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
            }
        }
        for (int j = 0; j < n; j++) dst[j].sin_addr.s_addr = htonl(base_h + first + (uint32_t)(i + j));
        int done = 0;
        while (done < n) {
            int r = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
            if (r < 0) {
                if (errno == EINTR) continue;
                errors++; /* this datagram is lost; go on with the next */
                done++;
                continue;
            }
            sent += r;
            done += r;
        }
    }
    int64_t t1 = ns_now(CLOCK_MONOTONIC);
    int64_t t1_real = t0_real + (t1 - t0);
    double secs = (double)(t1 - t0) / 1e9;
    printf("sent %ld errors %ld secs %.4f rate %.0f start_ns %lld end_ns %lld\n", sent, errors, secs,
           secs > 0 ? sent / secs : 0.0, (long long)t0_real, (long long)t1_real);
    return 0;
}
