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
// The location with any password masked ("postgresql://ana:***@db/r", "…?password=***"), for
// messages and logs.
std::string RedactUrl(std::string_view location);

// Opens the store `location` names.
StatusOr<std::unique_ptr<MetadataStore>> OpenMetadataStore(const std::string& location,
                                                           const StoreOpenOptions& options);

}  // namespace bimride::registry
