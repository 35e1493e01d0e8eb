#pragma once
// In-memory fakes of the agent's fast path and packet sender: the BPF maps as C++ containers,
// with the same tuple-space lookup as the BPF program, upcalls queued by the test.

#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "datapath/datapath.h"
#include "datapath/flow_key.h"
#include "datapath/packet_io.h"
#include "packet/parser.h"

namespace loom::agent::testing {

class FakeDatapath final : public datapath::Datapath {
 public:
  // Thread-safe: the worker pool's dispatcher and workers call it concurrently.
  using Bytes = std::vector<uint8_t>;
  static Bytes bytes(const datapath::FlowKey& k) {
    const auto* p = reinterpret_cast<const uint8_t*>(&k);
    return Bytes(p, p + sizeof k);
  }

  Status setConfig(const loom_config& c) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    config_ = c;
    return okStatus();
  }
  StatusOr<loom_config> config() const override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return config_;
  }
  Status setMask(uint32_t slot, const datapath::MaskKey& m) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (slot >= LOOM_MAX_MASKS) return invalidArgument("slot");
    masks_[slot] = m;
    return okStatus();
  }
  StatusOr<datapath::MaskKey> mask(uint32_t slot) const override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (slot >= LOOM_MAX_MASKS) return invalidArgument("slot");
    return masks_[slot];
  }
  Status attachPort(const std::string&, uint32_t ifindex, uint32_t key) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    ports_[ifindex] = loom_port{ifindex, key, LOOM_PORT_ACTIVE, 0};
    return okStatus();
  }
  Status detachPort(const std::string&, uint32_t ifindex, uint32_t) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    ports_.erase(ifindex);
    return okStatus();
  }
  Status attachTunnel(const std::string&, uint32_t) override { return okStatus(); }
  std::vector<loom_port> ports() const override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    std::vector<loom_port> out;
    for (const auto& [i, p] : ports_) out.push_back(p);
    return out;
  }
  Status installFlow(const datapath::FlowKey& key, const datapath::FlowValue& v) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    flows_[bytes(key)] = {key, v};
    return okStatus();
  }
  Status removeFlow(const datapath::FlowKey& key) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return flows_.erase(bytes(key)) ? okStatus() : notFound("flow");
  }
  StatusOr<datapath::FlowValue> readFlow(const datapath::FlowKey& key) const override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto it = flows_.find(bytes(key));
    if (it == flows_.end()) return notFound("flow");
    return it->second.second;
  }
  void dumpFlows(const std::function<void(const datapath::FlowKey&, const datapath::FlowValue&)>&
                     fn) const override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    for (const auto& [b, kv] : flows_) fn(kv.first, kv.second);
  }
  datapath::DatapathCounters counters() const override { return {}; }
  StatusOr<int> pollUpcalls(int, int max_records,
                            const std::function<void(const datapath::Upcall&)>& fn) override {
    int n = 0;
    while (n < max_records) {
      Bytes rec;
      {
        std::lock_guard<std::recursive_mutex> lock(mu_);
        if (upcalls_.empty()) break;
        rec = std::move(upcalls_.front());
        upcalls_.pop_front();
      }
      datapath::Upcall u;
      u.header = reinterpret_cast<const loom_upcall*>(rec.data());
      u.data = std::span<const uint8_t>(rec.data() + sizeof(loom_upcall), u.header->cap_len);
      fn(u);
      ++n;
    }
    return n;
  }

  // Test side.
  void upcall(uint32_t ifindex, const Bytes& frame, uint8_t reason = LOOM_UPCALL_MISS) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Bytes rec(sizeof(loom_upcall) + frame.size());
    loom_upcall h{};
    h.ifindex = ifindex;
    h.len = static_cast<uint32_t>(frame.size());
    h.cap_len = static_cast<uint16_t>(frame.size());
    h.reason = reason;
    std::memcpy(rec.data(), &h, sizeof h);
    std::memcpy(rec.data() + sizeof h, frame.data(), frame.size());
    upcalls_.push_back(std::move(rec));
  }
  // What the BPF program would find for this frame entering `ifindex`: the same tuple-space
  // search over the installed masks. Null on a miss.
  const datapath::FlowValue* lookup(uint32_t ifindex, const Bytes& frame) const {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    packet::ParsedPacket p = packet::parsePacket(frame);
    datapath::FlowKey full = datapath::keyFromFields(ifindex, p.fields);
    for (uint32_t i = 0; i < config_.n_masks; ++i) {
      auto it = flows_.find(bytes(datapath::applyMask(full, masks_[i], static_cast<uint8_t>(i))));
      if (it != flows_.end()) return &it->second.second;
    }
    return nullptr;
  }
  size_t flowCount() const {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return flows_.size();
  }
  std::vector<datapath::FlowValue> values() const {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    std::vector<datapath::FlowValue> out;
    for (const auto& [b, kv] : flows_) out.push_back(kv.second);
    return out;
  }
  size_t pendingUpcalls() const {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return upcalls_.size();
  }

 private:
  mutable std::recursive_mutex mu_;
  loom_config config_{};
  datapath::MaskKey masks_[LOOM_MAX_MASKS] = {};
  std::map<uint32_t, loom_port> ports_;
  std::map<Bytes, std::pair<datapath::FlowKey, datapath::FlowValue>> flows_;
  std::deque<Bytes> upcalls_;
};

struct Sent {
  bool tunnel = false;
  uint32_t ifindex = 0;
  uint32_t remote = 0;
  uint32_t vni = 0;
  std::vector<uint8_t> frame;
};

class FakeTx final : public datapath::PacketTx {
 public:
  Status sendToInterface(uint32_t ifindex, std::span<const uint8_t> frame) override {
    sent.push_back(Sent{false, ifindex, 0, 0, {frame.begin(), frame.end()}});
    return okStatus();
  }
  Status sendVxlan(uint32_t remote, uint32_t vni, std::span<const uint8_t> frame,
                   uint16_t) override {
    sent.push_back(Sent{true, 0, remote, vni, {frame.begin(), frame.end()}});
    return okStatus();
  }
  std::vector<Sent> sent;
};

}  // namespace loom::agent::testing
