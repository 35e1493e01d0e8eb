// OpenAPI generation: message schemas by walking descriptors, paths from the route table.
#include "api/openapi.h"

#include <google/protobuf/descriptor.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "loom/v1/store.pb.h"
#include "store/keys.h"

namespace loom::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using Json = nlohmann::json;

// "loom.v1.TunnelZone.Member" -> "TunnelZone.Member".
std::string schemaName(const std::string& full_name) {
  constexpr std::string_view kPackage = "loom.v1.";
  if (full_name.rfind(kPackage, 0) == 0) return full_name.substr(kPackage.size());
  return full_name;
}

std::string schemaRef(const std::string& name) { return "#/components/schemas/" + name; }

class SchemaBuilder {
 public:
  explicit SchemaBuilder(Json& schemas) : schemas_(schemas) {}

  // Adds the message (and every message and enum it reaches); returns its schema name.
  std::string message(const Descriptor& d) {
    std::string name = schemaName(d.full_name());
    if (!done_.insert(name).second) return name;
    Json properties = Json::object();
    for (int i = 0; i < d.field_count(); ++i) {
      const FieldDescriptor& f = *d.field(i);
      Json type = valueSchema(f);
      if (f.is_repeated()) type = Json{{"type", "array"}, {"items", type}};
      properties[f.name()] = std::move(type);
    }
    Json schema{
        {"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
    schemas_[name] = std::move(schema);
    return name;
  }

 private:
  std::string enumeration(const EnumDescriptor& e) {
    std::string name = schemaName(e.full_name());
    if (!done_.insert(name).second) return name;
    Json values = Json::array();
    for (int i = 0; i < e.value_count(); ++i) values.push_back(e.value(i)->name());
    schemas_[name] = Json{{"type", "string"}, {"enum", std::move(values)}};
    return name;
  }

  Json valueSchema(const FieldDescriptor& f) {
    switch (f.cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        if (f.type() == FieldDescriptor::TYPE_BYTES) {
          return Json{{"type", "string"}, {"format", "byte"}};
        }
        return Json{{"type", "string"}};
      case FieldDescriptor::CPPTYPE_BOOL: return Json{{"type", "boolean"}};
      case FieldDescriptor::CPPTYPE_INT32: return Json{{"type", "integer"}, {"format", "int32"}};
      case FieldDescriptor::CPPTYPE_UINT32:
        return Json{
            {"type", "integer"}, {"format", "int64"}, {"minimum", 0}, {"maximum", 4294967295U}};
      // proto3 JSON prints 64-bit integers as strings and accepts both.
      case FieldDescriptor::CPPTYPE_INT64: return Json{{"type", "string"}, {"format", "int64"}};
      case FieldDescriptor::CPPTYPE_UINT64: return Json{{"type", "string"}, {"format", "uint64"}};
      case FieldDescriptor::CPPTYPE_DOUBLE: return Json{{"type", "number"}, {"format", "double"}};
      case FieldDescriptor::CPPTYPE_FLOAT: return Json{{"type", "number"}, {"format", "float"}};
      case FieldDescriptor::CPPTYPE_ENUM:
        return Json{{"$ref", schemaRef(enumeration(*f.enum_type()))}};
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return Json{{"$ref", schemaRef(message(*f.message_type()))}};
    }
    return Json::object();
  }

  Json& schemas_;
  std::set<std::string> done_;
};

Json jsonContent(const Json& schema) {
  return Json{{"application/json", Json{{"schema", schema}}}};
}
Json refContent(const std::string& name) { return jsonContent(Json{{"$ref", schemaRef(name)}}); }

Json response(std::string_view description, const Json& content = Json()) {
  Json r{{"description", description}};
  if (!content.is_null()) r["content"] = content;
  return r;
}

Json param(std::string_view name, std::string_view in, const Json& schema, bool required,
           std::string_view description) {
  return Json{{"name", name},
              {"in", in},
              {"required", required},
              {"schema", schema},
              {"description", description}};
}

// The error responses every operation may give.
void addErrors(Json& responses, std::initializer_list<int> codes) {
  static const std::pair<int, std::string_view> kText[] = {
      {400,
       "Invalid request: bad JSON, unknown field, wrong type, bad value, dangling "
       "reference or bad query parameter; error.field names the field"},
      {401, "Missing or wrong bearer token"},
      {404, "No such object"},
      {409, "Conflict: referenced object, concurrent modification (If-Match) or taken id"},
      {413, "Body larger than the server's limit"},
      {503, "etcd unavailable or too slow (Retry-After: 1)"},
      {504, "Hosts did not apply the revision in time"},
  };
  for (int code : codes) {
    for (const auto& [c, text] : kText) {
      if (c == code) responses[std::to_string(code)] = response(text, refContent("Error"));
    }
  }
}

Json operation(std::string_view summary, std::string_view op_id, Json responses,
               std::initializer_list<int> errors) {
  addErrors(responses, {401, 503});
  addErrors(responses, errors);
  return Json{{"summary", summary}, {"operationId", op_id}, {"responses", std::move(responses)}};
}

Json body(const Json& content) { return Json{{"required", true}, {"content", content}}; }

std::string camel(std::string_view kind) {
  std::string out;
  bool up = true;
  for (char ch : kind) {
    if (ch == '_') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(ch - 'a' + 'A') : ch;
    up = false;
  }
  return out;
}

}  // namespace

std::string buildOpenApiDocument() {
  Json schemas = Json::object();
  SchemaBuilder builder(schemas);
  Json paths = Json::object();
  const Json int64 = Json{{"type", "integer"}, {"format", "int64"}};
  const Json str = Json{{"type", "string"}};
  const Json ref_list =
      Json{{"type", "array"},
           {"items", Json{{"type", "object"}, {"properties", Json{{"kind", str}, {"id", str}}}}}};

  Json error_fields{{"type", "object"},
                    {"properties", Json{{"code", str}, {"message", str}, {"field", str}}},
                    {"required", Json::array({"code", "message"})}};
  schemas["Error"] = Json{{"type", "object"}, {"properties", Json{{"error", error_fields}}}};

  const Json id_param = param("id", "path", str, true, "The object's id (a UUID)");
  const Json if_match = param("If-Match", "header", str, false,
                              "\"<mod_revision>\": fail with 409 ABORTED if the object changed");
  for (size_t k = 0; k < store::kKindCount; ++k) {
    auto kind = static_cast<store::Kind>(k);
    std::string kname(store::kindName(kind));
    const FieldDescriptor* f = v1::StoredObject::descriptor()->FindFieldByName(kname);
    if (f == nullptr || f->message_type() == nullptr) continue;
    std::string schema = builder.message(*f->message_type());
    std::string coll = "/api/v1/" + kname + "s";
    std::string cname = camel(kname);

    Json write_result{
        {"type", "object"},
        {"properties", Json{{"revision", int64}, {"item", Json{{"$ref", schemaRef(schema)}}}}}};
    Json list_params = Json::array({
        param("tenant_id", "query", str, false, "Only this tenant's objects"),
        param("parent_id", "query", str, false,
              "Ports of a bridge or router, routes of a router, rules of a chain (in order)"),
        param("limit", "query", Json{{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}, false,
              "Page size"),
        param("page_token", "query", str, false, "next_page_token of the previous page"),
        param("revision", "query", Json{{"type", "integer"}, {"minimum", 0}}, false,
              "Read at this revision (pass the first page's revision on later pages)"),
    });
    Json list_result{
        {"type", "object"},
        {"properties",
         Json{{"items", Json{{"type", "array"}, {"items", Json{{"$ref", schemaRef(schema)}}}}},
              {"next_page_token", str},
              {"revision", int64}}}};
    Json create =
        operation("Create a " + kname, "create" + cname,
                  Json{{"201", response("Created", jsonContent(write_result))}}, {400, 409, 413});
    create["requestBody"] = body(refContent(schema));
    if (kind == store::Kind::Rule) {
      create["parameters"] =
          Json::array({param("position", "query", Json{{"type", "integer"}, {"minimum", 0}}, false,
                             "Index in the chain's rule list (default: append)")});
    }
    Json list = operation("List " + kname + "s", "list" + cname + "s",
                          Json{{"200", response("A page", jsonContent(list_result))}}, {400});
    list["parameters"] = list_params;
    paths[coll] = Json{{"get", std::move(list)}, {"post", std::move(create)}};

    Json get_result{{"type", "object"},
                    {"properties", Json{{"item", Json{{"$ref", schemaRef(schema)}}},
                                        {"mod_revision", int64},
                                        {"create_revision", int64}}}};
    Json del_result{{"type", "object"},
                    {"properties", Json{{"revision", int64},
                                        {"deleted", ref_list},
                                        {"updated", ref_list},
                                        {"transactions", Json{{"type", "integer"}}}}}};
    Json put = operation("Replace a " + kname, "update" + cname,
                         Json{{"200", response("Updated", jsonContent(write_result))}},
                         {400, 404, 409, 413});
    put["requestBody"] = body(refContent(schema));
    put["parameters"] = Json::array({if_match});
    Json del =
        operation("Delete a " + kname, "delete" + cname,
                  Json{{"200", response("Deleted", jsonContent(del_result))}}, {400, 404, 409});
    del["parameters"] =
        Json::array({if_match, param("cascade", "query", Json{{"type", "boolean"}}, false,
                                     "Also delete the objects that belong to this one")});
    paths[coll + "/{id}"] = Json{
        {"parameters", Json::array({id_param})},
        {"get", operation("Get a " + kname, "get" + cname,
                          Json{{"200", response("The object", jsonContent(get_result))}}, {404})},
        {"put", std::move(put)},
        {"delete", std::move(del)}};

    Json referrers{
        {"type", "object"},
        {"properties",
         Json{{"referrers",
               Json{{"type", "array"},
                    {"items", Json{{"type", "object"},
                                   {"properties", Json{{"kind", str},
                                                       {"id", str},
                                                       {"fields", Json{{"type", "array"},
                                                                       {"items", str}}}}}}}}}}}};
    paths[coll + "/{id}/referrers"] = Json{
        {"parameters", Json::array({id_param})},
        {"get", operation("Objects that refer to this " + kname, "referrersOf" + cname,
                          Json{{"200", response("Referrers", jsonContent(referrers))}}, {404})}};
  }

  const Json port_ref = Json{{"$ref", schemaRef("Port")}};
  Json binding_body{{"type", "object"},
                    {"properties", Json{{"host_id", str}, {"interface_name", str}}},
                    {"required", Json::array({"host_id", "interface_name"})}};
  Json binding_result{{"type", "object"},
                      {"properties", Json{{"revision", int64}, {"item", port_ref}}}};
  Json bind =
      operation("Bind a port to a host interface", "bindPort",
                Json{{"200", response("Bound", jsonContent(binding_result))}}, {400, 404, 409});
  bind["requestBody"] = body(jsonContent(binding_body));
  paths["/api/v1/ports/{id}/binding"] =
      Json{{"parameters", Json::array({id_param})},
           {"put", std::move(bind)},
           {"delete", operation("Unbind a port", "unbindPort",
                                Json{{"200", response("Unbound", jsonContent(binding_result))}},
                                {404, 409})}};

  const Json boolean = Json{{"type", "boolean"}};
  Json bindings{{"type", "object"},
                {"properties",
                 Json{{"items", Json{{"type", "array"},
                                     {"items", Json{{"type", "object"},
                                                    {"properties", Json{{"port_id", str},
                                                                        {"host_id", str},
                                                                        {"interface_name", str},
                                                                        {"active", boolean}}}}}}},
                      {"revision", int64}}}};
  Json list_bindings = operation("Port bindings", "listBindings",
                                 Json{{"200", response("Bindings", jsonContent(bindings))}}, {400});
  list_bindings["parameters"] =
      Json::array({param("host_id", "query", str, false, "Only this host's bindings")});
  paths["/api/v1/bindings"] = Json{{"get", std::move(list_bindings)}};

  Json port_status{{"type", "object"},
                   {"properties", Json{{"port_id", str},
                                       {"bound", boolean},
                                       {"host_id", str},
                                       {"interface_name", str},
                                       {"active", boolean},
                                       {"active_host_id", str}}}};
  paths["/api/v1/ports/{id}/status"] =
      Json{{"parameters", Json::array({id_param})},
           {"get", operation("A port's binding and liveness", "portStatus",
                             Json{{"200", response("Status", jsonContent(port_status))}}, {404})}};

  schemas["HostStatus"] = Json{{"type", "object"},
                               {"properties", Json{{"host_id", str},
                                                   {"name", str},
                                                   {"alive", boolean},
                                                   {"applied_revision", int64},
                                                   {"tunnel_address", str}}}};
  Json host_list{
      {"type", "object"},
      {"properties", Json{{"items", Json{{"type", "array"},
                                         {"items", Json{{"$ref", schemaRef("HostStatus")}}}}}}}};
  paths["/api/v1/host_status"] =
      Json{{"get", operation("Configured and live hosts", "listHostStatus",
                             Json{{"200", response("Hosts", jsonContent(host_list))}}, {})}};
  paths["/api/v1/hosts/{id}/status"] =
      Json{{"parameters", Json::array({id_param})},
           {"get", operation("One host's liveness", "hostStatus",
                             Json{{"200", response("Host", refContent("HostStatus"))}}, {404})}};

  Json host_rev{
      {"type", "array"},
      {"items", Json{{"type", "object"},
                     {"properties", Json{{"host_id", str}, {"applied_revision", int64}}}}}};
  Json sync_body{
      {"type", "object"},
      {"properties",
       Json{{"revision", int64},
            {"timeout_ms", Json{{"type", "integer"}, {"minimum", 0}, {"maximum", 60000}}}}}};
  Json sync = operation(
      "Wait until every live host has applied a revision", "sync",
      Json{{"200", response("Synced",
                            jsonContent(Json{
                                {"type", "object"},
                                {"properties", Json{{"revision", int64}, {"hosts", host_rev}}}}))}},
      {400, 504});
  sync["requestBody"] = Json{{"required", false}, {"content", jsonContent(sync_body)}};
  paths["/api/v1/sync"] = Json{{"post", std::move(sync)}};

  Json str_list{{"type", "array"}, {"items", str}};
  Json trace_body{
      {"type", "object"},
      {"properties",
       Json{{"port", str}, {"packets", str_list}, {"arp", str_list}, {"follow", boolean}}},
      {"required", Json::array({"port", "packets"})}};
  Json trace = operation(
      "Simulate packets through the live topology", "trace",
      Json{{"200", response("The trace", jsonContent(Json{{"type", "object"},
                                                          {"properties", Json{{"revision", int64},
                                                                              {"text", str}}}}))}},
      {400});
  trace["requestBody"] = body(jsonContent(trace_body));
  paths["/api/v1/trace"] = Json{{"post", std::move(trace)}};

  paths["/api/v1/openapi.json"] =
      Json{{"get",
            operation("This document", "openapi",
                      Json{{"200", response("OpenAPI 3.0", jsonContent(Json{{"type", "object"}}))}},
                      {})}};
  Json health{
      {"summary", "Health check (never needs a token)"},
      {"operationId", "healthz"},
      {"security", Json::array()},
      {"responses",
       Json{{"200", response("etcd reachable",
                             jsonContent(Json{{"type", "object"},
                                              {"properties", Json{{"status", str},
                                                                  {"etcd", str},
                                                                  {"replica_revision", int64}}}}))},
            {"503", response("etcd unreachable")}}}};
  paths["/healthz"] = Json{{"get", std::move(health)}};

  Json doc{{"openapi", "3.0.3"},
           {"info", Json{{"title", "loom API"},
                         {"version", "v1"},
                         {"description", "loom's REST API; see docs/api.md."}}},
           {"paths", std::move(paths)},
           {"components", Json{{"schemas", std::move(schemas)},
                               {"securitySchemes",
                                Json{{"bearer", Json{{"type", "http"}, {"scheme", "bearer"}}}}}}},
           {"security", Json::array({Json{{"bearer", Json::array()}}})}};
  return doc.dump(2);
}

}  // namespace loom::api
