// Wire view of TLS handshakes: a socket filter on AF_PACKET (SOCK_DGRAM) sockets, so offsets start
// at the IP header on every kind of interface; on loopback, the same filter as a cgroup skb program
// on the receiving sockets instead (tls_wire_cgroup, at the end), which hands what it passes over
// through a ring of its own.
//
// It passes to user space only the TCP segments of connections that start like TLS, from their
// first byte until user space has seen enough (it deletes the flow), the connection closes, or a
// per-connection budget runs out. A connection is a candidate from its SYN; its first client byte
// decides (0x16 = a TLS handshake record). Connections already open when the sensor started are
// picked up at a segment that begins with a TLS handshake record header. IPv4 and IPv6: an IPv6
// header chain may hold hop-by-hop, routing and destination options (up to MAX_IPV6_HEADERS of them)
// and a fragment header; anything else before TCP is not looked at. Addresses are kept as IPv6
// (IPv4 as ::ffff:a.b.c.d), each as four words in host order, as load_word() gives them.
//
// IP fragments are not reassembled here (user space does): a datagram's first fragment carries the
// TCP header and is judged like any segment, from what it holds, and the verdict is remembered in
// `fragments` (by addresses and identification); a later fragment gets its first fragment's
// verdict, and is passed when its first has not come yet (user space lets such pieces expire when
// no first fragment follows). Fragmented TCP is rare, so this costs little.
//
// The common case is summarised here instead of passed: when the server's first segment holds a
// whole TLS 1.3 ServerHello (not a HelloRetryRequest), the filter keeps its version, cipher suite
// and group, swallows the rest of the handshake, and sends one `wire_end_t` when the client's
// first encrypted record (or an alert, or the close) ends it. A ClientHello that is one whole
// record in the connection's first client segment (always, on loopback) is held in `hellos`
// meanwhile and sent with the summary, so such a handshake reaches user space as one record.
// Anything else (TLS 1.2, a retry, a split or odd ServerHello, more client bytes before the server
// speaks, the close) first hands the held ClientHello over as the connection's first segment
// (END_PASSED), then passes what follows: user space has every byte it had before, and the
// decision is made before anything but the ClientHello is swallowed.
#include <bcc/proto.h>
#include <uapi/linux/if_packet.h>
#include <uapi/linux/if_ether.h>
#include <uapi/linux/in6.h>

// Packet loads by helper, not by the LD_ABS instructions bcc's load_byte() and friends compile to:
// the kernel allows those in socket filters but not in cgroup skb programs, and both run this
// code. Each is a helper call either way. A load past the packet's end reads 0 (the helper clears
// what it could not copy); an LD_ABS load there ended the program (the packet was not passed).
static __always_inline u8 wire_load_byte(struct __sk_buff *skb, u32 at) {
    u8 v = 0;
    bpf_skb_load_bytes(skb, at, &v, 1);
    return v;
}
static __always_inline u16 wire_load_half(struct __sk_buff *skb, u32 at) {
    u16 v = 0;
    bpf_skb_load_bytes(skb, at, &v, 2);
    return bpf_ntohs(v);
}
static __always_inline u32 wire_load_word(struct __sk_buff *skb, u32 at) {
    u32 v = 0;
    bpf_skb_load_bytes(skb, at, &v, 4);
    return bpf_ntohl(v);
}
#define load_byte(skb, at) wire_load_byte(skb, at)
#define load_half(skb, at) wire_load_half(skb, at)
#define load_word(skb, at) wire_load_word(skb, at)

#define ST_CANDIDATE 1
#define ST_TLS 2      // segments are passed to user space
#define ST_SUMMARY 3  // TLS 1.3 after a whole ServerHello: summarised here, swallowed
#define ST_SSH 4      // SSH: segments are passed until user space has both KEXINITs and NEWKEYS, or SSH_BYTES
#define ST_QUIC 5     // a UDP 4-tuple that began with a client's Initial: its Initial packets are passed
// The plaintext of an SSH key exchange (banners, two KEXINITs, the hybrid kex's public values, the
// host key and its signature, NEWKEYS) is a few KiB; past this many payload bytes a connection is
// bulk traffic, let go here even if user space has not said it is done yet.
#ifndef SSH_BYTES
#define SSH_BYTES 65536
#endif
#define SSH_MAGIC 0x5353482D  // "SSH-", the start of an SSH identification string
#define QUIC_V1 0x00000001
#define QUIC_V2 0x6b3343cf
#define QUIC_MIN_INITIAL 1200 // RFC 9000 14.1: a client's Initial datagram is padded to at least this
#define MAX_SH_EXTENSIONS 16
#ifndef SUMMARISE
#define SUMMARISE 1  // 0: pass every segment of a TLS connection to user space, summarise nothing here
#endif

// How a summarised handshake ended (wire_end_t.outcome); sensor.py's WireOutcome.
#define END_FINISHED 1        // the client's first encrypted record, its Finished
#define END_ENCRYPTED_ALERT 2 // ... which was an alert instead (19 bytes: a refused certificate)
#define END_ALERT 3           // a plaintext alert record from either side
#define END_CLOSED 4          // FIN or RST before the handshake finished
#define END_UNEXPECTED 5      // a plaintext handshake record from the client after the ServerHello
#define END_BUDGET 6          // more than MAX_PACKETS segments without an end
#define END_PASSED 7          // not a summary: the held ClientHello, handed over as a segment
#ifndef HELLO_MAX
#define HELLO_MAX 2048        // the largest ClientHello segment held (bigger ones are passed)
#endif
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define MAX_IPV6_HEADERS 4
#define IP_SEGMENT 1         // parse_ip(): a TCP segment (or a datagram's first fragment)
#define IP_LATER_FRAGMENT 2  // a later fragment of a TCP datagram
#define IP_UDP 3             // parse_ip(): an unfragmented UDP datagram

struct flow_key {
    u32 a_ip[4];
    u32 b_ip[4];
    u16 a_port;
    u16 b_port;
};

// A TCP packet as parse_ip() found it (bcc's proto.h has a struct ip_t of its own).
struct packet_ip {
    u32 saddr[4];
    u32 daddr[4];
    u32 l4;         // where the TCP header starts
    u32 end;        // where the IP datagram (this fragment of it) ends
    u32 frag_id;    // the identification of a fragmented datagram
    u32 fragment;   // this is a fragment: the first (IP_SEGMENT) or a later one
    u32 v6;         // an IPv6 packet (where ip_addresses() finds the addresses)
};

struct fragment_key {
    u32 saddr[4];
    u32 daddr[4];
    u32 id;
};

struct flow_state {
    u32 client_ip[4];
    u32 isn;
    u16 client_port;
    u16 state;
    u32 packets;
    u32 server_spoke;
    u32 client_next;  // sequence number after the client's bytes before the server spoke
    u16 sh_version;   // ST_SUMMARY: the ServerHello's legacy_version, cipher suite and key-share group
    u16 suite;
    u16 group;
    u16 hello;  // the ClientHello is held in `hellos`
    u32 ssh_bytes;  // ST_SSH: the payload bytes passed so far
};

struct wire_end_t {
    u64 ts_ns;
    u8 client_ip[16];  // network byte order; IPv4 as ::ffff:a.b.c.d
    u8 server_ip[16];
    u16 client_port;
    u16 server_port;
    u16 sh_version;
    u16 suite;
    u16 group;
    u16 outcome;
    u32 client_isn;  // the client's initial sequence number: tells a reused port's connections apart
    // The processes at the two ends, as the socket tracepoints left them in owner_by_client
    // (bpf/tls_probes.c): user space needs them for each end no OpenSSL probe saw, and a lookup
    // here costs it nothing, where one from user space is a system call. tgid 0: not known.
    // Spelt out field by field: bcc cannot describe nested structs of perf events to Python.
    u64 client_seen_ns;  // the client's owner (the process that connected)
    u32 client_tgid;
    u32 client_tid;
    s32 client_fd;
    u32 client_pad;
    char client_comm[TASK_COMM_LEN];
    u64 server_seen_ns;  // the server's owner (the first process to do I/O on the accepted socket)
    u32 server_tgid;
    u32 server_tid;
    s32 server_fd;
    u32 server_pad;
    char server_comm[TASK_COMM_LEN];
    u64 hello_ns;    // when the ClientHello that follows this struct arrived
    u32 hello_len;   // its length; 0: none follows (user space has it from the packet ring)
    u32 alert;       // END_ALERT: the alert's AlertDescription + 1; 0: not known
};

// A held ClientHello: the wire_end_t that will carry it, its endpoints already set, and its bytes.
struct hello_t {
    struct wire_end_t end;
    u8 data[HELLO_MAX];
};

_Static_assert(offsetof(struct wire_end_t, server_seen_ns) - offsetof(struct wire_end_t, client_seen_ns) ==
               sizeof(struct owner_t), "wire_end_t's owner fields must be laid out as struct owner_t");
BPF_ARRAY(wire_end_layout, struct wire_end_t, 1);  // never written: the decoder is checked against it
#ifndef WIRE_RING_PAGES
#define WIRE_RING_PAGES 2048
#endif
BPF_RINGBUF_OUTPUT(wire_ends, WIRE_RING_PAGES);

static __always_inline void emit_wire(void *data, u32 size) {
    if (wire_ends.ringbuf_output(data, size, wakeup_flags(RS_WIRE, 0)) != 0)
        count_lost();
}

BPF_TABLE("lru_hash", struct flow_key, struct flow_state, flows, 65536);
// Fragmented TCP datagrams whose first fragment was judged: 1 passed, 0 not.
BPF_TABLE("lru_hash", struct fragment_key, u8, fragments, 4096);
// A hash, not an LRU: when it is full a ClientHello is passed as before, never dropped. User space
// takes entries held longer than a moment (a slow server, a connection this filter lost track of).
BPF_HASH(hellos, struct flow_key, struct hello_t, 4096);
// (quic_opened, when the last QUIC flow was opened, is declared in tls_probes.c, which reads it too.)
BPF_PERCPU_ARRAY(hello_scratch, struct hello_t, 1);

static __always_inline int same_ip(const u32 *a, const u32 *b) {
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

// Address words (host order) as the bytes of the address (network order).
static __always_inline void ip_bytes(u8 *out, const u32 *words) {
    #pragma unroll
    for (int i = 0; i < 4; i++) {
        u32 w = bpf_htonl(words[i]);
        __builtin_memcpy(out + 4 * i, &w, 4);
    }
}

// The server's end of a flow (the one that is not the client's): its address words and port.
static __always_inline const u32 *server_of(struct flow_key *key, struct flow_state *st, u16 *port) {
    if (same_ip(key->a_ip, st->client_ip) && key->a_port == st->client_port) {
        *port = key->b_port;
        return key->b_ip;
    }
    *port = key->a_port;
    return key->a_ip;
}

static __always_inline void set_ends(struct wire_end_t *end, struct flow_key *key, struct flow_state *st) {
    ip_bytes(end->client_ip, st->client_ip);
    end->client_port = st->client_port;
    end->client_isn = st->isn;
    ip_bytes(end->server_ip, server_of(key, st, &end->server_port));
}

// Hold the client's first segment when it is exactly one whole ClientHello record.
static __always_inline int hold_hello(struct __sk_buff *skb, struct flow_key *key, struct flow_state *st,
                                      u32 payload, u32 plen) {
    if (plen < 9 || plen > HELLO_MAX || load_byte(skb, payload + 5) != 1 || 5 + load_half(skb, payload + 3) != plen)
        return 0;
    int zero = 0;
    struct hello_t *h = hello_scratch.lookup(&zero);
    if (!h)
        return 0;
    set_ends(&h->end, key, st);
    h->end.hello_ns = bpf_ktime_get_ns();
    h->end.hello_len = plen;
    // The length is checked again on the very register the helper gets (the compiler would test a copy).
    u64 n = plen;
    asm volatile("" : "+r"(n));
    if (n > HELLO_MAX)
        return 0;
    asm volatile("" : "+r"(n));
    if (n == 0 || bpf_skb_load_bytes(skb, payload, h->data, n) != 0)
        return 0;
    if (hellos.update(key, h) != 0)
        return 0;  // full: pass it
    st->hello = 1;
    return 1;
}

// The held ClientHello, taken out of the map (a copy in hello_scratch), or 0. Whoever deletes the
// entry sends it: this program, or user space when it takes an old one.
static __always_inline struct hello_t *take_hello(struct flow_key *key, struct flow_state *st) {
    if (!st->hello)
        return 0;
    st->hello = 0;
    struct hello_t *h = hellos.lookup(key);
    if (!h)
        return 0;
    int zero = 0;
    struct hello_t *copy = hello_scratch.lookup(&zero);
    if (!copy || bpf_probe_read_kernel(copy, sizeof(*copy), h) != 0 || hellos.delete(key) != 0)
        return 0;
    return copy;
}

static __always_inline void emit_hello(struct hello_t *h) {
    u32 n = h->end.hello_len;
    if (n > HELLO_MAX)
        n = HELLO_MAX;
    emit_wire(h, sizeof(struct wire_end_t) + n);
}

// Hand the held ClientHello over as the connection's first segment: the rest is passed.
static __always_inline void release_hello(struct flow_key *key, struct flow_state *st) {
    struct hello_t *h = take_hello(key, st);
    if (!h)
        return;
    h->end.ts_ns = h->end.hello_ns;
    h->end.outcome = END_PASSED;
    h->end.sh_version = h->end.suite = h->end.group = 0;
    h->end.client_tgid = h->end.server_tgid = 0;
    emit_hello(h);
}

// A client segment that opens with an encrypted record (TLS 1.3 Finished), alone or after the
// one-byte compatibility ChangeCipherSpec, ends the handshake. A ChangeCipherSpec followed by a
// handshake record is a second ClientHello after a HelloRetryRequest and does not.
static __always_inline int handshake_over(struct __sk_buff *skb, u32 payload, u32 plen) {
    u8 first = load_byte(skb, payload);
    if (first == 0x17)
        return 1;
    return first == 0x14 && plen >= 7 && load_byte(skb, payload + 6) == 0x17;
}

// The HelloRetryRequest's fixed "random" (RFC 8446 4.1.3), as eight big-endian words.
static __always_inline int is_retry_random(struct __sk_buff *skb, u32 at) {
    return load_word(skb, at) == 0xCF21AD74 && load_word(skb, at + 4) == 0xE59A6111 &&
           load_word(skb, at + 8) == 0xBE1D8C02 && load_word(skb, at + 12) == 0x1E65B891 &&
           load_word(skb, at + 16) == 0xC2A21116 && load_word(skb, at + 20) == 0x7ABB8C5E &&
           load_word(skb, at + 24) == 0x079E09E2 && load_word(skb, at + 28) == 0xC8A8339C;
}

// Whether the server segment at `payload` opens with a whole TLS 1.3 ServerHello this filter can
// summarise; if so its fields go into `st`. Anything unusual says no, and user space gets the bytes.
static __always_inline int summarisable_server_hello(struct __sk_buff *skb, u32 payload, u32 plen,
                                                     struct flow_state *st) {
    if (plen < 5 + 4 + 38 || load_byte(skb, payload) != 0x16 || load_byte(skb, payload + 1) != 3)
        return 0;
    u32 rec_len = load_half(skb, payload + 3);
    if (5 + rec_len > plen || load_byte(skb, payload + 5) != 2)
        return 0;  // the record is split across segments, or it is not a ServerHello
    u32 hs_len = (load_byte(skb, payload + 6) << 16) | load_half(skb, payload + 7);
    if (4 + hs_len > rec_len)
        return 0;  // the message spans records
    u32 body = payload + 9;
    u32 end = body + hs_len;
    if (hs_len < 38 || is_retry_random(skb, body + 2))
        return 0;
    u32 sid_len = load_byte(skb, body + 34);
    if (sid_len > 32)
        return 0;
    u32 pos = body + 35 + sid_len;
    if (pos + 5 > end)
        return 0;
    u16 suite = load_half(skb, pos);
    u32 ext_end = pos + 5 + load_half(skb, pos + 3);
    if (ext_end != end)
        return 0;
    pos += 5;
    u16 version = 0, group = 0;
    int have_group = 0;
    #pragma unroll
    for (int i = 0; i < MAX_SH_EXTENSIONS; i++) {
        if (pos + 4 > end)
            break;
        u16 type = load_half(skb, pos);
        u32 len = load_half(skb, pos + 2);
        pos += 4;
        if (pos + len > end)
            return 0;
        if (type == 43 && len == 2)
            version = load_half(skb, pos);
        else if (type == 51 && len >= 2) {
            group = load_half(skb, pos);
            have_group = 1;
        }
        pos += len;
    }
    if (pos != end || version != 0x0304 || !have_group)
        return 0;
    u32 next = payload + 5 + rec_len;  // what follows in the segment: a ChangeCipherSpec or encrypted records
    if (next < payload + plen) {
        u8 type = load_byte(skb, next);
        if (type != 0x14 && type != 0x17)
            return 0;
    }
    st->sh_version = load_half(skb, body);
    st->suite = suite;
    st->group = group;
    return 1;
}

// The process at one end (role 1 client, 2 server) of a connection whose two ends are in `ok`, as
// remember_owner() keeps them: under both ends, else under the client end alone (a server behind
// DNAT names its private address in its socket, where the wire sees the public one).
static __always_inline struct owner_t *owner_of(struct owner_key *ok, u16 role) {
    ok->role = role;
    struct owner_t *owner = owner_by_client.lookup(ok);
    if (owner)
        return owner;
    struct owner_key alone = {.port = ok->port, .role = role};
    __builtin_memcpy(alone.addr, ok->addr, 16);
    return owner_by_client.lookup(&alone);
}

// A process at an end of a handshake the socket filter summarised (or of an SSH connection) keeps
// its exec path until user space has seen it exit, as a probed TLS process does (tls_probes.c,
// sched_process_exit): a short-lived program the wire alone sees (Go, rustls, ssh) may be gone
// before its record is written.
static __always_inline void keep_exec_path(u32 tgid) {
    if (tls_pids.lookup(&tgid))
        return;  // (most are there already: OpenSSL's, and any process after its first handshake)
    u8 one = 1;
    tls_pids.update(&tgid, &one);
}

static __always_inline void send_end(struct flow_key *key, struct flow_state *st, u16 outcome, u32 alert) {
    struct hello_t *h = take_hello(key, st);
    if (!h) {
        int zero = 0;
        h = hello_scratch.lookup(&zero);
        if (!h)
            return;
        set_ends(&h->end, key, st);
        h->end.hello_ns = 0;
        h->end.hello_len = 0;
    }
    struct wire_end_t *end = &h->end;
    end->ts_ns = bpf_ktime_get_ns();
    end->sh_version = st->sh_version;
    end->suite = st->suite;
    end->group = st->group;
    end->outcome = outcome;
    end->alert = alert;
    struct owner_key ok = {.port = end->client_port, .server_port = end->server_port};
    __builtin_memcpy(ok.addr, end->client_ip, 16);
    __builtin_memcpy(ok.server_addr, end->server_ip, 16);
    struct owner_t *owner = owner_of(&ok, 1);
    if (owner) {
        __builtin_memcpy(&end->client_seen_ns, owner, sizeof(*owner));
        keep_exec_path(owner->tgid);
    } else {
        end->client_tgid = 0;
    }
    owner = owner_of(&ok, 2);
    if (owner) {
        __builtin_memcpy(&end->server_seen_ns, owner, sizeof(*owner));
        keep_exec_path(owner->tgid);
    } else {
        end->server_tgid = 0;
    }
    emit_hello(h);
}

// The processes at the ends of a connection whose segments are passed to user space keep their exec
// path until user space has seen them exit, as probed TLS processes and a summary's owners do: an SSH
// connection's (ssh and sshd load no TLS library), and a TLS handshake's that is not summarised (TLS
// 1.2, a retry, a split ServerHello; every one under --no-uprobes, where nothing else marks an
// OpenSSL client): a short-lived client is gone before user space looks.
static __always_inline void keep_owners(struct flow_key *key, struct flow_state *st) {
    struct owner_key ok = {.port = st->client_port};
    ip_bytes(ok.addr, st->client_ip);
    ip_bytes(ok.server_addr, server_of(key, st, &ok.server_port));
    #pragma unroll
    for (u16 role = 1; role <= 2; role++) {
        struct owner_t *owner = owner_of(&ok, role);
        if (owner)
            keep_exec_path(owner->tgid);
    }
}

// seq is at or before `mark` (32-bit wrap-around).
static __always_inline int seq_before_or_at(u32 seq, u32 mark) {
    return (s32)(seq - mark) <= 0;
}

// A segment of a summarised handshake: swallowed; the one that ends it sends the summary.
static __always_inline int in_summary(struct __sk_buff *skb, struct flow_key *key, struct flow_state *st,
                                      int from_client, u32 seq, u32 payload, u32 plen) {
    u8 first = load_byte(skb, payload);
    u16 outcome = 0;
    u32 alert = 0;
    if (!from_client) {
        if (first == 0x15)
            outcome = END_ALERT;
    } else if (seq_before_or_at(seq + plen, st->client_next)) {
        return 0;  // a retransmission of what the client sent before the ServerHello
    } else if (first == 0x15) {
        outcome = END_ALERT;
    } else if (first == 0x16) {
        outcome = END_UNEXPECTED;
    } else {
        u32 at = payload;
        if (first == 0x14 && plen >= 7)
            at = payload + 6;  // after the one-byte compatibility ChangeCipherSpec
        if (load_byte(skb, at) == 0x17 && at + 5 <= payload + plen)
            outcome = load_half(skb, at + 3) == 19 ? END_ENCRYPTED_ALERT : END_FINISHED;
    }
    if (outcome == END_ALERT && plen >= 7)
        alert = load_byte(skb, payload + 6) + 1;  // the description, after type, version, length, level
    if (outcome) {
        send_end(key, st, outcome, alert);
        flows.delete(key);
    }
    return 0;
}

// Where the TCP header of an IPv4 or IPv6 packet is, its addresses and whether it is a fragment.
// IP_SEGMENT, IP_LATER_FRAGMENT, or 0 for anything else (not TCP, an IPv6 header chain not followed).
// A load past the packet's end (load_byte and friends) reads 0 (see wire_load_byte).
// The packet's addresses into `ip`: done last, once the packet is one the filter looks into (UDP
// asks for them only for a datagram that may be QUIC's; each load is a helper call).
static __always_inline void ip_addresses(struct __sk_buff *skb, struct packet_ip *ip) {
    if (!ip->v6) {
        ip->saddr[2] = ip->daddr[2] = 0xFFFF;
        ip->saddr[3] = load_word(skb, 12);
        ip->daddr[3] = load_word(skb, 16);
        return;
    }
    #pragma unroll
    for (int i = 0; i < 4; i++) {
        ip->saddr[i] = load_word(skb, 8 + 4 * i);
        ip->daddr[i] = load_word(skb, 24 + 4 * i);
    }
}

static __always_inline int parse_ip(struct __sk_buff *skb, struct packet_ip *ip) {
    if (skb->protocol == htons(ETH_P_IP)) {
        u8 vihl = load_byte(skb, 0);
        u8 proto = load_byte(skb, 9);
        if ((vihl >> 4) != 4 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
            return 0;
        ip->l4 = (vihl & 0x0F) * 4;
        ip->end = load_half(skb, 2);
        u16 frag = load_half(skb, 6);
        if (proto == IPPROTO_UDP)
            return frag & 0x3FFF ? 0 : IP_UDP;  // QUIC is never fragmented (RFC 9000 14)
        ip_addresses(skb, ip);
        if (frag & 0x3FFF) {  // more fragments, or an offset
            ip->fragment = 1;
            ip->frag_id = load_half(skb, 4);
            if (frag & 0x1FFF)
                return IP_LATER_FRAGMENT;
        }
        return IP_SEGMENT;
    }
    if (skb->protocol != htons(ETH_P_IPV6) || (load_byte(skb, 0) >> 4) != 6)
        return 0;
    ip->v6 = 1;
    ip->end = 40 + load_half(skb, 4);
    u8 next = load_byte(skb, 6);
    u32 at = 40;
    #pragma unroll
    for (int i = 0; i < MAX_IPV6_HEADERS; i++) {
        if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
            u8 following = load_byte(skb, at);
            at += (load_byte(skb, at + 1) + 1) * 8;
            next = following;
        } else if (next == IPPROTO_FRAGMENT) {
            u16 offset_flags = load_half(skb, at + 2);
            next = load_byte(skb, at);
            if (offset_flags & 0xFFF9) {  // an offset, or more fragments (not an atomic fragment)
                if (next != IPPROTO_TCP)
                    return 0;
                ip->fragment = 1;
                ip->frag_id = load_word(skb, at + 4);
                if (offset_flags & 0xFFF8) {
                    ip_addresses(skb, ip);
                    return IP_LATER_FRAGMENT;
                }
            }
            at += 8;
        }
    }
    ip->l4 = at;
    if (next == IPPROTO_UDP)
        return IP_UDP;
    if (next != IPPROTO_TCP)
        return 0;
    ip_addresses(skb, ip);
    return IP_SEGMENT;
}

static __always_inline void fragment_key_of(struct fragment_key *fk, struct packet_ip *ip) {
    __builtin_memcpy(fk->saddr, ip->saddr, 16);
    __builtin_memcpy(fk->daddr, ip->daddr, 16);
    fk->id = ip->frag_id;
}

// An untracked connection (open before the sensor started, or let go at a plaintext first byte and
// now upgraded by STARTTLS) is picked up at a segment that opens with a whole ClientHello or
// ServerHello record header. Checked in full: encrypted data opens a segment with 0x16 0x03 once
// in 65,536 segments, and a bulk transfer picked up by mistake would be passed at 64 KiB a segment.
static __always_inline int opens_with_hello(struct __sk_buff *skb, u32 payload, u32 plen) {
    if (plen < 6 || load_byte(skb, payload) != 0x16 || load_byte(skb, payload + 1) != 3 ||
        load_byte(skb, payload + 2) > 4)
        return 0;
    u32 length = load_half(skb, payload + 3);
    u8 type = load_byte(skb, payload + 5);
    return length >= 4 && length <= 16384 && (type == 1 || type == 2);
}

// `a` (address, port) sorts before `b`: a connection's key is the same in both directions.
static __always_inline int endpoint_before(const u32 *a, u16 a_port, const u32 *b, u16 b_port) {
    #pragma unroll
    for (int i = 0; i < 4; i++) {
        if (a[i] != b[i])
            return a[i] < b[i];
    }
    return a_port < b_port;
}

// One TCP segment (or a datagram's first fragment, judged by what it holds): pass it (-1) or not (0).
static __always_inline int tcp_segment(struct __sk_buff *skb, struct packet_ip *ip) {
    u32 ihl = ip->l4;
    u32 total = ip->end;
    u16 sport = load_half(skb, ihl);
    u16 dport = load_half(skb, ihl + 2);
    u32 seq = load_word(skb, ihl + 4);
    u32 doff = (load_byte(skb, ihl + 12) >> 4) * 4;
    u8 flags = load_byte(skb, ihl + 13);
    u32 payload = ihl + doff;
    if (total < payload)
        return 0;
    u32 plen = total - payload;
    // A bare ACK changes nothing below whatever the connection's state (only SYN, FIN, RST and
    // payload do): most packets of a long transfer, let go before the map lookup.
    if (plen == 0 && !(flags & (TCP_SYN | TCP_FIN | TCP_RST)))
        return 0;

    struct flow_key key = {};
    if (endpoint_before(ip->saddr, sport, ip->daddr, dport)) {
        __builtin_memcpy(key.a_ip, ip->saddr, 16);
        __builtin_memcpy(key.b_ip, ip->daddr, 16);
        key.a_port = sport;
        key.b_port = dport;
    } else {
        __builtin_memcpy(key.a_ip, ip->daddr, 16);
        __builtin_memcpy(key.b_ip, ip->saddr, 16);
        key.a_port = dport;
        key.b_port = sport;
    }
    struct flow_state *st = flows.lookup(&key);

    if (flags & TCP_SYN) {
        if (!(flags & TCP_ACK)) {
            if (st)
                release_hello(&key, st);  // a new connection on the same ports: the old one's is not lost
            struct flow_state fresh = {.isn = seq, .client_port = sport, .state = ST_CANDIDATE};
            __builtin_memcpy(fresh.client_ip, ip->saddr, 16);
            flows.update(&key, &fresh);
        }
        return 0;
    }
    if (!st) {
        u16 state = ST_TLS;
        if (!opens_with_hello(skb, payload, plen)) {
            // An SSH connection whose SYN came before the sensor but whose banner did not.
            if (plen < 4 || load_word(skb, payload) != SSH_MAGIC)
                return 0;
            state = ST_SSH;
        }
        struct flow_state picked = {.isn = seq - 1, .client_port = sport, .state = state, .packets = 1};
        __builtin_memcpy(picked.client_ip, ip->saddr, 16);
        flows.update(&key, &picked);
        return -1;
    }
    if (flags & (TCP_FIN | TCP_RST)) {
        u16 state = st->state;
        if (state == ST_SUMMARY)
            send_end(&key, st, END_CLOSED, 0);
        else
            release_hello(&key, st);
        flows.delete(&key);
        return state == ST_TLS || state == ST_SSH ? -1 : 0;
    }
    if (st->state == ST_QUIC)
        return 0;  // (a UDP flow on the same addresses and ports)
    if (plen == 0)
        return 0;
    int from_client = same_ip(ip->saddr, st->client_ip) && sport == st->client_port;
    if (st->state == ST_CANDIDATE) {
        // Either end of an SSH connection may send its banner first (sshd does, at once).
        if (plen >= 4 && load_word(skb, payload) == SSH_MAGIC) {
            st->state = ST_SSH;
            keep_owners(&key, st);
        }
        else if (!from_client)
            return 0;  // TLS clients speak first; a server that speaks first is not TLS
        else if (seq == st->isn + 1) {
            if (load_byte(skb, payload) != 0x16) {
                flows.delete(&key);
                return 0;
            }
            st->state = ST_TLS;
        }
    }
    st->packets += 1;
    if (st->packets > MAX_PACKETS) {
        if (st->state == ST_SUMMARY)
            send_end(&key, st, END_BUDGET, 0);
        else
            release_hello(&key, st);
        flows.delete(&key);
        return 0;
    }
    if (st->state == ST_SUMMARY)
        return in_summary(skb, &key, st, from_client, seq, payload, plen);
    if (st->state == ST_SSH) {
        // Again on each of the few packets passed: an accepted connection's process is known from
        // its first I/O, which may be after its banner went out (tls_probes.c, claim_server_socket).
        keep_owners(&key, st);
        st->ssh_bytes += plen;
        if (st->ssh_bytes > SSH_BYTES) {
            flows.delete(&key);
            return 0;
        }
        return -1;
    }
    if (!from_client) {
        // A first fragment that holds the whole ServerHello is summarised like a segment; its
        // datagram's later fragments are then not passed, as the rest of a summarised segment is not.
        if (!st->server_spoke && SUMMARISE && summarisable_server_hello(skb, payload, plen, st)) {
            st->state = ST_SUMMARY;
            return 0;
        }
        if (!st->server_spoke)
            keep_owners(&key, st);  // (the server's process is known: it has received the ClientHello)
        release_hello(&key, st);
        st->server_spoke = 1;
    } else if (!st->server_spoke) {
        if (st->hello) {
            if (seq_before_or_at(seq + plen, st->client_next))
                return 0;  // a retransmission of the held ClientHello
            release_hello(&key, st);  // more client bytes before the server spoke: pass them all
        } else if (SUMMARISE && !ip->fragment && !st->client_next && seq == st->isn + 1 &&
                   hold_hello(skb, &key, st, payload, plen)) {
            st->client_next = seq + plen;
            return 0;
        }
        if (!st->client_next || seq_before_or_at(st->client_next, seq + plen))
            st->client_next = seq + plen;
    } else if (handshake_over(skb, payload, plen)) {
        flows.delete(&key);  // this is the last segment user space needs; pass it, stop after it
    }
    return -1;
}

// Whether the long-header QUIC packet of `version` with first byte `first` is an Initial or a
// Retry (the packets whose contents user space can read); the type bits differ between versions.
static __always_inline int quic_readable(u32 version, u8 first) {
    u8 type = (first >> 4) & 3;
    if (version == QUIC_V1)
        return type == 0 || type == 3;
    if (version == QUIC_V2)
        return type == 1 || type == 0;
    return 0;
}

static __always_inline void udp_flow_key(struct flow_key *key, struct packet_ip *ip, u16 sport, u16 dport) {
    if (endpoint_before(ip->saddr, sport, ip->daddr, dport)) {
        __builtin_memcpy(key->a_ip, ip->saddr, 16);
        __builtin_memcpy(key->b_ip, ip->daddr, 16);
        key->a_port = sport;
        key->b_port = dport;
    } else {
        __builtin_memcpy(key->a_ip, ip->daddr, 16);
        __builtin_memcpy(key->b_ip, ip->saddr, 16);
        key->a_port = dport;
        key->b_port = sport;
    }
}

// One UDP datagram: pass it (-1) or not (0). A client's Initial (v1 or v2, padded to 1200 bytes)
// starts a flow; the flow's Initial and Retry packets are passed, and so is the client's first
// 1-RTT (short header) packet, which ends the handshake and the flow. Handshake and 0-RTT packets
// (keys user space does not have) and the server's 1-RTT packets are not. Other UDP leaves at the
// first byte, at the version, or (a short header with the fixed bit set) at the time of the last
// QUIC flow opened: the flows map is looked up only within QUIC_WINDOW_NS of one.
static __always_inline int udp_datagram(struct __sk_buff *skb, struct packet_ip *ip) {
    u32 payload = ip->l4 + 8;
    if (ip->end < payload + 7)
        return 0;
    u8 first = load_byte(skb, payload);
    if (!(first & 0x40))
        return 0;  // the fixed bit of every QUIC v1/v2 packet
    u32 version = 0;
    int zero = 0;
    if (first & 0x80) {
        version = load_word(skb, payload + 1);
        if (!quic_readable(version, first))
            return 0;  // not v1/v2, or a Handshake or 0-RTT packet: nothing user space can read
    } else {
        u64 *opened = quic_opened.lookup(&zero);
        if (!opened || bpf_ktime_get_ns() - *opened > QUIC_WINDOW_NS)
            return 0;  // no QUIC handshake began lately: this short header is not one's end
    }
    u16 sport = load_half(skb, ip->l4);
    u16 dport = load_half(skb, ip->l4 + 2);
    ip_addresses(skb, ip);
    struct flow_key key = {};
    udp_flow_key(&key, ip, sport, dport);
    struct flow_state *st = flows.lookup(&key);
    if (!(first & 0x80)) {  // a short header: 1-RTT
        if (!st || st->state != ST_QUIC || !same_ip(ip->saddr, st->client_ip) || sport != st->client_port)
            return 0;
        flows.delete(&key);
        return -1;
    }
    if (!st) {
        if (ip->end - payload < QUIC_MIN_INITIAL || ((first >> 4) & 3) != (version == QUIC_V1 ? 0 : 1))
            return 0;
        struct flow_state fresh = {.client_port = sport, .state = ST_QUIC, .packets = 1};
        __builtin_memcpy(fresh.client_ip, ip->saddr, 16);
        flows.update(&key, &fresh);
        u64 now = bpf_ktime_get_ns();
        quic_opened.update(&zero, &now);
        return -1;
    }
    if (st->state != ST_QUIC)
        return 0;
    st->packets += 1;
    if (st->packets > MAX_PACKETS) {
        flows.delete(&key);
        return 0;
    }
    return -1;
}

// The packet a busy host sends most: a TCP segment of a connection the filter does not track (its
// handshake is over, or it never was TLS). The headers come in one load, not a helper call per
// field (~400 ns a packet in all, measured by the kernel's counters; this is ~100), and the
// segment is let go after one flow lookup. 1: let go, with the verdict and state tcp_segment()
// would have left; UNTRACKED_RECORDS: the same, and the segment opens with a TLS application data
// record header (17 03 03), which says the connection is TLS past its handshake (see
// tls_wire_cgroup); 0: anything else (a SYN, a tracked connection, a segment that may open a
// handshake, a fragment, IP options or IPv6 extension headers, a short packet), for the full path.
#define FAST_BYTES 64
#define UNTRACKED_RECORDS 2
static __always_inline int untracked_tcp(struct __sk_buff *skb, u8 *h, u32 loaded, u32 l4, u32 total,
                                         struct packet_ip *ip) {
    u32 doff = (h[l4 + 12] >> 4) * 4;
    u8 flags = h[l4 + 13];
    u32 payload = l4 + doff;
    if (total < payload)
        return 1;
    u32 plen = total - payload;
    if (plen == 0 && !(flags & (TCP_SYN | TCP_FIN | TCP_RST)))
        return 1;
    if (flags & TCP_SYN)
        return 0;
    u8 first[3] = {};
    if (plen) {
        // An IPv6 segment with TCP timestamps has 72 bytes of headers, past what was loaded: its
        // first payload bytes are loaded on their own (without this every IPv6 segment took the full path).
        if (payload + 3 <= loaded) {
            first[0] = h[payload & (FAST_BYTES - 1)];
            first[1] = h[(payload + 1) & (FAST_BYTES - 1)];
            first[2] = h[(payload + 2) & (FAST_BYTES - 1)];
        } else if (bpf_skb_load_bytes(skb, payload, first, plen >= 3 ? 3 : 1) != 0) {
            return 0;
        }
        // Picked up untracked only at a handshake record's first byte or an SSH banner's "S".
        if (first[0] == 0x16 || first[0] == 'S')
            return 0;
    }
    u16 sport = (h[l4] << 8) | h[l4 + 1];
    u16 dport = (h[l4 + 2] << 8) | h[l4 + 3];
    struct flow_key key = {};
    udp_flow_key(&key, ip, sport, dport);
    if (flows.lookup(&key))
        return 0;
    return plen >= 3 && first[0] == 0x17 && first[1] == 3 && first[2] == 3 ? UNTRACKED_RECORDS : 1;
}

static __always_inline u32 word_at(u8 *h, u32 at) {
    return ((u32)h[at] << 24) | ((u32)h[at + 1] << 16) | ((u32)h[at + 2] << 8) | h[at + 3];
}

static __always_inline int untracked_segment(struct __sk_buff *skb) {
    // As much of the packet as FAST_BYTES holds: a bare ACK (an IPv4 one is 40 or, with
    // timestamps, 52 bytes; an IPv6 one 60 or 72) is let go from its headers alone.
    u8 h[FAST_BYTES];
    u32 loaded = skb->len >= FAST_BYTES ? FAST_BYTES : skb->len >= 60 ? 60 : skb->len >= 52 ? 52 :
                 skb->len >= 40 ? 40 : 0;
    if (loaded == FAST_BYTES) {
        if (bpf_skb_load_bytes(skb, 0, h, FAST_BYTES) != 0)
            return 0;
    } else if (loaded == 60) {  // an IPv6 bare ACK without TCP options
        if (bpf_skb_load_bytes(skb, 0, h, 60) != 0)
            return 0;
    } else if (loaded == 52) {
        if (bpf_skb_load_bytes(skb, 0, h, 52) != 0)
            return 0;
    } else if (loaded == 40) {
        if (bpf_skb_load_bytes(skb, 0, h, 40) != 0)
            return 0;
    } else {
        return 0;
    }
    struct packet_ip ip = {};
    if (skb->protocol == htons(ETH_P_IP)) {
        // No options, TCP, not a fragment (neither more fragments nor an offset).
        if (h[0] != 0x45 || h[9] != IPPROTO_TCP || (h[6] & 0x3F) || h[7] || loaded < 40)
            return 0;
        ip.saddr[2] = ip.daddr[2] = 0xFFFF;
        ip.saddr[3] = word_at(h, 12);
        ip.daddr[3] = word_at(h, 16);
        return untracked_tcp(skb, h, loaded, 20, (h[2] << 8) | h[3], &ip);
    }
    if (skb->protocol == htons(ETH_P_IPV6)) {
        if ((h[0] >> 4) != 6 || h[6] != IPPROTO_TCP || loaded < 60)
            return 0;
        #pragma unroll
        for (int i = 0; i < 4; i++) {
            ip.saddr[i] = word_at(h, 8 + 4 * i);
            ip.daddr[i] = word_at(h, 24 + 4 * i);
        }
        return untracked_tcp(skb, h, loaded, 40, 40 + ((h[4] << 8) | h[5]), &ip);
    }
    return 0;
}

// Whether to pass a packet the fast path (untracked_segment) did not let go: 0 (no) or -1 (the
// whole packet).
static __always_inline int full_verdict(struct __sk_buff *skb) {
#ifdef FAST_PATH_ONLY  // (tests: one byte passed says the fast path left this packet to the full one)
    return 1;
#endif
    struct packet_ip ip = {};
    int kind = parse_ip(skb, &ip);
    if (kind == IP_LATER_FRAGMENT) {
        struct fragment_key fk = {};
        fragment_key_of(&fk, &ip);
        u8 *passed = fragments.lookup(&fk);
        return !passed || *passed ? -1 : 0;
    }
    if (kind == IP_UDP)
        return udp_datagram(skb, &ip);
    if (kind != IP_SEGMENT)
        return 0;
    int verdict = tcp_segment(skb, &ip);
    if (ip.fragment) {
        struct fragment_key fk = {};
        fragment_key_of(&fk, &ip);
        u8 passed = verdict != 0;
        fragments.update(&fk, &passed);
    }
    return verdict;
}

// The socket filter, on a packet socket per interface.
int tls_wire(struct __sk_buff *skb) {
#ifdef LOOPBACK_IFINDEX
    // Loopback shows every packet twice (leaving and arriving): keep the arrival.
    if (skb->pkt_type == PACKET_OUTGOING && skb->ifindex == LOOPBACK_IFINDEX)
        return 0;
#endif
#ifndef NO_FAST_PATH  // (tests/runtime/test_wire_filter.py compares the filter with and without it)
    if (untracked_segment(skb))
        return 0;
#endif
    return full_verdict(skb);
}

// Loopback's wire view without a packet socket: the filter as a cgroup skb program on the ingress
// of every socket (attached to the root of the cgroup v2 hierarchy), for the packets that arrive on
// the loopback interface of the sensor's own network namespace (WIRE_NETNS_COOKIE).
//
// Here the packet comes with the socket it is for, and that makes the common case cheap: a socket
// whose connection the filter does not track and which has received a segment opening with a TLS
// application data record header (17 03 03: TLS past its handshake, whether it began before the
// sensor or was followed through its handshake) is marked in `tls_sockets`, and from then on its
// packets leave after one lookup in the socket's own storage, before anything of the packet is
// read. A TLS connection carries no plaintext handshake after its application data, except where
// a protocol ends TLS and starts it again on one TCP connection (LDAP's StopTLS, FTP's CCC): that
// second handshake is given up. (The rare chance of encrypted data opening a segment like a
// ClientHello, which the filter would take up by mistake, is gone too.) A connection that does not
// open with application data records (plaintext, SSH, STARTTLS before its upgrade) is never marked
// and keeps the full filter. Only an established socket is marked, never a listener (it is handed
// each new connection's last ACK and segments no connection takes), and the mark names the peer.
//
// What it passes is copied into `wire_packets`, from the IP header, as a wire_packet_t; the
// verdict given to the kernel is always 1 (deliver): this program never drops a packet. Every
// packet loopback carries between two sockets of this host arrives at one of them, so nothing
// is missed that the packet socket saw, except packets no socket takes (a SYN to a closed port);
// IP fragments arrive reassembled.
#ifdef WIRE_NETNS_COOKIE
#ifndef LOOPBACK_IFINDEX
#define LOOPBACK_IFINDEX 1  // (the kernel's own constant for the loopback device)
#endif
#ifndef WIRE_PACKET_MAX
#define WIRE_PACKET_MAX 65536  // the largest packet loopback carries (its MTU and GSO size)
#endif
#ifndef SCRATCH_CPUS
#define SCRATCH_CPUS 1
#endif
struct wire_packet_t {
    u64 ts_ns;    // when it arrived (CLOCK_MONOTONIC)
    u32 len;      // its length
    u32 caplen;   // how much of it follows (less than len only past WIRE_PACKET_MAX)
    u8 data[WIRE_PACKET_MAX];
};
BPF_RINGBUF_OUTPUT(wire_packets, WIRE_RING_PAGES);
// The mark: the peer the socket was connected to when it was marked (a socket can be disconnected
// and connected again: a mark for another peer is not its mark).
struct tls_mark_t {
    u32 peer_ip[4];  // bpf_sock's dst_ip6, or dst_ip4 in [0]
    u32 peer_port;   // bpf_sock's dst_port
};
BPF_SK_STORAGE(tls_sockets, struct tls_mark_t);

// The socket's peer as a mark holds it: both address fields read, then one kept (the verifier
// refuses a socket field at an offset computed from the family, which a branch compiles to).
static __always_inline void peer_of(struct bpf_sock *sk, struct tls_mark_t *out) {
    u32 v4 = sk->dst_ip4, a = sk->dst_ip6[0], b = sk->dst_ip6[1], c = sk->dst_ip6[2], d = sk->dst_ip6[3];
    asm volatile("" : "+r"(v4), "+r"(a));  // (loaded here, each from its own field)
    int six = sk->family == AF_INET6;
    out->peer_port = sk->dst_port;
    out->peer_ip[0] = six ? a : v4;
    out->peer_ip[1] = six ? b : 0;
    out->peer_ip[2] = six ? c : 0;
    out->peer_ip[3] = six ? d : 0;
}
// One per CPU (too large for a per-CPU array's values); a program runs to its end on its CPU.
BPF_ARRAY(packet_scratch, struct wire_packet_t, SCRATCH_CPUS);

static __always_inline void emit_packet(struct __sk_buff *skb) {
    u32 cpu = bpf_get_smp_processor_id();
    struct wire_packet_t *p = packet_scratch.lookup(&cpu);
    if (!p) {
        count_lost();
        return;
    }
    u64 n = skb->len;
    if (n > WIRE_PACKET_MAX)
        n = WIRE_PACKET_MAX;
    asm volatile("" : "+r"(n));  // (checked again on the register the helper gets, as in hold_hello)
    if (n > WIRE_PACKET_MAX)
        return;
    asm volatile("" : "+r"(n));
    if (n == 0 || bpf_skb_load_bytes(skb, 0, p->data, n) != 0) {
        count_lost();
        return;
    }
    p->ts_ns = bpf_ktime_get_ns();
    p->len = skb->len;
    p->caplen = n;
    // (Wake-ups are counted in records, sized for summaries of ~2 KiB; a large packet wakes user space
    // at once, so a burst of them cannot fill the ring before it looks.)
    if (wire_packets.ringbuf_output(p, offsetof(struct wire_packet_t, data) + n,
                                    wakeup_flags(RS_WIRE, n > 16384)) != 0)
        count_lost();
}

int tls_wire_cgroup(struct __sk_buff *skb) {
    if (skb->ifindex != LOOPBACK_IFINDEX)
        return 1;
    // Only a connected socket is ever marked: a listener (handed the last ACK of each new connection
    // and segments no connection takes) never is, nor is a marked socket's next connection.
    struct bpf_sock *sk = skb->sk;  // (the helper itself answers 0 for a socket that is not a full one)
    if (sk && sk->state == BPF_TCP_ESTABLISHED) {
        struct tls_mark_t *mark = tls_sockets.sk_storage_get(sk, 0, 0);
        if (mark) {
            struct tls_mark_t now = {};
            peer_of(sk, &now);
            if (now.peer_port == mark->peer_port && now.peer_ip[0] == mark->peer_ip[0] &&
                now.peer_ip[1] == mark->peer_ip[1] && now.peer_ip[2] == mark->peer_ip[2] &&
                now.peer_ip[3] == mark->peer_ip[3])
                return 1;
        }
    }
    if (bpf_get_netns_cookie(skb) != WIRE_NETNS_COOKIE)
        return 1;
#ifndef NO_FAST_PATH
    int untracked = untracked_segment(skb);
    if (untracked == UNTRACKED_RECORDS && sk && sk->state == BPF_TCP_ESTABLISHED) {
        struct bpf_sock *full = bpf_sk_fullsock(sk);
        if (full && full->protocol == IPPROTO_TCP) {
            struct tls_mark_t *mark = tls_sockets.sk_storage_get(full, 0, BPF_SK_STORAGE_GET_F_CREATE);
            if (mark)
                peer_of(full, mark);
        }
    }
    if (untracked)
        return 1;
#endif
    if (full_verdict(skb) != 0)
        emit_packet(skb);
    return 1;
}
#endif
