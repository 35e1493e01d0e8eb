// loomctl commands beyond the per-kind verbs: port bindings, host and port status, wait-sync
// and the live trace.
#include <algorithm>

#include "cli/context.h"
#include "cli/table.h"

namespace loom::cli {
namespace {

using nlohmann::json;

std::string yesNo(const json& item, const char* field) {
  auto it = item.find(field);
  return (it != item.end() && it->is_boolean() && it->get<bool>()) ? "yes" : "no";
}

std::string number(const json& item, const char* field) {
  auto it = item.find(field);
  if (it == item.end() || it->is_null()) return "0";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

int cmdBinding(Context& ctx, const std::vector<std::string>& args) {
  const std::string line =
      "loomctl binding set PORT --host HOST --interface IFNAME | clear PORT | list [--host HOST]";
  if (args.empty()) return ctx.usage("missing binding verb", line);
  const std::string& verb = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  const KindInfo& ports = kindInfo(store::Kind::Port);
  const KindInfo& hosts = kindInfo(store::Kind::Host);
  if (verb == "set") {
    auto flags = parseFlags(rest, {{"host"}, {"interface"}}, nullptr);
    if (!flags.ok()) return ctx.usage(flags.status().message(), line);
    if (flags->positional.size() != 1 || !flags->has("host") || !flags->has("interface")) {
      return ctx.usage("binding set needs PORT, --host and --interface", line);
    }
    std::string port_id, host_id;
    if (int rc = resolveId(ctx, ports, flags->positional[0], port_id); rc != kExitOk) return rc;
    if (int rc = resolveId(ctx, hosts, flags->value("host"), host_id); rc != kExitOk) return rc;
    Reply r =
        ctx.api().put(objectPath(ports, port_id) + "/binding",
                      json{{"host_id", host_id}, {"interface_name", flags->value("interface")}});
    if (!r.ok()) return ctx.fail(r, Operation::Update);
    if (ctx.json()) {
      ctx.printJson(r.body);
    } else {
      ctx.out() << "bound port " << port_id << " to host " << host_id << " interface "
                << flags->value("interface") << " at revision " << r.revision() << "\n";
    }
    return kExitOk;
  }
  if (verb == "clear" || verb == "delete") {
    auto flags = parseFlags(rest, {}, nullptr);
    if (!flags.ok()) return ctx.usage(flags.status().message(), line);
    if (flags->positional.size() != 1) return ctx.usage("binding clear needs PORT", line);
    std::string port_id;
    if (int rc = resolveId(ctx, ports, flags->positional[0], port_id); rc != kExitOk) return rc;
    Reply r = ctx.api().del(objectPath(ports, port_id) + "/binding");
    if (!r.ok()) return ctx.fail(r, Operation::Update);
    if (ctx.json()) {
      ctx.printJson(r.body);
    } else {
      ctx.out() << "cleared the binding of port " << port_id << " at revision " << r.revision()
                << "\n";
    }
    return kExitOk;
  }
  if (verb == "list" || verb == "ls") {
    auto flags = parseFlags(rest, {{"host"}}, nullptr);
    if (!flags.ok()) return ctx.usage(flags.status().message(), line);
    if (!flags->positional.empty()) return ctx.usage("binding list takes no arguments", line);
    std::string host_id;
    if (flags->has("host")) {
      if (int rc = resolveId(ctx, hosts, flags->value("host"), host_id); rc != kExitOk) return rc;
    }
    Reply r = ctx.api().get("/api/v1/bindings" + queryString({{"host_id", host_id}}));
    if (!r.ok()) return ctx.fail(r, Operation::Read);
    if (ctx.json()) {
      ctx.printJson(r.body);
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& b : r.body.value("items", json::array())) {
      rows.push_back({jsonString(b, "port_id"), jsonString(b, "host_id"),
                      jsonString(b, "interface_name"), yesNo(b, "active")});
    }
    ctx.out() << renderTable({"PORT", "HOST", "INTERFACE", "ACTIVE"}, rows);
    return kExitOk;
  }
  return ctx.usage("unknown binding verb '" + verb + "'", line);
}

int cmdHostStatus(Context& ctx, const std::vector<std::string>& args) {
  auto flags = parseFlags(args, {}, nullptr);
  if (!flags.ok()) return ctx.usage(flags.status().message());
  if (flags->positional.size() > 1)
    return ctx.usage("too many arguments", "loomctl host status [HOST]");
  json items = json::array();
  Reply r;
  if (flags->positional.empty()) {
    r = ctx.api().get("/api/v1/host_status");
    if (!r.ok()) return ctx.fail(r, Operation::Read);
    items = r.body.value("items", json::array());
  } else {
    std::string id;
    const KindInfo& hosts = kindInfo(store::Kind::Host);
    if (int rc = resolveId(ctx, hosts, flags->positional[0], id); rc != kExitOk) return rc;
    r = ctx.api().get(objectPath(hosts, id) + "/status");
    if (!r.ok()) return ctx.fail(r, Operation::Read);
    items.push_back(r.body.contains("item") ? r.body["item"] : r.body);
  }
  if (ctx.json()) {
    ctx.printJson(r.body);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& h : items) {
    rows.push_back({jsonString(h, "host_id"), jsonString(h, "name"), yesNo(h, "alive"),
                    number(h, "applied_revision"), jsonString(h, "tunnel_address")});
  }
  ctx.out() << renderTable({"HOST", "NAME", "ALIVE", "APPLIED_REVISION", "TUNNEL_ADDRESS"}, rows);
  return kExitOk;
}

int cmdPortStatus(Context& ctx, const std::vector<std::string>& args) {
  auto flags = parseFlags(args, {}, nullptr);
  if (!flags.ok()) return ctx.usage(flags.status().message());
  if (flags->positional.size() != 1)
    return ctx.usage("port status needs PORT", "loomctl port status PORT");
  const KindInfo& ports = kindInfo(store::Kind::Port);
  std::string id;
  if (int rc = resolveId(ctx, ports, flags->positional[0], id); rc != kExitOk) return rc;
  Reply r = ctx.api().get(objectPath(ports, id) + "/status");
  if (!r.ok()) return ctx.fail(r, Operation::Read);
  if (ctx.json()) {
    ctx.printJson(r.body);
  } else {
    ctx.out() << renderObject(r.body);
  }
  return kExitOk;
}

int cmdWaitSync(Context& ctx, const std::vector<std::string>& args) {
  const std::string line = "loomctl wait-sync [--revision R] [--timeout 10s]";
  auto flags = parseFlags(args, {{"revision"}, {"timeout"}}, nullptr);
  if (!flags.ok()) return ctx.usage(flags.status().message(), line);
  if (!flags->positional.empty()) return ctx.usage("wait-sync takes no arguments", line);
  int64_t revision = 0;
  std::string rev = flags->value("revision", "0");
  char* end = nullptr;
  revision = std::strtoll(rev.c_str(), &end, 10);
  if (rev.empty() || *end != '\0' || revision < 0) {
    return ctx.usage("--revision: '" + rev + "' is not a revision", line);
  }
  auto timeout = parseDurationMs(flags->value("timeout", "10s"));
  if (!timeout.ok()) return ctx.usage("--timeout: " + timeout.status().message(), line);
  int64_t ms = std::min<int64_t>(*timeout, 60000);
  Reply r = ctx.api(static_cast<int>(ms) + 5000)
                .post("/api/v1/sync", json{{"revision", revision}, {"timeout_ms", ms}});
  if (!r.ok()) {
    int rc = ctx.fail(r, Operation::Other);
    if (r.body.is_object() && r.body.contains("lagging")) {
      for (const auto& h : r.body["lagging"]) {
        ctx.err() << "  lagging: host " << jsonString(h, "host_id") << " at revision "
                  << number(h, "applied_revision") << "\n";
      }
    }
    return rc;
  }
  if (ctx.json()) {
    ctx.printJson(r.body);
    return kExitOk;
  }
  json hosts = r.body.value("hosts", json::array());
  ctx.out() << "in sync at revision " << r.revision() << " (" << hosts.size() << " live host"
            << (hosts.size() == 1 ? "" : "s") << ")\n";
  return kExitOk;
}

int cmdTrace(Context& ctx, const std::vector<std::string>& args) {
  const std::string line =
      "loomctl trace PORT 'SPEC' ['SPEC'...] [--from PORT 'SPEC'...]... [--arp ROUTER,IP,MAC]... "
      "[--no-follow]";
  // Hand-parsed: --from changes the ingress port of the specs after it, so order matters.
  std::string first_port, port;
  json packets = json::array();
  json arp = json::array();
  bool follow = true;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--no-follow") {
      follow = false;
    } else if (a == "--arp" || a == "--from") {
      if (i + 1 >= args.size()) return ctx.usage(a + " needs a value", line);
      if (a == "--arp") {
        arp.push_back(args[++i]);
      } else {
        port = args[++i];
      }
    } else if (a.rfind("--arp=", 0) == 0) {
      arp.push_back(a.substr(6));
    } else if (a.rfind("--from=", 0) == 0) {
      port = a.substr(7);
    } else if (a.rfind("--", 0) == 0) {
      return ctx.usage("unknown flag " + a + " (trace takes --from, --arp, --no-follow)", line);
    } else if (first_port.empty() && port.empty()) {
      first_port = port = a;
    } else if (port == first_port) {
      packets.push_back(a);
    } else {
      packets.push_back({{"port", port}, {"spec", a}});
    }
  }
  if (first_port.empty() || packets.empty()) {
    return ctx.usage("trace needs a PORT and a packet SPEC", line);
  }
  json body = {{"port", first_port}, {"packets", packets}, {"follow", follow}};
  if (!arp.empty()) body["arp"] = arp;
  Reply r = ctx.api().post("/api/v1/trace", body);
  if (!r.ok()) return ctx.fail(r, Operation::Other);
  if (ctx.json()) {
    ctx.printJson(r.body);
  } else {
    std::string text = jsonString(r.body, "text");
    ctx.out() << text << (text.empty() || text.back() == '\n' ? "" : "\n");
  }
  return kExitOk;
}

}  // namespace loom::cli
