// loomctl's entry point, the per-kind verbs (create, list, show, update, delete) and the shared
// plumbing of context.h.
#include "cli/loomctl.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "base/uuid.h"
#include "cli/context.h"
#include "cli/table.h"

namespace loom::cli {
namespace {

using nlohmann::json;

constexpr const char* kUsage =
    R"(usage: loomctl [--api URL] [--token T | --token-file F] [-o table|json]
               [--timeout-ms N] COMMAND ...

resources: bridge router port route chain rule port-group ip-addr-group host tunnel-zone
  loomctl RESOURCE create [--FIELD VALUE]... [--json '{...}' | -f FILE] [--position N (rules)]
  loomctl RESOURCE list [--tenant-id T] [--parent-id ID | --bridge-id/--router-id/--chain-id ID]
  loomctl RESOURCE show ID|NAME
  loomctl RESOURCE update ID|NAME [--FIELD VALUE]... [--json '{...}' | -f FILE] [--unset FIELD]
  loomctl RESOURCE delete ID|NAME [--cascade]
  field flags follow the schema: --name x --tenant-id t --addresses a,b --admin-state-up=false
  --next-hop PORT --action ACCEPT --condition.nw-src 10.0.0.0/24 --condition.tp-dst.start 22

other commands:
  loomctl binding set PORT --host HOST --interface IFNAME | binding clear PORT
  loomctl binding list [--host HOST]
  loomctl host status [HOST]          loomctl port status PORT
  loomctl wait-sync [--revision R] [--timeout 10s]
  loomctl trace PORT 'SPEC' ['SPEC'...] [--from PORT 'SPEC'...] [--arp ROUTER,IP,MAC]...
                [--no-follow]
  loomctl export --tenant T [--include-bindings] > net.json
  loomctl import FILE [--tenant T] [--keep-ids] [--dry-run]

defaults: --api $LOOM_API or http://127.0.0.1:8080, --token $LOOM_TOKEN (or $LOOM_TOKEN_FILE)
exit codes: 0 ok, 1 API error, 2 usage error, 3 loom-api unreachable
)";

std::string itemName(const json& item) {
  std::string name = jsonString(item, "name");
  return name.empty() ? "" : " (" + name + ")";
}

json unwrapItem(const Reply& r) {
  if (r.body.is_object() && r.body.contains("item")) return r.body["item"];
  return r.body;
}

int cmdCreate(Context& ctx, const KindInfo& kind, const std::vector<std::string>& args) {
  std::vector<OptionSpec> opts = {{"json"}, {"file"}};
  if (kind.kind == store::Kind::Rule) opts.push_back({"position"});
  auto flags = parseFlags(args, opts, kind.descriptor);
  if (!flags.ok()) return ctx.usage(flags.status().message());
  if (!flags->positional.empty()) {
    return ctx.usage("unexpected argument '" + flags->positional[0] + "'",
                     "loomctl " + std::string(kind.name) + " create [--FIELD VALUE]...");
  }
  json body = json::object();
  if (int rc = readBody(ctx, *flags, body); rc != kExitOk) return rc;
  if (int rc = resolveReferences(ctx, flags->fields); rc != kExitOk) return rc;
  body.merge_patch(flags->fields);
  std::string path = collectionPath(kind);
  if (flags->has("position")) path += queryString({{"position", flags->value("position")}});
  Reply r = ctx.api().post(path, body);
  if (!r.ok()) return ctx.fail(r, Operation::Create);
  if (ctx.json()) {
    ctx.printJson(r.body);
  } else {
    json item = unwrapItem(r);
    ctx.out() << "created " << kind.name << " " << jsonString(item, "id") << itemName(item)
              << " at revision " << r.revision() << "\n";
  }
  return kExitOk;
}

int cmdList(Context& ctx, const KindInfo& kind, const std::vector<std::string>& args) {
  std::vector<OptionSpec> opts = {{"tenant-id"}, {"tenant"}, {"parent-id"}, {"parent"}};
  for (auto f : kind.parent_fields) {
    std::string n(f);
    std::replace(n.begin(), n.end(), '_', '-');
    opts.push_back({n});
  }
  auto flags = parseFlags(args, opts, nullptr);
  if (!flags.ok()) return ctx.usage(flags.status().message());
  if (!flags->positional.empty()) {
    return ctx.usage(
        "unexpected argument '" + flags->positional[0] + "'",
        "loomctl " + std::string(kind.name) + " list [--tenant-id T] [--parent-id ID]");
  }
  std::string tenant = flags->value("tenant-id", flags->value("tenant"));
  std::string parent = flags->value("parent-id", flags->value("parent"));
  for (auto f : kind.parent_fields) {
    std::string n(f);
    std::replace(n.begin(), n.end(), '_', '-');
    if (flags->has(n)) parent = flags->value(n);
  }
  if (!parent.empty() && !Uuid::parse(parent)) {
    // A parent by name: bridge/router for ports, router for routes, chain for rules.
    std::vector<std::string> matches;
    for (auto f : kind.parent_fields) {
      const KindInfo* pk = findKind(f.substr(0, f.size() - 3));
      if (pk == nullptr) continue;
      if (int rc = lookupByName(ctx, *pk, parent, matches); rc != kExitOk) return rc;
    }
    if (matches.size() != 1) {
      return ctx.error("parent '" + parent + "' names " + std::to_string(matches.size()) +
                       " objects; use an id");
    }
    parent = matches[0];
  }
  Reply r = ctx.api().listAll(collectionPath(kind), {{"tenant_id", tenant}, {"parent_id", parent}});
  if (!r.ok()) return ctx.fail(r, Operation::Read);
  if (ctx.json()) {
    ctx.printJson(r.body);
  } else {
    ctx.out() << renderItems(kind, r.body["items"]);
  }
  return kExitOk;
}

int cmdShow(Context& ctx, const KindInfo& kind, const std::vector<std::string>& args) {
  auto flags = parseFlags(args, {}, nullptr);
  if (!flags.ok()) return ctx.usage(flags.status().message());
  if (flags->positional.size() != 1) {
    return ctx.usage("show needs one ID", "loomctl " + std::string(kind.name) + " show ID|NAME");
  }
  std::string id;
  if (int rc = resolveId(ctx, kind, flags->positional[0], id); rc != kExitOk) return rc;
  Reply r = ctx.api().get(objectPath(kind, id));
  if (!r.ok()) return ctx.fail(r, Operation::Read);
  if (ctx.json()) {
    ctx.printJson(r.body);
    return kExitOk;
  }
  std::vector<std::pair<std::string, std::string>> extra;
  if (r.body.is_object() && r.body.contains("mod_revision")) {
    extra.emplace_back("mod_revision", r.body["mod_revision"].dump());
  }
  ctx.out() << renderObject(unwrapItem(r), extra);
  return kExitOk;
}

// Removes "a.b.c" from `j`; false when absent.
bool unsetPath(json& j, const std::string& dotted) {
  std::string path = dotted;
  std::replace(path.begin(), path.end(), '-', '_');
  json* node = &j;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return false;
    if (dot == std::string::npos) {
      node->erase(key);
      return true;
    }
    node = &(*node)[key];
    start = dot + 1;
  }
}

int cmdUpdate(Context& ctx, const KindInfo& kind, const std::vector<std::string>& args) {
  auto flags = parseFlags(args, {{"json"}, {"file"}, {"unset", true, true}}, kind.descriptor);
  if (!flags.ok()) return ctx.usage(flags.status().message());
  std::string line = "loomctl " + std::string(kind.name) + " update ID|NAME [--FIELD VALUE]...";
  if (flags->positional.size() != 1) return ctx.usage("update needs one ID", line);
  json patch = json::object();
  if (int rc = readBody(ctx, *flags, patch); rc != kExitOk) return rc;
  if (!patch.is_object()) return ctx.usage("the JSON body must be an object");
  if (int rc = resolveReferences(ctx, flags->fields); rc != kExitOk) return rc;
  patch.merge_patch(flags->fields);
  auto unset = flags->options["unset"];
  if (patch.empty() && unset.empty()) return ctx.usage("nothing to update", line);
  std::string id;
  if (int rc = resolveId(ctx, kind, flags->positional[0], id); rc != kExitOk) return rc;
  Reply got = ctx.api().get(objectPath(kind, id));
  if (!got.ok()) return ctx.fail(got, Operation::Read);
  json item = unwrapItem(got);
  std::string mod_revision;
  if (got.body.is_object() && got.body.contains("mod_revision")) {
    const json& m = got.body["mod_revision"];
    mod_revision = m.is_string() ? m.get<std::string>() : m.dump();
  } else if (auto it = got.headers.find("etag"); it != got.headers.end()) {
    mod_revision = it->second;
    mod_revision.erase(std::remove(mod_revision.begin(), mod_revision.end(), '"'),
                       mod_revision.end());
  }
  // A chain's rule_ids are the server's; send them only to reorder.
  if (kind.kind == store::Kind::Chain && !patch.contains("rule_ids")) item.erase("rule_ids");
  item.merge_patch(patch);
  for (const auto& u : unset) {
    if (!unsetPath(item, u)) return ctx.usage("--unset " + u + ": the field is not set");
  }
  Reply r = ctx.api().put(objectPath(kind, id), item, mod_revision);
  if (!r.ok()) return ctx.fail(r, Operation::Update);
  if (ctx.json()) {
    ctx.printJson(r.body);
  } else {
    json updated = unwrapItem(r);
    ctx.out() << "updated " << kind.name << " " << id << itemName(updated) << " at revision "
              << r.revision() << "\n";
  }
  return kExitOk;
}

std::string refList(const json& refs) {
  std::string out;
  if (!refs.is_array()) return out;
  for (const auto& ref : refs) {
    if (!out.empty()) out += ", ";
    out += jsonString(ref, "kind") + " " + jsonString(ref, "id");
    if (ref.contains("fields")) out += " (" + jsonJoined(ref, "fields") + ")";
  }
  return out;
}

int cmdDelete(Context& ctx, const KindInfo& kind, const std::vector<std::string>& args) {
  auto flags = parseFlags(args, {{"cascade", false}}, nullptr);
  if (!flags.ok()) return ctx.usage(flags.status().message());
  if (flags->positional.size() != 1) {
    return ctx.usage("delete needs one ID",
                     "loomctl " + std::string(kind.name) + " delete ID|NAME [--cascade]");
  }
  std::string id;
  if (int rc = resolveId(ctx, kind, flags->positional[0], id); rc != kExitOk) return rc;
  std::string path = objectPath(kind, id);
  if (flags->has("cascade")) path += "?cascade=true";
  Reply r = ctx.api().del(path);
  if (!r.ok()) {
    std::string detail;
    if (r.status == 409 && r.errorCode() == "FAILED_PRECONDITION") {
      Reply refs = ctx.api().get(objectPath(kind, id) + "/referrers");
      if (refs.ok() && refs.body.is_object() && refs.body.contains("referrers")) {
        std::string list = refList(refs.body["referrers"]);
        if (!list.empty()) detail = "  referenced by: " + list;
      }
    }
    return ctx.fail(r, Operation::Delete, detail);
  }
  if (ctx.json()) {
    ctx.printJson(r.body);
    return kExitOk;
  }
  ctx.out() << "deleted " << kind.name << " " << id << " at revision " << r.revision() << "\n";
  if (r.body.is_object()) {
    json others = json::array();
    for (const auto& d : r.body.value("deleted", json::array())) {
      if (jsonString(d, "id") != id) others.push_back(d);
    }
    if (!others.empty()) ctx.out() << "  also deleted: " << refList(others) << "\n";
    json updated = r.body.value("updated", json::array());
    if (!updated.empty()) ctx.out() << "  updated: " << refList(updated) << "\n";
  }
  return kExitOk;
}

int runKind(Context& ctx, const KindInfo& kind, const std::vector<std::string>& args) {
  if (args.empty()) {
    return ctx.usage("missing verb for " + std::string(kind.name),
                     "loomctl " + std::string(kind.name) + " create|list|show|update|delete ...");
  }
  const std::string& verb = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (verb == "create") return cmdCreate(ctx, kind, rest);
  if (verb == "list" || verb == "ls") return cmdList(ctx, kind, rest);
  if (verb == "show" || verb == "get") return cmdShow(ctx, kind, rest);
  if (verb == "update" || verb == "set") return cmdUpdate(ctx, kind, rest);
  if (verb == "delete" || verb == "rm") return cmdDelete(ctx, kind, rest);
  if (verb == "status" && kind.kind == store::Kind::Host) return cmdHostStatus(ctx, rest);
  if (verb == "status" && kind.kind == store::Kind::Port) return cmdPortStatus(ctx, rest);
  std::vector<std::string> verbs = {"create", "list", "show", "update", "delete"};
  if (kind.kind == store::Kind::Host || kind.kind == store::Kind::Port) verbs.push_back("status");
  auto close = closeMatches(verb, verbs);
  std::string msg = "unknown verb '" + verb + "' for " + std::string(kind.name);
  if (!close.empty()) msg += "; did you mean '" + close[0] + "'?";
  return ctx.usage(msg, "loomctl " + std::string(kind.name) + " create|list|show|update|delete");
}

}  // namespace

ApiClient& Context::api(int min_timeout_ms) {
  int want = std::max(global_.timeout_ms, min_timeout_ms);
  if (api_ == nullptr || want > timeout_ms_) {
    timeout_ms_ = want;
    transport_ = env_.transport(global_.api_url, want);
    api_ = std::make_unique<ApiClient>(*transport_, global_.token);
  }
  return *api_;
}

int Context::fail(const Reply& reply, Operation op, const std::string& detail) {
  err() << formatError(reply, op, global_.api_url, detail) << "\n";
  return exitCodeFor(reply);
}

int Context::usage(const std::string& message, const std::string& usage_line) {
  err() << "error: " << message << "\n";
  if (!usage_line.empty()) err() << "usage: " << usage_line << "\n";
  return kExitUsage;
}

int Context::error(const std::string& message) {
  err() << "error: " << message << "\n";
  return kExitApiError;
}

void Context::printJson(const nlohmann::json& j) { out() << j.dump(2) << "\n"; }

std::string collectionPath(const KindInfo& kind) {
  return "/api/v1/" + std::string(kind.collection);
}

std::string objectPath(const KindInfo& kind, const std::string& id) {
  return collectionPath(kind) + "/" + urlEncode(id);
}

int lookupByName(Context& ctx, const KindInfo& kind, const std::string& name,
                 std::vector<std::string>& matches) {
  Reply r = ctx.api().listAll(collectionPath(kind), {});
  if (!r.ok()) return ctx.fail(r, Operation::Read);
  for (const auto& item : r.body["items"]) {
    if (jsonString(item, "name") == name) matches.push_back(jsonString(item, "id"));
  }
  return kExitOk;
}

int resolveId(Context& ctx, const KindInfo& kind, const std::string& arg, std::string& id) {
  if (Uuid::parse(arg) || kind.descriptor->FindFieldByName("name") == nullptr) {
    id = arg;
    return kExitOk;
  }
  std::vector<std::string> matches;
  if (int rc = lookupByName(ctx, kind, arg, matches); rc != kExitOk) return rc;
  if (matches.empty()) {
    return ctx.error("no " + std::string(kind.name) + " with id or name '" + arg + "'");
  }
  if (matches.size() > 1) {
    std::string ids;
    for (const auto& m : matches) ids += "\n  " + m;
    return ctx.error("the name '" + arg + "' is ambiguous; " + std::to_string(matches.size()) +
                     " " + std::string(kind.collection) + " have it, use an id:" + ids);
  }
  id = matches[0];
  return kExitOk;
}

namespace {

// The kind a reference field names, by the field's name.
const KindInfo* referencedKind(const std::string& field) {
  static const std::map<std::string, store::Kind> kFields = {
      {"bridge_id", store::Kind::Bridge},
      {"router_id", store::Kind::Router},
      {"peer_id", store::Kind::Port},
      {"next_hop_port_id", store::Kind::Port},
      {"in_port_ids", store::Kind::Port},
      {"out_port_ids", store::Kind::Port},
      {"chain_id", store::Kind::Chain},
      {"jump_chain_id", store::Kind::Chain},
      {"inbound_filter_id", store::Kind::Chain},
      {"outbound_filter_id", store::Kind::Chain},
      {"port_group_ids", store::Kind::PortGroup},
      {"in_port_group_id", store::Kind::PortGroup},
      {"out_port_group_id", store::Kind::PortGroup},
      {"ip_addr_group_src_id", store::Kind::IpAddrGroup},
      {"ip_addr_group_dst_id", store::Kind::IpAddrGroup},
      {"host_id", store::Kind::Host},
      {"tunnel_zone_ids", store::Kind::TunnelZone},
  };
  auto it = kFields.find(field);
  return it == kFields.end() ? nullptr : &kindInfo(it->second);
}

}  // namespace

int resolveReferences(Context& ctx, nlohmann::json& fields) {
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (it->is_object()) {
      if (int rc = resolveReferences(ctx, *it); rc != kExitOk) return rc;
      continue;
    }
    const KindInfo* kind = referencedKind(it.key());
    if (kind == nullptr) continue;
    auto resolve = [&](nlohmann::json& v) {
      if (!v.is_string() || v.get<std::string>().empty()) return kExitOk;
      std::string id;
      int rc = resolveId(ctx, *kind, v.get<std::string>(), id);
      if (rc == kExitOk) v = id;
      return rc;
    };
    if (it->is_array()) {
      for (auto& v : *it) {
        if (int rc = resolve(v); rc != kExitOk) return rc;
      }
    } else if (int rc = resolve(*it); rc != kExitOk) {
      return rc;
    }
  }
  return kExitOk;
}

int readBody(Context& ctx, const ParsedFlags& flags, nlohmann::json& body) {
  std::string text;
  if (flags.has("json") && flags.has("file")) return ctx.usage("give --json or -f, not both");
  if (flags.has("json")) {
    text = flags.value("json");
  } else if (flags.has("file")) {
    std::string path = flags.value("file");
    std::stringstream ss;
    if (path == "-") {
      ss << ctx.in().rdbuf();
    } else {
      std::ifstream f(path);
      if (!f) return ctx.usage("cannot read file '" + path + "'");
      ss << f.rdbuf();
    }
    text = ss.str();
  } else {
    return kExitOk;
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return ctx.usage("the body is not a JSON object");
  body = std::move(j);
  return kExitOk;
}

int runLoomctl(std::vector<std::string> args, const Environment& env_in) {
  Environment env = env_in;
  if (env.out == nullptr) env.out = &std::cout;
  if (env.err == nullptr) env.err = &std::cerr;
  if (env.in == nullptr) env.in = &std::cin;
  if (!env.new_id) env.new_id = [] { return Uuid::random().toString(); };
  auto global = extractGlobalOptions(args, env.env);
  if (!global.ok()) {
    *env.err << "error: " << global.status().message() << "\n";
    return kExitUsage;
  }
  if (args.empty() || (global->help && args.size() <= 1) || args[0] == "help") {
    (global->help || (!args.empty() && args[0] == "help") ? *env.out : *env.err) << kUsage;
    return args.empty() && !global->help ? kExitUsage : kExitOk;
  }
  Context ctx(*global, env);
  const std::string& cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (global->help) {
    *env.out << kUsage;
    return kExitOk;
  }
  if (cmd == "binding" || cmd == "bindings") return cmdBinding(ctx, rest);
  if (cmd == "wait-sync" || cmd == "wait_sync") return cmdWaitSync(ctx, rest);
  if (cmd == "trace") return cmdTrace(ctx, rest);
  if (cmd == "export") return cmdExport(ctx, rest);
  if (cmd == "import") return cmdImport(ctx, rest);
  if (const KindInfo* kind = findKind(cmd)) return runKind(ctx, *kind, rest);
  std::vector<std::string> words = {"binding", "wait-sync", "trace", "export", "import"};
  for (const auto& k : allKinds()) {
    std::string n(k.name);
    std::replace(n.begin(), n.end(), '_', '-');
    words.push_back(n);
  }
  auto close = closeMatches(cmd, words);
  std::string msg = "unknown command '" + cmd + "'";
  if (!close.empty()) msg += "; did you mean '" + close[0] + "'?";
  *env.err << "error: " << msg << "\n" << kUsage;
  return kExitUsage;
}

}  // namespace loom::cli
