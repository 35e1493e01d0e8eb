#pragma once
// Text output: aligned tables for lists and "key: value" blocks for single objects.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/kinds.h"

namespace loom::cli {

// Columns separated by two spaces, each as wide as its widest cell; the last column is not
// padded. Empty cells print as "-".
std::string renderTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows);

// A kind's list as a table of its columns.
std::string renderItems(const KindInfo& kind, const nlohmann::json& items);

// One object as "field: value" lines; nested fields dotted ("condition.tp_dst.start"), arrays
// of scalars comma-joined, arrays of objects indexed ("members[0].host_id").
// `extra` lines follow the object's fields.
std::string renderObject(const nlohmann::json& item,
                         const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace loom::cli
