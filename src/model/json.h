#pragma once
// The schema's JSON form (proto3 JSON mapping, lower_snake_case field names): export/import and
// the trace tool's input. Unknown fields are errors, so a typo is reported, not ignored.

#include <string>
#include <string_view>

#include "base/status.h"
#include "loom/v1/topology.pb.h"

namespace loom::model {

// InvalidArgument with the parser's message (which names the field at fault) on bad input.
StatusOr<v1::Topology> topologyFromJson(std::string_view json);
std::string topologyToJson(const v1::Topology& topology);
// Reads and parses a file; NotFound if it cannot be read.
StatusOr<v1::Topology> loadTopologyFile(const std::string& path);

}  // namespace loom::model
