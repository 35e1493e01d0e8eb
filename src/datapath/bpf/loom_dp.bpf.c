/* loom's eBPF fast path: two tc programs over the maps of loom_dp_abi.h.
 *
 *   loom_vm_ingress      ingress of the host side of every VM veth (= what the VM sends): parse,
 *                        tuple-space search in loom_flows, apply the flow's sets and outputs
 *                        (tunnel into the `vxlan external` device, or redirect_peer into a local
 *                        VM); misses and odd frames go to the agent through the loom_upcalls ring.
 *   loom_tunnel_ingress  ingress of the vxlan device: tunnel key -> local port, redirect_peer. No
 *                        policy here: the sending host's flow already applied it.
 *
 * Kernel facts this relies on are in docs/datapath-notes.md (in /work/shared/docs): remote_ipv4
 * of bpf_skb_set_tunnel_key is in HOST order, bpf_redirect_peer only works from tc ingress, a
 * plain bounded loop is the cheapest mask search to run and to verify.
 *
 * Build: clang -O2 -g -target bpf (CMake does it and embeds the object in loom_datapath).
 */
#include <linux/bpf.h>
#include <linux/icmp.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

/* After the linux headers: libbpf's helpers need their types. */
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "loom_dp_abi.h"

_Static_assert(sizeof(struct loom_flow_key) == 64, "flow key must be 8 x u64");
_Static_assert(sizeof(struct loom_flow_value) % 8 == 0, "flow value size");
_Static_assert(sizeof(struct loom_upcall) == 24, "upcall header size");

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ------------------------------------------------------------------------------------------ */
/* Maps. All pinned by name so that a restarted agent reuses them (and the flows in them). */

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, LOOM_FLOW_TABLE_SIZE);
  __type(key, struct loom_flow_key);
  __type(value, struct loom_flow_value);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} loom_flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, LOOM_MAX_MASKS);
  __type(key, __u32);
  __type(value, struct loom_mask);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} loom_masks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct loom_config);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} loom_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, LOOM_PORTS_SIZE);
  __type(key, __u32);
  __type(value, struct loom_port);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} loom_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, LOOM_TUNNEL_PORTS_SIZE);
  __type(key, __u32);
  __type(value, struct loom_port);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} loom_tunnel_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, LOOM_PORTS_SIZE);
  __type(key, __u32);
  __type(value, struct loom_upcall_bucket);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} loom_upcall_state SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, LOOM_UPCALL_RING_BYTES);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} loom_upcalls SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, LOOM_CTR_COUNT);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} loom_counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, LOOM_DROP_REASONS);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} loom_drops SEC(".maps");

/* ------------------------------------------------------------------------------------------ */
/* Helpers. */

#define ETH_LEN 14
#define IP4_OFF ETH_LEN
#define IP4_L4_OFF (ETH_LEN + 20) /* Options go to the slow path, so L4 is always here. */
#define IP6_L4_OFF (ETH_LEN + 40)
/* Bytes the parser reads at most: IPv6 + a full TCP header. */
#define PARSE_BYTES (IP6_L4_OFF + 20)

#define ETH_P_ARP_ 0x0806
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8

/* Ethernet/IPv4 ARP body (struct arphdr stops before the addresses). */
struct arp_eth {
  __be16 htype;
  __be16 ptype;
  __u8 hlen;
  __u8 plen;
  __be16 op;
  __u8 sha[6];
  __u8 spa[4];
  __u8 tha[6];
  __u8 tpa[4];
} __attribute__((packed));

/* What the actions need to know about the packet beyond the key. */
struct pkt_info {
  __u16 l4_off; /* 0 when there is no TCP/UDP header to rewrite. */
  __u8 is_ipv4;
  __u8 is_ipv6;
};

static __always_inline void count(__u32 idx, __u64 n) {
  __u64* v = bpf_map_lookup_elem(&loom_counters, &idx);
  if (v) *v += n; /* Per-CPU: no atomics needed. */
}

static __always_inline void count_drop(__u32 reason) {
  __u64* v = bpf_map_lookup_elem(&loom_drops, &reason);
  if (v) *v += 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Upcalls. */

/* Per-interface token bucket; returns 1 when the upcall may go. Racy between CPUs by design (a
 * lost update costs one token at most); rate 0 means unlimited. */
static __always_inline int upcall_allowed(__u32 ifindex, const struct loom_config* cfg, __u64 now) {
  if (!cfg || cfg->upcall_rate == 0) return 1;
  __u64 rate = cfg->upcall_rate;
  __u64 depth = cfg->upcall_burst ? cfg->upcall_burst : 1; /* A 0 depth would refuse all. */
  depth *= 1000;
  struct loom_upcall_bucket* b = bpf_map_lookup_elem(&loom_upcall_state, &ifindex);
  if (!b) {
    /* First upcall on this interface: start with a full bucket, this upcall included. */
    struct loom_upcall_bucket nb = {};
    nb.tokens_x1000 = depth - 1000;
    nb.last_ns = now;
    bpf_map_update_elem(&loom_upcall_state, &ifindex, &nb, BPF_NOEXIST);
    return 1;
  }
  __u64 tokens = b->tokens_x1000;
  __u64 last = b->last_ns;
  if (now > last) {
    __u64 elapsed = now - last;
    __u64 add;
    /* milli-tokens = elapsed_ns * rate / 1e6, without overflowing u64 (rate < 2^32). */
    if (elapsed < 4000000000ull) {
      add = elapsed * rate / 1000000;
    } else {
      if (elapsed > 4000000000000ull) elapsed = 4000000000000ull;
      add = (elapsed / 1000) * rate / 1000;
    }
    /* Advance last_ns only when credit was added: at low rates a stream of closely spaced
     * upcalls would otherwise round every refill down to 0 and starve the bucket forever. */
    if (add) {
      tokens += add;
      if (tokens > depth) tokens = depth;
      b->last_ns = now;
    }
  }
  if (tokens < 1000) {
    b->tokens_x1000 = tokens;
    __sync_fetch_and_add(&b->limited, 1);
    return 0;
  }
  b->tokens_x1000 = tokens - 1000;
  return 1;
}

/* Writes one record with room for `cap` frame bytes (a constant after inlining, as
 * bpf_ringbuf_reserve needs). */
static __always_inline int emit_upcall(struct __sk_buff* skb, __u8 reason, __u64 now,
                                       const __u32 cap) {
  struct loom_upcall* h = bpf_ringbuf_reserve(&loom_upcalls, sizeof(struct loom_upcall) + cap, 0);
  if (!h) {
    count(LOOM_CTR_UPCALL_RING_FULL, 1);
    return TC_ACT_SHOT;
  }
  __u32 len = skb->len;
  __u32 gso = skb->gso_segs;
  __u8* data = (__u8*)(h + 1);
  int err;
  __u32 n;
  if (len >= cap) {
    n = cap;
    err = bpf_skb_load_bytes(skb, 0, data, cap);
  } else {
    /* A variable length: the verifier needs it bounded to [1, cap]. The empty asm keeps clang
     * from folding the bound checks into something the verifier cannot follow. */
    n = len;
    asm volatile("" : "+r"(n));
    if (n == 0 || n > cap) {
      n = 0;
      err = 0;
    } else {
      err = bpf_skb_load_bytes(skb, 0, data, n);
    }
  }
  if (err < 0) {
    bpf_ringbuf_discard(h, 0);
    count(LOOM_CTR_ACTION_ERRORS, 1);
    return TC_ACT_SHOT;
  }
  h->ts_ns = now;
  h->ifindex = skb->ifindex;
  h->len = len;
  h->cap_len = n;
  h->reason = reason;
  h->flags = (len > n ? LOOM_UPCALL_F_TRUNCATED : 0) | (gso > 1 ? LOOM_UPCALL_F_GSO : 0);
  h->gso_segs = gso;
  bpf_ringbuf_submit(h, 0);
  count(LOOM_CTR_UPCALLS, 1);
  return TC_ACT_SHOT;
}

/* Sends the frame to the agent, which re-injects it after handling it: the kernel copy is
 * always dropped. */
static __attribute__((noinline)) int upcall(struct __sk_buff* skb, __u8 reason) {
  __u32 zero = 0;
  const struct loom_config* cfg = bpf_map_lookup_elem(&loom_config, &zero);
  __u64 now = bpf_ktime_get_ns();
  if (!upcall_allowed(skb->ifindex, cfg, now)) {
    count(LOOM_CTR_UPCALL_RATE_LIMITED, 1);
    return TC_ACT_SHOT;
  }
  __u32 len = skb->len;
  if (len <= LOOM_UPCALL_SMALL) return emit_upcall(skb, reason, now, LOOM_UPCALL_SMALL);
  if (len <= LOOM_UPCALL_MEDIUM) return emit_upcall(skb, reason, now, LOOM_UPCALL_MEDIUM);
  return emit_upcall(skb, reason, now, LOOM_UPCALL_LARGE);
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing. */

enum parse_result { PARSE_OK = 0, PARSE_MALFORMED = 1, PARSE_SLOWPATH = 2 };

/* TCP/UDP ports and flags, ICMP type/code; L4 fields stay 0 if the header is truncated. */
static __always_inline void parse_l4(void* data, void* end, const __u32 off, __u8 proto,
                                     __u8 icmp_proto, struct loom_flow_key* key,
                                     struct pkt_info* pi) {
  if (proto == IPPROTO_TCP) {
    struct tcphdr* th = data + off;
    if ((void*)(th + 1) > end) return;
    key->tp_src = th->source;
    key->tp_dst = th->dest;
    __u8* fl = (__u8*)th + 12; /* Data offset + NS bit, then CWR..FIN. */
    key->tcp_flags = bpf_htons((((__u16)fl[0] & 1) << 8) | fl[1]);
    pi->l4_off = off;
  } else if (proto == IPPROTO_UDP) {
    struct udphdr* uh = data + off;
    if ((void*)(uh + 1) > end) return;
    key->tp_src = uh->source;
    key->tp_dst = uh->dest;
    pi->l4_off = off;
  } else if (proto == icmp_proto) {
    __u8* ic = data + off;
    if ((void*)(ic + 2) > end) return;
    key->icmp_type = ic[0];
    key->icmp_code = ic[1];
  }
}

static __always_inline int parse(struct __sk_buff* skb, struct loom_flow_key* key,
                                 struct pkt_info* pi) {
  /* Headers normally sit in the linear area; pull them there when they do not. */
  __u32 len = skb->len;
  __u32 need = len < PARSE_BYTES ? len : PARSE_BYTES;
  if ((long)skb->data + need > (long)skb->data_end) bpf_skb_pull_data(skb, need);

  void* data = (void*)(long)skb->data;
  void* end = (void*)(long)skb->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end) return PARSE_MALFORMED;
  if (skb->vlan_present) return PARSE_SLOWPATH;
  __be16 type = eth->h_proto;
  if (type == bpf_htons(ETH_P_8021Q_) || type == bpf_htons(ETH_P_8021AD_)) return PARSE_SLOWPATH;

  key->ifindex = skb->ifindex;
  __builtin_memcpy(key->eth_dst, eth->h_dest, 6);
  __builtin_memcpy(key->eth_src, eth->h_source, 6);
  key->eth_type = type;

  if (type == bpf_htons(ETH_P_IP)) {
    struct iphdr* ip = data + IP4_OFF;
    if ((void*)(ip + 1) > end) return PARSE_MALFORMED;
    if (ip->version != 4 || ip->ihl < 5) return PARSE_MALFORMED;
    if (ip->ihl > 5) return PARSE_SLOWPATH; /* The key has no room for options. */
    pi->is_ipv4 = 1;
    key->nw_proto = ip->protocol;
    key->nw_tos = ip->tos;
    key->nw_ttl = ip->ttl;
    key->nw_src = ip->saddr;
    key->nw_dst = ip->daddr;
    __u16 frag = bpf_ntohs(ip->frag_off);
    if (frag & 0x1fff)
      key->nw_frag = 2; /* Later fragment: no L4 header. */
    else if (frag & 0x2000)
      key->nw_frag = 1;
    if (key->nw_frag != 2) parse_l4(data, end, IP4_L4_OFF, ip->protocol, IPPROTO_ICMP, key, pi);
  } else if (type == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr* ip6 = data + ETH_LEN;
    if ((void*)(ip6 + 1) > end) return PARSE_MALFORMED;
    pi->is_ipv6 = 1;
    key->nw_proto = ip6->nexthdr;
    key->nw_tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
    key->nw_ttl = ip6->hop_limit;
    parse_l4(data, end, IP6_L4_OFF, ip6->nexthdr, IPPROTO_ICMPV6, key, pi);
  } else if (type == bpf_htons(ETH_P_ARP_)) {
    struct arp_eth* arp = data + ETH_LEN;
    if ((void*)(arp + 1) > end) return PARSE_MALFORMED;
    if (arp->htype == bpf_htons(1) && arp->ptype == bpf_htons(ETH_P_IP) && arp->hlen == 6 &&
        arp->plen == 4) {
      key->arp_op = arp->op;
      __builtin_memcpy(key->arp_sha, arp->sha, 6);
      __builtin_memcpy(key->arp_tha, arp->tha, 6);
      __builtin_memcpy(&key->nw_src, arp->spa, 4);
      __builtin_memcpy(&key->nw_dst, arp->tpa, 4);
    }
  }
  return PARSE_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Actions. */

/* Rewrites one byte of an IPv4 header and fixes the header checksum through the 16-bit word
 * holding it (word_off is even). */
static __always_inline int set_ip4_byte(struct __sk_buff* skb, __u32 word_off, int hi, __u8 val) {
  __u8 w[2];
  if (bpf_skb_load_bytes(skb, word_off, w, 2) < 0) return -1;
  __u16 from = *(__u16*)w;
  w[hi ? 0 : 1] = val;
  __u16 to = *(__u16*)w;
  if (bpf_l3_csum_replace(skb, IP4_OFF + 10, from, to, 2) < 0) return -1;
  return bpf_skb_store_bytes(skb, word_off, w, 2, 0);
}

/* L4 checksum offset and flags for a TCP/UDP packet (UDP: a zero checksum means "none" and must
 * stay zero). Returns 0 when there is no L4 checksum to fix. */
static __always_inline __u32 l4_csum_off(const struct loom_flow_key* key, const struct pkt_info* pi,
                                         __u64* flags) {
  if (!pi->l4_off) return 0;
  if (key->nw_proto == IPPROTO_TCP) {
    *flags = 0;
    return pi->l4_off + 16;
  }
  *flags = BPF_F_MARK_MANGLED_0;
  return pi->l4_off + 6;
}

static __always_inline int apply_set(struct __sk_buff* skb, const struct loom_set* s,
                                     const struct loom_flow_key* key, const struct pkt_info* pi) {
  __u64 fl = 0;
  __u32 csum_off;
  switch (s->kind) {
    case LOOM_SET_ETH_SRC: return bpf_skb_store_bytes(skb, 6, s->mac, 6, 0);
    case LOOM_SET_ETH_DST: return bpf_skb_store_bytes(skb, 0, s->mac, 6, 0);
    case LOOM_SET_NW_TTL:
      if (pi->is_ipv6) {
        __u8 hl = s->value16;
        return bpf_skb_store_bytes(skb, ETH_LEN + 7, &hl, 1, 0);
      }
      if (!pi->is_ipv4) return -1;
      return set_ip4_byte(skb, IP4_OFF + 8, 1, s->value16);
    case LOOM_SET_NW_TOS:
      if (!pi->is_ipv4) return -1;
      return set_ip4_byte(skb, IP4_OFF, 0, s->value16);
    case LOOM_SET_NW_SRC:
    case LOOM_SET_NW_DST: {
      if (!pi->is_ipv4) return -1;
      __u32 off = IP4_OFF + (s->kind == LOOM_SET_NW_SRC ? 12 : 16);
      __u32 from;
      __u32 to = s->value32;
      if (bpf_skb_load_bytes(skb, off, &from, 4) < 0) return -1;
      if (bpf_l3_csum_replace(skb, IP4_OFF + 10, from, to, 4) < 0) return -1;
      csum_off = l4_csum_off(key, pi, &fl);
      if (csum_off && bpf_l4_csum_replace(skb, csum_off, from, to, fl | BPF_F_PSEUDO_HDR | 4) < 0)
        return -1;
      return bpf_skb_store_bytes(skb, off, &to, 4, 0);
    }
    case LOOM_SET_TP_SRC:
    case LOOM_SET_TP_DST: {
      csum_off = l4_csum_off(key, pi, &fl);
      if (!csum_off) return -1; /* Not TCP/UDP: the agent should not have asked. */
      __u32 off = pi->l4_off + (s->kind == LOOM_SET_TP_SRC ? 0 : 2);
      __u16 from;
      __u16 to = s->value16;
      if (bpf_skb_load_bytes(skb, off, &from, 2) < 0) return -1;
      if (bpf_l4_csum_replace(skb, csum_off, from, to, fl | 2) < 0) return -1;
      return bpf_skb_store_bytes(skb, off, &to, 2, 0);
    }
    default: return -1;
  }
}

/* One copy to one output; `last` uses the cheaper non-cloning redirects. Returns the tc verdict
 * for the last copy, TC_ACT_OK for a successful clone, TC_ACT_SHOT on failure. */
static __always_inline int output(struct __sk_buff* skb, const struct loom_output* o,
                                  __u32 vxlan_ifindex, int last) {
  if (o->flags & LOOM_OUT_TUNNEL) {
    struct bpf_tunnel_key tk = {};
    tk.tunnel_id = o->tunnel_key;
    tk.remote_ipv4 = o->remote_ipv4; /* Host order, as the helper wants. */
    tk.tunnel_ttl = 64;
    if (bpf_skb_set_tunnel_key(skb, &tk, sizeof(tk), BPF_F_ZERO_CSUM_TX) < 0) return TC_ACT_SHOT;
    count(LOOM_CTR_TX_TUNNEL, 1);
    if (last) return bpf_redirect(vxlan_ifindex, 0);
    return bpf_clone_redirect(skb, vxlan_ifindex, 0) < 0 ? TC_ACT_SHOT : TC_ACT_OK;
  }
  if (o->flags & LOOM_OUT_LOCAL) {
    count(LOOM_CTR_TX_LOCAL, 1);
    if (last) return bpf_redirect_peer(o->ifindex, 0);
    /* Egress of the host-side veth = into the VM. */
    return bpf_clone_redirect(skb, o->ifindex, 0) < 0 ? TC_ACT_SHOT : TC_ACT_OK;
  }
  return TC_ACT_SHOT;
}

static __attribute__((noinline)) int forward(struct __sk_buff* skb, struct loom_flow_value* v,
                                             const struct loom_flow_key* key,
                                             const struct pkt_info* pi, __u32 vxlan) {
  __u32 n_sets = v->n_sets;
  for (__u32 i = 0; i < LOOM_MAX_SETS; i++) {
    if (i >= n_sets) break;
    if (apply_set(skb, &v->sets[i], key, pi) < 0) goto error;
  }
  __u32 n_out = v->n_outputs;
  if (n_out == 0) return TC_ACT_SHOT;
  for (__u32 i = 0; i < LOOM_MAX_OUTPUTS; i++) {
    if (i >= n_out) break;
    int last = i + 1 >= n_out;
    int ret = output(skb, &v->outputs[i], vxlan, last);
    if (ret == TC_ACT_SHOT) goto error;
    if (last) return ret;
  }
  return TC_ACT_SHOT;
error:
  count(LOOM_CTR_ACTION_ERRORS, 1);
  return TC_ACT_SHOT;
}

/* ------------------------------------------------------------------------------------------ */
/* Programs. */

SEC("tc")
int loom_vm_ingress(struct __sk_buff* skb) {
  /* 8-aligned: the mask search reads the keys as u64 words. */
  struct loom_flow_key key __attribute__((aligned(8)));
  struct pkt_info pi = {};
  __builtin_memset(&key, 0, sizeof(key)); /* Padding included: the key is hashed bytewise. */
  count(LOOM_CTR_RX_PACKETS, 1);

  int pr = parse(skb, &key, &pi);
  if (pr == PARSE_MALFORMED) {
    count(LOOM_CTR_MALFORMED, 1);
    return TC_ACT_SHOT;
  }
  if (pr == PARSE_SLOWPATH) return upcall(skb, LOOM_UPCALL_SLOWPATH);

  /* Tuple-space search: first mask under which the masked key is installed wins. */
  __u32 zero = 0;
  const struct loom_config* cfg = bpf_map_lookup_elem(&loom_config, &zero);
  __u32 n_masks = cfg ? cfg->n_masks : 0;
  struct loom_flow_value* v = 0;
  __u32 lookups = 0;
  for (__u32 i = 0; i < LOOM_MAX_MASKS; i++) {
    if (i >= n_masks) break;
    __u32 slot = i;
    const struct loom_mask* m = bpf_map_lookup_elem(&loom_masks, &slot);
    if (!m) break;
    struct loom_flow_key mk __attribute__((aligned(8)));
    const __u64* a = (const __u64*)&key;
    const __u64* b = (const __u64*)&m->mask;
    __u64* c = (__u64*)&mk;
#pragma unroll
    for (int j = 0; j < 8; j++) c[j] = a[j] & b[j];
    mk.mask_id = i;
    lookups++;
    v = bpf_map_lookup_elem(&loom_flows, &mk);
    if (v) break;
  }
  if (lookups) count(LOOM_CTR_MASK_LOOKUPS, lookups);

  if (!v) {
    count(LOOM_CTR_FLOW_MISSES, 1);
    return upcall(skb, LOOM_UPCALL_MISS);
  }
  count(LOOM_CTR_FLOW_HITS, 1);
  __sync_fetch_and_add(&v->packets, 1);
  __sync_fetch_and_add(&v->bytes, skb->len);
  v->last_used_ns = bpf_ktime_get_ns();

  __u32 action = v->action;
  if (action == LOOM_ACT_DROP) {
    count_drop(v->drop_reason);
    count(LOOM_CTR_FLOW_DROPS, 1);
    return TC_ACT_SHOT;
  }
  if (action != LOOM_ACT_FORWARD) return upcall(skb, LOOM_UPCALL_ACTION);
  __u32 mtu = v->mtu;
  if (mtu && skb->gso_segs <= 1 && skb->len > ETH_LEN && skb->len - ETH_LEN > mtu) {
    count(LOOM_CTR_TOO_BIG, 1);
    return upcall(skb, LOOM_UPCALL_TOO_BIG);
  }
  return forward(skb, v, &key, &pi, cfg ? cfg->vxlan_ifindex : 0);
}

SEC("tc")
int loom_tunnel_ingress(struct __sk_buff* skb) {
  struct bpf_tunnel_key tk = {};
  count(LOOM_CTR_TUNNEL_RX, 1);
  if (bpf_skb_get_tunnel_key(skb, &tk, sizeof(tk), 0) < 0) {
    count(LOOM_CTR_TUNNEL_UNKNOWN_KEY, 1);
    return TC_ACT_SHOT;
  }
  __u32 tkey = tk.tunnel_id;
  const struct loom_port* p = bpf_map_lookup_elem(&loom_tunnel_ports, &tkey);
  if (!p) {
    count(LOOM_CTR_TUNNEL_UNKNOWN_KEY, 1);
    return TC_ACT_SHOT;
  }
  count(LOOM_CTR_TX_LOCAL, 1);
  return bpf_redirect_peer(p->ifindex, 0);
}
