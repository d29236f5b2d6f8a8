// What a path holds, decided before (or beside) any SQLite connection to it without a descriptor of our own:
// POSIX advisory locks belong to the process, and closing any descriptor of a file drops every lock the
// process holds on it, SQLite's included ("How To Corrupt An SQLite Database File", section 2.2). The header
// is therefore read through SQLite's own VFS, which shares descriptors and locks per inode with the
// connections of this process; everything else comes from stat(2), which opens nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace parm::db {

enum class FileKind {
  Missing,
  Directory,
  NotRegular,  // a FIFO, a device, a socket: never opened (a FIFO would block)
  Unreadable,
  Empty,
  NotSqlite,  // no "SQLite format 3" header: a text file, a JSON file, anything else
  Sqlite,
};

struct FileProbe {
  FileKind kind = FileKind::Missing;
  std::uint64_t size = 0;
  std::uint64_t device = 0, inode = 0;  // the file's identity, for "the same file by another path"
  bool wal = false;                     // the header says WAL mode (format versions 2)
  std::uint64_t header_bytes = 0;       // page size x in-header page count: what the file should hold
  std::string error;                    // why it could not be read (Unreadable)
};

FileProbe probe_file(const std::string& path);

// Device and inode of the file `path` names (following symbolic links); nullopt when it does not exist.
struct FileIdentity {
  std::uint64_t device = 0, inode = 0;
  bool operator==(const FileIdentity&) const = default;
};
std::optional<FileIdentity> file_identity(const std::string& path);

// Whether this process may write the file, and create files beside it (SQLite's -wal and -shm): false on a
// read-only file, folder or mount, and on an immutable file (chattr +i), for root too.
bool can_write_file(const std::string& path);
bool can_create_beside(const std::string& path);

}  // namespace parm::db
