// loomctl export and import: the HTTP side of transfer.h.
#include <fstream>
#include <set>
#include <sstream>

#include "cli/context.h"
#include "cli/table.h"
#include "cli/transfer.h"
#include "model/json.h"

namespace loom::cli {
namespace {

using nlohmann::json;
using store::Kind;

std::string opName(const ImportStep& s) {
  switch (s.op) {
    case ImportStep::Op::Create: return "create";
    case ImportStep::Op::Update: return "update";
    case ImportStep::Op::Ensure: return "create-if-absent";
    case ImportStep::Op::UpdateIfCreated: return "update-if-created";
  }
  return "?";
}

}  // namespace

int cmdExport(Context& ctx, const std::vector<std::string>& args) {
  const std::string line = "loomctl export --tenant T [--include-bindings] > net.json";
  auto flags = parseFlags(args, {{"tenant"}, {"tenant-id"}, {"include-bindings", false}}, nullptr);
  if (!flags.ok()) return ctx.usage(flags.status().message(), line);
  std::string tenant = flags->value("tenant", flags->value("tenant-id"));
  if (tenant.empty() || !flags->positional.empty()) return ctx.usage("export needs --tenant", line);

  json doc = json::object();
  std::string revision;
  auto list = [&](Kind kind, const std::string& key, const std::string& value) -> int {
    const KindInfo& k = kindInfo(kind);
    Reply r = ctx.api().listAll(collectionPath(k), {{key, value}, {"revision", revision}});
    if (!r.ok()) return ctx.fail(r, Operation::Read);
    if (revision.empty()) revision = std::to_string(r.revision());
    if (revision == "0") revision.clear();
    json& slot = doc[std::string(k.collection)];
    if (slot.is_null()) slot = json::array();
    for (auto& item : r.body["items"]) slot.push_back(std::move(item));
    return kExitOk;
  };
  for (Kind kind :
       {Kind::Bridge, Kind::Router, Kind::Port, Kind::Chain, Kind::PortGroup, Kind::IpAddrGroup}) {
    if (int rc = list(kind, "tenant_id", tenant); rc != kExitOk) return rc;
  }
  for (const auto& router : json(doc["routers"])) {
    if (int rc = list(Kind::Route, "parent_id", jsonString(router, "id")); rc != kExitOk) return rc;
  }
  for (const auto& chain : json(doc["chains"])) {
    if (int rc = list(Kind::Rule, "parent_id", jsonString(chain, "id")); rc != kExitOk) return rc;
  }
  auto raw = model::topologyFromJson(doc.dump());
  if (!raw.ok())
    return ctx.error("the API returned objects that do not parse: " + raw.status().message());
  ExportOptions options;
  options.include_bindings = flags->has("include-bindings");
  ctx.out() << model::topologyToJson(assembleExport(std::move(raw).value(), options)) << "\n";
  return kExitOk;
}

int cmdImport(Context& ctx, const std::vector<std::string>& args) {
  const std::string line = "loomctl import FILE [--tenant T] [--keep-ids] [--dry-run]";
  auto flags = parseFlags(
      args, {{"tenant"}, {"tenant-id"}, {"keep-ids", false}, {"dry-run", false}}, nullptr);
  if (!flags.ok()) return ctx.usage(flags.status().message(), line);
  if (flags->positional.size() != 1) return ctx.usage("import needs one FILE", line);
  const std::string& path = flags->positional[0];
  std::stringstream text;
  if (path == "-") {
    text << ctx.in().rdbuf();
  } else {
    std::ifstream f(path);
    if (!f) return ctx.usage("cannot read file '" + path + "'");
    text << f.rdbuf();
  }
  auto doc = model::topologyFromJson(text.str());
  if (!doc.ok()) return ctx.usage(path + ": " + doc.status().message());

  bool keep_ids = flags->has("keep-ids");
  std::map<std::string, std::string> ids = planIds(*doc, keep_ids, ctx.env().new_id);
  v1::Topology topology = remapIds(*doc, ids);
  std::string tenant = flags->value("tenant", flags->value("tenant-id"));
  if (!tenant.empty()) setTenant(topology, tenant);
  std::vector<ImportStep> steps = planImport(topology);
  std::map<std::string, std::string> old_of;
  for (const auto& [old_id, new_id] : ids) old_of[new_id] = old_id;

  int64_t revision = 0;
  const bool dry = flags->has("dry-run");
  std::set<std::string> reused;  // Hosts and tunnel zones that already existed.
  for (size_t i = 0; i < steps.size(); ++i) {
    const ImportStep& s = steps[i];
    const KindInfo& k = kindInfo(s.kind);
    if (dry) {
      if (!ctx.json()) {
        ctx.out() << opName(s) << " " << k.name << " " << s.id
                  << (s.label.empty() ? "" : " '" + s.label + "'") << "\n";
      }
      continue;
    }
    json body = json::parse(s.body, nullptr, false);
    const bool creates = s.op == ImportStep::Op::Create || s.op == ImportStep::Op::Ensure;
    if (s.op == ImportStep::Op::Ensure) {
      Reply existing = ctx.api().get(objectPath(k, s.id));
      if (existing.ok()) {
        reused.insert(s.id);
        continue;
      }
      if (existing.status != 404) {
        return ctx.fail(existing, Operation::Other);
      }
    }
    if (s.op == ImportStep::Op::UpdateIfCreated && reused.count(s.id)) continue;
    Reply r = creates ? ctx.api().post(collectionPath(k), body)
                      : ctx.api().put(objectPath(k, s.id), body);
    if (!r.ok()) {
      int rc = ctx.fail(r, creates ? Operation::Create : Operation::Update);
      ctx.err() << "  while: step " << (i + 1) << " of " << steps.size() << ", " << opName(s) << " "
                << k.name << (s.label.empty() ? "" : " '" + s.label + "'") << " (id " << s.id
                << ", " << (old_of.count(s.id) ? "was " + old_of[s.id] : "new") << ")\n"
                << "  note: the objects imported by earlier steps remain\n";
      return rc;
    }
    revision = std::max(revision, r.revision());
  }

  json mapping = json::array();
  std::vector<std::vector<std::string>> rows;
  size_t created = 0;
  for (const auto& s : steps) {
    if (s.op != ImportStep::Op::Create && s.op != ImportStep::Op::Ensure) continue;
    std::string old_id = old_of.count(s.id) ? old_of[s.id] : "";
    std::string kind(kindInfo(s.kind).name);
    const bool existed = reused.count(s.id) > 0;
    created += existed ? 0 : 1;
    mapping.push_back({{"kind", kind},
                       {"name", s.label},
                       {"old_id", old_id},
                       {"new_id", s.id},
                       {"existed", existed}});
    rows.push_back({kind, s.label, old_id, existed ? s.id + " (existed)" : s.id});
  }
  if (ctx.json()) {
    ctx.printJson(json{{"revision", revision}, {"dry_run", dry}, {"ids", mapping}});
    return kExitOk;
  }
  ctx.out() << renderTable({"KIND", "NAME", "OLD_ID", "NEW_ID"}, rows);
  if (dry) {
    ctx.out() << "dry run: " << steps.size() << " steps, nothing written\n";
  } else {
    ctx.out() << "imported " << created << " objects";
    if (!reused.empty()) ctx.out() << " (" << reused.size() << " hosts/tunnel zones existed)";
    ctx.out() << " in " << steps.size() << " steps at revision " << revision << "\n";
  }
  return kExitOk;
}

}  // namespace loom::cli
