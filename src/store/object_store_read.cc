// ObjectStore reads: get, list (with paging and parent filters) and referrers.
#include <algorithm>

#include "base/uuid.h"
#include "store/object_store.h"
#include "store/object_store_internal.h"
#include "store/txn_util.h"

namespace loom::store {
namespace {

using internal::readRecord;

// Ids in keys are canonical; a lookup by a non-canonical spelling finds the same object.
std::string canonical(const std::string& id) {
  auto u = Uuid::parse(id);
  return u ? u->toString() : id;
}

constexpr int64_t kBatch = 500;

}  // namespace

StatusOr<Record> ObjectStore::get(Kind kind, const std::string& id, int64_t revision) {
  std::optional<Record> rec;
  { ASSIGN_OR_RETURN(rec, readRecord(client_, keys_, kind, canonical(id), revision, nullptr)); }
  if (!rec) return notFound(objectName(kind, id) + " not found");
  return std::move(*rec);
}

StatusOr<ListResult> ObjectStore::list(Kind kind, const ListOptions& options) {
  ListResult out;
  out.revision = options.revision;
  const auto limit = static_cast<size_t>(std::max<int64_t>(options.limit, 0));
  auto wanted = [&](const Record& r) {
    return options.tenant_id.empty() || tenantId(r.object) == options.tenant_id;
  };
  auto full = [&] { return limit != 0 && out.items.size() == limit; };

  if (!options.parent_id.empty() && kind == Kind::Rule) {
    // Rules of a chain, in the chain's order.
    int64_t rev = 0;
    std::optional<Record> chain;
    {
      ASSIGN_OR_RETURN(chain, readRecord(client_, keys_, Kind::Chain, canonical(options.parent_id),
                                         options.revision, &rev));
    }
    out.revision = options.revision != 0 ? options.revision : rev;
    if (!chain) return out;
    const auto& ids = chain->object.chain().rule_ids();
    int start = 0;
    if (!options.page_token.empty()) {
      auto it = std::find(ids.begin(), ids.end(), options.page_token);
      if (it == ids.end()) {
        return invalidField("page_token", "rule " + options.page_token + " is not in the chain");
      }
      start = static_cast<int>(it - ids.begin()) + 1;
    }
    for (int i = start; i < ids.size(); ++i) {
      if (full()) {
        out.next_page_token = out.items.back().object.rule().id();
        break;
      }
      std::optional<Record> rule;
      {
        ASSIGN_OR_RETURN(rule,
                         readRecord(client_, keys_, Kind::Rule, ids[i], out.revision, nullptr));
      }
      if (rule && wanted(*rule)) out.items.push_back(std::move(*rule));
    }
    return out;
  }

  // Either every object of the kind, or (ports, routes) the children named by the parent's ref
  // index. Both are key ranges whose last segment is the id.
  std::string prefix = keys_.objects(kind);
  bool via_refs = false;
  if (!options.parent_id.empty()) {
    const std::string parent = canonical(options.parent_id);
    if (kind == Kind::Route) {
      prefix = keys_.refs(Kind::Router, parent) + "route/";
    } else if (kind == Kind::Port) {
      int64_t rev = 0;
      std::optional<Record> bridge;
      {
        ASSIGN_OR_RETURN(bridge,
                         readRecord(client_, keys_, Kind::Bridge, parent, options.revision, &rev));
      }
      if (out.revision == 0) out.revision = rev;
      prefix = keys_.refs(bridge ? Kind::Bridge : Kind::Router, parent) + "port/";
    } else {
      return invalidField("parent_id", "only ports, routes and rules have a parent");
    }
    via_refs = true;
  }
  const std::string end = etcd::prefixEnd(prefix);
  std::string start = options.page_token.empty() ? prefix : prefix + options.page_token + '\0';
  for (;;) {
    etcd::RangeOptions o;
    o.range_end = end;
    o.limit = kBatch;
    o.revision = out.revision;
    etcd::RangeResult r;
    { ASSIGN_OR_RETURN(r, client_.range(start, o)); }
    if (out.revision == 0) out.revision = r.revision;
    for (size_t i = 0; i < r.kvs.size(); ++i) {
      const etcd::KeyValue& kv = r.kvs[i];
      if (full()) {
        out.next_page_token = objectId(out.items.back().object);
        return out;
      }
      if (via_refs) {
        std::optional<Record> rec;
        {
          ASSIGN_OR_RETURN(rec, readRecord(client_, keys_, kind, kv.key.substr(prefix.size()),
                                           out.revision, nullptr));
        }
        if (rec && wanted(*rec)) out.items.push_back(std::move(*rec));
      } else {
        Record rec;
        { ASSIGN_OR_RETURN(rec, decodeRecord(keys_, kv)); }
        if (wanted(rec)) out.items.push_back(std::move(rec));
      }
    }
    if (!r.more || r.kvs.empty()) break;
    start = r.kvs.back().key + '\0';
  }
  return out;
}

StatusOr<std::vector<Referrer>> ObjectStore::referrers(Kind kind, const std::string& id) {
  const std::string target = canonical(id);
  const std::string prefix = keys_.refs(kind, target);
  etcd::RangeOptions o;
  o.range_end = etcd::prefixEnd(prefix);
  etcd::RangeResult r;
  { ASSIGN_OR_RETURN(r, client_.range(prefix, o)); }
  std::optional<Record> rec;
  { ASSIGN_OR_RETURN(rec, readRecord(client_, keys_, kind, target, r.revision, nullptr)); }
  if (!rec) return notFound(objectName(kind, id) + " not found");
  std::vector<Referrer> out;
  for (const etcd::KeyValue& kv : r.kvs) {
    auto src = keys_.parseRefSource(kv.key);
    if (!src) continue;
    Referrer ref{ObjectRef{src->kind, src->id}, {}};
    size_t from = 0;
    while (from <= kv.value.size()) {
      size_t comma = kv.value.find(',', from);
      if (comma == std::string::npos) comma = kv.value.size();
      if (comma > from) ref.fields.push_back(kv.value.substr(from, comma - from));
      from = comma + 1;
    }
    out.push_back(std::move(ref));
  }
  return out;
}

}  // namespace loom::store
