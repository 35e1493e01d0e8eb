// Routes (explicit and implicit), the routers' route tables, and the bridges' static MAC and
// IP->MAC tables.
#include "model/snapshot_builder.h"

namespace loom::model {

using packet::IpFamily;

namespace {

IpPrefix anyOf(IpFamily family) {
  const uint8_t zeros[16] = {};
  return IpPrefix{family == IpFamily::V6 ? IpAddr::v6Bytes(zeros) : IpAddr::v4(0), 0};
}

IpPrefix normalized(const IpPrefix& p) { return IpPrefix{p.network(), p.len}; }

const char* familyName(IpFamily f) { return f == IpFamily::V6 ? "IPv6" : "IPv4"; }

}  // namespace

void SnapshotBuilder::buildExplicitRoutes() {
  for (const v1::Route& in : in_.routes()) {
    FieldChecker fc(ObjectKind::Route);
    Route r;
    r.id = fc.id(in.id());
    Uuid router_id = fc.requiredUuid("router_id", in.router_id());
    if (in.dst_prefix().empty()) {
      fc.fail("dst_prefix", "required");
    } else if (auto p = fc.prefix("dst_prefix", in.dst_prefix())) {
      r.dst = normalized(*p);
    }
    bool src_parsed = false;
    if (!in.src_prefix().empty()) {
      if (auto p = fc.prefix("src_prefix", in.src_prefix())) {
        r.src = normalized(*p);
        src_parsed = true;
      }
    }
    r.next_hop_port.id = fc.uuid("next_hop_port_id", in.next_hop_port_id());
    switch (in.next_hop()) {
      case v1::Route::NEXT_HOP_UNSPECIFIED:
      case v1::Route::PORT:
        r.next_hop = NextHopType::Port;
        if (in.next_hop_port_id().empty()) {
          fc.fail("next_hop_port_id", "required when next_hop is PORT or unspecified");
        }
        break;
      case v1::Route::BLACKHOLE: r.next_hop = NextHopType::Blackhole; break;
      case v1::Route::REJECT: r.next_hop = NextHopType::Reject; break;
      case v1::Route::LOCAL: r.next_hop = NextHopType::Local; break;
      default: fc.fail("next_hop", "unknown next hop type " + std::to_string(in.next_hop())); break;
    }
    if (!in.next_hop_gateway().empty()) {
      if (auto a = fc.addr("next_hop_gateway", in.next_hop_gateway())) {
        r.has_gateway = true;
        r.gateway = *a;
      }
    }
    r.weight = in.weight();
    const IpFamily family = r.dst.addr.family();  // None when dst_prefix did not parse.
    if (family != IpFamily::None) {
      if (in.src_prefix().empty()) {
        r.src = anyOf(family);
      } else if (src_parsed && r.src.addr.family() != family) {
        fc.fail("src_prefix",
                std::string("family differs from dst_prefix's (") + familyName(family) + ")");
      }
      if (r.has_gateway && r.gateway.family() != family) {
        fc.fail("next_hop_gateway",
                std::string("family differs from dst_prefix's (") + familyName(family) + ")");
      }
    }
    if (!fc.finish(s_.problems_)) continue;
    if (!claimId(route_index_, ObjectKind::Route, r.id, route_index_.size())) continue;

    Ref router = resolve(s_.router_index_, ObjectKind::Router, router_id, ObjectKind::Route, r.id,
                         "router_id");
    if (!router.isResolved()) continue;
    r.router = router.index;
    if (r.next_hop_port.isSet()) {
      r.next_hop_port = resolve(s_.port_index_, ObjectKind::Port, r.next_hop_port.id,
                                ObjectKind::Route, r.id, "next_hop_port_id");
      if (r.next_hop_port.isResolved()) {
        const Port& p = s_.ports_[r.next_hop_port.index];
        if (p.device_kind != DeviceKind::Router || p.device.index != r.router) {
          report(Problem::Kind::Inconsistent, ObjectKind::Route, r.id, "next_hop_port_id",
                 "port " + p.id.toString() + " is not a port of router " + router_id.toString());
          r.next_hop_port.index = kNoIndex;
        }
      }
    }
    s_.routers_[r.router].routes.push_back(std::move(r));
  }
}

void SnapshotBuilder::buildImplicitRoutes() {
  for (size_t ri = 0; ri < s_.routers_.size(); ++ri) {
    Router& router = s_.routers_[ri];
    for (Index pi : router.ports) {
      const Port& port = s_.ports_[pi];
      for (const IpPrefix& a : port.addresses) {
        const int full = a.addr.bitLength();
        const IpPrefix any = anyOf(a.addr.family());
        if (a.len < full) {
          Route connected;
          connected.dst = normalized(a);
          connected.id = Uuid::derive(port.id, "connected:" + connected.dst.toString());
          connected.router = static_cast<Index>(ri);
          connected.src = any;
          connected.next_hop = NextHopType::Port;
          connected.next_hop_port = Ref{port.id, pi};
          connected.implicit = true;
          router.routes.push_back(std::move(connected));
        }
        Route local;
        local.dst = IpPrefix::host(a.addr);
        local.id = Uuid::derive(port.id, "local:" + local.dst.toString());
        local.router = static_cast<Index>(ri);
        local.src = any;
        local.next_hop = NextHopType::Local;
        local.next_hop_port = Ref{port.id, pi};
        local.implicit = true;
        router.routes.push_back(std::move(local));
      }
    }
  }
}

void SnapshotBuilder::finalizeRouteTables() {
  // Router::routes no longer grows: the tables may point into it.
  for (Router& router : s_.routers_) {
    for (const Route& r : router.routes) {
      (r.dst.addr.isV6() ? router.routes_v6 : router.routes_v4).add(&r);
    }
    router.routes_v4.finalize();
    router.routes_v6.finalize();
  }
}

void SnapshotBuilder::buildStaticTables() {
  for (Bridge& bridge : s_.bridges_) {
    // Maps `mac` and the addresses to bridge port `pi`; `source` is the port that configures
    // them (pi itself, or its router peer) and `field` the field named in a conflict.
    auto seed = [&](Index pi, const Port& source, const char* field) {
      const Port& port = s_.ports_[pi];
      auto [it, inserted] = bridge.static_macs.emplace(source.mac.toU64(), pi);
      if (!inserted && it->second != pi) {
        report(Problem::Kind::Inconsistent, ObjectKind::Port, port.id, field,
               "MAC " + source.mac.toString() + " is already that of port " +
                   s_.ports_[it->second].id.toString() + " on bridge " + bridge.id.toString());
        return;
      }
      for (const IpPrefix& a : source.addresses) {
        auto [ip_it, ip_inserted] = bridge.static_ip_macs.emplace(a.addr, source.mac);
        if (!ip_inserted && ip_it->second != source.mac) {
          report(Problem::Kind::Inconsistent, ObjectKind::Port, port.id, field,
                 "address " + a.addr.toString() + " is already mapped to MAC " +
                     ip_it->second.toString() + " on bridge " + bridge.id.toString());
        }
      }
    };
    for (Index pi : bridge.ports) {
      const Port& port = s_.ports_[pi];
      if (port.has_mac) seed(pi, port, "mac");
      if (port.peer.isResolved() && !port.link_broken) {
        const Port& peer = s_.ports_[port.peer.index];
        if (peer.device_kind == DeviceKind::Router && peer.has_mac) seed(pi, peer, "peer_id");
      }
    }
  }
}

}  // namespace loom::model
