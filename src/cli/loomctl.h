#pragma once
// loomctl: the operator CLI over the REST API (docs/loomctl.md). This is the whole program
// except main(): argument handling, the commands, output. It talks to loom-api only, through a
// Transport, so unit tests run it against a fake.
//
// Exit codes: 0 ok, 1 API error, 2 usage error, 3 loom-api unreachable.

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/client.h"
#include "cli/transfer.h"

namespace loom::cli {

using TransportFactory =
    std::function<std::unique_ptr<Transport>(const std::string& base_url, int timeout_ms)>;

struct Environment {
  TransportFactory transport = makeHttpTransport;
  EnvLookup env = realEnv;
  IdGenerator new_id;  // Fresh ids for import; random UUIDs when unset.
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  std::istream* in = nullptr;  // For "-f -".
};

// `args` excludes the program name.
int runLoomctl(std::vector<std::string> args, const Environment& env);

}  // namespace loom::cli
