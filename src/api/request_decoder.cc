// The API's request decoder: JSON through nlohmann's DOM, then a walk over the protobuf
// descriptor that sets each field by reflection, so every error can name its field path.
#include "api/request_decoder.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace loom::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using Json = nlohmann::json;

struct TooDeep {};

// "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..." ->
// "malformed JSON at line 1, column 2 (offset 1): syntax error ...".
Status malformed(const Json::exception& e, size_t byte) {
  std::string what = e.what();
  if (size_t p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
  constexpr std::string_view kPrefix = "parse error at ";
  std::string where;
  if (what.rfind(kPrefix, 0) == 0) {
    what.erase(0, kPrefix.size());
    if (size_t colon = what.find(": "); colon != std::string::npos) {
      where = what.substr(0, colon);
      what.erase(0, colon + 2);
    }
  }
  // The parser quotes what it last read, which may be any bytes: keep the message printable.
  std::string printable;
  for (unsigned char ch : what) {
    if (ch >= 0x20 && ch < 0x7f) {
      printable += static_cast<char>(ch);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      printable += "\\x";
      printable += kHex[ch >> 4];
      printable += kHex[ch & 0xf];
    }
  }
  what = std::move(printable);
  std::string m = "malformed JSON";
  if (!where.empty()) m += " at " + where;
  if (byte > 0) m += (where.empty() ? " at offset " : " (offset ") + std::to_string(byte - 1);
  if (!where.empty() && byte > 0) m += ")";
  return invalidArgument(m + ": " + what);
}

StatusOr<Json> parseJson(std::string_view text) {
  Json::parser_callback_t depth_guard = [](int depth, Json::parse_event_t, Json&) {
    if (depth > kMaxJsonDepth) throw TooDeep{};
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), depth_guard);
  } catch (const Json::parse_error& e) {
    return malformed(e, e.byte);
  } catch (const Json::exception& e) {
    return malformed(e, 0);
  } catch (const TooDeep&) {
    return invalidArgument("malformed JSON: nested deeper than " + std::to_string(kMaxJsonDepth) +
                           " levels");
  }
}

std::string join(const std::string& path, std::string_view name) {
  if (path.empty()) return std::string(name);
  return path + "." + std::string(name);
}

std::string typeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

Status wrongType(const std::string& path, std::string_view expected, const Json& got) {
  return invalidField(path, "expected " + std::string(expected) + ", got " + typeName(got));
}

// An integer from a JSON number (integral) or a decimal string, within [min, max].
template <typename T>
StatusOr<T> toInteger(const std::string& path, const Json& v) {
  constexpr auto kMin = std::numeric_limits<T>::min();
  constexpr auto kMax = std::numeric_limits<T>::max();
  auto range = [&](std::string shown) {
    return invalidField(path, "value " + shown + " out of range for " +
                                  (std::is_signed_v<T> ? "int" : "uint") +
                                  std::to_string(sizeof(T) * 8));
  };
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(kMax)) return range(std::to_string(u));
    return static_cast<T>(u);
  }
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i < 0 && (!std::is_signed_v<T> || i < static_cast<int64_t>(kMin))) {
      return range(std::to_string(i));
    }
    if (i > 0 && static_cast<uint64_t>(i) > static_cast<uint64_t>(kMax)) {
      return range(std::to_string(i));
    }
    return static_cast<T>(i);
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || std::floor(d) != d) {
      return invalidField(path, "expected an integer, got " + v.dump());
    }
    // Doubles at the edges of 64-bit ranges are not exact; keep well inside them.
    if (d < static_cast<double>(kMin) || d >= static_cast<double>(kMax) || std::fabs(d) > 9e15) {
      return range(v.dump());
    }
    return static_cast<T>(d);
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    T out{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc::result_out_of_range) return range("\"" + s + "\"");
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
      return invalidField(path, "expected a number, got the string \"" + s + "\"");
    }
    return out;
  }
  return wrongType(path, "a number", v);
}

StatusOr<double> toDouble(const std::string& path, const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return wrongType(path, "a number", v);
}

StatusOr<int> toEnum(const std::string& path, const EnumDescriptor& e, const Json& v) {
  if (v.is_string()) {
    if (const auto* value = e.FindValueByName(v.get_ref<const std::string&>())) {
      return value->number();
    }
  } else if (v.is_number()) {
    auto n = toInteger<int32_t>(path, v);
    if (n.ok() && e.FindValueByNumber(*n) != nullptr) return *n;
  } else {
    return wrongType(path, "a string", v);
  }
  std::string names;
  for (int i = 0; i < e.value_count(); ++i) {
    if (i > 0) names += ", ";
    names += e.value(i)->name();
  }
  return invalidField(path, "expected one of " + names + ", got " + v.dump());
}

Status decodeInto(const Json& object, const std::string& path, Message& out);

// One value (a singular field, or one element of a repeated field).
Status setValue(const FieldDescriptor& f, const Json& v, const std::string& path, Message& out) {
  const Reflection& r = *out.GetReflection();
  bool rep = f.is_repeated();
#define LOOM_SET(Type, value)       \
  do {                              \
    if (rep) {                      \
      r.Add##Type(&out, &f, value); \
    } else {                        \
      r.Set##Type(&out, &f, value); \
    }                               \
  } while (0)
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      if (f.type() == FieldDescriptor::TYPE_BYTES) {
        return invalidField(path, "bytes fields are not supported");
      }
      if (!v.is_string()) return wrongType(path, "a string", v);
      LOOM_SET(String, v.get<std::string>());
      return okStatus();
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!v.is_boolean()) return wrongType(path, "a boolean", v);
      LOOM_SET(Bool, v.get<bool>());
      return okStatus();
    case FieldDescriptor::CPPTYPE_INT32: {
      ASSIGN_OR_RETURN(int32_t x, toInteger<int32_t>(path, v));
      LOOM_SET(Int32, x);
      return okStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      ASSIGN_OR_RETURN(int64_t x, toInteger<int64_t>(path, v));
      LOOM_SET(Int64, x);
      return okStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      ASSIGN_OR_RETURN(uint32_t x, toInteger<uint32_t>(path, v));
      LOOM_SET(UInt32, x);
      return okStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      ASSIGN_OR_RETURN(uint64_t x, toInteger<uint64_t>(path, v));
      LOOM_SET(UInt64, x);
      return okStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      ASSIGN_OR_RETURN(double x, toDouble(path, v));
      LOOM_SET(Double, x);
      return okStatus();
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      ASSIGN_OR_RETURN(double x, toDouble(path, v));
      LOOM_SET(Float, static_cast<float>(x));
      return okStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      ASSIGN_OR_RETURN(int x, toEnum(path, *f.enum_type(), v));
      LOOM_SET(EnumValue, x);
      return okStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (!v.is_object()) return wrongType(path, "an object", v);
      Message* child = rep ? r.AddMessage(&out, &f) : r.MutableMessage(&out, &f);
      return decodeInto(v, path, *child);
    }
  }
#undef LOOM_SET
  return invalidField(path, "unsupported field type");
}

const FieldDescriptor* findField(const Descriptor& d, const std::string& key) {
  if (const FieldDescriptor* f = d.FindFieldByName(key)) return f;
  for (int i = 0; i < d.field_count(); ++i) {
    if (d.field(i)->json_name() == key) return d.field(i);
  }
  return nullptr;
}

Status decodeInto(const Json& object, const std::string& path, Message& out) {
  const Descriptor& d = *out.GetDescriptor();
  std::set<int> seen;
  for (const auto& [key, value] : object.items()) {
    std::string fpath = join(path, key);
    const FieldDescriptor* f = findField(d, key);
    if (f == nullptr) return invalidField(fpath, "unknown field");
    fpath = join(path, f->name());
    if (!seen.insert(f->number()).second) return invalidField(fpath, "given more than once");
    if (f->is_map()) return invalidField(fpath, "map fields are not supported");
    if (value.is_null()) continue;  // The default.
    if (f->is_repeated()) {
      if (!value.is_array()) return wrongType(fpath, "an array", value);
      size_t i = 0;
      for (const Json& element : value) {
        std::string epath = fpath + "[" + std::to_string(i++) + "]";
        if (element.is_null()) return invalidField(epath, "null is not allowed in a list");
        RETURN_IF_ERROR(setValue(*f, element, epath, out));
      }
      continue;
    }
    RETURN_IF_ERROR(setValue(*f, value, fpath, out));
  }
  return okStatus();
}

StatusOr<Json> parseObject(std::string_view text) {
  ASSIGN_OR_RETURN(Json doc, parseJson(text));
  if (!doc.is_object()) {
    return invalidArgument("expected a JSON object, got " + typeName(doc));
  }
  return doc;
}

// Simple request bodies: a flat JSON object of known keys.
class FlatObject {
 public:
  explicit FlatObject(const Json& doc) : doc_(doc) {}

  Status onlyKeys(std::initializer_list<std::string_view> keys) const {
    for (const auto& [key, value] : doc_.items()) {
      bool known = false;
      for (std::string_view k : keys) known = known || k == key;
      if (!known) return invalidField(key, "unknown field");
    }
    return okStatus();
  }
  const Json* get(const std::string& key) const {
    auto it = doc_.find(key);
    if (it == doc_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  Status string(const std::string& key, std::string& out) const {
    const Json* v = get(key);
    if (v == nullptr) return okStatus();
    if (!v->is_string()) return wrongType(key, "a string", *v);
    out = v->get<std::string>();
    return okStatus();
  }
  Status strings(const std::string& key, std::vector<std::string>& out) const {
    const Json* v = get(key);
    if (v == nullptr) return okStatus();
    if (!v->is_array()) return wrongType(key, "an array", *v);
    size_t i = 0;
    for (const Json& e : *v) {
      std::string path = key + "[" + std::to_string(i++) + "]";
      if (!e.is_string()) return wrongType(path, "a string", e);
      out.push_back(e.get<std::string>());
    }
    return okStatus();
  }

 private:
  const Json& doc_;
};

// Query parameters: rejects unknown and repeated names.
Status checkParams(const QueryParams& params, std::initializer_list<std::string_view> known) {
  std::set<std::string_view> seen;
  for (const auto& [name, value] : params) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || k == name;
    if (!ok) return invalidField(name, "unknown query parameter");
    if (!seen.insert(name).second) return invalidField(name, "given more than once");
  }
  return okStatus();
}

}  // namespace

Status decodeMessage(std::string_view json, Message& out) {
  out.Clear();
  ASSIGN_OR_RETURN(Json doc, parseObject(json));
  return decodeInto(doc, "", out);
}

StatusOr<v1::StoredObject> decodeObject(store::Kind kind, std::string_view json) {
  v1::StoredObject object;
  object.set_format(store::kStoredFormat);
  Message* payload = store::mutablePayload(object, kind);
  if (payload == nullptr) return internalError("no payload for this kind");
  RETURN_IF_ERROR(decodeMessage(json, *payload));
  // The id is optional in a request (create assigns one, update takes the path's), but the
  // field checks need one: validate with a stand-in and take it out again.
  const google::protobuf::FieldDescriptor* id = payload->GetDescriptor()->FindFieldByName("id");
  const Reflection& r = *payload->GetReflection();
  bool no_id = id != nullptr && r.GetString(*payload, id).empty();
  if (no_id) r.SetString(payload, id, "00000000-0000-4000-8000-000000000000");
  Status valid = store::validateFields(object);
  if (no_id) r.ClearField(payload, id);
  RETURN_IF_ERROR(valid);
  return object;
}

StatusOr<int64_t> parseIntParam(std::string_view name, std::string_view value, int64_t min,
                                int64_t max) {
  int64_t out = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || out < min ||
      out > max) {
    std::string range =
        max == std::numeric_limits<int64_t>::max()
            ? "an integer >= " + std::to_string(min)
            : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    return invalidField(std::string(name),
                        "must be " + range + ", got '" + std::string(value) + "'");
  }
  return out;
}

StatusOr<bool> parseBoolParam(std::string_view name, std::string_view value) {
  if (value == "true") return true;
  if (value == "false") return false;
  return invalidField(std::string(name), "must be true or false, got '" + std::string(value) + "'");
}

StatusOr<store::ListOptions> decodeListQuery(const QueryParams& params) {
  RETURN_IF_ERROR(
      checkParams(params, {"tenant_id", "parent_id", "limit", "page_token", "revision"}));
  store::ListOptions o;
  for (const auto& [name, value] : params) {
    if (name == "tenant_id") {
      o.tenant_id = value;
    } else if (name == "parent_id") {
      o.parent_id = value;
    } else if (name == "page_token") {
      o.page_token = value;
    } else if (name == "limit") {
      ASSIGN_OR_RETURN(o.limit, parseIntParam(name, value, 1, kMaxListLimit));
    } else if (name == "revision") {
      ASSIGN_OR_RETURN(o.revision,
                       parseIntParam(name, value, 0, std::numeric_limits<int64_t>::max()));
    }
  }
  return o;
}

StatusOr<store::CreateOptions> decodeCreateQuery(store::Kind kind, const QueryParams& params) {
  RETURN_IF_ERROR(checkParams(params, {"position"}));
  store::CreateOptions o;
  for (const auto& [name, value] : params) {
    if (kind != store::Kind::Rule) return invalidField(name, "only rules have a position");
    ASSIGN_OR_RETURN(int64_t p, parseIntParam(name, value, 0, std::numeric_limits<int32_t>::max()));
    o.position = static_cast<int32_t>(p);
  }
  return o;
}

StatusOr<store::DeleteOptions> decodeDeleteQuery(const QueryParams& params) {
  RETURN_IF_ERROR(checkParams(params, {"cascade"}));
  store::DeleteOptions o;
  for (const auto& [name, value] : params) {
    ASSIGN_OR_RETURN(o.cascade, parseBoolParam(name, value));
  }
  return o;
}

StatusOr<std::string> decodeBindingsQuery(const QueryParams& params) {
  RETURN_IF_ERROR(checkParams(params, {"host_id"}));
  return params.empty() ? std::string() : params.front().second;
}

Status decodeNoQuery(const QueryParams& params) { return checkParams(params, {}); }

StatusOr<int64_t> decodeIfMatch(std::string_view header) {
  std::string_view v = header;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty() || v == "*") return int64_t{0};
  if (v.rfind("W/", 0) == 0) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  auto r = parseIntParam("If-Match", v, 1, std::numeric_limits<int64_t>::max());
  if (!r.ok()) {
    return invalidField("If-Match",
                        "expected an ETag \"<mod_revision>\", got '" + std::string(header) + "'");
  }
  return r;
}

StatusOr<SyncRequest> decodeSyncRequest(std::string_view json) {
  SyncRequest out;
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;  // No body.
  ASSIGN_OR_RETURN(Json doc, parseObject(json));
  FlatObject o(doc);
  RETURN_IF_ERROR(o.onlyKeys({"revision", "timeout_ms"}));
  if (const Json* v = o.get("revision")) {
    ASSIGN_OR_RETURN(out.revision, toInteger<int64_t>("revision", *v));
    if (out.revision < 0) return invalidField("revision", "must be >= 0");
  }
  if (const Json* v = o.get("timeout_ms")) {
    ASSIGN_OR_RETURN(out.timeout_ms, toInteger<int64_t>("timeout_ms", *v));
    if (out.timeout_ms < 0 || out.timeout_ms > kMaxSyncTimeoutMs) {
      return invalidField("timeout_ms", "must be from 0 to " + std::to_string(kMaxSyncTimeoutMs));
    }
  }
  return out;
}

StatusOr<TraceRequestBody> decodeTraceRequest(std::string_view json) {
  ASSIGN_OR_RETURN(Json doc, parseObject(json));
  FlatObject o(doc);
  RETURN_IF_ERROR(o.onlyKeys({"port", "packets", "arp", "follow"}));
  TraceRequestBody out;
  RETURN_IF_ERROR(o.string("port", out.port));
  if (const Json* v = o.get("packets")) {
    if (!v->is_array()) return wrongType("packets", "an array", *v);
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& item = (*v)[i];
      const std::string field = "packets[" + std::to_string(i) + "]";
      TracePacket packet;
      if (item.is_string()) {
        packet.spec = item.get<std::string>();
        if (out.port.empty()) return invalidField("port", "required for " + field);
      } else if (item.is_object()) {
        for (const auto& [key, value] : item.items()) {
          if (key != "port" && key != "spec") {
            return invalidField(field + "." + key, "unknown field (expected port, spec)");
          }
          if (!value.is_string()) return wrongType(field + "." + key, "a string", value);
        }
        if (!item.contains("spec")) return invalidField(field + ".spec", "required");
        packet.spec = item["spec"].get<std::string>();
        if (item.contains("port")) packet.port = item["port"].get<std::string>();
        if (packet.port.empty() && out.port.empty()) {
          return invalidField(field + ".port", "required (no request-wide port)");
        }
      } else {
        return wrongType(field, "a packet spec string or {\"port\", \"spec\"}", item);
      }
      out.packets.push_back(std::move(packet));
    }
  }
  RETURN_IF_ERROR(o.strings("arp", out.arp));
  if (const Json* v = o.get("follow")) {
    if (!v->is_boolean()) return wrongType("follow", "a boolean", *v);
    out.follow = v->get<bool>();
  }
  if (out.packets.empty()) return invalidField("packets", "at least one packet is required");
  return out;
}

StatusOr<BindingRequest> decodeBindingRequest(std::string_view json) {
  ASSIGN_OR_RETURN(Json doc, parseObject(json));
  FlatObject o(doc);
  RETURN_IF_ERROR(o.onlyKeys({"host_id", "interface_name"}));
  BindingRequest out;
  RETURN_IF_ERROR(o.string("host_id", out.host_id));
  RETURN_IF_ERROR(o.string("interface_name", out.interface_name));
  if (out.host_id.empty()) return invalidField("host_id", "required");
  if (out.interface_name.empty()) return invalidField("interface_name", "required");
  return out;
}

}  // namespace loom::api
