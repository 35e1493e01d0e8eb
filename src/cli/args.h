#pragma once
// loomctl's command line: global options, per-command option sets, and field flags derived from
// a kind's protobuf descriptor, mapped to the object's proto3 JSON form.
//
//   --name x --tenant-id t              string fields ('-' and '_' are the same)
//   --addresses a,b   --addresses c     repeated fields: comma lists and/or repeated flags
//   --admin-state-up=false              bools ("--flag" alone is true)
//   --next-hop PORT  --action accept    enums by value name (any case)
//   --condition.tp-dst.start 22         nested messages with dots
//   --members '[{"host_id":..}]'        message-typed fields take JSON
//
// Errors are InvalidArgument naming the flag; an unknown flag lists close matches.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <nlohmann/json.hpp>

#include "base/status.h"

namespace loom::cli {

enum class OutputFormat { Table, Json };

struct GlobalOptions {
  std::string api_url = "http://127.0.0.1:8080";
  std::string token;
  int timeout_ms = 10000;
  OutputFormat output = OutputFormat::Table;
  bool help = false;
};

// Looks an environment variable up; injected so tests do not read the real environment.
using EnvLookup = std::optional<std::string> (*)(const char* name);
std::optional<std::string> realEnv(const char* name);

// Removes the global options (anywhere on the line) from `args` and returns them. Defaults come
// from LOOM_API and LOOM_TOKEN; --token-file reads the token from a file.
StatusOr<GlobalOptions> extractGlobalOptions(std::vector<std::string>& args, EnvLookup env);

// A command's own options (not object fields).
struct OptionSpec {
  std::string name;  // Without dashes, '-' separated: "position", "no-follow".
  bool takes_value = true;
  bool repeated = false;
};

struct ParsedFlags {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;  // By OptionSpec::name.
  nlohmann::json fields = nlohmann::json::object();         // Field flags, proto3 JSON.

  bool has(const std::string& name) const { return options.count(name) > 0; }
  // The last value of an option, or `fallback`.
  std::string value(const std::string& name, const std::string& fallback = "") const;
};

// Parses `args` against `options` and, when `descriptor` is set, the descriptor's fields.
StatusOr<ParsedFlags> parseFlags(const std::vector<std::string>& args,
                                 const std::vector<OptionSpec>& options,
                                 const google::protobuf::Descriptor* descriptor);

// Every field flag a descriptor accepts ("name", "condition.tp-dst.start"), dashed.
std::vector<std::string> fieldFlagNames(const google::protobuf::Descriptor* descriptor);
// Candidates within a small edit distance of `word` (or containing it), best first, at most 5.
std::vector<std::string> closeMatches(const std::string& word,
                                      const std::vector<std::string>& candidates);

// Parses "10s", "500ms", "2m", "3" (seconds) into milliseconds.
StatusOr<int64_t> parseDurationMs(const std::string& text);

}  // namespace loom::cli
