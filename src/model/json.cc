// The schema's JSON form, through protobuf's proto3 JSON mapping.
#include "model/json.h"

#include <google/protobuf/util/json_util.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace loom::model {

StatusOr<v1::Topology> topologyFromJson(std::string_view json) {
  v1::Topology topology;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  try {
    auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(json.data(), json.size()), &topology, options);
    if (!status.ok()) {
      return invalidArgument("topology JSON: " + std::string(status.message()));
    }
  } catch (const std::exception& e) {
    return invalidArgument(std::string("topology JSON: ") + e.what());
  }
  return topology;
}

std::string topologyToJson(const v1::Topology& topology) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  try {
    // Printing a well-formed message cannot fail; on an internal error the text is empty.
    if (!google::protobuf::util::MessageToJsonString(topology, &out, options).ok()) out.clear();
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
}

StatusOr<v1::Topology> loadTopologyFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return notFound("cannot read topology file " + path + ": is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return notFound("cannot read topology file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return notFound("cannot read topology file " + path);
  auto topology = topologyFromJson(text.str());
  if (!topology.ok()) return topology.status().withContext(path);
  return topology;
}

}  // namespace loom::model
