#include <curl/curl.h>

/* curl_easy_setopt and curl_multi_setopt are variadic, which Swift cannot call: typed wrappers. */
static inline CURLcode kp_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode kp_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode kp_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*kp_write_callback)(char *data, size_t size, size_t count, void *context);
static inline CURLcode kp_easy_setopt_write(CURL *handle, CURLoption option, kp_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLMcode kp_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}
static inline CURLcode kp_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode kp_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

/* An epoll event loop for curl's multi_socket interface: curl says which sockets to watch (socket callback) and
   when to call it back (timer callback); the loop waits on epoll and hands ready sockets to
   curl_multi_socket_action, so each wake-up touches only the sockets that are ready. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <errno.h>
#include <unistd.h>
#include <time.h>

typedef struct {
    int epoll;
    int wake;
    CURLM *multi;
    /* What the timer callback last asked for: -1 no timer, else milliseconds from `timer_set_ns`. */
    long timeout_ms;
    unsigned long long timer_set_ns;
} kp_loop;

static inline unsigned long long kp_now_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec;
}

/* curl's per-socket pointer (curl_multi_assign, set to the loop) marks a socket already in the epoll set: one
   epoll_ctl per change, never a failed MOD before an ADD. curl forgets the pointer when it removes the socket. */
static int kp_socket_callback(CURL *easy, curl_socket_t socket, int what, void *context, void *socket_context) {
    (void)easy;
    kp_loop *loop = (kp_loop *)context;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(loop->epoll, EPOLL_CTL_DEL, socket, NULL);
        return 0;
    }
    struct epoll_event event;
    event.events = 0;
    event.data.u64 = 0;
    event.data.fd = socket;
    if (what & CURL_POLL_IN) event.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) event.events |= EPOLLOUT;
    if (socket_context != NULL) {
        epoll_ctl(loop->epoll, EPOLL_CTL_MOD, socket, &event);
    } else {
        int added = epoll_ctl(loop->epoll, EPOLL_CTL_ADD, socket, &event);
        if (added != 0 && errno == EEXIST) added = epoll_ctl(loop->epoll, EPOLL_CTL_MOD, socket, &event);
        if (added == 0) curl_multi_assign(loop->multi, socket, loop);
    }
    return 0;
}

static int kp_timer_callback(CURLM *multi, long timeout_ms, void *context) {
    (void)multi;
    kp_loop *loop = (kp_loop *)context;
    loop->timeout_ms = timeout_ms;
    loop->timer_set_ns = kp_now_ns();
    return 0;
}

/* Creates the epoll set with an eventfd for wake-ups and attaches it to `multi`; returns 0 on success. */
static inline int kp_loop_attach(kp_loop *loop, CURLM *multi) {
    loop->timeout_ms = -1;
    loop->timer_set_ns = 0;
    loop->multi = multi;
    loop->epoll = epoll_create1(EPOLL_CLOEXEC);
    loop->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->epoll < 0 || loop->wake < 0) return -1;
    struct epoll_event event;
    event.events = EPOLLIN;
    event.data.u64 = 0;
    event.data.fd = loop->wake;
    if (epoll_ctl(loop->epoll, EPOLL_CTL_ADD, loop->wake, &event) != 0) return -1;
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, kp_socket_callback);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, loop);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, kp_timer_callback);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, loop);
    return 0;
}

static inline void kp_loop_wake(kp_loop *loop) {
    unsigned long long one = 1;
    ssize_t written = write(loop->wake, &one, sizeof one);
    (void)written;
}

/* Milliseconds until curl's timer is due (0: now), or `idle_ms` when no timer is set. */
static inline int kp_loop_timeout(const kp_loop *loop, int idle_ms) {
    if (loop->timeout_ms < 0) return idle_ms;
    unsigned long long due = loop->timer_set_ns + (unsigned long long)loop->timeout_ms * 1000000ULL;
    unsigned long long now = kp_now_ns();
    if (due <= now) return 0;
    unsigned long long left = (due - now + 999999ULL) / 1000000ULL;
    return left < (unsigned long long)idle_ms ? (int)left : idle_ms;
}

/* Waits for ready sockets; hands each to curl, drains wake-ups. Returns how many events there were, -1 on error. */
static inline int kp_loop_run_once(kp_loop *loop, CURLM *multi, int timeout_ms, int *running) {
    struct epoll_event events[64];
    int count = epoll_wait(loop->epoll, events, 64, timeout_ms);
    for (int index = 0; index < count; index++) {
        int socket = events[index].data.fd;
        if (socket == loop->wake) {
            unsigned long long value;
            ssize_t drained = read(loop->wake, &value, sizeof value);
            (void)drained;
            continue;
        }
        int flags = 0;
        if (events[index].events & EPOLLIN) flags |= CURL_CSELECT_IN;
        if (events[index].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
        if (events[index].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(multi, socket, flags, running);
    }
    if (kp_loop_timeout(loop, 1) == 0) {
        loop->timeout_ms = -1;
        curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, running);
    }
    return count;
}

static inline void kp_loop_close(kp_loop *loop) {
    close(loop->epoll);
    close(loop->wake);
}
