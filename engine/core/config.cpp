#include "engine/core/config.h"

#include <array>
#include <utility>

namespace parm {
namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> lookup(const std::array<std::pair<Enum, std::string_view>, N>& table,
                           std::string_view s) {
  for (const auto& [value, name] : table)
    if (name == s) return value;
  return std::nullopt;
}

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum e) {
  for (const auto& [value, name] : table)
    if (value == e) return name;
  return "?";
}

constexpr std::array<std::pair<Activation, std::string_view>, 2> kActivations{
    {{Activation::Gelu, "gelu"}, {Activation::Swiglu, "swiglu"}}};
constexpr std::array<std::pair<DType, std::string_view>, 4> kDTypes{
    {{DType::Fp32, "fp32"}, {DType::Fp64, "fp64"}, {DType::Bf16, "bf16"}, {DType::Fp16, "fp16"}}};
constexpr std::array<std::pair<Backend, std::string_view>, 3> kBackends{
    {{Backend::Cpu, "cpu"}, {Backend::Cuda, "cuda"}, {Backend::CudaMpi, "cuda+mpi"}}};
constexpr std::array<std::pair<CapacityRounding, std::string_view>, 2> kRoundings{
    {{CapacityRounding::Exact, "exact"}, {CapacityRounding::DeepSpeed, "deepspeed"}}};
constexpr std::array<std::pair<ModelStyle, std::string_view>, 2> kModelStyles{
    {{ModelStyle::Bert, "bert"}, {ModelStyle::Gpt, "gpt"}}};

}  // namespace

int bytes_per_element(DType dtype) {
  switch (dtype) {
    case DType::Fp32:
      return 4;
    case DType::Fp64:
      return 8;
    case DType::Bf16:
    case DType::Fp16:
      return 2;
  }
  return 0;
}

std::string_view to_string(Activation a) {
  return name_of(kActivations, a);
}
std::string_view to_string(DType d) {
  return name_of(kDTypes, d);
}
std::string_view to_string(Backend b) {
  return name_of(kBackends, b);
}
std::string_view to_string(CapacityRounding r) {
  return name_of(kRoundings, r);
}

std::optional<Activation> parse_activation(std::string_view s) {
  return lookup(kActivations, s);
}
std::optional<DType> parse_dtype(std::string_view s) {
  return lookup(kDTypes, s);
}
std::optional<Backend> parse_backend(std::string_view s) {
  return lookup(kBackends, s);
}
std::optional<CapacityRounding> parse_capacity_rounding(std::string_view s) {
  return lookup(kRoundings, s);
}
std::string_view to_string(ModelStyle s) {
  return name_of(kModelStyles, s);
}
std::optional<ModelStyle> parse_model_style(std::string_view s) {
  return lookup(kModelStyles, s);
}

}  // namespace parm
