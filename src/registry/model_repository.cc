#include "registry/model_repository.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <openssl/evp.h>
#include <random>
#include <set>

#include "common/file.h"
#include "registry/sha256.h"

namespace bimride::registry {
namespace {

namespace fs = std::filesystem;

std::string RandomHex(int bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string out;
  for (int i = 0; i < bytes; ++i) {
    unsigned v = rd() & 0xff;
    out += kHex[v >> 4];
    out += kHex[v & 0xf];
  }
  return out;
}

Status FsyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open for fsync", path, errno);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync", path, e);
  return OkStatus();
}

// Copies `src` to a new file `dst`, hashing on the way, and fsyncs it.
StatusOr<FileDigest> CopyAndHash(const std::string& src, const std::string& dst,
                                 const std::string& name) {
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoError("open", src, errno);
  struct stat st {};
  if (::fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(in);
    return InvalidArgumentError(src + ": not a regular file");
  }
  int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    int e = errno;
    ::close(in);
    return ErrnoError("create", dst, e);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  auto fail = [&](Status s) {
    EVP_MD_CTX_free(ctx);
    ::close(in);
    ::close(out);
    return s;
  };
  std::vector<char> buf(1 << 20);
  int64_t total = 0;
  while (true) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrnoError("read", src, errno));
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
    ssize_t off = 0;
    while (off < n) {
      ssize_t w = ::write(out, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        return fail(ErrnoError("write", dst, errno));
      }
      off += w;
    }
    total += n;
  }
  if (::fsync(out) != 0) return fail(ErrnoError("fsync", dst, errno));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  ::close(in);
  if (::close(out) != 0) return ErrnoError("close", dst, errno);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return FileDigest{name, total, hex};
}

// Largest version number among the folders of `model_dir` (0 when none).
StatusOr<int64_t> MaxVersion(const std::string& model_dir) {
  std::error_code ec;
  int64_t max_version = 0;
  for (fs::directory_iterator it(model_dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto v = ParseVersionDirName(it->path().filename().string());
    if (v.ok()) max_version = std::max(max_version, *v);
  }
  if (ec) return ErrnoError("list", model_dir, ec.value());
  return max_version;
}

// rename(2) that fails with EEXIST when `to` exists (even as an empty folder).
int RenameNoReplace(const std::string& from, const std::string& to) {
  int rc = ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && errno == EINVAL) {
    // Filesystem without RENAME_NOREPLACE: rename(2) still refuses a non-empty target, and
    // every version folder holds manifest.json.
    rc = ::rename(from.c_str(), to.c_str());
  }
  return rc;
}

bool OlderThanMinutes(const fs::path& path, int64_t minutes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  return std::time(nullptr) - st.st_mtime >= minutes * 60;
}

}  // namespace

StatusOr<int64_t> ParseVersionDirName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 18 && name[0] >= '1' && name[0] <= '9' &&
            std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!ok) {
    return InvalidArgumentError("version folder name '" + name +
                                "' is not a version number (a decimal integer >= 1)");
  }
  return std::stoll(name);
}

ModelRepository::ModelRepository(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string ModelRepository::ModelDir(const std::string& model) const {
  return root_ + "/" + model;
}

std::string ModelRepository::VersionDir(const std::string& model, int64_t version) const {
  return ModelDir(model) + "/" + std::to_string(version);
}

StatusOr<Manifest> ModelRepository::Publish(const std::vector<ArtifactFile>& files,
                                            Manifest manifest,
                                            const PublishOptions& options) const {
  if (files.empty()) return InvalidArgumentError("publish: no files given");
  std::vector<ArtifactFile> named = files;
  std::set<std::string> names;
  for (ArtifactFile& f : named) {
    if (f.name.empty()) f.name = fs::path(f.source_path).filename().string();
    if (!names.insert(f.name).second) {
      return InvalidArgumentError("publish: two files named '" + f.name + "'");
    }
  }
  if (manifest.artifacts.empty()) {
    for (const ArtifactFile& f : named) manifest.artifacts.push_back(f.name);
  }
  for (const std::string& a : manifest.artifacts) {
    if (!names.count(a)) {
      return InvalidArgumentError("publish: manifest artifact '" + a + "' is not among the files");
    }
  }
  manifest.version = 0;
  manifest.files.clear();
  {
    Status s = ValidateManifest(manifest, /*require_version=*/false);
    if (!s.ok()) return s.WithContext("publish " + manifest.name + ": manifest");
  }
  for (const ArtifactFile& f : named) {
    if (!FileExists(f.source_path)) {
      return NotFoundError(f.source_path + ": no such file to publish");
    }
  }

  const std::string model_dir = ModelDir(manifest.name);
  RETURN_IF_ERROR(MakeDirs(model_dir));
  if (options.stale_staging_minutes > 0) CleanStaging(manifest.name, options.stale_staging_minutes);

  const std::string staging = model_dir + "/" + kStagingPrefix + std::to_string(::getpid()) +
                              "-" + RandomHex(8);
  if (::mkdir(staging.c_str(), 0755) != 0) return ErrnoError("mkdir", staging, errno);
  auto abandon = [&](Status s) -> Status {
    std::error_code ec;
    fs::remove_all(staging, ec);
    return s;
  };

  for (const ArtifactFile& f : named) {
    std::string dst = staging + "/" + f.name;
    std::error_code ec;
    fs::create_directories(fs::path(dst).parent_path(), ec);
    if (ec) return abandon(ErrnoError("mkdir", fs::path(dst).parent_path().string(), ec.value()));
    StatusOr<FileDigest> digest = CopyAndHash(f.source_path, dst, f.name);
    if (!digest.ok()) return abandon(digest.status());
    manifest.files.push_back(std::move(*digest));
  }
  manifest.created_at = NowRfc3339();

  bool hook_called = false;
  for (int attempt = 0; attempt < 10000; ++attempt) {
    StatusOr<int64_t> max_version = MaxVersion(model_dir);
    if (!max_version.ok()) return abandon(max_version.status());
    manifest.version = *max_version + 1;
    Status valid = ValidateManifest(manifest, /*require_version=*/true);
    if (!valid.ok()) return abandon(valid.WithContext("publish " + manifest.name));
    Status written = WriteFileAtomic(staging + "/" + kManifestFileName, ManifestToJson(manifest));
    if (!written.ok()) return abandon(written);
    Status synced = FsyncPath(staging, /*directory=*/true);
    if (!synced.ok()) return abandon(synced);
    if (options.before_commit && !hook_called) {
      hook_called = true;
      options.before_commit(staging);
    }
    const std::string target = VersionDir(manifest.name, manifest.version);
    if (RenameNoReplace(staging, target) == 0) {
      RETURN_IF_ERROR(FsyncPath(model_dir, /*directory=*/true));
      return manifest;
    }
    int e = errno;
    if (e != EEXIST && e != ENOTEMPTY) return abandon(ErrnoError("rename", target, e));
    // Another publisher took this number first: take the next one.
  }
  return abandon(InternalError(model_dir + ": publish: could not claim a version number"));
}

StatusOr<std::vector<std::string>> ModelRepository::ListModels() const {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(root_, ec)) return out;
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code dir_ec;
    if (IsValidModelName(name) && it->is_directory(dir_ec)) out.push_back(name);
  }
  if (ec) return ErrnoError("list", root_, ec.value());
  std::sort(out.begin(), out.end());
  return out;
}

StatusOr<Manifest> ModelRepository::LoadVersion(const std::string& model, int64_t version,
                                                VerifyMode mode) const {
  const std::string dir = VersionDir(model, version);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFoundError(dir + ": no such model version");
    return ErrnoError("stat", dir, errno);
  }
  if (!S_ISDIR(st.st_mode)) return DataLossError(dir + ": not a folder");
  const std::string manifest_path = dir + "/" + kManifestFileName;
  if (!FileExists(manifest_path)) {
    return DataLossError(dir + ": no " + std::string(kManifestFileName) +
                         " (partial or foreign folder, not a published version)");
  }
  ASSIGN_OR_RETURN(Manifest m, ReadManifest(manifest_path));
  if (m.name != model || m.version != version) {
    return DataLossError(manifest_path + ": manifest is for " + m.name + "/" +
                         std::to_string(m.version) + " but sits in " + model + "/" +
                         std::to_string(version));
  }
  std::set<std::string> listed;
  for (const FileDigest& f : m.files) {
    listed.insert(f.name);
    const std::string path = dir + "/" + f.name;
    struct stat fst {};
    if (::stat(path.c_str(), &fst) != 0) {
      if (errno == ENOENT) return DataLossError(path + ": missing (listed in manifest)");
      return ErrnoError("stat", path, errno);
    }
    if (fst.st_size != f.size_bytes) {
      return DataLossError(path + ": size " + std::to_string(fst.st_size) +
                           " bytes, manifest says " + std::to_string(f.size_bytes) +
                           " (truncated or modified)");
    }
    if (mode == VerifyMode::kFull) {
      ASSIGN_OR_RETURN(std::string digest, Sha256File(path));
      if (digest != f.sha256) {
        return DataLossError(path + ": sha256 mismatch: manifest says " + f.sha256 +
                             ", file has " + digest);
      }
    }
  }
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec)) continue;
    std::string rel = fs::relative(it->path(), dir, type_ec).string();
    if (rel != kManifestFileName && !listed.count(rel)) {
      return DataLossError(it->path().string() + ": file not listed in manifest");
    }
  }
  if (ec) return ErrnoError("list", dir, ec.value());
  return m;
}

StatusOr<ModelScan> ModelRepository::ScanModel(const std::string& model, VerifyMode mode) const {
  const std::string model_dir = ModelDir(model);
  std::error_code ec;
  if (!IsValidModelName(model) || !fs::is_directory(model_dir, ec)) {
    return NotFoundError(model_dir + ": no such model");
  }
  ModelScan scan;
  std::vector<std::pair<int64_t, std::string>> numbered;
  for (fs::directory_iterator it(model_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;  // e.g. labels files beside the versions
    if (name.rfind(kStagingPrefix, 0) == 0) {
      scan.staging_dirs.push_back(it->path().string());
      continue;
    }
    if (name[0] == '.') continue;
    StatusOr<int64_t> v = ParseVersionDirName(name);
    if (!v.ok()) {
      scan.problems.push_back({it->path().string(), v.status().WithContext(it->path().string())});
      continue;
    }
    numbered.emplace_back(*v, it->path().string());
  }
  if (ec) return ErrnoError("list", model_dir, ec.value());
  std::sort(numbered.begin(), numbered.end());
  for (const auto& [version, path] : numbered) {
    StatusOr<Manifest> m = LoadVersion(model, version, mode);
    if (m.ok()) {
      scan.versions.push_back(std::move(*m));
    } else {
      scan.problems.push_back({path, m.status()});
    }
  }
  std::sort(scan.staging_dirs.begin(), scan.staging_dirs.end());
  return scan;
}

StagingCleanup ModelRepository::CleanStaging(const std::string& model,
                                             int64_t older_than_minutes) const {
  StagingCleanup out;
  std::error_code ec;
  for (fs::directory_iterator it(ModelDir(model), ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind(kStagingPrefix, 0) != 0) continue;
    if (older_than_minutes > 0 && !OlderThanMinutes(it->path(), older_than_minutes)) continue;
    std::error_code rm_ec;
    fs::remove_all(it->path(), rm_ec);
    if (rm_ec) {
      out.failures.push_back({it->path().string(),
                              ErrnoError("remove", it->path().string(), rm_ec.value())});
    } else {
      out.removed.push_back(it->path().string());
    }
  }
  return out;
}

}  // namespace bimride::registry
