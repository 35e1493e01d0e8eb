#pragma once
// Shared plumbing of loomctl's commands (internal to src/cli).

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/client.h"
#include "cli/kinds.h"
#include "cli/loomctl.h"

namespace loom::cli {

class Context {
 public:
  Context(GlobalOptions global, const Environment& env) : global_(std::move(global)), env_(env) {}

  const GlobalOptions& global() const { return global_; }
  bool json() const { return global_.output == OutputFormat::Json; }
  std::ostream& out() { return *env_.out; }
  std::ostream& err() { return *env_.err; }
  std::istream& in() { return *env_.in; }
  const Environment& env() const { return env_; }

  // The API client; the transport's timeout is at least `min_timeout_ms`.
  ApiClient& api(int min_timeout_ms = 0);

  // Prints a failed reply; returns its exit code.
  int fail(const Reply& reply, Operation op = Operation::Other, const std::string& detail = "");
  // Prints "error: <message>" (and the usage line when given); returns kExitUsage.
  int usage(const std::string& message, const std::string& usage_line = "");
  // Prints "error: <message>"; returns kExitApiError.
  int error(const std::string& message);

  // Pretty JSON to out().
  void printJson(const nlohmann::json& j);

 private:
  GlobalOptions global_;
  const Environment& env_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<ApiClient> api_;
  int timeout_ms_ = 0;
};

std::string collectionPath(const KindInfo& kind);
std::string objectPath(const KindInfo& kind, const std::string& id);

// Appends the ids of the kind's objects named `name`; returns an exit code.
int lookupByName(Context& ctx, const KindInfo& kind, const std::string& name,
                 std::vector<std::string>& matches);
// `arg` is an id (UUID) or the name of exactly one object of the kind. Returns an exit code;
// on success `id` is set.
int resolveId(Context& ctx, const KindInfo& kind, const std::string& arg, std::string& id);

// Replaces names by ids in the reference fields of field flags ("--bridge-id net-a",
// "--condition.in-port-ids vm1,vm2"). Returns an exit code.
int resolveReferences(Context& ctx, nlohmann::json& fields);

// Reads --json or -f (file, "-" = stdin) into `body` (unchanged when neither is given).
int readBody(Context& ctx, const ParsedFlags& flags, nlohmann::json& body);

// Commands other than the per-kind verbs (ops.cc).
int cmdBinding(Context& ctx, const std::vector<std::string>& args);
int cmdHostStatus(Context& ctx, const std::vector<std::string>& args);
int cmdPortStatus(Context& ctx, const std::vector<std::string>& args);
int cmdWaitSync(Context& ctx, const std::vector<std::string>& args);
int cmdTrace(Context& ctx, const std::vector<std::string>& args);
// transfer_cmd.cc
int cmdExport(Context& ctx, const std::vector<std::string>& args);
int cmdImport(Context& ctx, const std::vector<std::string>& args);

}  // namespace loom::cli
