/* The contract between loom's eBPF fast path (loom_dp.bpf.c) and the agent (C++): map names,
 * key and value layouts, counter and reason numbers. Compiled both by clang -target bpf and by
 * g++; plain C, fixed-width types only, every struct a multiple of 8 bytes with explicit padding
 * (the agent zeroes padding; the BPF side never reads it).
 *
 * Byte order: multi-byte packet fields (eth_type, addresses, ports, arp_op, tcp_flags) are kept
 * in NETWORK order, exactly as they sit in the frame, so the BPF side copies bytes and the agent
 * converts once. Everything else (ifindex, counters, lengths, times, tunnel keys, remote_ipv4) is
 * in HOST order. remote_ipv4 is host order because bpf_skb_set_tunnel_key wants it so.
 *
 * Design (docs/datapath.md): a tuple-space search. Every installed flow is a (masked key ->
 * value) entry of ONE hash map, loom_flows; the mask it was installed under is identified by
 * key.mask_id, and the masks themselves sit in loom_masks. For each packet the program builds the
 * full key once, then for mask i = 0 .. n_masks-1: key & mask[i], set mask_id = i, look up. The
 * first hit wins. That is correct because every mask holds all the fields the simulation read
 * for the flow (the megaflow contract): any flow that matches a packet gives the packet's own
 * simulation result at that topology version. Masks are few (normalized shapes), at most
 * LOOM_MAX_MASKS, searched in a bounded loop.
 */
#ifndef LOOM_DATAPATH_BPF_LOOM_DP_ABI_H_
#define LOOM_DATAPATH_BPF_LOOM_DP_ABI_H_

#ifdef __cplusplus
#include <cstdint>
typedef uint8_t loom_u8;
typedef uint16_t loom_u16;
typedef uint32_t loom_u32;
typedef uint64_t loom_u64;
#else
typedef __u8 loom_u8;
typedef __u16 loom_u16;
typedef __u32 loom_u32;
typedef __u64 loom_u64;
#endif

#define LOOM_MAX_MASKS 16
#define LOOM_MAX_OUTPUTS 8
#define LOOM_MAX_SETS 6
#define LOOM_FLOW_TABLE_SIZE 65536
#define LOOM_TUNNEL_PORTS_SIZE 4096
#define LOOM_PORTS_SIZE 4096
#define LOOM_UPCALL_RING_BYTES (8u << 20)
#define LOOM_VXLAN_PORT 4789

/* ------------------------------------------------------------------------------------------ */
/* Flow key: 64 bytes = 8 x u64, masked by 8 ANDs. */

#define LOOM_VLAN_PRESENT 0x1000 /* in vlan_tci (host order): tag present; low 12 bits = id */

struct loom_flow_key {
  loom_u32 ifindex;  /* Ingress interface (host side of the VM veth). Always exact. */
  loom_u8 mask_id;   /* Index into loom_masks this entry was installed under. */
  loom_u8 nw_proto;  /* IPv4 protocol / IPv6 first next-header. */
  loom_u16 eth_type; /* Network order; type after any VLAN tag. */

  loom_u8 eth_dst[6];
  loom_u16 vlan_tci; /* Host order: LOOM_VLAN_PRESENT | vid, 0 when untagged. */

  loom_u8 eth_src[6];
  loom_u8 nw_tos;
  loom_u8 nw_ttl;

  loom_u32 nw_src; /* IPv4 source; ARP sender protocol address. 0 for IPv6. */
  loom_u32 nw_dst; /* IPv4 destination; ARP target protocol address. 0 for IPv6. */

  loom_u16 tp_src; /* TCP/UDP ports, 0 otherwise and for later fragments. */
  loom_u16 tp_dst;
  loom_u8 nw_frag; /* 0 none, 1 first fragment, 2 later fragment (packet::FragType). */
  loom_u8 icmp_type;
  loom_u8 icmp_code;
  loom_u8 pad0;

  loom_u16 arp_op;    /* Network order. */
  loom_u16 tcp_flags; /* Network order of (flags & 0x1ff). */
  loom_u8 arp_sha[6];
  loom_u8 arp_tha[6];
  loom_u8 pad1[8]; /* To 64 bytes (8 x u64); zero. */
};

/* loom_masks[i]: the mask of mask id i (bytes 0xff where the field is matched). Its ifindex
 * is always 0xffffffff and its mask_id byte 0 (the program sets mask_id after masking). */
struct loom_mask {
  struct loom_flow_key mask;
};

/* ------------------------------------------------------------------------------------------ */
/* Flow value. */

enum loom_flow_action {
  LOOM_ACT_FORWARD = 0, /* Apply sets, then send to every output. */
  LOOM_ACT_DROP = 1,    /* Drop; count under drop_reason. */
  LOOM_ACT_UPCALL = 2,  /* Send every packet to the agent (userspace-only flows). */
};

enum loom_set_kind {
  LOOM_SET_ETH_SRC = 1,
  LOOM_SET_ETH_DST = 2,
  LOOM_SET_NW_SRC = 3, /* IPv4, value32 network order; fixes IP and L4 checksums. */
  LOOM_SET_NW_DST = 4,
  LOOM_SET_NW_TTL = 5, /* value16 = new TTL; fixes the IP checksum. */
  LOOM_SET_NW_TOS = 6, /* value16 = new TOS byte. */
  LOOM_SET_TP_SRC = 7, /* value16 network order; fixes the L4 checksum. */
  LOOM_SET_TP_DST = 8,
};

struct loom_set {
  loom_u8 kind; /* loom_set_kind; 0 = unused. */
  loom_u8 pad;
  loom_u16 value16;
  loom_u32 value32;
  loom_u8 mac[6];
  loom_u8 pad2[2];
};

#define LOOM_OUT_TUNNEL 0x1 /* Encapsulate (remote_ipv4, tunnel_key) and send to the vxlan dev. */
#define LOOM_OUT_LOCAL 0x2  /* Deliver to ifindex (a local VM veth, host side). */

struct loom_output {
  loom_u32 flags;
  loom_u32 ifindex;     /* LOCAL: host-side veth of the destination VM. */
  loom_u32 remote_ipv4; /* TUNNEL: underlay address of the destination host, HOST order. */
  loom_u32 tunnel_key;  /* TUNNEL: VNI (24 bits) naming the port on the destination host. */
};

struct loom_flow_value {
  /* Updated by the program on every hit (atomic adds; last_used is CLOCK_MONOTONIC ns, the
   * clock of bpf_ktime_get_ns). */
  loom_u64 packets;
  loom_u64 bytes;
  loom_u64 last_used_ns;
  /* Set by the agent. */
  loom_u64 cookie;      /* Agent's flow id (for dumps and reconciliation after a restart). */
  loom_u32 action;      /* loom_flow_action. */
  loom_u16 drop_reason; /* sim::DropReason, counted in loom_drops on LOOM_ACT_DROP. */
  loom_u16 mtu;         /* Largest L3 length the flow may carry (0 = no limit). Longer
                           non-GSO packets are upcalled with LOOM_UPCALL_TOO_BIG. */
  loom_u8 n_sets;
  loom_u8 n_outputs;
  loom_u8 pad[6];
  struct loom_set sets[LOOM_MAX_SETS];
  struct loom_output outputs[LOOM_MAX_OUTPUTS];
};

/* ------------------------------------------------------------------------------------------ */
/* Other maps. */

/* loom_config (ARRAY, 1 entry). */
struct loom_config {
  loom_u32 n_masks;       /* Masks to search, <= LOOM_MAX_MASKS. */
  loom_u32 vxlan_ifindex; /* The agent's `vxlan external` device. */
  loom_u32 upcall_rate;   /* Upcalls per second allowed per ingress interface (0 = no limit). */
  loom_u32 upcall_burst;  /* Token bucket depth. */
};

/* loom_tunnel_ports (HASH): tunnel key (VNI) -> local port, for packets arriving on the vxlan
 * device. Also loom_ports (HASH): ifindex -> the same record, for ports the agent serves. */
struct loom_port {
  loom_u32 ifindex;    /* Host-side veth. */
  loom_u32 tunnel_key; /* This port's key on this host. */
  loom_u32 flags;      /* LOOM_PORT_*. */
  loom_u32 pad;
};
#define LOOM_PORT_ACTIVE 0x1

/* loom_upcall_state (HASH, ifindex -> token bucket), per ingress interface (the vxlan device
 * included): one noisy VM cannot fill the ring for the others. */
struct loom_upcall_bucket {
  loom_u64 tokens_x1000; /* Tokens times 1000 (fixed point). */
  loom_u64 last_ns;
  loom_u64 limited; /* Upcalls refused by the bucket (also in loom_counters). */
  loom_u64 pad;
};

/* Upcall record in loom_upcalls (RINGBUF): this header, then cap_len bytes of the frame. Records
 * come in three sizes (LOOM_UPCALL_SMALL/MEDIUM/LARGE data bytes) so that small packets cost
 * small records. */
#define LOOM_UPCALL_SMALL 128
#define LOOM_UPCALL_MEDIUM 512
#define LOOM_UPCALL_LARGE 1536

enum loom_upcall_reason {
  LOOM_UPCALL_MISS = 1,     /* No flow matched. */
  LOOM_UPCALL_ACTION = 2,   /* A LOOM_ACT_UPCALL flow matched. */
  LOOM_UPCALL_TOO_BIG = 3,  /* Matched, but longer than the flow's mtu. */
  LOOM_UPCALL_SLOWPATH = 4, /* The program does not key such frames (VLAN-tagged, IP options). */
};

struct loom_upcall {
  loom_u64 ts_ns;   /* bpf_ktime_get_ns at capture. */
  loom_u32 ifindex; /* Ingress interface. */
  loom_u32 len;     /* skb->len. */
  loom_u16 cap_len; /* Bytes that follow (<= the record size). */
  loom_u8 reason;   /* loom_upcall_reason. */
  loom_u8 flags;    /* LOOM_UPCALL_F_*. */
  loom_u32 gso_segs;
  /* then: loom_u8 data[cap_len] */
};
#define LOOM_UPCALL_F_TRUNCATED 0x1 /* len > cap_len: the frame cannot be re-injected. */
#define LOOM_UPCALL_F_GSO 0x2       /* A GSO super-packet (gso_segs > 1). */

/* loom_counters (PERCPU_ARRAY, LOOM_CTR_COUNT entries of u64). */
enum loom_counter {
  LOOM_CTR_RX_PACKETS = 0,   /* Packets seen on VM veths. */
  LOOM_CTR_FLOW_HITS = 1,    /* Packets that matched a flow. */
  LOOM_CTR_FLOW_MISSES = 2,  /* Packets that matched none. */
  LOOM_CTR_MASK_LOOKUPS = 3, /* Hash lookups done by the tuple-space search. */
  LOOM_CTR_UPCALLS = 4,      /* Records written to the ring. */
  LOOM_CTR_UPCALL_RING_FULL = 5,
  LOOM_CTR_UPCALL_RATE_LIMITED = 6,
  LOOM_CTR_MALFORMED = 7,           /* Too short to parse: dropped. */
  LOOM_CTR_TX_TUNNEL = 8,           /* Copies sent to the vxlan device. */
  LOOM_CTR_TX_LOCAL = 9,            /* Copies delivered to a local VM. */
  LOOM_CTR_TUNNEL_RX = 10,          /* Packets received on the vxlan device. */
  LOOM_CTR_TUNNEL_UNKNOWN_KEY = 11, /* ... with a key no local port has: dropped. */
  LOOM_CTR_FLOW_DROPS = 12,         /* Packets dropped by DROP flows (by reason in loom_drops). */
  LOOM_CTR_ACTION_ERRORS = 13,      /* A set or redirect helper failed: dropped. */
  LOOM_CTR_TOO_BIG = 14,
  LOOM_CTR_COUNT = 16,
};

#define LOOM_DROP_REASONS 64 /* loom_drops (PERCPU_ARRAY): one u64 per sim::DropReason. */

#endif /* LOOM_DATAPATH_BPF_LOOM_DP_ABI_H_ */
