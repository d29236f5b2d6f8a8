#include "engine/model/calibration_source.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "db/database.h"
#include "db/file_probe.h"
#include "engine/core/json_input.h"

namespace parm {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() < 19 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// SQLite files (by their header) are projects; anything else is read as JSON. The header is read through
// SQLite's VFS, never a descriptor of our own: this process may hold a connection to the same project (--db),
// whose locks closing another descriptor of the file would drop.
bool is_sqlite_file(const std::string& path) {
  return db::probe_file(path).kind == db::FileKind::Sqlite;
}

Calibration from_run(const std::string& arg, const std::string& path, std::int64_t id) {
  const db::Database db = db::Database::open(path, false);
  if (id < 0) {  // the latest complete calibration
    for (const db::RunInfo& r : db.runs())
      if (r.kind == "calibration" && r.complete && r.id > id) id = r.id;
    if (id < 0)
      throw std::runtime_error("--calibration " + arg + ": " + path + " holds no complete calibration");
  }
  const auto run = db.run(id);
  if (!run)
    throw std::runtime_error("--calibration " + arg + ": " + path + " has no run " + std::to_string(id));
  if (run->kind != "calibration")
    throw std::runtime_error("--calibration " + arg + ": run " + std::to_string(id) + " in " + path +
                             " is a " + run->kind + " run, not a calibration");
  if (!run->complete || run->result_json.empty())
    throw std::runtime_error("--calibration " + arg + ": calibration run " + std::to_string(id) + " in " +
                             path + " is incomplete (the calibration did not finish)");
  const std::string source = "run " + std::to_string(id) + " in " + path;
  const JsonDocument doc = parse_json_text(run->result_json, source);
  if (!doc.ok()) throw std::runtime_error("--calibration " + arg + ": " + doc.error);
  try {
    return calibration_from_json(*doc.value);
  } catch (const std::exception& e) {
    throw std::runtime_error("--calibration " + arg + ": run " + std::to_string(id) + " in " + path + ": " +
                             e.what());
  }
}

}  // namespace

Calibration load_calibration_ref(const std::string& ref, const std::string& db_path) {
  if (all_digits(ref)) {
    if (db_path.empty())
      throw std::runtime_error("--calibration " + ref +
                               ": a run id needs the project database (--db FILE, or PROJECT.sqlite#" + ref +
                               ")");
    return from_run(ref, db_path, std::stoll(ref));
  }
  const std::size_t hash = ref.rfind('#');
  if (hash != std::string::npos && all_digits(ref.substr(hash + 1)))
    return from_run(ref, ref.substr(0, hash), std::stoll(ref.substr(hash + 1)));
  if (is_sqlite_file(ref)) return from_run(ref, ref, -1);
  return load_calibration_file(ref);
}

}  // namespace parm
