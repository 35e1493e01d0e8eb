#pragma once
// The API's OpenAPI 3.0 document, generated from the protobuf descriptors of every kind (so
// the schemas cannot drift from proto/loom/v1/topology.proto) plus the routes of docs/api.md.
// Served at GET /api/v1/openapi.json.

#include <string>

namespace loom::api {

// The document as JSON text (built once; deterministic).
std::string buildOpenApiDocument();

}  // namespace loom::api
