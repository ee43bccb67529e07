// Wire view of TLS handshakes: a socket filter on AF_PACKET (SOCK_DGRAM) sockets, so offsets start
// at the IP header on every kind of interface, loopback included.
//
// It passes to user space only the TCP segments of connections that start like TLS, from their
// first byte until user space has seen enough (it deletes the flow), the connection closes, or a
// per-connection budget runs out. A connection is a candidate from its SYN; its first client byte
// decides (0x16 = a TLS handshake record). Connections already open when the sensor started are
// picked up at a segment that begins with a TLS handshake record header. IPv4 only for now.
#include <bcc/proto.h>
#include <uapi/linux/if_packet.h>
#include <uapi/linux/if_ether.h>

#define ST_CANDIDATE 1
#define ST_TLS 2
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

struct flow_key {
    u32 a_ip;
    u32 b_ip;
    u16 a_port;
    u16 b_port;
};

struct flow_state {
    u32 client_ip;
    u32 isn;
    u16 client_port;
    u16 state;
    u32 packets;
    u32 server_spoke;
};

BPF_TABLE("lru_hash", struct flow_key, struct flow_state, flows, 65536);

// A client segment that opens with an encrypted record (TLS 1.3 Finished), alone or after the
// one-byte compatibility ChangeCipherSpec, ends the handshake. A ChangeCipherSpec followed by a
// handshake record is a second ClientHello after a HelloRetryRequest and does not.
static __always_inline int handshake_over(struct __sk_buff *skb, u32 payload, u32 plen) {
    u8 first = load_byte(skb, payload);
    if (first == 0x17)
        return 1;
    return first == 0x14 && plen >= 7 && load_byte(skb, payload + 6) == 0x17;
}

int tls_wire(struct __sk_buff *skb) {
#ifdef LOOPBACK_IFINDEX
    // Loopback shows every packet twice (leaving and arriving): keep the arrival.
    if (skb->pkt_type == PACKET_OUTGOING && skb->ifindex == LOOPBACK_IFINDEX)
        return 0;
#endif
    if (skb->protocol != htons(ETH_P_IP))
        return 0;
    u8 vihl = load_byte(skb, 0);
    if ((vihl >> 4) != 4 || load_byte(skb, 9) != IPPROTO_TCP)
        return 0;
    if (load_half(skb, 6) & 0x3FFF)  // fragments are not reassembled here
        return 0;
    u32 ihl = (vihl & 0x0F) * 4;
    u32 total = load_half(skb, 2);
    u32 saddr = load_word(skb, 12);
    u32 daddr = load_word(skb, 16);
    u16 sport = load_half(skb, ihl);
    u16 dport = load_half(skb, ihl + 2);
    u32 seq = load_word(skb, ihl + 4);
    u32 doff = (load_byte(skb, ihl + 12) >> 4) * 4;
    u8 flags = load_byte(skb, ihl + 13);
    u32 payload = ihl + doff;
    if (total < payload)
        return 0;
    u32 plen = total - payload;

    struct flow_key key = {};
    if (saddr < daddr || (saddr == daddr && sport < dport)) {
        key.a_ip = saddr; key.b_ip = daddr; key.a_port = sport; key.b_port = dport;
    } else {
        key.a_ip = daddr; key.b_ip = saddr; key.a_port = dport; key.b_port = sport;
    }
    struct flow_state *st = flows.lookup(&key);

    if (flags & TCP_SYN) {
        if (!(flags & TCP_ACK)) {
            struct flow_state fresh = {.client_ip = saddr, .isn = seq, .client_port = sport, .state = ST_CANDIDATE};
            flows.update(&key, &fresh);
        }
        return 0;
    }
    if (!st) {
        if (plen == 0 || load_byte(skb, payload) != 0x16 || (plen > 1 && load_byte(skb, payload + 1) != 3))
            return 0;
        struct flow_state picked = {.client_ip = saddr, .isn = seq - 1, .client_port = sport, .state = ST_TLS, .packets = 1};
        flows.update(&key, &picked);
        return -1;
    }
    if (flags & (TCP_FIN | TCP_RST)) {
        u16 state = st->state;
        flows.delete(&key);
        return state == ST_TLS ? -1 : 0;
    }
    if (plen == 0)
        return 0;
    if (st->state == ST_CANDIDATE) {
        if (saddr != st->client_ip || sport != st->client_port)
            return 0;  // TLS clients speak first; a server that speaks first is not TLS
        if (seq == st->isn + 1) {
            if (load_byte(skb, payload) != 0x16) {
                flows.delete(&key);
                return 0;
            }
            st->state = ST_TLS;
        }
    }
    st->packets += 1;
    if (st->packets > MAX_PACKETS) {
        flows.delete(&key);
        return 0;
    }
    int from_client = saddr == st->client_ip && sport == st->client_port;
    if (!from_client) {
        st->server_spoke = 1;
    } else if (st->server_spoke && handshake_over(skb, payload, plen)) {
        flows.delete(&key);  // this is the last segment user space needs; pass it, stop after it
    }
    return -1;
}
