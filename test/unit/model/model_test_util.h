#pragma once
// Helpers for the model tests: numbered ids, a terse topology builder, and problem queries.

#include <gtest/gtest.h>

#include <cstdio>
#include <initializer_list>
#include <string>
#include <vector>

#include "loom/v1/topology.pb.h"
#include "model/json.h"
#include "model/snapshot.h"

namespace loom::model::testing {

// "00000000-0000-4000-8000-000000000042" for n = 42: each test numbers its own objects.
inline std::string id(int n) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012d", n);
  return buf;
}
inline Uuid uuid(int n) { return Uuid::parse(id(n)).value(); }

inline IpAddr ip(const char* text) { return IpAddr::parse(text).value(); }
inline IpPrefix prefix(const char* text) { return IpPrefix::parse(text).value(); }
inline MacAddr mac(const char* text) { return MacAddr::parse(text).value(); }

struct TopologyBuilder {
  v1::Topology t;

  v1::Bridge& bridge(int n, const std::string& name = "") {
    v1::Bridge& b = *t.add_bridges();
    b.set_id(id(n));
    b.set_name(name);
    return b;
  }
  v1::Router& router(int n, const std::string& name = "") {
    v1::Router& r = *t.add_routers();
    r.set_id(id(n));
    r.set_name(name);
    return r;
  }
  v1::Port& bridgePort(int n, int bridge_n) {
    v1::Port& p = *t.add_ports();
    p.set_id(id(n));
    p.set_bridge_id(id(bridge_n));
    return p;
  }
  v1::Port& routerPort(int n, int router_n, const std::string& port_mac,
                       std::initializer_list<const char*> addresses = {}) {
    v1::Port& p = *t.add_ports();
    p.set_id(id(n));
    p.set_router_id(id(router_n));
    p.set_mac(port_mac);
    for (const char* a : addresses) p.add_addresses(a);
    return p;
  }
  // Links two existing ports both ways.
  void link(int a, int b) {
    for (v1::Port& p : *t.mutable_ports()) {
      if (p.id() == id(a)) p.set_peer_id(id(b));
      if (p.id() == id(b)) p.set_peer_id(id(a));
    }
  }
  v1::Route& route(int n, int router_n, const std::string& dst, int port_n = 0,
                   const std::string& gateway = "") {
    v1::Route& r = *t.add_routes();
    r.set_id(id(n));
    r.set_router_id(id(router_n));
    r.set_dst_prefix(dst);
    if (port_n != 0) {
      r.set_next_hop(v1::Route::PORT);
      r.set_next_hop_port_id(id(port_n));
    }
    r.set_next_hop_gateway(gateway);
    return r;
  }
  v1::Chain& chain(int n, std::initializer_list<int> rules = {}) {
    v1::Chain& c = *t.add_chains();
    c.set_id(id(n));
    for (int r : rules) c.add_rule_ids(id(r));
    return c;
  }
  v1::Rule& rule(int n, int chain_n, v1::Rule::Action action = v1::Rule::ACCEPT) {
    v1::Rule& r = *t.add_rules();
    r.set_id(id(n));
    if (chain_n != 0) r.set_chain_id(id(chain_n));
    r.set_action(action);
    return r;
  }
  SnapshotPtr build(uint64_t version = 1) const { return buildSnapshot(t, version); }
};

inline std::string problemsText(const TopologySnapshot& s) {
  std::string out;
  for (const Problem& p : s.problems()) {
    out += "  [";
    out += problemKindName(p.kind);
    out += "] ";
    out += p.toString();
    out += "\n";
  }
  return out.empty() ? "  (no problems)\n" : out;
}

// Number of problems of `kind` on object `object_n` (of `object_kind`) naming `field`.
inline int countProblems(const TopologySnapshot& s, Problem::Kind kind, ObjectKind object_kind,
                         const Uuid& object_id, const std::string& field) {
  int n = 0;
  for (const Problem& p : s.problems()) {
    if (p.kind == kind && p.object_kind == object_kind && p.object_id == object_id &&
        p.field == field) {
      ++n;
    }
  }
  return n;
}

#define EXPECT_PROBLEM(snap, kind, object_kind, object_id, field)                              \
  EXPECT_EQ(::loom::model::testing::countProblems(*(snap), ::loom::model::Problem::Kind::kind, \
                                                  ::loom::model::ObjectKind::object_kind,      \
                                                  (object_id), (field)),                       \
            1)                                                                                 \
      << ::loom::model::testing::problemsText(*(snap))

#define EXPECT_NO_PROBLEMS(snap) \
  EXPECT_TRUE((snap)->problems().empty()) << ::loom::model::testing::problemsText(*(snap))

}  // namespace loom::model::testing
