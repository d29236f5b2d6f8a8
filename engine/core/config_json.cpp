#include "engine/core/config_json.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "engine/core/json_input.h"
#include "engine/core/validation.h"

namespace parm {
namespace {

using nlohmann::json;

std::string describe(const json& v) {
  std::string dumped = v.dump();
  if (dumped.size() > 40) dumped = dumped.substr(0, 37) + "...";
  return dumped;
}

std::string type_name(const json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number_float()) return "a number";
  return std::string("a ") + v.type_name();
}

// Reads the members of one JSON object into typed fields; every problem becomes an issue naming the field.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string prefix, ConfigIssues& issues)
      : object_(object), prefix_(std::move(prefix)), issues_(issues) {}

  void integer(const char* key, std::int64_t& out) {
    read(key, [&](const json& v) {
      if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
        return fail(key, v, "is too large for a 64-bit integer");
      if (!v.is_number_integer()) return fail(key, v, "expected an integer, got " + type_name(v));
      out = v.get<std::int64_t>();
    });
  }

  void unsigned_integer(const char* key, std::uint64_t& out) {
    read(key, [&](const json& v) {
      if (!v.is_number_integer() ||
          (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0))
        return fail(key, v, "expected a non-negative integer, got " + type_name(v));
      out = v.get<std::uint64_t>();
    });
  }

  void number(const char* key, double& out) {
    read(key, [&](const json& v) {
      if (!v.is_number()) return fail(key, v, "expected a number, got " + type_name(v));
      out = v.get<double>();
    });
  }

  void boolean(const char* key, bool& out) {
    read(key, [&](const json& v) {
      if (!v.is_boolean()) return fail(key, v, "expected true or false, got " + type_name(v));
      out = v.get<bool>();
    });
  }

  void text(const char* key, std::string& out) {
    read(key, [&](const json& v) {
      if (!v.is_string()) return fail(key, v, "expected a string, got " + type_name(v));
      out = v.get<std::string>();
    });
  }

  template <typename Enum>
  void choice(const char* key, Enum& out, std::optional<Enum> (*parse)(std::string_view),
              const char* allowed) {
    read(key, [&](const json& v) {
      if (!v.is_string())
        return fail(key, v, std::string("expected one of ") + allowed + ", got " + type_name(v));
      auto parsed = parse(v.get<std::string>());
      if (!parsed) return fail(key, v, std::string("must be one of ") + allowed);
      out = *parsed;
    });
  }

  void schedules(const char* key, std::vector<ScheduleKind>& out) {
    read(key, [&](const json& v) {
      if (!v.is_array()) return fail(key, v, "expected an array of schedule names, got " + type_name(v));
      std::vector<ScheduleKind> parsed;
      for (const auto& item : v) {
        auto s = item.is_string() ? parse_schedule(item.get<std::string>()) : std::nullopt;
        if (!s)
          return fail(key, item,
                      "unknown schedule; known: " + schedule_names() +
                          " (each also pipelined in r capacity chunks: <name>r2, r4, r8)");
        parsed.push_back(*s);
      }
      out = std::move(parsed);
    });
  }

  // Members are read through child readers; returns nullptr (and reports) when the member is not an object.
  const json* object(const char* key) {
    seen_.insert(key);
    auto it = object_.find(key);
    if (it == object_.end()) return nullptr;
    if (!it->is_object()) {
      fail(key, *it, "expected an object, got " + type_name(*it));
      return nullptr;
    }
    return &*it;
  }

  void ignore(const char* key) { seen_.insert(key); }

  // Unknown members are errors: a typo must not silently fall back to a default.
  void reject_unknown() {
    for (auto it = object_.begin(); it != object_.end(); ++it)
      if (!seen_.count(it.key())) {
        // A 60 KB key must not become a 60 KB message line (the GUI lays each line out).
        const std::string key = it.key().size() > 80 ? it.key().substr(0, 77) + "..." : it.key();
        issues_.error(field(key), describe(it.value()), "unknown field");
      }
  }

 private:
  void read(const char* key, const std::function<void(const json&)>& convert) {
    seen_.insert(key);
    auto it = object_.find(key);
    if (it != object_.end()) convert(*it);
  }
  void fail(const std::string& key, const json& v, const std::string& rule) {
    issues_.error(field(key), describe(v), rule);
  }
  std::string field(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

  const json& object_;
  std::string prefix_;
  ConfigIssues& issues_;
  std::set<std::string> seen_;
};

void read_layer(const json& j, LayerConfig& l, ConfigIssues& issues) {
  ObjectReader r(j, "layer", issues);
  r.integer("batch", l.batch);
  r.integer("seq_len", l.seq_len);
  r.integer("hidden", l.hidden);
  r.integer("ffn_hidden", l.ffn_hidden);
  r.integer("num_experts", l.num_experts);
  r.integer("top_k", l.top_k);
  r.number("capacity_factor", l.capacity_factor);
  r.integer("min_capacity", l.min_capacity);
  r.choice("capacity_rounding", l.capacity_rounding, parse_capacity_rounding, "exact, deepspeed");
  r.boolean("drop_tokens", l.drop_tokens);
  r.choice("activation", l.activation, parse_activation, "gelu, swiglu");
  r.boolean("bias", l.bias);
  r.choice("dtype", l.dtype, parse_dtype, "fp32, fp64, bf16, fp16");
  r.reject_unknown();
}

void read_parallel(const json& j, ParallelConfig& p, ConfigIssues& issues) {
  ObjectReader r(j, "parallel", issues);
  r.integer("ranks", p.ranks);
  r.integer("gpus_per_node", p.gpus_per_node);
  r.integer("mp", p.mp);
  r.integer("esp", p.esp);
  r.ignore("ep");  // derived (P / N_MP); accepted so saved files can show it, checked below
  r.reject_unknown();
}

void read_run(const json& j, RunOptions& run, ConfigIssues& issues) {
  ObjectReader r(j, "run", issues);
  r.schedules("schedules", run.schedules);
  r.integer("warmup", run.warmup);
  r.integer("iterations", run.iterations);
  r.unsigned_integer("seed", run.seed);
  r.choice("backend", run.backend, parse_backend, "cpu, cuda, cuda+mpi");
  r.reject_unknown();
}

void read_model(const json& j, ModelConfig& m, ConfigIssues& issues) {
  ObjectReader r(j, "model", issues);
  r.choice("style", m.style, parse_model_style, "bert, gpt");
  r.integer("layers", m.layers);
  r.integer("heads", m.heads);
  r.integer("vocab", m.vocab);
  r.integer("moe_every", m.moe_every);
  r.reject_unknown();
}

ConfigLoad config_from_document(const JsonDocument& doc) {
  ConfigLoad load;
  if (!doc.ok()) {
    std::string place;
    if (doc.line > 0)
      place = "line " + std::to_string(doc.line) + ", column " + std::to_string(doc.column) + ": ";
    load.issues.error(doc.field.empty() ? "config" : doc.field, "", place + doc.rule);
    return load;
  }
  const json& j = *doc.value;
  if (!j.is_object()) {
    load.issues.error("config", describe(j), "the top level must be a JSON object");
    return load;
  }

  Config c;
  ObjectReader top(j, "", load.issues);
  top.text("name", c.name);
  top.ignore("description");
  if (const json* layer = top.object("layer")) read_layer(*layer, c.layer, load.issues);
  if (const json* parallel = top.object("parallel")) read_parallel(*parallel, c.parallel, load.issues);
  if (const json* run = top.object("run")) read_run(*run, c.run, load.issues);
  if (const json* model = top.object("model")) read_model(*model, c.model.emplace(), load.issues);
  top.reject_unknown();
  if (load.issues.has_errors()) return load;

  load.issues.append(validate(c));
  if (const json* parallel = j.contains("parallel") ? &j["parallel"] : nullptr;
      parallel && parallel->contains("ep")) {
    const json& ep = (*parallel)["ep"];
    if (!ep.is_number_integer() || (c.parallel.mp > 0 && ep.get<std::int64_t>() != c.parallel.ep()))
      load.issues.error(
          "parallel.ep", describe(ep),
          "is derived as ranks/mp = " + std::to_string(c.parallel.ep()) + "; omit it or make it agree");
  }
  load.config = c;
  return load;
}

}  // namespace

ConfigLoad config_from_json_text(std::string_view text) {
  return config_from_document(parse_json_text(text, "config"));
}

ConfigLoad load_config_file(const std::string& path) {
  std::string error;
  const auto text = read_text_file(path, JsonLimits{}.max_file_bytes, error);
  if (!text) {
    ConfigLoad load;
    if (error.rfind(path + ": ", 0) == 0) error.erase(0, path.size() + 2);  // the caller names the file
    load.issues.error("config", "", error);
    return load;
  }
  return config_from_document(parse_json_text(*text, path));
}

nlohmann::json config_to_json(const Config& c) {
  json schedules = json::array();
  for (auto s : c.run.schedules) schedules.push_back(std::string(to_string(s)));
  json out = {
      {"name", c.name},
      {"layer",
       {{"batch", c.layer.batch},
        {"seq_len", c.layer.seq_len},
        {"hidden", c.layer.hidden},
        {"ffn_hidden", c.layer.ffn_hidden},
        {"num_experts", c.layer.num_experts},
        {"top_k", c.layer.top_k},
        {"capacity_factor", c.layer.capacity_factor},
        {"min_capacity", c.layer.min_capacity},
        {"capacity_rounding", std::string(to_string(c.layer.capacity_rounding))},
        {"drop_tokens", c.layer.drop_tokens},
        {"activation", std::string(to_string(c.layer.activation))},
        {"bias", c.layer.bias},
        {"dtype", std::string(to_string(c.layer.dtype))}}},
      {"parallel",
       {{"ranks", c.parallel.ranks},
        {"gpus_per_node", c.parallel.gpus_per_node},
        {"mp", c.parallel.mp},
        {"esp", c.parallel.esp}}},
      {"run",
       {{"schedules", schedules},
        {"warmup", c.run.warmup},
        {"iterations", c.run.iterations},
        {"seed", c.run.seed},
        {"backend", std::string(to_string(c.run.backend))}}},
  };
  if (c.model)
    out["model"] = {{"style", std::string(to_string(c.model->style))},
                    {"layers", c.model->layers},
                    {"heads", c.model->heads},
                    {"vocab", c.model->vocab},
                    {"moe_every", c.model->moe_every}};
  return out;
}

void save_config_file(const Config& config, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("config: cannot write " + tmp);
    out << config_to_json(config).dump(2) << '\n';
    if (!out) throw std::runtime_error("config: write to " + tmp + " failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("config: cannot replace " + path);
  }
}

}  // namespace parm
