// The rules command-line values must follow, as CLI11 validators whose messages are sentences a user can act
// on ("--ranks must be an integer >= 1, got 0"), and the one line `parm` prints for any argument error
// (CLI11's own texts name ranges like "0.000000 to 1797693134862315..." and exit with private codes).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>
#include <string>

namespace parm::cli {

// An integer (decimal digits, optional sign) in [lo, hi]; "1e99", "abc", "2.5" are refused by name. CLI11
// leaves the name of a hidden option (group "") out of its errors: pass it as `hidden_flag` for those.
CLI::Validator integer_in(std::int64_t lo, std::int64_t hi = std::numeric_limits<std::int32_t>::max(),
                          const std::string& hidden_flag = {});
// A finite number >= lo (nan, inf and text refused).
CLI::Validator number_at_least(double lo);
// A finite number > lo.
CLI::Validator number_above(double lo);

// The largest grid `parm sweep` and `parm validate` take without --limit.
inline constexpr std::uint64_t kMaxGridWithoutLimit = 100000;

// Every argument error exits with this code (README: 2 invalid input of any kind).
inline constexpr int kArgumentErrorExit = 2;

// Prints `line` (one line naming the field and the rule) and ends the subcommand with `code` (README's exit
// codes: 2 bad input, 1 a failed run).
[[noreturn]] void refuse_line(const std::string& line, int code = kArgumentErrorExit);

// The subcommand chain the arguments name ("run", "cluster up"), empty for none: message prefixes.
std::string subcommand_path(CLI::App& app, int argc, const char* const* argv);

// One line for a CLI11 parse error (not Success or RuntimeError), without the "parm SUB: " prefix.
std::string argument_error_line(const CLI::ParseError& e, CLI::App& app, int argc, const char* const* argv);

// "check, run, bench, ..." (hidden subcommands left out).
std::string known_subcommands(CLI::App& app);

}  // namespace parm::cli
