// Where a registry's metadata store lives, as one string (the `--db` flag of `bimride models` /
// `bimride runs`, or $BIMRIDE_REGISTRY_URL when the flag is not given):
//
//   postgresql://user[:password]@host[:port]/db[?param=…]  (or postgres://)  PostgresMetadataStore
//   sqlite:PATH, sqlite:///ABS/PATH, or a plain PATH                         SqliteMetadataStore
//
// With neither, a registry uses `<repo>/.bimride/registry.db` (DefaultDatabasePath).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/redact.h"
#include "common/status.h"
#include "registry/metadata_store.h"

namespace bimride::registry {

// The environment variable naming the default store location.
inline constexpr const char* kRegistryUrlEnv = "BIMRIDE_REGISTRY_URL";

struct StoreOpenOptions {
  bool read_only = false;
};

// True for postgresql:// and postgres:// URLs.
bool IsPostgresUrl(std::string_view location);
// The SQLite file of a non-PostgreSQL location ("sqlite:a.db" → "a.db",
// "sqlite:///srv/r.db" → "/srv/r.db", "a.db" → "a.db").
std::string SqlitePathOf(std::string_view location);
// RedactUrl (common/redact.h) masks a location's password for messages.
using ::bimride::RedactUrl;

// Opens the store `location` names.
StatusOr<std::unique_ptr<MetadataStore>> OpenMetadataStore(const std::string& location,
                                                           const StoreOpenOptions& options);

}  // namespace bimride::registry
