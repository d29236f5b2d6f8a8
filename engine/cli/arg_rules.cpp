#include "engine/cli/arg_rules.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <vector>

#include "db/database.h"

namespace parm::cli {
namespace {

std::string shown(const std::string& s) {
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

std::string number_text(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

// The text after CLI11's "NAME: " (or the whole text when it has none).
std::string after_name(const std::string& what, const std::string& name) {
  if (!name.empty() && what.rfind(name + ": ", 0) == 0) return what.substr(name.size() + 2);
  return what;
}

std::vector<std::string> words_after_colon(const std::string& what) {
  std::vector<std::string> words;
  const std::size_t colon = what.find(": ");
  std::istringstream in(colon == std::string::npos ? what : what.substr(colon + 2));
  for (std::string w; in >> w;) words.insert(words.begin(), w);  // CLI11 lists them last-first
  return words;
}

CLI::App* deepest(CLI::App& app, int argc, const char* const* argv) {
  CLI::App* current = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    for (CLI::App* sub : current->get_subcommands([](CLI::App*) { return true; }))
      if (sub->check_name(arg)) {
        current = sub;
        break;
      }
  }
  return current;
}

}  // namespace

CLI::Validator integer_in(std::int64_t lo, std::int64_t hi, const std::string& hidden_flag) {
  const bool open_ended =
      hi == std::numeric_limits<std::int32_t>::max() || hi == std::numeric_limits<std::int64_t>::max();
  const std::string rule = open_ended ? "an integer >= " + std::to_string(lo)
                                      : "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  const std::string desc =
      open_ended ? "INT>=" + std::to_string(lo) : "INT in " + std::to_string(lo) + ".." + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, rule,
       who = hidden_flag.empty() ? hidden_flag : hidden_flag + " "](std::string& text) -> std::string {
        std::string_view digits = text;
        if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        const bool integer = !digits.empty() && end == digits.data() + digits.size();
        if (integer && ec == std::errc() && v < lo) return who + "must be " + rule + ", got " + shown(text);
        if (ec == std::errc::result_out_of_range || (integer && ec == std::errc() && v > hi))
          return who + "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                 ", got " + shown(text);
        if (!integer || ec != std::errc()) return who + "must be " + rule + ", got " + shown(text);
        return {};
      },
      desc);
}

namespace {

CLI::Validator finite_number(double lo, bool inclusive) {
  const std::string rule = "a finite number " + std::string(inclusive ? ">= " : "> ") + number_text(lo);
  return CLI::Validator(
      [lo, inclusive, rule](std::string& text) -> std::string {
        double v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        const bool number = !text.empty() && ec == std::errc() && end == text.data() + text.size();
        if (!number || !std::isfinite(v) || (inclusive ? v < lo : v <= lo))
          return "must be " + rule + ", got " + shown(text);
        return {};
      },
      std::string("NUMBER") + (inclusive ? ">=" : ">") + number_text(lo));
}

}  // namespace

CLI::Validator number_at_least(double lo) {
  return finite_number(lo, true);
}

CLI::Validator number_above(double lo) {
  return finite_number(lo, false);
}

std::string known_subcommands(CLI::App& app) {
  std::string list;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App* s) { return !s->get_group().empty(); }))
    list += (list.empty() ? "" : ", ") + sub->get_name();
  return list;
}

std::string subcommand_path(CLI::App& app, int argc, const char* const* argv) {
  std::string path;
  for (const CLI::App* a = deepest(app, argc, argv); a && a != &app; a = a->get_parent())
    path = a->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

std::string argument_error_line(const CLI::ParseError& e, CLI::App& app, int argc, const char* const* argv) {
  CLI::App* cmd = deepest(app, argc, argv);
  const std::string what = e.what();
  const std::string sub = subcommand_path(app, argc, argv);
  const std::string help = " (see parm" + (sub.empty() ? "" : " " + sub) + " --help)";
  if (dynamic_cast<const CLI::ValidationError*>(&e)) {
    // "--ranks: must be ..." -> "--ranks must be ..."
    if (what.rfind(": ", 0) == 0) return what.substr(2);  // a hidden option: the rule names it
    const std::size_t colon = what.find(": ");
    if (colon != std::string::npos && what.compare(colon + 2, 4, "must") == 0)
      return what.substr(0, colon) + " " + what.substr(colon + 2);
    return what;
  }
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    const std::vector<std::string> extras = words_after_colon(after_name(what, cmd->get_name()));
    const std::string first = extras.empty() ? std::string("?") : extras.front();
    if (!first.empty() && first[0] == '-') return "unknown option '" + shown(first) + "'" + help;
    const std::string known = known_subcommands(*cmd);
    if (!known.empty()) return "unknown subcommand '" + shown(first) + "' (known: " + known + ")";
    return "unexpected argument '" + shown(first) + "'" + help;
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e)) {
    if (what.find("subcommand") != std::string::npos) {
      for (const std::string& word : cmd->remaining(false))
        if (!word.empty() && word[0] != '-')
          return "unknown subcommand '" + shown(word) + "' (known: " + known_subcommands(*cmd) + ")";
      return "a subcommand is required (known: " + known_subcommands(*cmd) + ")";
    }
    return what + help;  // "--calibration is required"
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e)) {
    const std::size_t colon = what.find(": ");
    const std::string name = colon == std::string::npos ? std::string("an option") : what.substr(0, colon);
    return name + " needs a value" + help;
  }
  if (const auto* ex = dynamic_cast<const CLI::ExcludesError*>(&e)) {
    (void)ex;
    const std::size_t pos = what.find(" excludes ");
    if (pos != std::string::npos)
      return what.substr(0, pos) + " and " + what.substr(pos + 10) + " cannot be used together";
    return what;
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e)) return what + help;
  return what + help;
}

void refuse_line(const std::string& line, int code) {
  std::cerr << line << '\n';
  throw CLI::RuntimeError(code);
}

}  // namespace parm::cli
