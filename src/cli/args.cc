#include "cli/args.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace loom::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

std::string dashed(std::string s) {
  std::replace(s.begin(), s.end(), '_', '-');
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::optional<bool> parseBool(const std::string& text) {
  std::string t = lower(text);
  if (t == "true" || t == "yes" || t == "on" || t == "1") return true;
  if (t == "false" || t == "no" || t == "off" || t == "0") return false;
  return std::nullopt;
}

// "--name=value" -> ("name", "value"); the name is dashed.
std::pair<std::string, std::optional<std::string>> splitFlag(const std::string& arg) {
  std::string body = arg.substr(arg.rfind("--", 0) == 0 ? 2 : 1);
  size_t eq = body.find('=');
  if (eq == std::string::npos) return {dashed(body), std::nullopt};
  return {dashed(body.substr(0, eq)), body.substr(eq + 1)};
}

bool isFlag(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-') return false;
  if (arg == "--") return false;
  // Negative numbers are values, not flags.
  return !std::isdigit(static_cast<unsigned char>(arg[1]));
}

template <typename T>
StatusOr<json> parseInteger(const std::string& flag, const std::string& text) {
  T v{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return invalidArgument(
        "flag --" + flag + ": '" + text + "' is not " +
        (std::numeric_limits<T>::is_signed ? "an integer" : "a non-negative integer") +
        " in range");
  }
  return json(v);
}

StatusOr<json> scalarValue(const FieldDescriptor* f, const std::string& flag,
                           const std::string& text) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL: {
      auto b = parseBool(text);
      if (!b) return invalidArgument("flag --" + flag + ": '" + text + "' is not true or false");
      return json(*b);
    }
    case FieldDescriptor::CPPTYPE_INT32: return parseInteger<int32_t>(flag, text);
    case FieldDescriptor::CPPTYPE_INT64: return parseInteger<int64_t>(flag, text);
    case FieldDescriptor::CPPTYPE_UINT32: return parseInteger<uint32_t>(flag, text);
    case FieldDescriptor::CPPTYPE_UINT64: return parseInteger<uint64_t>(flag, text);
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      char* end = nullptr;
      double d = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size()) {
        return invalidArgument("flag --" + flag + ": '" + text + "' is not a number");
      }
      return json(d);
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* e = f->enum_type();
      std::string names;
      for (int i = 0; i < e->value_count(); ++i) {
        if (lower(e->value(i)->name()) == lower(text)) return json(e->value(i)->name());
        if (!names.empty()) names += ", ";
        names += e->value(i)->name();
      }
      return invalidArgument("flag --" + flag + ": unknown value '" + text + "' (one of " + names +
                             ")");
    }
    case FieldDescriptor::CPPTYPE_STRING: return json(text);
    case FieldDescriptor::CPPTYPE_MESSAGE: break;
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !(j.is_object() || j.is_array())) {
    return invalidArgument("flag --" + flag + ": expects a JSON " +
                           (f->is_repeated() ? "array or object" : "object") + ", got '" + text +
                           "'");
  }
  return j;
}

// Resolves "condition.tp-dst.start" to its descriptor path; empty when unknown.
std::vector<const FieldDescriptor*> resolveField(const Descriptor* d, const std::string& name) {
  std::vector<const FieldDescriptor*> path;
  std::stringstream ss(name);
  std::string seg;
  while (std::getline(ss, seg, '.')) {
    if (d == nullptr) return {};
    std::string proto_name = seg;
    std::replace(proto_name.begin(), proto_name.end(), '-', '_');
    const FieldDescriptor* f = d->FindFieldByName(proto_name);
    if (f == nullptr) return {};
    path.push_back(f);
    d = (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated()) ? f->message_type()
                                                                                 : nullptr;
  }
  return path;
}

Status setField(json& root, const std::vector<const FieldDescriptor*>& path,
                const std::string& flag, const std::string& text) {
  json* node = &root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    json& child = (*node)[path[i]->name()];
    if (child.is_null()) child = json::object();
    if (!child.is_object()) {
      return invalidArgument("flag --" + flag + ": conflicts with an earlier value of --" +
                             dashed(path[i]->name()));
    }
    node = &child;
  }
  const FieldDescriptor* leaf = path.back();
  json& slot = (*node)[leaf->name()];
  if (!leaf->is_repeated()) {
    ASSIGN_OR_RETURN(slot, scalarValue(leaf, flag, text));
    return okStatus();
  }
  if (!slot.is_array()) slot = json::array();
  if (leaf->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    ASSIGN_OR_RETURN(json v, scalarValue(leaf, flag, text));
    if (v.is_array()) {
      for (auto& e : v) slot.push_back(e);
    } else {
      slot.push_back(v);
    }
    return okStatus();
  }
  if (text.empty()) return okStatus();  // "--addresses ''" clears the list.
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    ASSIGN_OR_RETURN(json v, scalarValue(leaf, flag, trim(item)));
    slot.push_back(v);
  }
  return okStatus();
}

void collectNames(const Descriptor* d, const std::string& prefix, int depth,
                  std::vector<std::string>& out) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    std::string name = prefix + dashed(f->name());
    out.push_back(name);
    if (depth < 4 && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated()) {
      collectNames(f->message_type(), name + ".", depth + 1, out);
    }
  }
}

size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

Status unknownFlag(const std::string& name, const std::vector<OptionSpec>& options,
                   const Descriptor* descriptor) {
  std::vector<std::string> candidates;
  for (const auto& o : options) candidates.push_back(o.name);
  if (descriptor != nullptr) collectNames(descriptor, "", 0, candidates);
  std::string msg = "unknown flag --" + name;
  if (descriptor != nullptr) msg += " for " + descriptor->name();
  auto close = closeMatches(name, candidates);
  if (!close.empty()) {
    msg += "; did you mean";
    for (size_t i = 0; i < close.size(); ++i) msg += (i ? ", --" : " --") + close[i];
    msg += "?";
  }
  return invalidArgument(msg);
}

}  // namespace

std::optional<std::string> realEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

StatusOr<GlobalOptions> extractGlobalOptions(std::vector<std::string>& args, EnvLookup env) {
  GlobalOptions g;
  if (auto v = env("LOOM_API")) g.api_url = *v;
  std::optional<std::string> token = env("LOOM_TOKEN");
  std::optional<std::string> token_file = env("LOOM_TOKEN_FILE");
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    if (a == "-h" || a == "--help") {
      g.help = true;
      continue;
    }
    if (!isFlag(a)) {
      rest.push_back(a);
      continue;
    }
    auto [name, inline_value] = splitFlag(a);
    if (a == "-o" || a.rfind("-o=", 0) == 0) name = "output";
    static const char* kGlobal[] = {"api", "token", "token-file", "output", "timeout-ms"};
    if (std::find(std::begin(kGlobal), std::end(kGlobal), name) == std::end(kGlobal) ||
        (a[1] != '-' && name != "output")) {
      rest.push_back(a);
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return invalidArgument("flag --" + name + " needs a value");
    }
    if (name == "api") {
      g.api_url = value;
    } else if (name == "token") {
      token = value;
      token_file.reset();
    } else if (name == "token-file") {
      token_file = value;
      token.reset();
    } else if (name == "output") {
      if (value == "table") {
        g.output = OutputFormat::Table;
      } else if (value == "json") {
        g.output = OutputFormat::Json;
      } else {
        return invalidArgument("flag --output: '" + value + "' is not table or json");
      }
    } else {
      int ms = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (ec != std::errc() || ptr != value.data() + value.size() || ms <= 0) {
        return invalidArgument("flag --timeout-ms: '" + value + "' is not a positive integer");
      }
      g.timeout_ms = ms;
    }
  }
  if (token) {
    g.token = *token;
  } else if (token_file) {
    std::ifstream in(*token_file);
    if (!in) return invalidArgument("flag --token-file: cannot read '" + *token_file + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    g.token = trim(ss.str());
  }
  if (g.api_url.find("://") == std::string::npos) g.api_url = "http://" + g.api_url;
  while (!g.api_url.empty() && g.api_url.back() == '/') g.api_url.pop_back();
  args = std::move(rest);
  return g;
}

std::string ParsedFlags::value(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return (it == options.end() || it->second.empty()) ? fallback : it->second.back();
}

StatusOr<ParsedFlags> parseFlags(const std::vector<std::string>& args,
                                 const std::vector<OptionSpec>& options,
                                 const Descriptor* descriptor) {
  ParsedFlags out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.positional.insert(out.positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                            args.end());
      break;
    }
    if (!isFlag(a)) {
      out.positional.push_back(a);
      continue;
    }
    auto [name, inline_value] = splitFlag(a);
    if (a[1] != '-') {
      // Single-dash short forms: only -f (file).
      if (name != "f") return invalidArgument("unknown flag " + a);
      name = "file";
    }
    auto opt = std::find_if(options.begin(), options.end(),
                            [&](const OptionSpec& o) { return o.name == name; });
    if (opt != options.end()) {
      std::string value;
      if (opt->takes_value) {
        if (inline_value) {
          value = *inline_value;
        } else if (i + 1 < args.size()) {
          value = args[++i];
        } else {
          return invalidArgument("flag --" + name + " needs a value");
        }
      } else if (inline_value) {
        auto b = parseBool(*inline_value);
        if (!b) return invalidArgument("flag --" + name + " takes no value");
        if (!*b) continue;
      }
      auto& slot = out.options[opt->name];
      if (!opt->repeated) slot.clear();
      slot.push_back(value);
      continue;
    }
    auto path = descriptor != nullptr ? resolveField(descriptor, name)
                                      : std::vector<const FieldDescriptor*>{};
    if (path.empty()) return unknownFlag(name, options, descriptor);
    const FieldDescriptor* leaf = path.back();
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (leaf->cpp_type() == FieldDescriptor::CPPTYPE_BOOL && !leaf->is_repeated()) {
      value = "true";
      if (i + 1 < args.size() && parseBool(args[i + 1]) && !isFlag(args[i + 1])) value = args[++i];
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return invalidArgument("flag --" + name + " needs a value");
    }
    RETURN_IF_ERROR(setField(out.fields, path, name, value));
  }
  return out;
}

std::vector<std::string> fieldFlagNames(const Descriptor* descriptor) {
  std::vector<std::string> out;
  collectNames(descriptor, "", 0, out);
  return out;
}

std::vector<std::string> closeMatches(const std::string& word,
                                      const std::vector<std::string>& candidates) {
  std::vector<std::pair<size_t, std::string>> scored;
  size_t limit = std::max<size_t>(2, word.size() / 3);
  for (const auto& c : candidates) {
    size_t d = editDistance(word, c);
    bool contains = word.size() >= 3 && (c.find(word) != std::string::npos ||
                                         (c.size() >= 3 && word.find(c) != std::string::npos));
    if (d <= limit || contains) scored.emplace_back(contains ? std::min(d, limit) : d, c);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& [d, c] : scored) {
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    if (out.size() == 5) break;
  }
  return out;
}

StatusOr<int64_t> parseDurationMs(const std::string& text) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string unit(ptr, text.data() + text.size());
  if (ec != std::errc() || n < 0) return invalidArgument("bad duration '" + text + "'");
  if (unit == "ms") return n;
  if (unit.empty() || unit == "s") return n * 1000;
  if (unit == "m") return n * 60000;
  return invalidArgument("bad duration '" + text + "' (use e.g. 500ms, 10s, 2m)");
}

}  // namespace loom::cli
