/*
 * The floor servers of tests/bench/server.sh: the least a libmicrohttpd HTTPS webhook can do,
 * configured like egressguard (GnuTLS, epoll, one thread per core), to measure egressguard
 * against. Usage: floor_NAME CERT KEY; prints "listening on 127.0.0.1:PORT" and serves until
 * SIGTERM. Each floor defines floor_answer().
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

struct floor_req {
    char *data;
    size_t len, cap;
};

/* Returns a malloc()ed JSON reply for the body, or NULL for a 400. */
static char *floor_answer(const char *body, size_t len);

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *s;
    long n;

    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
        !(s = calloc(1, (size_t)n + 1)) || fread(s, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    return s;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **req_cls)
{
    struct floor_req *r = *req_cls;
    struct MHD_Response *resp;
    enum MHD_Result rc;
    char *out;

    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    if (!r) {
        *req_cls = calloc(1, sizeof(*r));
        return *req_cls ? MHD_YES : MHD_NO;
    }
    if (*size) {
        if (r->len + *size > r->cap) {
            size_t cap = (r->len + *size) * 2;
            char *p = realloc(r->data, cap);
            if (!p)
                return MHD_NO;
            r->data = p;
            r->cap = cap;
        }
        memcpy(r->data + r->len, data, *size);
        r->len += *size;
        *size = 0;
        return MHD_YES;
    }
    out = floor_answer(r->data ? r->data : "", r->len);
    if (!out)
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    else
        resp = MHD_create_response_from_buffer(strlen(out), out, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    rc = MHD_queue_response(c, out ? MHD_HTTP_OK : MHD_HTTP_BAD_REQUEST, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct floor_req *r = *req_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (r) {
        free(r->data);
        free(r);
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    struct MHD_Daemon *d;
    sigset_t sigs;
    int sig;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    if (argc != 3) {
        fprintf(stderr, "usage: %s CERT KEY\n", argv[0]);
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
                         NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_HTTPS_MEM_CERT, slurp(argv[1]), MHD_OPTION_HTTPS_MEM_KEY,
                         slurp(argv[2]), MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(ncpu > 0 ? ncpu : 1),
                         MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!d)
        return 1;
    printf("listening on 127.0.0.1:%u\n",
           (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    fflush(stdout);
    sigwait(&sigs, &sig);
    MHD_stop_daemon(d);
    return 0;
}
