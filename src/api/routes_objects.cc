// Object routes: CRUD over the ObjectStore (every read goes to etcd, so a client reads its own
// writes), referrers and port bindings.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include "api/routes.h"

namespace loom::api {
namespace {

std::string locationOf(store::Kind kind, const std::string& id) {
  return "/api/v1/" + std::string(store::kindName(kind)) + "s/" + id;
}

Json refJson(const store::ObjectRef& ref) {
  return Json{{"kind", std::string(store::kindName(ref.kind))}, {"id", ref.id}};
}

ApiReply writeReply(int http_status, const store::WriteResult& w) {
  ApiReply reply =
      jsonReply(http_status, Json{{"revision", w.revision}, {"item", objectJson(w.record.object)}});
  reply.headers.emplace_back("ETag", etag(w.record.mod_revision));
  reply.headers.emplace_back("X-Loom-Revision", std::to_string(w.revision));
  return reply;
}

// The payload's "id" field (every kind has one).
const google::protobuf::FieldDescriptor* idField(const google::protobuf::Message& m) {
  return m.GetDescriptor()->FindFieldByName("id");
}

}  // namespace

ApiReply listObjects(RouteContext& c, store::Kind kind, const RouteRequest& r) {
  auto options = decodeListQuery(r.params);
  if (!options.ok()) return errorReply(options.status());
  auto result = c.store.list(kind, *options);
  if (!result.ok()) return errorReply(result.status());
  Json items = Json::array();
  for (const store::Record& rec : result->items) items.push_back(objectJson(rec.object));
  Json body{{"items", std::move(items)}, {"revision", result->revision}};
  if (!result->next_page_token.empty()) body["next_page_token"] = result->next_page_token;
  ApiReply reply = jsonReply(200, body);
  reply.headers.emplace_back("X-Loom-Revision", std::to_string(result->revision));
  return reply;
}

ApiReply createObject(RouteContext& c, store::Kind kind, const RouteRequest& r) {
  auto options = decodeCreateQuery(kind, r.params);
  if (!options.ok()) return errorReply(options.status());
  auto object = decodeObject(kind, r.body);
  if (!object.ok()) return errorReply(object.status());
  auto written = c.store.create(std::move(*object), *options);
  if (!written.ok()) return errorReply(written.status());
  ApiReply reply = writeReply(201, *written);
  reply.headers.emplace_back("Location", locationOf(kind, store::objectId(written->record.object)));
  return reply;
}

ApiReply getObject(RouteContext& c, store::Kind kind, const std::string& id,
                   const RouteRequest& r) {
  if (Status s = decodeNoQuery(r.params); !s.ok()) return errorReply(s);
  auto rec = c.store.get(kind, id);
  if (!rec.ok()) return errorReply(rec.status());
  ApiReply reply = jsonReply(200, Json{{"item", objectJson(rec->object)},
                                       {"mod_revision", rec->mod_revision},
                                       {"create_revision", rec->create_revision}});
  reply.headers.emplace_back("ETag", etag(rec->mod_revision));
  return reply;
}

ApiReply updateObject(RouteContext& c, store::Kind kind, const std::string& id,
                      const RouteRequest& r) {
  if (Status s = decodeNoQuery(r.params); !s.ok()) return errorReply(s);
  auto expected = decodeIfMatch(r.if_match);
  if (!expected.ok()) return errorReply(expected.status());
  auto object = decodeObject(kind, r.body);
  if (!object.ok()) return errorReply(object.status());
  google::protobuf::Message* payload = store::mutablePayload(*object, kind);
  const google::protobuf::FieldDescriptor* f = idField(*payload);
  if (f == nullptr) return errorReply(internalError("object without an id field"));
  std::string body_id = payload->GetReflection()->GetString(*payload, f);
  if (!body_id.empty() && body_id != id) {
    return errorReply(
        invalidField("id", "'" + body_id + "' differs from the id in the path '" + id + "'"));
  }
  payload->GetReflection()->SetString(payload, f, id);
  store::UpdateOptions options;
  options.expected_mod_revision = *expected;
  auto written = c.store.update(std::move(*object), options);
  if (!written.ok()) return errorReply(written.status());
  return writeReply(200, *written);
}

ApiReply deleteObject(RouteContext& c, store::Kind kind, const std::string& id,
                      const RouteRequest& r) {
  auto options = decodeDeleteQuery(r.params);
  if (!options.ok()) return errorReply(options.status());
  auto expected = decodeIfMatch(r.if_match);
  if (!expected.ok()) return errorReply(expected.status());
  options->expected_mod_revision = *expected;
  auto result = c.store.remove(kind, id, *options);
  if (!result.ok()) return errorReply(result.status());
  Json deleted = Json::array();
  for (const store::ObjectRef& ref : result->deleted) deleted.push_back(refJson(ref));
  Json updated = Json::array();
  for (const store::ObjectRef& ref : result->updated) updated.push_back(refJson(ref));
  ApiReply reply = jsonReply(200, Json{{"revision", result->revision},
                                       {"deleted", std::move(deleted)},
                                       {"updated", std::move(updated)},
                                       {"transactions", result->transactions}});
  reply.headers.emplace_back("X-Loom-Revision", std::to_string(result->revision));
  return reply;
}

ApiReply getReferrers(RouteContext& c, store::Kind kind, const std::string& id,
                      const RouteRequest& r) {
  if (Status s = decodeNoQuery(r.params); !s.ok()) return errorReply(s);
  auto referrers = c.store.referrers(kind, id);
  if (!referrers.ok()) return errorReply(referrers.status());
  Json items = Json::array();
  for (const store::Referrer& ref : *referrers) {
    Json item = refJson(ref.object);
    item["fields"] = ref.fields;
    items.push_back(std::move(item));
  }
  return jsonReply(200, Json{{"referrers", std::move(items)}});
}

namespace {

// Read-modify-write of a port's binding fields. With If-Match the caller's revision is the
// condition; without, a concurrent change is retried on a fresh read.
ApiReply rebind(RouteContext& c, const std::string& port_id, const RouteRequest& r,
                const BindingRequest& binding) {
  auto expected = decodeIfMatch(r.if_match);
  if (!expected.ok()) return errorReply(expected.status());
  constexpr int kAttempts = 8;
  Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto rec = c.store.get(store::Kind::Port, port_id);
    if (!rec.ok()) return errorReply(rec.status());
    v1::StoredObject object = rec->object;
    v1::Port* port = object.mutable_port();
    port->set_host_id(binding.host_id);
    port->set_interface_name(binding.interface_name);
    store::UpdateOptions options;
    options.expected_mod_revision = *expected != 0 ? *expected : rec->mod_revision;
    auto written = c.store.update(std::move(object), options);
    if (written.ok()) return writeReply(200, *written);
    last = written.status();
    if (last.code() != StatusCode::Aborted || *expected != 0) break;
  }
  return errorReply(last);
}

}  // namespace

ApiReply putBinding(RouteContext& c, const std::string& port_id, const RouteRequest& r) {
  if (Status s = decodeNoQuery(r.params); !s.ok()) return errorReply(s);
  auto binding = decodeBindingRequest(r.body);
  if (!binding.ok()) return errorReply(binding.status());
  return rebind(c, port_id, r, *binding);
}

ApiReply deleteBinding(RouteContext& c, const std::string& port_id, const RouteRequest& r) {
  if (Status s = decodeNoQuery(r.params); !s.ok()) return errorReply(s);
  return rebind(c, port_id, r, BindingRequest{});
}

}  // namespace loom::api
