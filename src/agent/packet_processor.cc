#include "agent/packet_processor.h"

#include <arpa/inet.h>
#include <time.h>

#include <cstring>
#include <sstream>
#include <thread>

#include "datapath/flow_key.h"
#include "packet/actions.h"
#include "packet/parser.h"

namespace loom::agent {

using Clock = std::chrono::steady_clock;
using datapath::FlowKey;
using datapath::FlowValue;

namespace {

uint64_t monotonicNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// The packet fields a flow key holds, fields outside the mask left zero. A flow adopted after
// a restart is re-simulated from these: by the megaflow contract the simulation reads only
// masked fields of any packet the flow matches, and this one matches it.
packet::FlowFields fieldsFromKey(const FlowKey& k) {
  packet::FlowFields f;
  f.eth_src = packet::MacAddr::fromBytes(k.eth_src);
  f.eth_dst = packet::MacAddr::fromBytes(k.eth_dst);
  f.vlan_present = (k.vlan_tci & LOOM_VLAN_PRESENT) != 0;
  f.vlan_id = k.vlan_tci & 0x0fff;
  f.eth_type = ntohs(k.eth_type);
  f.nw_proto = k.nw_proto;
  f.nw_tos = k.nw_tos;
  f.nw_ttl = k.nw_ttl;
  f.nw_frag = static_cast<packet::FragType>(k.nw_frag);
  f.tp_src = ntohs(k.tp_src);
  f.tp_dst = ntohs(k.tp_dst);
  f.icmp_type = k.icmp_type;
  f.icmp_code = k.icmp_code;
  f.tcp_flags = ntohs(k.tcp_flags);
  if (f.eth_type == packet::kEthTypeArp) {
    f.arp_op = ntohs(k.arp_op);
    f.arp_sha = packet::MacAddr::fromBytes(k.arp_sha);
    f.arp_tha = packet::MacAddr::fromBytes(k.arp_tha);
    f.arp_spa = packet::IpAddr::v4Bytes(reinterpret_cast<const uint8_t*>(&k.nw_src));
    f.arp_tpa = packet::IpAddr::v4Bytes(reinterpret_cast<const uint8_t*>(&k.nw_dst));
  } else if (f.eth_type == packet::kEthTypeIpv4) {
    f.nw_src = packet::IpAddr::v4Bytes(reinterpret_cast<const uint8_t*>(&k.nw_src));
    f.nw_dst = packet::IpAddr::v4Bytes(reinterpret_cast<const uint8_t*>(&k.nw_dst));
  }
  return f;
}

// A truncated capture (a GSO frame longer than its upcall record) cannot be sent on, but its
// headers can still be simulated and installed: shorten the IPv4 total length to the bytes
// captured so the parser accepts it (the flow key has no length field).
void clampToCaptured(std::vector<uint8_t>& frame) {
  if (frame.size() < 14 + 20) return;
  uint16_t type = static_cast<uint16_t>(frame[12] << 8 | frame[13]);
  if (type != packet::kEthTypeIpv4) return;
  size_t avail = frame.size() - 14;
  size_t total = static_cast<size_t>(frame[16] << 8 | frame[17]);
  if (total > avail) {
    frame[16] = static_cast<uint8_t>(avail >> 8);
    frame[17] = static_cast<uint8_t>(avail & 0xff);
  }
}

// The agent-owned part of a value (what revalidation compares): everything but the counters.
bool sameActions(const FlowValue& a, const FlowValue& b) {
  return a.action == b.action && a.drop_reason == b.drop_reason && a.mtu == b.mtu &&
         a.n_sets == b.n_sets && a.n_outputs == b.n_outputs &&
         std::memcmp(a.sets, b.sets, sizeof a.sets) == 0 &&
         std::memcmp(a.outputs, b.outputs, sizeof a.outputs) == 0;
}

}  // namespace

size_t PacketProcessor::KeyHash::operator()(const FlowKey& k) const {
  uint64_t w[sizeof(FlowKey) / 8];
  std::memcpy(w, &k, sizeof w);
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (uint64_t x : w) h = (h ^ x) * 0x100000001b3ULL + (h >> 29);
  return static_cast<size_t>(h);
}

bool PacketProcessor::KeyEq::operator()(const FlowKey& a, const FlowKey& b) const {
  return std::memcmp(&a, &b, sizeof(FlowKey)) == 0;
}

PacketProcessor::PacketProcessor(datapath::Datapath& dp, datapath::PacketTx& tx, MaskSlots& masks,
                                 AgentCounters& counters, const AgentConfig& config)
    : dp_(dp),
      tx_(tx),
      counters_(counters),
      config_(config),
      simulator_(sim::SimConfig{&clock_}),
      masks_(masks) {}

void PacketProcessor::publishView(ViewPtr view) {
  std::lock_guard<std::mutex> lock(view_mu_);
  pending_view_ = std::move(view);
  wake_.notify_one();
}

void PacketProcessor::post(std::vector<Item> batch) {
  // Bounded like the ring: a worker that falls behind sheds upcalls (counted), never state.
  constexpr size_t kMaxInbox = 16384;
  std::lock_guard<std::mutex> lock(view_mu_);
  for (Item& i : batch) {
    if (!i.is_state && inbox_.size() >= kMaxInbox) {
      counters_.upcalls_worker_overflow.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    inbox_.push_back(std::move(i));
  }
  wake_.notify_one();
}

void PacketProcessor::runInbox(const std::atomic<bool>& stop) {
  std::vector<Item> items;
  while (!stop.load(std::memory_order_relaxed)) {
    {
      std::unique_lock<std::mutex> lock(view_mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(100),
                     [&] { return !inbox_.empty() || pending_view_ != nullptr || stop.load(); });
      if (view_ != nullptr || pending_view_ != nullptr) items.swap(inbox_);
    }
    pickUpView();
    for (Item& item : items) {
      if (item.is_state) {
        applyRemoteWrites(item.writes);
      } else {
        handleRecord(item.header, item.frame);
      }
    }
    items.clear();
    if (view_) timers();
  }
}

void PacketProcessor::adoptPinnedFlows(const std::function<bool(uint32_t ifindex)>& mine) {
  std::lock_guard<std::mutex> lock(flows_mu_);
  std::vector<std::pair<FlowKey, FlowValue>> found;
  dp_.dumpFlows([&](const FlowKey& k, const FlowValue& v) { found.emplace_back(k, v); });
  for (auto& [key, value] : found) {
    if (mine && !mine(key.ifindex)) continue;  // Another worker's.
    StatusOr<datapath::MaskKey> mask = dp_.mask(key.mask_id);
    if (key.mask_id >= LOOM_MAX_MASKS || !mask.ok()) {
      (void)dp_.removeFlow(key);
      continue;
    }
    if (!masks_.adopt(key.mask_id, *mask)) {
      (void)dp_.removeFlow(key);
      continue;
    }
    InstalledFlow f;
    f.key = key;
    f.fields = fieldsFromKey(key);
    f.ifindex = key.ifindex;
    f.mask = 0;  // Unknown until revalidated; the mask slot says what the key holds.
    f.value = value;
    f.installed = Clock::now();
    f.adopted = true;
    next_cookie_ = std::max<uint64_t>(next_cookie_, value.cookie + 1);
    flows_.emplace(key, std::move(f));
    counters_.flows_adopted.fetch_add(1, std::memory_order_relaxed);
  }
}

void PacketProcessor::run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) step(10);
}

void PacketProcessor::pickUpView() {
  ViewPtr fresh;
  {
    std::lock_guard<std::mutex> lock(view_mu_);
    fresh = std::move(pending_view_);
  }
  if (fresh) {
    view_ = std::move(fresh);
    revalidate();
    rerunParked(false);
  }
}

void PacketProcessor::timers() {
  Clock::time_point now = Clock::now();
  if (state_changed_ && now - last_revalidate_ > std::chrono::milliseconds(20)) {
    state_changed_ = false;
    revalidate();
    rerunParked(false);
  }
  if (now - last_expiry_ > std::chrono::seconds(1)) {
    last_expiry_ = now;
    expireIdleFlows();
    rerunParked(true);
  }
}

void PacketProcessor::step(int poll_ms) {
  pickUpView();
  if (!view_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
    return;
  }
  StatusOr<int> n =
      dp_.pollUpcalls(poll_ms, 256, [this](const datapath::Upcall& u) { handleUpcall(u); });
  (void)n;
  timers();
}

void PacketProcessor::handleUpcall(const datapath::Upcall& u) {
  // The ring's pages are read-only: work on a copy.
  std::vector<uint8_t> frame(u.data.begin(), u.data.end());
  handleRecord(*u.header, frame);
}

void PacketProcessor::handleRecord(const loom_upcall& h, std::vector<uint8_t>& frame) {
  counters_.upcalls.fetch_add(1, std::memory_order_relaxed);
  bool truncated = (h.flags & LOOM_UPCALL_F_TRUNCATED) != 0;
  bool gso = (h.flags & LOOM_UPCALL_F_GSO) != 0;
  if (truncated) counters_.upcalls_truncated.fetch_add(1, std::memory_order_relaxed);
  if (h.reason == LOOM_UPCALL_TOO_BIG)
    counters_.upcalls_too_big.fetch_add(1, std::memory_order_relaxed);
  // A GSO super-packet is cut into segments no longer than the MSS: no MTU check for it.
  uint32_t l3_len = gso ? 0 : (h.len > 14 ? h.len - 14 : 0);
  // TOO_BIG and ACTION upcalls matched an installed flow: answer this packet, keep the flow.
  bool may_install = h.reason == LOOM_UPCALL_MISS || h.reason == LOOM_UPCALL_SLOWPATH;
  processFrame(h.ifindex, frame, l3_len, !truncated, may_install,
               Clock::now() + std::chrono::milliseconds(config_.parked_timeout_ms));
}

void PacketProcessor::processFrame(uint32_t ifindex, std::vector<uint8_t>& frame, uint32_t l3_len,
                                   bool can_send, bool may_install,
                                   Clock::time_point park_deadline) {
  const AgentView& v = *view_;
  auto lp = v.local_by_ifindex.find(ifindex);
  if (lp == v.local_by_ifindex.end()) {
    counters_.upcalls_unknown_port.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Clock::time_point t0 = Clock::now();
  // Upcalled frames may carry CHECKSUM_PARTIAL (the VM's TX offload): complete them before
  // anyone sees or receives the bytes.
  if (can_send)
    datapath::completeChecksums(frame);
  else
    clampToCaptured(frame);  // Truncated: make the headers parse.
  packet::ParsedPacket parsed = packet::parsePacket(frame);
  if (!parsed.ok()) {
    counters_.outcomes[static_cast<size_t>(sim::Outcome::Drop)].fetch_add(
        1, std::memory_order_relaxed);
    counters_.sim_drops[static_cast<size_t>(sim::DropReason::MalformedPacket)].fetch_add(
        1, std::memory_order_relaxed);
    return;
  }
  sim::SimInput in;
  in.match = packet::flowMatchOf(parsed);
  in.frame = frame;
  in.port = lp->second.port;
  in.l3_len = l3_len;
  in.df = parsed.ipv4_dont_fragment;
  simulator_.simulate(in, *v.topo, stateView(), result_);
  counters_.outcomes[static_cast<size_t>(result_.outcome)].fetch_add(1, std::memory_order_relaxed);
  if (result_.outcome == sim::Outcome::Drop) {
    counters_.sim_drops[static_cast<size_t>(result_.drop_reason)].fetch_add(
        1, std::memory_order_relaxed);
  }
  applyWrites(result_.writes);
  switch (result_.outcome) {
    case sim::Outcome::NotReady:
      if (parked_.size() >= config_.parked_max) {
        counters_.parked_overflow.fetch_add(1, std::memory_order_relaxed);
      } else if (can_send) {
        parked_.push_back(Parked{ifindex, frame, park_deadline});
        parked_count_.store(parked_.size(), std::memory_order_relaxed);
        counters_.parked.fetch_add(1, std::memory_order_relaxed);
      }
      break;
    case sim::Outcome::Forward:
    case sim::Outcome::Drop:
      if (may_install) install(ifindex, lp->second.port, in.match.untracked(), result_);
      if (can_send && result_.outcome == sim::Outcome::Forward) transmit(result_.egress, frame);
      break;
    case sim::Outcome::Consumed: break;
  }
  counters_.sim_latency.observe(
      std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  if (!result_.generated.empty()) {
    std::vector<sim::GeneratedPacket> generated = std::move(result_.generated);
    sendGenerated(generated, 0);
  }
}

void PacketProcessor::applyRemoteWrites(const std::vector<state::StateWrite>& writes) {
  state_.apply(writes, clock_.now());
  state_changed_ = true;
}

std::optional<Uuid> PacketProcessor::CombinedMacs::lookup(const Uuid& bridge, uint16_t vlan,
                                                          packet::MacAddr mac) const {
  if (p_.view_) {
    auto it =
        p_.view_->remote_macs.find(MacKey{bridge, static_cast<uint64_t>(vlan) << 48 | mac.toU64()});
    if (it != p_.view_->remote_macs.end()) return it->second;
  }
  return p_.state_.macs.lookup(bridge, vlan, mac);
}

void PacketProcessor::applyWrites(const std::vector<state::StateWrite>& writes) {
  if (writes.empty()) return;
  if (mac_learned_ && view_) {
    for (const state::StateWrite& w : writes) {
      const auto* m = std::get_if<state::MacLearn>(&w);
      if (m != nullptr && view_->local_by_port.count(m->port)) mac_learned_(*m);
    }
  }
  // Other workers first: a reply to this packet may reach one of them, and its inbox is ordered.
  if (broadcast_) broadcast_(writes);
  state_.apply(writes, clock_.now());
  // Flows that decided on the old state (a flood for a MAC now learned, a flow that saw a
  // conntrack key missing) are revalidated; parked packets may be ready now.
  state_changed_ = true;
}

bool PacketProcessor::buildValue(const sim::SimResult& r, const AgentView& v, FlowValue& value,
                                 std::string& why) const {
  value = FlowValue{};
  if (!r.cacheable) {
    why = "not cacheable";
    return false;
  }
  if (r.userspace_only) {
    why = "userspace-only field";
    return false;
  }
  if (r.outcome == sim::Outcome::Drop) {
    value.action = LOOM_ACT_DROP;
    value.drop_reason = static_cast<uint16_t>(r.drop_reason);
    return true;
  }
  if (r.outcome != sim::Outcome::Forward) {
    why = "outcome";
    return false;
  }
  value.action = LOOM_ACT_FORWARD;
  value.mtu = static_cast<uint16_t>(std::min<uint32_t>(r.path_mtu, 0xffff));
  for (size_t i = 1; i < r.egress.size(); ++i) {
    if (r.egress[i].actions != r.egress[0].actions) {
      why = "egress copies need different rewrites";
      return false;
    }
  }
  if (!r.egress.empty() && !datapath::setsFromActions(r.egress[0].actions, value, &why)) {
    return false;
  }
  for (const sim::Egress& e : r.egress) {
    if (value.n_outputs >= LOOM_MAX_OUTPUTS) {
      why = "more than " + std::to_string(LOOM_MAX_OUTPUTS) + " outputs";
      return false;
    }
    loom_output& o = value.outputs[value.n_outputs];
    if (auto l = v.local_by_port.find(e.port); l != v.local_by_port.end()) {
      o.flags = LOOM_OUT_LOCAL;
      o.ifindex = l->second.ifindex;
    } else if (auto rp = v.remote_by_port.find(e.port); rp != v.remote_by_port.end()) {
      o.flags = LOOM_OUT_TUNNEL;
      o.remote_ipv4 = rp->second.remote_ipv4;
      o.tunnel_key = rp->second.tunnel_key;
    } else {
      continue;  // Bound but not active anywhere: nothing to send to (revalidated on change).
    }
    ++value.n_outputs;
  }
  if (value.n_outputs == 0) {
    // Every egress port is inactive: an explicit drop flow (revalidated when ports appear).
    value.action = LOOM_ACT_DROP;
    value.drop_reason = static_cast<uint16_t>(sim::DropReason::PortUnbound);
    value.mtu = 0;
    value.n_sets = 0;
    std::memset(value.sets, 0, sizeof value.sets);
  }
  return true;
}

void PacketProcessor::install(uint32_t ifindex, const Uuid& in_port,
                              const packet::FlowFields& fields, const sim::SimResult& r) {
  FlowValue value;
  std::string why;
  if (!datapath::keyable(r.mask, fields, &why) || !buildValue(r, *view_, value, why)) {
    counters_.flows_not_installed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::lock_guard<std::mutex> lock(flows_mu_);
  const datapath::MaskKey mask = datapath::maskFromFieldMask(r.mask);
  bool exhausted = false;
  std::optional<uint8_t> slot = masks_.acquire(mask, exhausted);
  if (!slot) {
    (exhausted ? counters_.masks_exhausted : counters_.flow_install_errors)
        .fetch_add(1, std::memory_order_relaxed);
    return;
  }
  FlowKey key = datapath::applyMask(datapath::keyFromFields(ifindex, fields), mask, *slot);
  auto it = flows_.find(key);
  if (it != flows_.end()) {
    masks_.release(*slot);  // The existing entry holds the slot already.
    value.cookie = it->second.value.cookie;
  } else {
    value.cookie = next_cookie_++;
  }
  if (Status s = dp_.installFlow(key, value); !s.ok()) {
    if (it == flows_.end()) masks_.release(*slot);
    counters_.flow_install_errors.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  InstalledFlow f;
  f.key = key;
  f.fields = fields;
  f.in_port = in_port;
  f.ifindex = ifindex;
  f.mask = r.mask;
  f.value = value;
  f.installed = Clock::now();
  if (it != flows_.end()) {
    it->second = std::move(f);
  } else {
    flows_.emplace(key, std::move(f));
  }
  counters_.flows_installed.fetch_add(1, std::memory_order_relaxed);
}

void PacketProcessor::removeFlowLocked(
    std::unordered_map<FlowKey, InstalledFlow, KeyHash, KeyEq>::iterator it) {
  (void)dp_.removeFlow(it->first);
  masks_.release(it->first.mask_id);
  flows_.erase(it);
}

bool PacketProcessor::deliver(const Uuid& port, const std::vector<uint8_t>& frame) {
  const AgentView& v = *view_;
  Status s;
  if (auto l = v.local_by_port.find(port); l != v.local_by_port.end()) {
    s = tx_.sendToInterface(l->second.ifindex, frame);
  } else if (auto r = v.remote_by_port.find(port); r != v.remote_by_port.end()) {
    s = tx_.sendVxlan(r->second.remote_ipv4, r->second.tunnel_key, frame);
  } else {
    return false;
  }
  if (!s.ok()) counters_.tx_errors.fetch_add(1, std::memory_order_relaxed);
  return s.ok();
}

void PacketProcessor::transmit(const std::vector<sim::Egress>& egress,
                               const std::vector<uint8_t>& frame) {
  for (const sim::Egress& e : egress) {
    std::vector<uint8_t> copy = frame;
    if (!e.actions.empty() && !packet::applySetFields(copy, e.actions)) {
      counters_.tx_errors.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (deliver(e.port, copy)) counters_.packets_reinjected.fetch_add(1, std::memory_order_relaxed);
  }
}

void PacketProcessor::sendGenerated(const std::vector<sim::GeneratedPacket>& generated, int depth) {
  const AgentView& v = *view_;
  for (const sim::GeneratedPacket& g : generated) {
    model::Index pi = v.topo->findPort(g.port);
    if (pi == model::kNoIndex) continue;
    if (v.topo->port(pi).isExterior()) {
      // Leaves the device through an exterior port: straight to the port's interface.
      if (deliver(g.port, g.frame))
        counters_.packets_generated.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    // Leaves through an interior port: it crosses the peer device like any packet.
    packet::ParsedPacket parsed = packet::parsePacket(g.frame);
    if (!parsed.ok()) continue;
    sim::SimInput in;
    in.match = packet::flowMatchOf(parsed);
    in.frame = g.frame;
    in.port = g.port;
    in.start = sim::SimInput::Start::PortEgress;
    sim::SimResult r;
    simulator_.simulate(in, *v.topo, stateView(), r);
    applyWrites(r.writes);
    if (r.outcome == sim::Outcome::Forward) {
      for (const sim::Egress& e : r.egress) {
        std::vector<uint8_t> copy = g.frame;
        if (!e.actions.empty() && !packet::applySetFields(copy, e.actions)) continue;
        if (deliver(e.port, copy))
          counters_.packets_generated.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (depth < 2 && !r.generated.empty()) sendGenerated(r.generated, depth + 1);
  }
}

void PacketProcessor::revalidate() {
  counters_.revalidations.fetch_add(1, std::memory_order_relaxed);
  last_revalidate_ = Clock::now();
  const AgentView& v = *view_;
  std::lock_guard<std::mutex> lock(flows_mu_);
  sim::SimResult r;
  for (auto it = flows_.begin(); it != flows_.end();) {
    InstalledFlow& f = it->second;
    auto lp = v.local_by_ifindex.find(f.ifindex);
    if (lp == v.local_by_ifindex.end() || (!f.adopted && lp->second.port != f.in_port)) {
      counters_.flows_removed_revalidate.fetch_add(1, std::memory_order_relaxed);
      auto next = std::next(it);
      removeFlowLocked(it);
      it = next;
      continue;
    }
    f.in_port = lp->second.port;
    sim::SimInput in;
    in.match = packet::FlowMatch(f.fields);
    in.port = f.in_port;
    simulator_.simulate(in, *v.topo, stateView(), r);
    if (r.outcome == sim::Outcome::NotReady) {
      ++it;  // Cannot tell yet (e.g. state not relearned after a restart): keep it.
      continue;
    }
    FlowValue value;
    std::string why;
    const datapath::MaskKey mask = datapath::maskFromFieldMask(r.mask);
    const datapath::MaskKey installed = masks_.mask(f.key.mask_id);
    bool same_mask = std::memcmp(&mask, &installed, sizeof mask) == 0;
    if (!same_mask || !datapath::keyable(r.mask, f.fields, &why) || !buildValue(r, v, value, why)) {
      // The packet now needs another mask or cannot be cached: remove; its next packet comes
      // up and installs what is right.
      counters_.flows_removed_revalidate.fetch_add(1, std::memory_order_relaxed);
      auto next = std::next(it);
      removeFlowLocked(it);
      it = next;
      continue;
    }
    f.mask = r.mask;
    f.adopted = false;
    value.cookie = f.value.cookie;
    if (!sameActions(value, f.value)) {
      if (dp_.installFlow(f.key, value).ok()) {
        f.value = value;
        counters_.flows_updated.fetch_add(1, std::memory_order_relaxed);
      } else {
        counters_.flow_install_errors.fetch_add(1, std::memory_order_relaxed);
      }
    }
    ++it;
  }
}

void PacketProcessor::expireIdleFlows() {
  const uint64_t now_ns = monotonicNs();
  const uint64_t idle_ns = static_cast<uint64_t>(config_.flow_idle_ms) * 1000000ULL;
  const Clock::time_point now = Clock::now();
  std::lock_guard<std::mutex> lock(flows_mu_);
  for (auto it = flows_.begin(); it != flows_.end();) {
    StatusOr<FlowValue> cur = dp_.readFlow(it->first);
    bool idle;
    if (!cur.ok()) {
      idle = true;  // Gone from the map: forget it.
    } else if (cur->last_used_ns != 0) {
      idle = now_ns > cur->last_used_ns && now_ns - cur->last_used_ns > idle_ns;
    } else {
      idle = now - it->second.installed > std::chrono::milliseconds(config_.flow_idle_ms);
    }
    if (idle) {
      counters_.flows_removed_idle.fetch_add(1, std::memory_order_relaxed);
      auto next = std::next(it);
      removeFlowLocked(it);
      it = next;
    } else {
      ++it;
    }
  }
}

void PacketProcessor::rerunParked(bool expire_only) {
  if (parked_.empty()) return;
  std::deque<Parked> waiting;
  waiting.swap(parked_);
  const Clock::time_point now = Clock::now();
  for (Parked& p : waiting) {
    if (now >= p.deadline) {
      counters_.parked_timeouts.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (expire_only) {
      parked_.push_back(std::move(p));
      continue;
    }
    counters_.parked_rerun.fetch_add(1, std::memory_order_relaxed);
    uint32_t l3_len = p.frame.size() > 14 ? static_cast<uint32_t>(p.frame.size() - 14) : 0;
    processFrame(p.ifindex, p.frame, l3_len, true, true, p.deadline);
  }
  parked_count_.store(parked_.size(), std::memory_order_relaxed);
}

std::string PacketProcessor::flowsText() const {
  std::vector<std::pair<FlowKey, InstalledFlow>> copy;
  std::vector<datapath::MaskKey> masks;
  {
    std::lock_guard<std::mutex> lock(flows_mu_);
    for (const auto& [k, f] : flows_) copy.emplace_back(k, f);
    for (uint32_t i = 0; i < LOOM_MAX_MASKS; ++i)
      masks.push_back(masks_.mask(static_cast<uint8_t>(i)));
  }
  std::ostringstream o;
  for (const auto& [k, f] : copy) {
    StatusOr<FlowValue> cur = dp_.readFlow(k);
    const FlowValue& v = cur.ok() ? *cur : f.value;
    o << "cookie=" << f.value.cookie << " mask=" << static_cast<int>(k.mask_id) << " "
      << datapath::keyToString(k, &masks[k.mask_id]) << " -> " << datapath::valueToString(v)
      << (f.adopted ? " (adopted)" : "") << "\n";
  }
  o << copy.size() << " flows\n";
  return o.str();
}

size_t PacketProcessor::flowCount() const {
  std::lock_guard<std::mutex> lock(flows_mu_);
  return flows_.size();
}

uint32_t PacketProcessor::maskCount() const {
  std::lock_guard<std::mutex> lock(flows_mu_);
  return masks_.activeCount();
}

}  // namespace loom::agent
