#include "engine/launch/run_folder.h"

#include <stdlib.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "engine/launch/launcher.h"
#include "engine/launch/process_watch.h"

namespace parm {
namespace {

constexpr const char* kOwnerFile = ".owner";

}  // namespace

RunFolder::RunFolder(const std::filesystem::path& parent, const std::string& prefix) {
  sweep_stale_run_folders(parent, prefix);
  std::string pattern = (parent / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data()))
    throw std::runtime_error("cannot create a directory under " + parent.string());
  path_ = std::filesystem::absolute(pattern);
  std::ofstream(path_ / kOwnerFile) << encode(self_identity()) << '\n';
}

RunFolder::~RunFolder() {
  std::error_code ec;
  if (!keep_) std::filesystem::remove_all(path_, ec);
}

void RunFolder::keep() {
  keep_ = true;
  std::error_code ec;
  std::filesystem::remove(path_ / kOwnerFile, ec);
}

int sweep_stale_run_folders(const std::filesystem::path& parent, const std::string& prefix) {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix + "-", 0) != 0 || !entry.is_directory(ec)) continue;
    std::ifstream in(entry.path() / kOwnerFile);
    std::string text;
    if (!(in >> text)) continue;  // no owner recorded: not ours to judge
    const auto owner = decode_identity(text);
    if (!owner || process_alive(*owner) != std::optional<bool>(false)) continue;
    // Its ranks may still be finishing; they name the folder on their command line.
    if (!processes_mentioning(entry.path().string(), self_executable()).empty()) continue;
    std::filesystem::remove_all(entry.path(), ec);
    if (!ec) ++removed;
  }
  return removed;
}

}  // namespace parm
