#pragma once
// A real ApiServer on 127.0.0.1:<free port> over the shared test etcd (a unique root per test),
// with its own replica, and an httplib::Client that talks to it over real HTTP.

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/server.h"
#include "etcd/client.h"
#include "replica/replica.h"
#include "store/object_store.h"
#include "support/etcd_process.h"

namespace loom::testing {

using Json = nlohmann::json;

struct HttpResult {
  int status = 0;  // 0: no response (connection error).
  Json json;       // The body parsed (null if it is not JSON).
  std::string body;
  httplib::Headers headers;
  double seconds = 0;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  std::string errorCode() const { return json.value("/error/code"_json_pointer, ""); }
  std::string errorField() const { return json.value("/error/field"_json_pointer, ""); }
  // For assertion messages.
  std::string describe() const { return std::to_string(status) + " " + body; }
};

class ApiTestBase : public ::testing::Test {
 protected:
  // Starts etcd client, store, replica and server; ASSERTs on failure.
  void startAll(api::ApiServerOptions options = {},
                const etcd::ClientOptions* client_options = nullptr) {
    root_ = uniqueRoot();
    auto client = etcd::EtcdClient::create(
        client_options != nullptr ? *client_options : sharedEtcd().clientOptions());
    ASSERT_TRUE(client.ok()) << client.status().toString();
    client_ = std::move(*client);
    store_ = std::make_unique<store::ObjectStore>(*client_, root_);
    replica::ReplicaOptions ro;
    ro.root = root_;
    ro.track_progress = true;  // The API's replica follows the hosts' progress (for sync).
    auto rep = replica::Replica::start(*client_, ro);
    ASSERT_TRUE(rep.ok()) << rep.status().toString();
    replica_ = std::move(*rep);
    options.port = 0;
    options.threads = 4;
    token_ = options.token;
    server_ = std::make_unique<api::ApiServer>(options, *client_, *store_, replica_.get());
    Status s = server_->start();
    ASSERT_TRUE(s.ok()) << s.toString();
    ASSERT_GT(server_->port(), 0);
  }

  void TearDown() override {
    if (server_) server_->stop();
    server_.reset();
    replica_.reset();
    store_.reset();
    client_.reset();
  }

  HttpResult call(const std::string& method, const std::string& path, const std::string& body = "",
                  httplib::Headers headers = {},
                  const std::string& content_type = "application/json") {
    httplib::Client http("127.0.0.1", server_->port());
    http.set_connection_timeout(5);
    http.set_read_timeout(30);
    http.set_write_timeout(10);
    if (!token_.empty() && headers.find("Authorization") == headers.end()) {
      headers.emplace("Authorization", "Bearer " + token_);
    }
    auto start = std::chrono::steady_clock::now();
    auto send = [&]() -> httplib::Result {
      if (method == "POST") return http.Post(path, headers, body, content_type);
      if (method == "PUT") return http.Put(path, headers, body, content_type);
      if (method == "DELETE") return http.Delete(path, headers, body, content_type);
      if (method == "PATCH") return http.Patch(path, headers, body, content_type);
      return http.Get(path, headers);
    };
    httplib::Result r = send();
    HttpResult out;
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r) return out;
    out.status = r->status;
    out.body = r->body;
    out.headers = r->headers;
    out.json = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (out.json.is_discarded()) out.json = Json();
    return out;
  }
  HttpResult get(const std::string& path) { return call("GET", path); }
  HttpResult post(const std::string& path, const Json& body) {
    return call("POST", path, body.dump());
  }
  HttpResult put(const std::string& path, const Json& body) {
    return call("PUT", path, body.dump());
  }
  HttpResult del(const std::string& path) { return call("DELETE", path); }

  // POSTs and expects 201; returns the created item.
  Json create(const std::string& coll, const Json& object) {
    HttpResult r = post("/api/v1/" + coll, object);
    EXPECT_EQ(r.status, 201) << coll << ": " << r.describe();
    return r.json.value("item", Json::object());
  }

  std::string root_;
  std::string token_;
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<replica::Replica> replica_;
  std::unique_ptr<api::ApiServer> server_;
};

}  // namespace loom::testing
