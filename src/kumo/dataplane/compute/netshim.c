/*
 * kumo's network shim, preloaded into every process of an instance (LD_PRELOAD).
 *
 * On one machine all instances share the loopback network, so each instance gets
 * an address of its own in 127.0.0.0/8 (KUMO_SELF_IP).  This shim makes ordinary
 * programs behave as they would on their own EC2 host:
 *
 *  - bind() to the wildcard address (0.0.0.0 or ::) binds the instance's own
 *    address instead, so two instances can both listen on port 8080;
 *  - connect() to a VPC private address, or to 169.254.169.254 (the instance
 *    metadata service), goes to the loopback address kumo maps it to
 *    (KUMO_NETMAP file, reloaded when it changes; KUMO_IMDS for the metadata
 *    service);
 *  - outgoing loopback connections leave from the instance's own address, as
 *    they would from its own host (kumo's per-instance services do not trust
 *    it: they identify the process that calls, compute/peers.py).
 *
 * Statically linked programs do not load it; they must bind KUMO_SELF_IP themselves.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_MAP 4096

/* to == 0 and mask != 0: an address range with no destination (a VPC's private range): refused,
 * so a connection to an unused private address never leaves the machine. */
struct mapping { in_addr_t from; in_port_t from_port; in_addr_t to; in_port_t to_port; in_addr_t mask; };

static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static in_addr_t self_ip;
static int have_self;
static struct mapping imds;
static int have_imds;
static struct mapping table[MAX_MAP];
static int table_len;
static struct timespec table_mtime;
static const char *map_path;

static void load_env(void) {
    if (real_bind) return;
    real_bind = dlsym(RTLD_NEXT, "bind");
    real_connect = dlsym(RTLD_NEXT, "connect");
    const char *s = getenv("KUMO_SELF_IP");
    if (s && inet_pton(AF_INET, s, &self_ip) == 1) have_self = 1;
    const char *m = getenv("KUMO_IMDS");  /* host:port */
    if (m) {
        char host[64]; unsigned port = 80;
        if (sscanf(m, "%63[^:]:%u", host, &port) >= 1 && inet_pton(AF_INET, host, &imds.to) == 1) {
            inet_pton(AF_INET, "169.254.169.254", &imds.from);
            imds.from_port = htons(80);
            imds.to_port = htons((unsigned short)port);
            have_imds = 1;
        }
    }
    map_path = getenv("KUMO_NETMAP");
}

static void reload_map(void) {
    struct stat st;
    if (!map_path || stat(map_path, &st) != 0) return;
    if (st.st_mtim.tv_sec == table_mtime.tv_sec && st.st_mtim.tv_nsec == table_mtime.tv_nsec) return;
    FILE *f = fopen(map_path, "r");
    if (!f) return;
    int n = 0;
    char a[64], b[64];
    while (n < MAX_MAP && fscanf(f, "%63s %63s", a, b) == 2) {
        struct mapping mp = {0, 0, 0, 0, 0};
        unsigned pa = 0, pb = 0, bits = 0;
        char ha[64], hb[64];
        if (strcmp(b, "-") == 0) {  /* "a.b.c.d/n -" */
            if (sscanf(a, "%63[^/]/%u", ha, &bits) != 2 || bits > 32 || inet_pton(AF_INET, ha, &mp.from) != 1) continue;
            mp.mask = bits ? htonl(0xffffffffu << (32 - bits)) : 0;
            mp.from &= mp.mask;
            if (mp.mask) table[n++] = mp;
            continue;
        }
        if (sscanf(a, "%63[^:]:%u", ha, &pa) < 1 || sscanf(b, "%63[^:]:%u", hb, &pb) < 1) continue;
        if (inet_pton(AF_INET, ha, &mp.from) != 1 || inet_pton(AF_INET, hb, &mp.to) != 1) continue;
        mp.from_port = htons((unsigned short)pa);
        mp.to_port = htons((unsigned short)pb);
        table[n++] = mp;
    }
    fclose(f);
    table_len = n;
    table_mtime = st.st_mtim;
}

/* Rewrite an IPv4 destination in place; returns 1 when it was mapped, -1 when it must be refused. */
static int map_v4(struct in_addr *addr, in_port_t *port) {
    if (have_imds && addr->s_addr == imds.from && *port == imds.from_port) {
        addr->s_addr = imds.to;
        *port = imds.to_port;
        return 1;
    }
    reload_map();
    for (int i = 0; i < table_len; i++) {
        if (table[i].mask) continue;
        if (table[i].from == addr->s_addr && (table[i].from_port == 0 || table[i].from_port == *port)) {
            addr->s_addr = table[i].to;
            if (table[i].to_port) *port = table[i].to_port;
            return 1;
        }
    }
    for (int i = 0; i < table_len; i++) {
        if (table[i].mask && (addr->s_addr & table[i].mask) == table[i].from) return -1;
    }
    return 0;
}

static int is_loopback(in_addr_t a) { return (ntohl(a) >> 24) == 127; }

static void bind_source(int fd, int family) {
    if (!have_self) return;
    struct sockaddr_storage cur; socklen_t len = sizeof cur;
    if (getsockname(fd, (struct sockaddr *)&cur, &len) != 0) return;
    if (family == AF_INET) {
        struct sockaddr_in *c = (struct sockaddr_in *)&cur;
        if (c->sin_port != 0 || c->sin_addr.s_addr != INADDR_ANY) return;  /* already bound */
        struct sockaddr_in src = {0};
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = self_ip;
        real_bind(fd, (struct sockaddr *)&src, sizeof src);
    } else if (family == AF_INET6) {
        struct sockaddr_in6 *c = (struct sockaddr_in6 *)&cur;
        if (c->sin6_port != 0 || !IN6_IS_ADDR_UNSPECIFIED(&c->sin6_addr)) return;
        struct sockaddr_in6 src = {0};
        src.sin6_family = AF_INET6;
        src.sin6_addr.s6_addr[10] = 0xff;
        src.sin6_addr.s6_addr[11] = 0xff;
        memcpy(&src.sin6_addr.s6_addr[12], &self_ip, 4);
        real_bind(fd, (struct sockaddr *)&src, sizeof src);
    }
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    load_env();
    if (have_self && addr) {
        if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
            struct sockaddr_in in = *(const struct sockaddr_in *)addr;
            if (in.sin_addr.s_addr == htonl(INADDR_ANY)) {
                in.sin_addr.s_addr = self_ip;
                return real_bind(fd, (struct sockaddr *)&in, sizeof in);
            }
        } else if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
            struct sockaddr_in6 in6 = *(const struct sockaddr_in6 *)addr;
            if (IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr)) {
                int v6only = 0; socklen_t sl = sizeof v6only;
                getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &sl);
                if (!v6only) {  /* dual-stack wildcard: the instance's IPv4 address, v4-mapped */
                    memset(&in6.sin6_addr, 0, sizeof in6.sin6_addr);
                    in6.sin6_addr.s6_addr[10] = 0xff;
                    in6.sin6_addr.s6_addr[11] = 0xff;
                    memcpy(&in6.sin6_addr.s6_addr[12], &self_ip, 4);
                    return real_bind(fd, (struct sockaddr *)&in6, sizeof in6);
                }
            }
        }
    }
    return real_bind(fd, addr, len);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    load_env();
    if (addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in in = *(const struct sockaddr_in *)addr;
        int mapped = map_v4(&in.sin_addr, &in.sin_port);
        if (mapped < 0) { errno = ECONNREFUSED; return -1; }
        if (is_loopback(in.sin_addr.s_addr)) bind_source(fd, AF_INET);
        if (mapped) return real_connect(fd, (struct sockaddr *)&in, sizeof in);
    } else if (addr && addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6 = *(const struct sockaddr_in6 *)addr;
        if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
            struct in_addr v4; memcpy(&v4, &in6.sin6_addr.s6_addr[12], 4);
            int mapped = map_v4(&v4, &in6.sin6_port);
            if (mapped < 0) { errno = ECONNREFUSED; return -1; }
            if (is_loopback(v4.s_addr)) bind_source(fd, AF_INET6);
            if (mapped) {
                memcpy(&in6.sin6_addr.s6_addr[12], &v4, 4);
                return real_connect(fd, (struct sockaddr *)&in6, sizeof in6);
            }
        }
    }
    return real_connect(fd, addr, len);
}
