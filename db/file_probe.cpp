#include "db/file_probe.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

namespace parm::db {
namespace {

constexpr std::size_t kHeaderSize = 100;

std::uint32_t big_endian(const unsigned char* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

// Reads the first bytes through the default VFS: its descriptor joins the per-inode list SQLite keeps for
// this process, so closing it never drops the locks of another connection to the same file.
bool read_header(const std::string& path, std::array<unsigned char, kHeaderSize>& header,
                 std::string& error) {
  sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
  if (!vfs) {
    error = "no SQLite file system layer";
    return false;
  }
  // As sqlite3_open does: the full path with symbolic links resolved, so the inode is the one connections
  // see.
  std::string full(static_cast<std::size_t>(vfs->mxPathname) + 1, '\0');
  // SQLITE_OK_SYMLINK (a link was resolved) is success too.
  if ((vfs->xFullPathname(vfs, path.c_str(), static_cast<int>(full.size()), full.data()) & 0xff) !=
      SQLITE_OK) {
    error = "cannot resolve the path";
    return false;
  }
  auto storage = std::make_unique<unsigned char[]>(static_cast<std::size_t>(vfs->szOsFile));
  auto* file = reinterpret_cast<sqlite3_file*>(storage.get());
  std::memset(file, 0, static_cast<std::size_t>(vfs->szOsFile));
  int out_flags = 0;
  if (vfs->xOpen(vfs, full.c_str(), file, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &out_flags) !=
      SQLITE_OK) {
    if (file->pMethods) file->pMethods->xClose(file);
    error = std::strerror(errno ? errno : EACCES);
    return false;
  }
  const int rc = file->pMethods->xRead(file, header.data(), static_cast<int>(header.size()), 0);
  file->pMethods->xClose(file);
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) {  // a short read zero-fills the rest
    error = "read error";
    return false;
  }
  return true;
}

}  // namespace

FileProbe probe_file(const std::string& path) {
  FileProbe probe;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    probe.kind = errno == ENOENT || errno == ENOTDIR ? FileKind::Missing : FileKind::Unreadable;
    probe.error = std::strerror(errno);
    return probe;
  }
  probe.device = static_cast<std::uint64_t>(st.st_dev);
  probe.inode = static_cast<std::uint64_t>(st.st_ino);
  probe.size = static_cast<std::uint64_t>(st.st_size);
  if (S_ISDIR(st.st_mode)) {
    probe.kind = FileKind::Directory;
    return probe;
  }
  if (!S_ISREG(st.st_mode)) {
    probe.kind = FileKind::NotRegular;
    return probe;
  }
  if (probe.size == 0) {
    probe.kind = FileKind::Empty;
    return probe;
  }
  std::array<unsigned char, kHeaderSize> header{};
  if (!read_header(path, header, probe.error)) {
    probe.kind = FileKind::Unreadable;
    return probe;
  }
  if (std::memcmp(header.data(), "SQLite format 3", 16) != 0) {
    probe.kind = FileKind::NotSqlite;
    return probe;
  }
  probe.kind = FileKind::Sqlite;
  probe.wal = header[18] == 2 || header[19] == 2;
  const std::uint32_t raw_page = big_endian(&header[16], 2);
  const std::uint64_t page_size = raw_page == 1 ? 65536 : raw_page;
  // The in-header page count is valid only when its "version-valid-for" matches the change counter.
  if (big_endian(&header[24], 4) == big_endian(&header[92], 4))
    probe.header_bytes = page_size * big_endian(&header[28], 4);
  return probe;
}

std::optional<FileIdentity> file_identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

bool can_write_file(const std::string& path) {
  return ::access(path.c_str(), W_OK) == 0;
}

bool can_create_beside(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  return ::access(dir.c_str(), W_OK | X_OK) == 0;
}

}  // namespace parm::db
