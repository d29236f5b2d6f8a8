// The private folder of one launched run (its effective config, the result, the calibration table). Removed
// on every way out of the launcher; and because a launcher killed together with its guardian cannot remove
// it, each folder names its owner, and the next launcher sweeps the folders whose owner is gone.
#pragma once

#include <filesystem>
#include <string>

namespace parm {

class RunFolder {
 public:
  // Creates PARENT/PREFIX-XXXXXX, recording this process as its owner, after sweeping stale ones there.
  // Throws std::runtime_error when it cannot.
  RunFolder(const std::filesystem::path& parent, const std::string& prefix);
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Leaves the folder in place for the user (a dry run's config); it is then never swept either.
  void keep();

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

// Removes every PARENT/PREFIX-* folder whose recorded owner ran on this host and is gone; returns how many.
int sweep_stale_run_folders(const std::filesystem::path& parent, const std::string& prefix);

}  // namespace parm
