#include "fake_api.h"

#include <algorithm>
#include <functional>
#include <sstream>

#include "base/uuid.h"

namespace loom::cli::testing {
namespace {

using nlohmann::json;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep)) out.push_back(part);
  return out;
}

std::string decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Does `j` (not counting a top-level "id") hold the string `id` anywhere?
bool mentions(const json& j, const std::string& id, bool top = true) {
  if (j.is_string()) return j.get<std::string>() == id;
  if (j.is_array()) {
    return std::any_of(j.begin(), j.end(), [&](const json& e) { return mentions(e, id, false); });
  }
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (top && it.key() == "id") continue;
      if (mentions(it.value(), id, false)) return true;
    }
  }
  return false;
}

std::string kindOf(const std::string& collection) {
  return collection.substr(0, collection.size() - 1);
}

}  // namespace

HttpResponse jsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  if (body.is_object() && body.contains("revision")) {
    r.headers["x-loom-revision"] = body["revision"].dump();
  }
  return r;
}

HttpResponse errorResponse(int status, const std::string& code, const std::string& message,
                           const std::string& field) {
  json e = {{"code", code}, {"message", message}};
  if (!field.empty()) e["field"] = field;
  return jsonResponse(status, json{{"error", e}});
}

HttpResponse FakeApi::send(const HttpRequest& request) {
  requests.push_back(request);
  if (unreachable) {
    HttpResponse r;
    r.transport_error = "Could not establish connection";
    return r;
  }
  if (next_response) {
    HttpResponse r = *next_response;
    next_response.reset();
    return r;
  }
  if (!token.empty()) {
    bool ok = std::any_of(request.headers.begin(), request.headers.end(), [&](const auto& h) {
      return h.first == "Authorization" && h.second == "Bearer " + token;
    });
    if (!ok) return errorResponse(401, "UNAUTHENTICATED", "missing or wrong bearer token");
  }
  return handle(request);
}

HttpResponse FakeApi::handle(const HttpRequest& request) {
  std::string path = request.path;
  std::map<std::string, std::string> query;
  if (size_t q = path.find('?'); q != std::string::npos) {
    for (const auto& kv : split(path.substr(q + 1), '&')) {
      size_t eq = kv.find('=');
      query[decode(kv.substr(0, eq))] = eq == std::string::npos ? "" : decode(kv.substr(eq + 1));
    }
    path = path.substr(0, q);
  }
  auto parts = split(path, '/');  // "", "api", "v1", coll, id, sub
  if (parts.size() < 4) return errorResponse(404, "NOT_FOUND", "no such path");
  const std::string coll = parts[3];
  const std::string& m = request.method;
  json body = request.body.empty() ? json() : json::parse(request.body, nullptr, false);

  if (coll == "trace" && m == "POST") {
    std::string text = "trace from " + body["port"].get<std::string>() + ":";
    for (const auto& p : body["packets"]) {
      text += p.is_string()
                  ? " [" + p.get<std::string>() + "]"
                  : " [" + p["port"].get<std::string>() + ": " + p["spec"].get<std::string>() + "]";
    }
    text += body["follow"].get<bool>() ? " follow" : " no-follow";
    return jsonResponse(200, json{{"revision", revision}, {"text", text}});
  }
  if (coll == "sync" && m == "POST") {
    if (sync_lagging) {
      json e = {{"error", {{"code", "DEADLINE_EXCEEDED"}, {"message", "hosts lag behind"}}},
                {"lagging", json::array({{{"host_id", "h1"}, {"applied_revision", 3}}})}};
      return jsonResponse(504, e);
    }
    return jsonResponse(200, json{{"revision", revision}, {"hosts", json::array()}});
  }

  auto& items = objects[coll];
  if (parts.size() == 4 && m == "GET") {
    std::vector<json> found;
    for (const auto& [id, obj] : items) {
      if (query.count("tenant_id") && obj.value("tenant_id", "") != query["tenant_id"]) continue;
      if (query.count("parent_id")) {
        const std::string& p = query["parent_id"];
        if (obj.value("bridge_id", "") != p && obj.value("router_id", "") != p &&
            obj.value("chain_id", "") != p) {
          continue;
        }
      }
      found.push_back(obj);
    }
    if (coll == "rules" && query.count("parent_id")) {
      json order = objects["chains"][query["parent_id"]].value("rule_ids", json::array());
      auto pos = [&](const json& r) {
        auto it = std::find(order.begin(), order.end(), r["id"]);
        return it - order.begin();
      };
      std::stable_sort(found.begin(), found.end(),
                       [&](const json& a, const json& b) { return pos(a) < pos(b); });
    }
    size_t start = query.count("page_token") ? std::stoul(query["page_token"]) : 0;
    json page = json::array();
    for (size_t i = start; i < found.size() && i < start + page_size; ++i) page.push_back(found[i]);
    json reply = {{"items", page}, {"revision", revision}};
    if (start + page_size < found.size())
      reply["next_page_token"] = std::to_string(start + page_size);
    return jsonResponse(200, reply);
  }
  if (parts.size() == 4 && m == "POST") {
    if (!body.is_object()) return errorResponse(400, "INVALID_ARGUMENT", "bad JSON");
    if (!body.contains("id")) body["id"] = Uuid::random().toString();
    std::string id = body["id"];
    if (items.count(id)) return errorResponse(409, "ALREADY_EXISTS", id + " exists");
    if (coll == "chains") body.erase("rule_ids");
    if (coll == "rules") {
      json& chain = objects["chains"][body.value("chain_id", "")];
      if (chain.is_null()) return errorResponse(400, "INVALID_ARGUMENT", "no chain", "chain_id");
      json& ids = chain["rule_ids"];
      if (ids.is_null()) ids = json::array();
      if (query.count("position")) {
        ids.insert(ids.begin() + std::stol(query["position"]), id);
      } else {
        ids.push_back(id);
      }
    }
    ++revision;
    items[id] = body;
    mod_revision[id] = revision;
    return jsonResponse(201, json{{"revision", revision}, {"item", body}});
  }
  if (parts.size() < 5) return errorResponse(405, "UNIMPLEMENTED", "method");
  const std::string id = decode(parts[4]);
  if (!items.count(id))
    return errorResponse(404, "NOT_FOUND", kindOf(coll) + " " + id + " not found");
  if (parts.size() == 6 && parts[5] == "referrers") {
    json refs = json::array();
    for (const auto& [c, objs] : objects) {
      for (const auto& [oid, obj] : objs) {
        if (mentions(obj, id))
          refs.push_back({{"kind", kindOf(c)}, {"id", oid}, {"fields", {"?"}}});
      }
    }
    return jsonResponse(200, json{{"referrers", refs}});
  }
  if (m == "GET") {
    return jsonResponse(200, json{{"item", items[id]}, {"mod_revision", mod_revision[id]}});
  }
  for (const auto& [k, v] : request.headers) {
    if (k == "If-Match" && v != "\"" + std::to_string(mod_revision[id]) + "\"") {
      return errorResponse(409, "ABORTED", "concurrent modification of " + kindOf(coll) + " " + id);
    }
  }
  if (m == "PUT") {
    if (coll == "chains" && body.value("rule_ids", json::array()).empty()) {
      body["rule_ids"] = items[id].value("rule_ids", json::array());
    }
    if (coll == "ports" && !body.value("peer_id", "").empty()) {
      json& peer = items[body["peer_id"].get<std::string>()];
      peer["peer_id"] = id;
    }
    ++revision;
    items[id] = body;
    mod_revision[id] = revision;
    return jsonResponse(200, json{{"revision", revision}, {"item", body}});
  }
  if (m == "DELETE") {
    bool cascade = query.count("cascade") > 0;
    json deleted = json::array();
    for (auto& [c, objs] : objects) {
      for (auto it = objs.begin(); it != objs.end();) {
        if (mentions(it->second, id)) {
          if (!cascade) {
            return errorResponse(
                409, "FAILED_PRECONDITION",
                kindOf(coll) + " " + id + " is referenced by " + kindOf(c) + " " + it->first);
          }
          deleted.push_back({{"kind", kindOf(c)}, {"id", it->first}});
          it = objs.erase(it);
        } else {
          ++it;
        }
      }
    }
    items.erase(id);
    deleted.push_back({{"kind", kindOf(coll)}, {"id", id}});
    ++revision;
    return jsonResponse(200, json{{"revision", revision},
                                  {"deleted", deleted},
                                  {"updated", json::array()},
                                  {"transactions", 1}});
  }
  return errorResponse(405, "UNIMPLEMENTED", "method");
}

}  // namespace loom::cli::testing
