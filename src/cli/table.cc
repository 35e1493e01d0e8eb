#include "cli/table.h"

#include <algorithm>

namespace loom::cli {
namespace {

using nlohmann::json;

std::string scalar(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void flatten(const json& v, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    }
    if (v.empty() && !prefix.empty()) out.emplace_back(prefix, "{}");
    return;
  }
  if (v.is_array()) {
    bool scalars =
        std::all_of(v.begin(), v.end(), [](const json& e) { return !e.is_structured(); });
    if (scalars) {
      std::string joined;
      for (const auto& e : v) joined += (joined.empty() ? "" : ",") + scalar(e);
      out.emplace_back(prefix, joined);
    } else {
      for (size_t i = 0; i < v.size(); ++i) {
        flatten(v[i], prefix + "[" + std::to_string(i) + "]", out);
      }
    }
    return;
  }
  out.emplace_back(prefix, scalar(v));
}

}  // namespace

std::string renderTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) width[c] = headers[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].empty() ? size_t{1} : row[c].size());
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t c = 0; c < headers.size(); ++c) {
      std::string cell = c < cells.size() ? cells[c] : "";
      if (cell.empty()) cell = "-";
      l += cell;
      if (c + 1 < headers.size()) l += std::string(width[c] - cell.size() + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(headers);
  for (const auto& row : rows) line(row);
  return out;
}

std::string renderItems(const KindInfo& kind, const json& items) {
  std::vector<std::string> headers;
  for (const auto& c : kind.columns) headers.emplace_back(c.header);
  std::vector<std::vector<std::string>> rows;
  if (items.is_array()) {
    for (const auto& item : items) {
      std::vector<std::string> row;
      for (const auto& c : kind.columns) row.push_back(c.value(item));
      rows.push_back(std::move(row));
    }
  }
  return renderTable(headers, rows);
}

std::string renderObject(const json& item,
                         const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> fields;
  flatten(item, "", fields);
  auto rank = [](const std::string& k) {
    if (k == "id") return 0;
    if (k == "name") return 1;
    if (k == "tenant_id") return 2;
    return 3;
  };
  std::stable_sort(fields.begin(), fields.end(),
                   [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
  fields.insert(fields.end(), extra.begin(), extra.end());
  size_t width = 0;
  for (const auto& [k, v] : fields) width = std::max(width, k.size());
  std::string out;
  for (const auto& [k, v] : fields) {
    out += k + ":" + (v.empty() ? "" : std::string(width - k.size() + 1, ' ') + v) + "\n";
  }
  return out;
}

}  // namespace loom::cli
