// Process view of TLS handshakes: OpenSSL uprobes plus sock and sched tracepoints (no kprobes, and
// no system-call tracepoint: see on_sock_io).
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
// thread is armed, and its first receive on the SSL object's socket (SSL_set_fd's, found through
// the file table, or else a TCP socket of the same role) is the handshake's start, sent at once
// (K_IMPLICIT) with its fd when known, socket, SNI and role. (A client's first receive is its
// ServerHello's: its ClientHello has gone out by then. Sends are not watched: see on_sock_io.)
// Its end and success come from the wire view. An explicit handshake is done once
// SSL_do_handshake returns 1; a failure is known from a 0 return, SSL_free before success, the
// next start on the same SSL object or the process's exit. SSL_get_error is not probed: programs
// call it after every "call again" return (the stress's s_server four times a handshake), and its
// entry and return probes cost the observed program ~1.7 us a call, for telling a failure a
// little earlier.
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
#include <linux/socket.h>
#include <linux/in.h>
#include <asm/unistd.h>  // (__NR_*, for the SYSCALL_IO build of kernels before 6.3)

#define K_HS_ENTER 1
#define K_HS_RETURN 2
#define K_IMPLICIT 3  // an implicit handshake's start, at its first socket receive (see above)
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
// An SSL object armed by SSL_set_*_state without a known socket takes the first TCP connection of
// its role the thread receives on within ARM_RECV_NS (the socket tracepoint sees a receive when it
// returns: a server may wait long for its ClientHello), or sends on within ARM_NS (sends are seen
// only by the SYSCALL_IO build); with SSL_set_fd's socket, the first I/O seen on that socket.
#define ARM_NS 1000000000ULL
#define ARM_RECV_NS 15000000000ULL

struct ssl_key {
    u32 tgid;
    u32 pad;
    u64 ssl;
};

// What a thread is doing with an SSL object: K_HS_ENTER inside SSL_do_handshake; K_IMPLICIT armed by
// SSL_set_*_state (since armed_ns) until its first socket receive or SSL_do_handshake.
struct active_t {
    u64 ssl;
    u64 armed_ns;
    u32 kind;
    u32 pad;
};

// The thread that began connecting a TCP socket (its SYN_SENT transition), until it is established.
struct connector_t {
    u32 tgid;
    u32 tid;
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
// A hash, not an LRU: pending_counts.armed counts its entries exactly, and an LRU would evict one
// uncounted. When it is full a thread is not armed (its implicit handshake is missed, and counted
// nowhere).
BPF_HASH(active, u32, struct active_t, 65536);
// Accepted TCP sockets no process has done I/O on yet (see claim_server_socket). A hash, for the
// same reason.
BPF_HASH(unclaimed, u64, u8, 65536);
// How many threads `active` holds and how many sockets `unclaimed` does. Every socket send and
// receive on the host looks here first (on_sock_io) and does no more for either while it is 0: the
// usual state of a host that moves data on long-lived connections.
struct pending_counts_t {
    s64 armed;
    s64 unclaimed;
};
BPF_ARRAY(pending_counts, struct pending_counts_t, 1);
#define PENDING_ARMED 0
#define PENDING_UNCLAIMED 1
BPF_TABLE("lru_hash", u64, struct connector_t, syn_sent, 65536);
BPF_TABLE("lru_hash", u32, u8, tls_pids, 65536);

static __always_inline void count_pending(int which, s64 delta) {
    int zero = 0;
    struct pending_counts_t *c = pending_counts.lookup(&zero);
    if (!c)
        return;
    if (which == PENDING_ARMED)
        __sync_fetch_and_add(&c->armed, delta);
    else
        __sync_fetch_and_add(&c->unclaimed, delta);
}

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
// the handshake (looked up here, by the kernel's socket address, while it is that connection's);
// user space and the socket filter look up the owners of a TLS connection the wire view saw by
// both its ends, else by its client end alone (struct owner_key).
struct sock_t {
    u16 family;
    u16 role;  // 1 client (connect), 2 server (accept)
    u16 client_port;
    u16 server_port;
    u8 client_addr[16];
    u8 server_addr[16];
};

// Each connection's owner is kept twice: under both its ends, and under its client end alone (the
// server's fields zero). The socket filter looks up both ends first: one client port can have
// connections to two servers at once (Linux reuses a local port for different destinations), and
// under the client end alone the later's owners would be the earlier's. The client end alone is
// the fallback for a server behind DNAT, whose socket names its private address while the wire
// sees the public one. UDP's entries (ROLE_UDP) have the local port alone.
struct owner_key {
    u8 addr[16];         // the client's address (IPv6, IPv4 mapped); all zeros for ROLE_UDP
    u8 server_addr[16];  // the server's, or all zeros: the client end alone
    u16 port;            // the client's port (ROLE_UDP: the socket's local port)
    u16 role;
    u16 server_port;     // 0: the client end alone
    u16 pad;
};

struct owner_t {
    u64 ts_ns;  // when the client's socket was established, or the server's first used: tells a reused client port apart
    u32 tgid;
    u32 tid;
    s32 fd;  // -1: not known (owners are found from socket state and I/O, not from system calls)
    u32 pad;
    char comm[TASK_COMM_LEN];
};

// TCP connections by the kernel's struct sock address, from when they are established until they
// close.
BPF_TABLE("lru_hash", u64, struct sock_t, sock_by_sk, 65536);
BPF_TABLE("lru_hash", struct owner_key, struct owner_t, owner_by_client, 131072);  // two entries a connection

// What SSL_set_fd and SSL_set_tlsext_host_name said about an SSL object whose handshake has not
// started yet: sent with its first handshake event.
struct fd_info_t {
    s32 fd;
    u32 pad;
    u64 sk;  // the fd's struct sock when SSL_set_fd was called; 0: not known (no BTF offsets)
};

struct sni_t {
    u16 len;
    char name[SNI_MAX];
};

BPF_TABLE("lru_hash", struct ssl_key, struct fd_info_t, fd_before, 16384);
BPF_TABLE("lru_hash", struct ssl_key, struct sni_t, sni_before, 16384);
BPF_PERCPU_ARRAY(sni_scratch, struct sni_t, 1);

// An address of a socket as the socket filter sees addresses: IPv6, with IPv4 mapped
// (::ffff:a.b.c.d), so an IPv4 peer of a dual-stack socket is the same key as one of an IPv4
// socket. `out` is zeroed.
static __always_inline void wire_address(u8 *out, const u8 *addr, u16 family) {
    if (family == AF_INET) {
        out[10] = out[11] = 0xFF;
        __builtin_memcpy(out + 12, addr, 4);
    } else {
        __builtin_memcpy(out, addr, 16);
    }
}

static __always_inline void remember_owner(u32 tgid, u32 tid, const char *comm, struct sock_t *sock) {
    // Under the client end alone first, then under both ends (struct owner_key).
    struct owner_key ok = {.port = sock->client_port, .role = sock->role};
    wire_address(ok.addr, sock->client_addr, sock->family);
    struct owner_t owner = {.ts_ns = bpf_ktime_get_ns(), .tgid = tgid, .tid = tid, .fd = -1};
    __builtin_memcpy(owner.comm, comm, TASK_COMM_LEN);
    owner_by_client.update(&ok, &owner);
    wire_address(ok.server_addr, sock->server_addr, sock->family);
    ok.server_port = sock->server_port;
    owner_by_client.update(&ok, &owner);
}

// An event that carries an fd (E_FD; -1 when only the socket is known) carries its socket too, when
// the sensor saw the connection established: role in ret, client in saddr/sport, server in
// daddr/dport.
static __always_inline void attach_sock(struct event_t *e, u64 sk, s32 fd) {
    e->flags |= E_FD;
    e->fd = fd;
    struct sock_t *sock = sk ? sock_by_sk.lookup(&sk) : 0;
    if (!sock)
        return;
    e->ret = sock->role;
    e->family = sock->family;
    e->sport = sock->client_port;
    e->dport = sock->server_port;
    __builtin_memcpy(e->saddr, sock->client_addr, 16);
    __builtin_memcpy(e->daddr, sock->server_addr, 16);
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

#define KREAD(dst, base, offset) bpf_probe_read_kernel(&(dst), sizeof(dst), (void *)((u64)(base) + (offset)))

// The struct sock behind the calling process's descriptor `fd`, through its file table; 0 if it is
// not a socket. Offsets from the running kernel's BTF (kernel_btf.py): the headers bcc compiles
// against may be another kernel's. A few reads, once per SSL_set_fd.
static __always_inline u64 sock_of_fd(s32 fd) {
#ifdef OFF_TASK_FILES
    u64 task = (u64)bpf_get_current_task();
    u64 files = 0, fdt = 0, fds = 0, file = 0, socket = 0, back = 0, sk = 0;
    u32 max_fds = 0;
    if (KREAD(files, task, OFF_TASK_FILES) || !files || KREAD(fdt, files, OFF_FILES_FDT) || !fdt)
        return 0;
    if (KREAD(max_fds, fdt, OFF_FDT_MAX_FDS) || fd < 0 || (u32)fd >= max_fds)
        return 0;
    if (KREAD(fds, fdt, OFF_FDT_FD) || !fds || KREAD(file, fds, 8 * (u64)fd) || !file)
        return 0;
    if (KREAD(socket, file, OFF_FILE_PRIVATE_DATA) || !socket)
        return 0;
    // A socket's file and struct socket point at each other; any other file's private data does not
    // point back at it.
    if (KREAD(back, socket, OFF_SOCKET_FILE) || back != file || KREAD(sk, socket, OFF_SOCKET_SK))
        return 0;
    return sk;
#else
    return 0;
#endif
}

// A handshake's first event: what SSL_set_fd, SSL_set_tlsext_host_name and SSL_set_*_state said
// about the SSL object before it started goes with it. `in_use`: the socket the handshake is being
// done on, when the caller saw it (0: SSL_set_fd's fd says). Returns the size of the event to send.
static __always_inline u32 fill_start(struct event_t *e, struct ssl_key *key, u64 in_use) {
    e->ssl = key->ssl;
    struct fd_info_t *info = fd_before.lookup(key);
    if (info) {
        // Else the fd's socket as it is now (the fd may have been closed and reused since
        // SSL_set_fd, a failed connect retried), its endpoints looked up now: SSL_set_fd may come
        // before the connection is up.
        u64 sk = in_use ? in_use : sock_of_fd(info->fd);
        attach_sock(e, sk ? sk : info->sk, info->fd);
        fd_before.delete(key);
    } else if (in_use) {
        attach_sock(e, in_use, -1);
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
    count_pending(PENDING_ARMED, 1);
}

static __always_inline void disarm(u32 tid) {
    if (active.delete(&tid) != 0)
        return;
    count_pending(PENDING_ARMED, -1);
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
    u32 size = fill_start(e, &key, 0);
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
    u64 sk = sock_of_fd(fd);
    u8 one = 1;
    fd_known.update(&key, &one);
    if (!known.lookup(&key)) {
        struct fd_info_t info = {.fd = fd, .sk = sk};
        fd_before.update(&key, &info);
        return 0;
    }
    flush_held(&key);
    struct event_t *e = new_event(K_FD);
    if (!e)
        return 0;
    e->ssl = key.ssl;
    attach_sock(e, sk, fd);
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
        // the address for the next object, which must not inherit its fd, SNI or role). Each is
        // looked up first: a delete takes its bucket's lock, found or not, and most objects freed
        // here have none of them (s_server frees each connection's object twice).
        if (fd_before.lookup(&key))
            fd_before.delete(&key);
        if (sni_before.lookup(&key))
            sni_before.delete(&key);
        if (roles.lookup(&key))
            roles.delete(&key);
        if (fd_known.lookup(&key))
            fd_known.delete(&key);
        return 0;
    }
    known.delete(&key);
    if (fd_known.lookup(&key))
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

// An armed thread (SSL_set_*_state) does I/O on a socket: if it is the SSL object's, an implicit
// handshake starts here. The event is sent at once: nothing in the kernel sees it end (the wire does).
static __always_inline void implicit_start(struct active_t *act, u32 tgid, u32 tid, u64 sk, int receive) {
    struct ssl_key key = {.tgid = tgid, .ssl = act->ssl};
    struct fd_info_t *info = fd_before.lookup(&key);
    if (info && info->sk) {
        if (info->sk != sk && sock_of_fd(info->fd) != sk)
            return;  // I/O on another socket (the fd's socket is looked up again: it may be a new one)
    } else {
        if (bpf_ktime_get_ns() - act->armed_ns > (receive ? ARM_RECV_NS : ARM_NS)) {
            disarm(tid);
            return;
        }
        struct sock_t *sock = sock_by_sk.lookup(&sk);
        u8 *role = roles.lookup(&key);
        if (!sock || !role || sock->role != *role)
            return;  // not a connection this object can be on: one of the other role, or not TCP
    }
    disarm(tid);
    u8 one = 1;
    known.update(&key, &one);
    done.update(&key, &one);
    fd_known.update(&key, &one);
    int first = first_of_process(tgid);
    struct event_t *e = new_event(K_IMPLICIT);
    if (!e)
        return;
    u32 size = fill_start(e, &key, sk);
    emit_event(e, size, first);
}

// The socket an OpenSSL call is using, for BIO-based programs that never call SSL_set_fd: the first
// socket a thread does I/O on inside SSL_do_handshake. And an armed thread's implicit start.
static __always_inline void on_armed_io(u64 sk, int receive) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct active_t *act = active.lookup(&tid);
    if (!act)
        return;
    if (act->kind == K_IMPLICIT) {
        implicit_start(act, id >> 32, tid, sk, receive);
        return;
    }
    struct ssl_key key = {.tgid = id >> 32, .ssl = act->ssl};
    if (fd_known.lookup(&key))
        return;
    if (!sock_by_sk.lookup(&sk))
        return;  // not a TCP connection seen established (a UNIX socket, or one older than the sensor)
    u8 one = 1;
    fd_known.update(&key, &one);
    struct event_t *h = held.lookup(&key);
    if (h) {
        attach_sock(h, sk, -1);  // joined into the held start event, like SSL_set_fd's
        return;
    }
    struct event_t *e = new_event(K_FD);
    if (!e)
        return;
    e->ssl = key.ssl;
    attach_sock(e, sk, -1);
    emit_event(e, EVENT_SIZE_NO_SNI, 0);
}

// An accepted connection's process is the first to do I/O on it (accept() is a system call, and no
// system call is traced: see on_sock_io). Its entry in `unclaimed` was made when it was established.
static __always_inline void claim_server_socket(u64 sk) {
    if (!unclaimed.lookup(&sk) || unclaimed.delete(&sk) != 0)
        return;  // (a delete takes the bucket's lock even when the key is absent: look first)
    count_pending(PENDING_UNCLAIMED, -1);
    struct sock_t *sock = sock_by_sk.lookup(&sk);
    u64 id = bpf_get_current_pid_tgid();
    if (!sock || !wanted(id >> 32))
        return;
    char comm[TASK_COMM_LEN];
    bpf_get_current_comm(&comm, sizeof(comm));
    remember_owner(id >> 32, (u32)id, comm, sock);
}

// When the socket filter (tls_wire.c) last saw a QUIC flow open (ktime ns): other UDP is not looked
// at when none was lately, there or here. The filter sees a flow's first Initial before either end's
// socket I/O on it returns.
BPF_ARRAY(quic_opened, u64, 1);
// A QUIC flow older than this is user space's to time out (the sensor's --timeout, 15 s by default).
#define QUIC_WINDOW_NS (30ULL * 1000000000ULL)

static __always_inline int quic_lately(void) {
    int zero = 0;
    u64 *opened = quic_opened.lookup(&zero);
    return opened && *opened && bpf_ktime_get_ns() - *opened <= QUIC_WINDOW_NS;
}

// UDP has no connection to accept or connect: its owners (QUIC's ends) are the processes whose
// sockets have the local ports, as the last process to do I/O on each port while QUIC flows were
// opening left them. The socket's fields are read at offsets from the running kernel's BTF
// (kernel_btf.py): the headers bcc compiles against may be another kernel's. Without them UDP
// owners are not looked up.
static __always_inline void note_udp_owner(u64 sk) {
#ifdef OFF_SOCK_PROTOCOL
    if (!quic_lately())
        return;  // no QUIC lately: TCP I/O does not even read the socket's protocol
    u16 protocol = 0, family = 0, port = 0;
    if (KREAD(protocol, sk, OFF_SOCK_PROTOCOL) || protocol != IPPROTO_UDP)
        return;
    if (KREAD(family, sk, OFF_SOCK_FAMILY) || (family != AF_INET && family != AF_INET6))
        return;
    if (KREAD(port, sk, OFF_SOCK_NUM) || !port)
        return;
    u64 id = bpf_get_current_pid_tgid();
    if (!wanted(id >> 32))
        return;
    struct owner_key ok = {.port = port, .role = ROLE_UDP};  // address all zeros: any
    struct owner_t *was = owner_by_client.lookup(&ok);
    if (was && was->tgid == (u32)(id >> 32))
        return;  // one lookup per datagram once the port's owner is known
    struct owner_t owner = {.ts_ns = bpf_ktime_get_ns(), .tgid = id >> 32, .tid = (u32)id, .fd = -1};
    bpf_get_current_comm(&owner.comm, sizeof(owner.comm));
    owner_by_client.update(&ok, &owner);
#endif
}

// Every receive on a socket, by any process: sock:sock_recv_length fires in sock_recvmsg, which
// read/recv*/recvmsg (and io_uring) on a socket all go through. It is not a system-call tracepoint:
// a syscalls:* or raw_syscalls:* tracepoint, attached at all, sends every system call of every task
// on the host through the kernel's slow entry and exit path (SYSCALL_WORK_SYSCALL_TRACEPOINT), ~0.15
// us a call measured on this project's VM. Here only a socket receive pays, and with nothing
// pending and no QUIC lately it reads two array entries.
//
// Sends (sock:sock_send_length) are not watched: everything wanted here is seen at a receive too
// (an armed thread's handshake receives its peer's hello; an accepted connection's process and a
// QUIC end receive on their sockets), and the send tracepoint cost the stress's ping-pong of 1 KiB
// records more than the receive one did (~0.2 us a send against 0.06-0.1 us a receive on this
// project's VM, docs/RUNTIME.md), for an implicit handshake's start a round trip earlier.
static __always_inline int on_sock_io(u64 sk, int receive) {
    int zero = 0;
    struct pending_counts_t *pending = pending_counts.lookup(&zero);
    if (pending) {
        if (pending->armed > 0)
            on_armed_io(sk, receive);
        if (pending->unclaimed > 0)
            claim_server_socket(sk);
    }
    note_udp_owner(sk);
    return 0;
}

#ifndef SYSCALL_IO
RAW_TRACEPOINT_PROBE(sock_recv_length) { return on_sock_io(ctx->args[0], 1); }
#else
// Kernels before 6.3 have no sock_recv_length. There the socket I/O system calls
// are watched at every system call's entry instead (and every system call on the host then takes
// the slow path: see above), their fd turned into its socket only when something is pending.
RAW_TRACEPOINT_PROBE(sys_enter) {
    int zero = 0;
    struct pending_counts_t *pending = pending_counts.lookup(&zero);
    if ((!pending || (pending->armed <= 0 && pending->unclaimed <= 0)) && !quic_lately())
        return 0;  // (the fd is turned into its socket only when something may want it)
    long nr = (long)ctx->args[1];
    int receive = nr == __NR_read || nr == __NR_recvfrom || nr == __NR_recvmsg;
    if (!receive && nr != __NR_write && nr != __NR_sendto && nr != __NR_sendmsg)
        return 0;
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    u64 fd = 0;
    bpf_probe_read_kernel(&fd, sizeof(fd), &PT_REGS_PARM1(regs));
    u64 sk = sock_of_fd((int)fd);
    return sk ? on_sock_io(sk, receive) : 0;
}
#endif

// TCP connections from their state changes, no system call traced. A client's SYN_SENT transition
// runs in the connecting thread (connect(), or sendmsg with MSG_FASTOPEN): it names the process. The
// ESTABLISHED transition (any context) carries the full 4-tuple: from SYN_SENT a client's socket,
// from SYN_RECV an accepted one, whose process is the first to do I/O on it (claim_server_socket).
// CLOSE forgets the socket: its address may be a new socket's next.
TRACEPOINT_PROBE(sock, inet_sock_set_state) {
    if (args->protocol != IPPROTO_TCP)
        return 0;
    u64 sk = (u64)args->skaddr;
    if (args->newstate == BPF_TCP_SYN_SENT) {
        u64 id = bpf_get_current_pid_tgid();
        if (!wanted(id >> 32))
            return 0;
        struct connector_t p = {.tgid = id >> 32, .tid = (u32)id};
        bpf_get_current_comm(&p.comm, sizeof(p.comm));
        syn_sent.update(&sk, &p);
        return 0;
    }
    if (args->newstate == BPF_TCP_CLOSE) {  // (looked up first: a delete locks its bucket, found or not)
        if (sock_by_sk.lookup(&sk))
            sock_by_sk.delete(&sk);
        if (syn_sent.lookup(&sk))
            syn_sent.delete(&sk);
        if (unclaimed.lookup(&sk) && unclaimed.delete(&sk) == 0)
            count_pending(PENDING_UNCLAIMED, -1);
        return 0;
    }
    if (args->newstate != BPF_TCP_ESTABLISHED)
        return 0;
    struct connector_t *p = syn_sent.lookup(&sk);
    // (A simultaneous open goes SYN_SENT -> SYN_RECV -> ESTABLISHED: the connecting end's.)
    u16 role = args->oldstate == BPF_TCP_SYN_SENT || (args->oldstate == BPF_TCP_SYN_RECV && p) ? ROLE_CLIENT
             : args->oldstate == BPF_TCP_SYN_RECV ? ROLE_SERVER : 0;
    if (!role)
        return 0;
    struct sock_t sock = {.family = args->family, .role = role};
    // sport/saddr are the socket's own end: the client's on a client socket, the server's on an
    // accepted one.
    u16 local_port = args->sport, remote_port = args->dport;
    u8 local[16] = {}, remote[16] = {};
    if (args->family == AF_INET) {
        __builtin_memcpy(local, args->saddr, 4);
        __builtin_memcpy(remote, args->daddr, 4);
    } else {
        __builtin_memcpy(local, args->saddr_v6, 16);
        __builtin_memcpy(remote, args->daddr_v6, 16);
    }
    if (role == ROLE_CLIENT) {
        sock.client_port = local_port;
        sock.server_port = remote_port;
        __builtin_memcpy(sock.client_addr, local, 16);
        __builtin_memcpy(sock.server_addr, remote, 16);
    } else {
        sock.client_port = remote_port;
        sock.server_port = local_port;
        __builtin_memcpy(sock.client_addr, remote, 16);
        __builtin_memcpy(sock.server_addr, local, 16);
    }
    sock_by_sk.update(&sk, &sock);
    if (role == ROLE_SERVER) {
        u8 one = 1;
        if (unclaimed.insert(&sk, &one) == 0)
            count_pending(PENDING_UNCLAIMED, 1);
        return 0;
    }
    if (!p)
        return 0;  // connected before the sensor started, by a process it does not watch (FILTER_TGID), or evicted
    remember_owner(p->tgid, p->tid, p->comm, &sock);
    syn_sent.delete(&sk);
    return 0;
}

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
    disarm((u32)id);  // a thread that exits armed would keep every socket send and receive looking
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
