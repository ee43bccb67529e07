// Process view of TLS handshakes: OpenSSL uprobes plus syscall and sock tracepoints (no kprobes).
//
// Compiled by bcc (assess/sources/runtime/sensor.py). Events go to user space through one BPF ring
// buffer, which user space reads in shared memory (ringbuf.py); an event that finds it full is
// counted in ring_stats, the sensor's kernel-drop counter. The kernel side filters
// and forwards; joining events into handshakes is user space's (correlate.py). One join is made
// here, because it halves the events of a typical handshake: the fd (with its socket) and the SNI
// a program sets on an SSL object before its handshake starts are kept in maps and sent with the
// handshake's first event (flags E_FD, E_SNI), not as events of their own. And the start event
// itself is held in the kernel until the handshake ends: a handshake that succeeds is then one
// event (E_DONE, with the time it ended) instead of two. Anything else that happens to a held
// handshake (a failure, an SNI or fd set late, SSL_free) sends the start first, as it was. User
// space takes what is held longer than a moment, and what a process left when it exits.
//
// Handshakes are explicit (SSL_do_handshake, which SSL_connect/SSL_accept call) or implicit (the
// first SSL_read/SSL_write drives it). SSL_read/SSL_write are not probed: a probe there would cost
// every read and write of every TLS program on the host (~9 us single-stepped, ~0.8 us at an
// emulated instruction), for what the wire view already says. An implicit handshake is known from
// SSL_set_connect_state/SSL_set_accept_state, which such programs call once per connection: the
// thread is armed, and its first read/write system call on the SSL object's socket (SSL_set_fd's,
// or else a socket of the same role the process connected or accepted) is the handshake's start,
// sent at once (K_IMPLICIT) with its fd, socket, SNI and role. Its end and success come from the
// wire view. An explicit handshake is done once SSL_do_handshake returns 1; a failure is known
// from a 0 return, SSL_free before success, the next start on the same SSL object or the
// process's exit. SSL_get_error is not probed: programs call it after every "call again" return
// (the stress's s_server four times a handshake), and its entry and return probes cost the
// observed program ~1.7 us a call, for telling a failure a little earlier.
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
#include <linux/socket.h>
#include <linux/in.h>
#include <asm/unistd.h>

#define K_HS_ENTER 1
#define K_HS_RETURN 2
#define K_IMPLICIT 3  // an implicit handshake's start, at its first socket read/write (see above)
#define K_SNI 5
#define K_FD 6
#define K_FREE 7
#define K_EXIT 10

#define SSL_CTRL_SET_TLSEXT_HOSTNAME 55
#define SNI_MAX 256
#define E_FD 1   // event_t carries an fd (and, when family != 0, its socket)
#define E_SNI 2  // event_t carries an SNI
#define E_DONE 4 // a start event whose handshake succeeded at done_ns (held until then)
#define E_CLIENT 8   // SSL_set_connect_state was called on the SSL object before its handshake
#define E_SERVER 16  // SSL_set_accept_state was
#define ROLE_CLIENT 1  // sock_t.role and the roles map
#define ROLE_SERVER 2
#define ROLE_UDP 3     // owner_by_client: the process whose UDP socket has this local port (any address)
// An SSL object armed by SSL_set_*_state without a known fd takes the first socket of its role the
// thread reads or writes within this time; with SSL_set_fd's fd, the first read or write on that fd.
#define ARM_NS 1000000000ULL

struct ssl_key {
    u32 tgid;
    u32 pad;
    u64 ssl;
};

// What a thread is doing with an SSL object: K_HS_ENTER inside SSL_do_handshake; K_IMPLICIT armed by
// SSL_set_*_state (since armed_ns) until its first socket read/write or SSL_do_handshake.
struct active_t {
    u64 ssl;
    u64 armed_ns;
    u32 kind;
    u32 pad;
};

struct pending_t {
    u32 tgid;
    u32 tid;
    s32 fd;
    u32 pad;
    char comm[TASK_COMM_LEN];
};

struct event_t {
    u64 ts_ns;
    u64 done_ns;  // E_DONE: when the handshake returned success
    u64 ssl;
    s64 ret;
    u32 tgid;
    u32 tid;
    u16 kind;
    u16 flags;
    s32 fd;
    u16 family;
    u16 sport;
    u16 dport;
    u16 sni_len;
    u8 saddr[16];
    u8 daddr[16];
    char comm[TASK_COMM_LEN];
    char sni[SNI_MAX];
};

#ifndef EVENT_RING_PAGES
#define EVENT_RING_PAGES 2048
#endif
#ifndef WAKEUP_EVERY
#define WAKEUP_EVERY 1024  // records per CPU between wake-ups of user space (see emit_event)
#endif
#ifndef WIRE_WAKEUP_EVERY
#define WIRE_WAKEUP_EVERY 128  // the same for the socket filter's ring, whose records are larger
#endif
BPF_RINGBUF_OUTPUT(events, EVENT_RING_PAGES);
// Per CPU: [RS_LOST] records that found a ring full (both rings), [RS_EVENTS] and [RS_WIRE] records
// written to each ring since its last wake-up.
#define RS_LOST 0
#define RS_EVENTS 1
#define RS_WIRE 2
BPF_PERCPU_ARRAY(ring_stats, u64, 3);

// User space is not woken per record, which would cost the observed program a wake-up each time:
// it reads the rings every 100 ms, or sooner once a CPU has written WAKEUP_EVERY records to the
// events ring (WIRE_WAKEUP_EVERY to the socket filter's).
// `urgent` wakes it at once: the first event of a process, so it can read the process's exe from
// /proc before a short-lived client (s_client, curl) has exited.
static __always_inline u64 wakeup_flags(u32 ring, int urgent) {
    u64 *since = ring_stats.lookup(&ring);
    if (!since)
        return 0;
    *since += 1;
    if (urgent || *since >= (ring == RS_WIRE ? WIRE_WAKEUP_EVERY : WAKEUP_EVERY)) {
        *since = 0;
        return BPF_RB_FORCE_WAKEUP;
    }
    return BPF_RB_NO_WAKEUP;
}

static __always_inline void count_lost(void) {
    u32 at = RS_LOST;
    u64 *lost = ring_stats.lookup(&at);
    if (lost)
        *lost += 1;
}

static __always_inline void emit_event(void *data, u32 size, int urgent) {
    if (events.ringbuf_output(data, size, wakeup_flags(RS_EVENTS, urgent)) != 0)
        count_lost();
}
// Never written: the sensor checks its decoder against the layout bcc derives for this map's values.
BPF_ARRAY(event_layout, struct event_t, 1);
// Events other than K_SNI leave out the SNI buffer: a third of the size, so the buffer holds more.
#define EVENT_SIZE_NO_SNI offsetof(struct event_t, sni)
BPF_PERCPU_ARRAY(scratch, struct event_t, 1);
// Start events held until their handshake ends (see the top of this file). A hash, not an LRU:
// when it is full a start event is sent at once, never dropped.
BPF_HASH(held, struct ssl_key, struct event_t, 4096);
BPF_PERCPU_ARRAY(held_scratch, struct event_t, 1);
BPF_TABLE("lru_hash", struct ssl_key, u8, done, 65536);
BPF_TABLE("lru_hash", struct ssl_key, u8, known, 65536);
BPF_TABLE("lru_hash", struct ssl_key, u8, fd_known, 65536);
BPF_TABLE("lru_hash", struct ssl_key, u8, roles, 16384);  // SSL_set_*_state's role, until the start
// A hash, not an LRU: `armed` counts its entries exactly, and an LRU would evict one uncounted.
// When it is full a thread is not armed (its implicit handshake is missed, and counted nowhere).
BPF_HASH(active, u32, struct active_t, 65536);
// How many threads `active` holds. The read/write system calls of every process on the host look
// at it first and leave at once when it is 0: the usual state of a host that moves data.
BPF_ARRAY(armed, s64, 1);
BPF_TABLE("lru_hash", u32, s32, connecting, 65536);
BPF_TABLE("lru_hash", u64, struct pending_t, syn_sent, 65536);
BPF_TABLE("lru_hash", u32, u64, accepting, 65536);
BPF_TABLE("lru_hash", u32, u8, tls_pids, 65536);

// The file each process last executed, as execve was given it: user space reads a process's exe
// from /proc, and a short-lived program (openssl s_client, curl) may be gone by then. Kept from
// exec to exit; a TLS process's entry stays until user space has seen its exit (K_EXIT).
#define EXEC_PATH_MAX 256
struct exec_path_t {
    char path[EXEC_PATH_MAX];
};
BPF_TABLE("lru_hash", u32, struct exec_path_t, exec_paths, 16384);
BPF_PERCPU_ARRAY(exec_scratch, struct exec_path_t, 1);

// Who owns which TCP connection, kept in the kernel rather than sent as events: a busy host opens
// thousands of connections a second and only the TLS ones matter. FD events carry the socket of
// the handshake (looked up here, while the fd still means that socket); user space looks up the
// owners of a TLS connection the wire view saw by its client endpoint.
struct sock_t {
    u16 family;
    u16 role;  // 1 client (connect), 2 server (accept)
    u16 client_port;
    u16 server_port;  // 0 when unknown (accept() tells only the peer)
    u8 client_addr[16];
    u8 server_addr[16];
};

struct fd_key {
    u32 tgid;
    s32 fd;
};

struct owner_key {
    u8 addr[16];
    u16 port;
    u16 role;
    u32 pad;
};

struct owner_t {
    u64 ts_ns;  // when the socket was connected or accepted: tells a reused client port apart
    u32 tgid;
    u32 tid;
    s32 fd;
    u32 pad;
    char comm[TASK_COMM_LEN];
};

BPF_TABLE("lru_hash", struct fd_key, struct sock_t, sock_by_fd, 65536);
BPF_TABLE("lru_hash", struct owner_key, struct owner_t, owner_by_client, 65536);

// What SSL_set_fd and SSL_set_tlsext_host_name said about an SSL object whose handshake has not
// started yet: sent with its first handshake event.
struct fd_info_t {
    s32 fd;
    u32 has_sock;
    struct sock_t sock;
};

struct sni_t {
    u16 len;
    char name[SNI_MAX];
};

BPF_TABLE("lru_hash", struct ssl_key, struct fd_info_t, fd_before, 16384);
BPF_TABLE("lru_hash", struct ssl_key, struct sni_t, sni_before, 16384);
BPF_PERCPU_ARRAY(sni_scratch, struct sni_t, 1);

static __always_inline void remember_socket(u32 tgid, u32 tid, s32 fd, const char *comm, struct sock_t *sock) {
    struct fd_key fk = {.tgid = tgid, .fd = fd};
    sock_by_fd.update(&fk, sock);
    // Keyed as the socket filter sees addresses: IPv6, with IPv4 mapped (::ffff:a.b.c.d), so an IPv4
    // peer of a dual-stack socket is the same key as one of an IPv4 socket.
    struct owner_key ok = {.port = sock->client_port, .role = sock->role};
    if (sock->family == AF_INET) {
        ok.addr[10] = ok.addr[11] = 0xFF;
        __builtin_memcpy(ok.addr + 12, sock->client_addr, 4);
    } else {
        __builtin_memcpy(ok.addr, sock->client_addr, 16);
    }
    struct owner_t owner = {.ts_ns = bpf_ktime_get_ns(), .tgid = tgid, .tid = tid, .fd = fd};
    __builtin_memcpy(owner.comm, comm, TASK_COMM_LEN);
    owner_by_client.update(&ok, &owner);
}

// An event that carries an fd (E_FD) carries its socket too, when the connect/accept tracepoints
// saw it: role in ret, client in saddr/sport, server in daddr/dport.
static __always_inline void attach_socket(struct event_t *e, u32 tgid, s32 fd) {
    e->flags |= E_FD;
    e->fd = fd;
    struct fd_key fk = {.tgid = tgid, .fd = fd};
    struct sock_t *sock = sock_by_fd.lookup(&fk);
    if (!sock)
        return;
    e->ret = sock->role;
    e->family = sock->family;
    e->sport = sock->client_port;
    e->dport = sock->server_port;
    __builtin_memcpy(e->saddr, sock->client_addr, 16);
    __builtin_memcpy(e->daddr, sock->server_addr, 16);
}

// The same, from what SSL_set_fd left in fd_before.
static __always_inline void attach_saved_fd(struct event_t *e, struct fd_info_t *info) {
    e->flags |= E_FD;
    e->fd = info->fd;
    if (!info->has_sock)
        return;
    e->ret = info->sock.role;
    e->family = info->sock.family;
    e->sport = info->sock.client_port;
    e->dport = info->sock.server_port;
    __builtin_memcpy(e->saddr, info->sock.client_addr, 16);
    __builtin_memcpy(e->daddr, info->sock.server_addr, 16);
}

static __always_inline int wanted(u32 tgid) {
#ifdef FILTER_TGID
    return tgid == FILTER_TGID;
#else
    return 1;
#endif
}

static __always_inline struct event_t *new_event(u32 kind) {
    int zero = 0;
    struct event_t *e = scratch.lookup(&zero);
    if (!e)
        return 0;
    u64 id = bpf_get_current_pid_tgid();
    e->ts_ns = bpf_ktime_get_ns();
    e->done_ns = 0;
    e->ssl = 0;
    e->ret = 0;
    e->tgid = id >> 32;
    e->tid = (u32)id;
    e->kind = kind;
    e->flags = 0;
    e->fd = -1;
    e->family = 0;
    e->sport = 0;
    e->dport = 0;
    e->sni_len = 0;
    __builtin_memset(e->saddr, 0, sizeof(e->saddr));
    __builtin_memset(e->daddr, 0, sizeof(e->daddr));
    bpf_get_current_comm(&e->comm, sizeof(e->comm));
    return e;
}

// A handshake's first event: what SSL_set_fd, SSL_set_tlsext_host_name and SSL_set_*_state said
// about the SSL object before it started goes with it. Returns the size of the event to send.
static __always_inline u32 fill_start(struct event_t *e, struct ssl_key *key) {
    e->ssl = key->ssl;
    struct fd_info_t *info = fd_before.lookup(key);
    if (info) {
        attach_saved_fd(e, info);
        fd_before.delete(key);
    }
    u8 *role = roles.lookup(key);
    if (role) {
        e->flags |= *role == ROLE_CLIENT ? E_CLIENT : E_SERVER;
        roles.delete(key);
    }
    struct sni_t *sni = sni_before.lookup(key);
    if (!sni)
        return EVENT_SIZE_NO_SNI;
    u32 n = sni->len;
    if (n > SNI_MAX - 1)
        n = SNI_MAX - 1;
    e->flags |= E_SNI;
    e->sni_len = n;
    __builtin_memcpy(e->sni, sni->name, SNI_MAX);
    sni_before.delete(key);
    return sizeof(*e);
}

// Whether this is the process's first handshake (its start is then sent at once and wakes user
// space, which reads the process's exe from /proc before a short-lived client is gone).
static __always_inline int first_of_process(u32 tgid) {
    if (tls_pids.lookup(&tgid))
        return 0;
    u8 one = 1;
    tls_pids.update(&tgid, &one);
    return 1;
}

// A thread's entry in `active` is only ever written or removed by the thread itself (every program
// below runs in its context), so a lookup before the update tells a new entry from a replaced one.
static __always_inline void arm(u32 tid, struct active_t *act) {
    int fresh = active.lookup(&tid) == 0;
    if (active.update(&tid, act) != 0 || !fresh)
        return;
    int zero = 0;
    s64 *count = armed.lookup(&zero);
    if (count)
        __sync_fetch_and_add(count, 1);
}

static __always_inline void disarm(u32 tid) {
    if (active.delete(&tid) != 0)
        return;
    int zero = 0;
    s64 *count = armed.lookup(&zero);
    if (count)
        __sync_fetch_and_add(count, -1);
}

int handshake_enter(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32, tid = (u32)id;
    if (!wanted(tgid))
        return 0;
    struct ssl_key key = {.tgid = tgid, .ssl = PT_REGS_PARM1(ctx)};
    if (done.lookup(&key))
        return 0;
    struct active_t act = {.ssl = key.ssl, .kind = K_HS_ENTER};
    arm(tid, &act);
    if (known.lookup(&key))
        return 0;
    u8 one = 1;
    known.update(&key, &one);
    int first = first_of_process(tgid);
    struct event_t *e = new_event(K_HS_ENTER);
    if (!e)
        return 0;
    u32 size = fill_start(e, &key);
    if (first)
        emit_event(e, size, 1);
    else if (held.update(&key, e) != 0)
        emit_event(e, size, 0);  // no room to hold it
    return 0;
}

// The held start event of `key`, taken out of the map (a copy in held_scratch), or 0. Whoever
// deletes the entry sends it: this program, or user space when it takes an old one.
static __always_inline struct event_t *take_held(struct ssl_key *key) {
    struct event_t *h = held.lookup(key);
    if (!h)
        return 0;
    int zero = 0;
    struct event_t *copy = held_scratch.lookup(&zero);
    if (!copy)
        return 0;
    __builtin_memcpy(copy, h, sizeof(*copy));
    if (held.delete(key) != 0)
        return 0;
    return copy;
}

static __always_inline void send_held(struct event_t *e) {
    if (e->flags & E_SNI)
        emit_event(e, sizeof(*e), 0);
    else
        emit_event(e, EVENT_SIZE_NO_SNI, 0);
}

// Something other than success happens to a handshake: its start goes out first, as it was.
static __always_inline void flush_held(struct ssl_key *key) {
    struct event_t *h = take_held(key);
    if (h)
        send_held(h);
}

int handshake_return(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32, tid = (u32)id;
    struct active_t *act = active.lookup(&tid);
    if (!act || act->kind != K_HS_ENTER)
        return 0;
    struct ssl_key key = {.tgid = tgid, .ssl = act->ssl};
    disarm(tid);
    s64 ret = (int)PT_REGS_RC(ctx);
    if (ret > 0) {
        u8 one = 1;
        done.update(&key, &one);
        struct event_t *h = take_held(&key);
        if (h) {  // start and success in one event
            h->flags |= E_DONE;
            h->done_ns = bpf_ktime_get_ns();
            send_held(h);
            return 0;
        }
    } else if (ret < 0) {
        return 0;  // "call again", or an error: SSL_free, the next start or the exit will tell
    } else {
        flush_held(&key);  // SSL_do_handshake returned 0: it failed
    }
    struct event_t *e = new_event(K_HS_RETURN);
    if (!e)
        return 0;
    e->ssl = key.ssl;
    e->ret = ret;
    emit_event(e, EVENT_SIZE_NO_SNI, 0);
    return 0;
}

// SSL_set_connect_state / SSL_set_accept_state: the SSL object's role, and the thread is armed for
// an implicit handshake (see the top of this file) until SSL_do_handshake says it is explicit.
// Called on an object whose handshake already started, it begins a new one (the object is reused).
static __always_inline int on_set_state(struct pt_regs *ctx, u8 role) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32, tid = (u32)id;
    if (!wanted(tgid))
        return 0;
    struct ssl_key key = {.tgid = tgid, .ssl = PT_REGS_PARM1(ctx)};
    if (known.lookup(&key)) {
        flush_held(&key);
        known.delete(&key);
        done.delete(&key);
        fd_known.delete(&key);
    }
    roles.update(&key, &role);
    struct active_t act = {.ssl = key.ssl, .armed_ns = bpf_ktime_get_ns(), .kind = K_IMPLICIT};
    arm(tid, &act);
    return 0;
}

int set_connect_state_enter(struct pt_regs *ctx) { return on_set_state(ctx, ROLE_CLIENT); }
int set_accept_state_enter(struct pt_regs *ctx) { return on_set_state(ctx, ROLE_SERVER); }

// SSL_set_tlsext_host_name (a macro over SSL_ctrl). Before the handshake starts (the usual order)
// the name waits in sni_before for the first handshake event; after, it is an event of its own.
int ssl_ctrl_enter(struct pt_regs *ctx) {
    if (PT_REGS_PARM2(ctx) != SSL_CTRL_SET_TLSEXT_HOSTNAME)
        return 0;
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    void *name = (void *)PT_REGS_PARM4(ctx);
    if (!wanted(tgid) || !name)
        return 0;
    struct ssl_key key = {.tgid = tgid, .ssl = PT_REGS_PARM1(ctx)};
    if (!known.lookup(&key)) {
        int zero = 0;
        struct sni_t *sni = sni_scratch.lookup(&zero);
        if (!sni)
            return 0;
        int n = bpf_probe_read_user_str(sni->name, SNI_MAX, name);
        sni->len = n > 0 ? n - 1 : 0;
        sni_before.update(&key, sni);
        return 0;
    }
    flush_held(&key);
    struct event_t *e = new_event(K_SNI);
    if (!e)
        return 0;
    e->ssl = key.ssl;
    e->flags = E_SNI;
    int n = bpf_probe_read_user_str(e->sni, SNI_MAX, name);
    e->sni_len = n > 0 ? n - 1 : 0;
    emit_event(e, sizeof(*e), 0);
    return 0;
}

// SSL_set_fd: like the SNI, kept for the first handshake event when the handshake has not started.
int ssl_set_fd_enter(struct pt_regs *ctx) {
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    if (!wanted(tgid))
        return 0;
    struct ssl_key key = {.tgid = tgid, .ssl = PT_REGS_PARM1(ctx)};
    s32 fd = (int)PT_REGS_PARM2(ctx);
    u8 one = 1;
    fd_known.update(&key, &one);
    if (!known.lookup(&key)) {
        struct fd_info_t info = {.fd = fd};
        struct fd_key fk = {.tgid = tgid, .fd = fd};
        struct sock_t *sock = sock_by_fd.lookup(&fk);
        if (sock) {
            info.has_sock = 1;
            info.sock = *sock;
        }
        fd_before.update(&key, &info);
        return 0;
    }
    flush_held(&key);
    struct event_t *e = new_event(K_FD);
    if (!e)
        return 0;
    e->ssl = key.ssl;
    attach_socket(e, tgid, fd);
    emit_event(e, EVENT_SIZE_NO_SNI, 0);
    return 0;
}

int ssl_free_enter(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32, tid = (u32)id;
    struct ssl_key key = {.tgid = tgid, .ssl = PT_REGS_PARM1(ctx)};
    struct active_t *act = active.lookup(&tid);
    if (act && act->ssl == key.ssl)
        disarm(tid);  // armed for an object that never did any I/O
    if (!known.lookup(&key)) {
        // An SSL object freed before any handshake: forget what was kept for it (malloc reuses
        // the address for the next object, which must not inherit its fd, SNI or role).
        fd_before.delete(&key);
        sni_before.delete(&key);
        roles.delete(&key);
        fd_known.delete(&key);
        return 0;
    }
    known.delete(&key);
    fd_known.delete(&key);
    if (done.lookup(&key)) {
        done.delete(&key);
        return 0;  // user space has this handshake's whole process view; nothing to say
    }
    flush_held(&key);
    struct event_t *e = new_event(K_FREE);
    if (!e)
        return 0;
    e->ssl = key.ssl;
    emit_event(e, EVENT_SIZE_NO_SNI, 0);
    return 0;
}

// An armed thread (SSL_set_*_state) reads or writes: if it is the SSL object's socket, an implicit
// handshake starts here. The event is sent at once: nothing in the kernel sees it end (the wire does).
static __always_inline int implicit_start(struct active_t *act, u32 tgid, u32 tid, s32 fd) {
    struct ssl_key key = {.tgid = tgid, .ssl = act->ssl};
    struct fd_info_t *info = fd_before.lookup(&key);
    if (info) {
        if (info->fd != fd)
            return 0;  // I/O on another descriptor
    } else {
        if (bpf_ktime_get_ns() - act->armed_ns > ARM_NS) {
            disarm(tid);
            return 0;
        }
        struct fd_key fk = {.tgid = tgid, .fd = fd};
        struct sock_t *sock = sock_by_fd.lookup(&fk);
        u8 *role = roles.lookup(&key);
        if (!sock || !role || sock->role != *role)
            return 0;  // not a connection this object can be on: stdout, a file, a socket of the other role
    }
    disarm(tid);
    u8 one = 1;
    known.update(&key, &one);
    done.update(&key, &one);
    fd_known.update(&key, &one);
    int first = first_of_process(tgid);
    struct event_t *e = new_event(K_IMPLICIT);
    if (!e)
        return 0;
    u32 size = fill_start(e, &key);
    attach_socket(e, tgid, fd);  // the socket as it is now, in use
    emit_event(e, size, first);
    return 0;
}

// The socket an OpenSSL call is using, for BIO-based programs that never call SSL_set_fd: the first
// read/write syscall a thread makes inside SSL_do_handshake. And an armed thread's implicit start.
static __always_inline int on_io_syscall(void *ctx, int fd) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct active_t *act = active.lookup(&tid);
    if (!act)
        return 0;
    if (act->kind == K_IMPLICIT)
        return implicit_start(act, id >> 32, tid, fd);
    struct ssl_key key = {.tgid = id >> 32, .ssl = act->ssl};
    if (fd_known.lookup(&key))
        return 0;
    u8 one = 1;
    fd_known.update(&key, &one);
    struct event_t *h = held.lookup(&key);
    if (h) {
        attach_socket(h, key.tgid, fd);  // joined into the held start event, like SSL_set_fd's
        return 0;
    }
    struct event_t *e = new_event(K_FD);
    if (!e)
        return 0;
    e->ssl = key.ssl;
    attach_socket(e, key.tgid, fd);
    emit_event(e, EVENT_SIZE_NO_SNI, 0);
    return 0;
}

// One raw tracepoint for every system call's entry, not the syscalls:sys_enter_* tracepoints of the
// six calls: those copy each call's arguments into a perf buffer before the program runs, ~0.4 us
// on every read and write of every process (measured on this project's VM), where this costs a
// few tens of ns and, with no thread armed, reads one counter. The fd is read from the call's
// registers only for an armed thread.
RAW_TRACEPOINT_PROBE(sys_enter) {
    int zero = 0;
    s64 *count = armed.lookup(&zero);
    if (!count || *count <= 0)
        return 0;
    long nr = (long)ctx->args[1];
    if (nr != __NR_read && nr != __NR_write && nr != __NR_sendto && nr != __NR_recvfrom &&
        nr != __NR_sendmsg && nr != __NR_recvmsg)
        return 0;
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    u64 fd = 0;
    bpf_probe_read_kernel(&fd, sizeof(fd), &PT_REGS_PARM1(regs));
    return on_io_syscall(ctx, (int)fd);
}

// Client side: connect() names the fd; the socket's SYN_SENT transition (in that thread) names the
// socket; its ESTABLISHED transition (any context) carries the full 4-tuple, source port included.
TRACEPOINT_PROBE(syscalls, sys_enter_connect) {
    u64 id = bpf_get_current_pid_tgid();
    if (!wanted(id >> 32))
        return 0;
    u32 tid = (u32)id;
    s32 fd = args->fd;
    connecting.update(&tid, &fd);
    return 0;
}

// UDP has no connection to accept or connect: its owners (QUIC's ends) are the processes whose
// sockets have the local ports, as bind() or connect() (which binds an unbound socket) left them.
// The socket is found from the fd through the task's file table: a few reads per bind or connect,
// nothing per datagram. The headers bcc compiles against may be another kernel's, so the offsets
// come from the running kernel's BTF (kernel_btf.py); without them UDP owners are not looked up.
BPF_TABLE("lru_hash", u32, s32, binding, 16384);

#define KREAD(dst, base, offset) bpf_probe_read_kernel(&(dst), sizeof(dst), (void *)((u64)(base) + (offset)))

static __always_inline void remember_udp_socket(s32 fd) {
#ifdef OFF_TASK_FILES
    u64 task = (u64)bpf_get_current_task();
    u64 files = 0, fdt = 0, fds = 0, file = 0, socket = 0, sk = 0;
    u32 max_fds = 0;
    if (KREAD(files, task, OFF_TASK_FILES) || !files || KREAD(fdt, files, OFF_FILES_FDT) || !fdt)
        return;
    if (KREAD(max_fds, fdt, OFF_FDT_MAX_FDS) || fd < 0 || (u32)fd >= max_fds)
        return;
    if (KREAD(fds, fdt, OFF_FDT_FD) || !fds || KREAD(file, fds, 8 * (u32)fd) || !file)
        return;
    if (KREAD(socket, file, OFF_FILE_PRIVATE_DATA) || !socket || KREAD(sk, socket, OFF_SOCKET_SK) || !sk)
        return;
    u16 protocol = 0, family = 0, port = 0;
    if (KREAD(protocol, sk, OFF_SOCK_PROTOCOL) || KREAD(family, sk, OFF_SOCK_FAMILY) || KREAD(port, sk, OFF_SOCK_NUM))
        return;
    if (protocol != IPPROTO_UDP || (family != AF_INET && family != AF_INET6) || !port)
        return;
    u64 id = bpf_get_current_pid_tgid();
    struct owner_key ok = {.port = port, .role = ROLE_UDP};  // address all zeros: any
    struct owner_t owner = {.ts_ns = bpf_ktime_get_ns(), .tgid = id >> 32, .tid = (u32)id, .fd = fd};
    bpf_get_current_comm(&owner.comm, sizeof(owner.comm));
    owner_by_client.update(&ok, &owner);
#endif
}

TRACEPOINT_PROBE(syscalls, sys_exit_connect) {
    u32 tid = (u32)bpf_get_current_pid_tgid();
    s32 *fd = connecting.lookup(&tid);
    if (!fd)
        return 0;
    s32 connected = *fd;
    connecting.delete(&tid);
    if (args->ret == 0)  // (a UDP connect returns 0 at once; most TCP connects are non-blocking, -EINPROGRESS)
        remember_udp_socket(connected);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_bind) {
    u64 id = bpf_get_current_pid_tgid();
    if (!wanted(id >> 32))
        return 0;
    u32 tid = (u32)id;
    s32 fd = args->fd;
    binding.update(&tid, &fd);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_bind) {
    u32 tid = (u32)bpf_get_current_pid_tgid();
    s32 *fd = binding.lookup(&tid);
    if (!fd)
        return 0;
    s32 bound = *fd;
    binding.delete(&tid);
    if (args->ret == 0)
        remember_udp_socket(bound);
    return 0;
}

TRACEPOINT_PROBE(sock, inet_sock_set_state) {
    if (args->protocol != IPPROTO_TCP)
        return 0;
    u64 sk = (u64)args->skaddr;
    if (args->newstate == BPF_TCP_SYN_SENT) {
        u64 id = bpf_get_current_pid_tgid();
        u32 tid = (u32)id;
        s32 *fd = connecting.lookup(&tid);
        if (!fd)
            return 0;
        struct pending_t p = {.tgid = id >> 32, .tid = tid, .fd = *fd};
        connecting.delete(&tid);  // a TCP connect: nothing for sys_exit_connect's UDP socket walk
        bpf_get_current_comm(&p.comm, sizeof(p.comm));
        syn_sent.update(&sk, &p);
        return 0;
    }
    if (args->oldstate != BPF_TCP_SYN_SENT)
        return 0;
    struct pending_t *p = syn_sent.lookup(&sk);
    if (!p)
        return 0;
    if (args->newstate == BPF_TCP_ESTABLISHED) {
        struct sock_t sock = {.family = args->family, .role = 1, .client_port = args->sport,
                              .server_port = args->dport};
        if (args->family == AF_INET) {
            __builtin_memcpy(sock.client_addr, args->saddr, 4);
            __builtin_memcpy(sock.server_addr, args->daddr, 4);
        } else {
            __builtin_memcpy(sock.client_addr, args->saddr_v6, 16);
            __builtin_memcpy(sock.server_addr, args->daddr_v6, 16);
        }
        remember_socket(p->tgid, p->tid, p->fd, p->comm, &sock);
    }
    syn_sent.delete(&sk);
    return 0;
}

// Server side: accept() returns the fd and writes the peer's address into the caller's buffer.
static __always_inline int on_accept_enter(u64 addr) {
    u64 id = bpf_get_current_pid_tgid();
    if (!addr || !wanted(id >> 32))
        return 0;
    u32 tid = (u32)id;
    accepting.update(&tid, &addr);
    return 0;
}

static __always_inline int on_accept_exit(void *ctx, long ret) {
    u32 tid = (u32)bpf_get_current_pid_tgid();
    u64 *addr = accepting.lookup(&tid);
    if (!addr)
        return 0;
    u64 uaddr = *addr;
    accepting.delete(&tid);
    if (ret < 0)
        return 0;
    u16 family = 0;
    bpf_probe_read_user(&family, sizeof(family), (void *)uaddr);
    if (family != AF_INET && family != AF_INET6)
        return 0;
    struct sock_t sock = {.family = family, .role = 2};
    u16 port = 0;
    bpf_probe_read_user(&port, sizeof(port), (void *)(uaddr + 2));
    sock.client_port = ntohs(port);  // the peer is the client of the handshake
    if (family == AF_INET)
        bpf_probe_read_user(sock.client_addr, 4, (void *)(uaddr + 4));
    else
        bpf_probe_read_user(sock.client_addr, 16, (void *)(uaddr + 8));
    u64 id = bpf_get_current_pid_tgid();
    char comm[TASK_COMM_LEN];
    bpf_get_current_comm(&comm, sizeof(comm));
    remember_socket(id >> 32, (u32)id, ret, comm, &sock);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_accept4) { return on_accept_enter((u64)args->upeer_sockaddr); }
TRACEPOINT_PROBE(syscalls, sys_exit_accept4) { return on_accept_exit(args, args->ret); }
TRACEPOINT_PROBE(syscalls, sys_enter_accept) { return on_accept_enter((u64)args->upeer_sockaddr); }
TRACEPOINT_PROBE(syscalls, sys_exit_accept) { return on_accept_exit(args, args->ret); }

TRACEPOINT_PROBE(sched, sched_process_exec) {
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    int zero = 0;
    struct exec_path_t *slot = exec_scratch.lookup(&zero);
    if (!slot || !wanted(tgid))
        return 0;
    TP_DATA_LOC_READ_STR(slot->path, filename, sizeof(slot->path));
    exec_paths.update(&tgid, slot);
    return 0;
}

TRACEPOINT_PROBE(sched, sched_process_exit) {  // (every thread's exit, not only the process's)
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    disarm((u32)id);  // a thread that exits armed would keep every read and write looking
    if ((u32)id != tgid)
        return 0;
    if (!tls_pids.lookup(&tgid)) {
        exec_paths.delete(&tgid);
        return 0;
    }
    tls_pids.delete(&tgid);
    struct event_t *e = new_event(K_EXIT);
    if (e)
        emit_event(e, EVENT_SIZE_NO_SNI, 0);
    return 0;
}
