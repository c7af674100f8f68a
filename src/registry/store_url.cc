#include "registry/store_url.h"

#include "registry/postgres_metadata_store.h"
#include "registry/sqlite_metadata_store.h"

namespace bimride::registry {

bool IsPostgresUrl(std::string_view location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::string SqlitePathOf(std::string_view location) {
  constexpr std::string_view kScheme = "sqlite:";
  if (location.rfind(kScheme, 0) != 0) return std::string(location);
  std::string_view rest = location.substr(kScheme.size());
  // sqlite:///abs/path (an empty authority) → /abs/path
  if (rest.rfind("//", 0) == 0) rest.remove_prefix(2);
  return std::string(rest);
}

StatusOr<std::unique_ptr<MetadataStore>> OpenMetadataStore(const std::string& location,
                                                           const StoreOpenOptions& options) {
  if (location.empty()) return InvalidArgumentError("metadata store: empty location");
  if (IsPostgresUrl(location)) {
    PostgresMetadataStore::Options pg;
    pg.read_only = options.read_only;
    ASSIGN_OR_RETURN(std::unique_ptr<PostgresMetadataStore> store,
                     PostgresMetadataStore::Open(location, pg));
    return std::unique_ptr<MetadataStore>(std::move(store));
  }
  size_t colon = location.find(':');
  size_t slash = location.find('/');
  if (location.rfind("sqlite:", 0) != 0 && colon != std::string::npos && colon > 1 &&
      (slash == std::string::npos || colon < slash) && location.find("://") == colon) {
    return InvalidArgumentError(RedactUrl(location) +
                                ": unknown metadata store scheme (known: postgresql://, "
                                "postgres://, sqlite:, or a file path)");
  }
  std::string path = SqlitePathOf(location);
  if (path.empty()) return InvalidArgumentError(location + ": no SQLite file path after sqlite:");
  SqliteMetadataStore::Options sq;
  sq.read_only = options.read_only;
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteMetadataStore> store, SqliteMetadataStore::Open(path, sq));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

}  // namespace bimride::registry
