// Host-side 16-bit floating types, bit-compatible with CUDA's __nv_bfloat16 and __half, so the engine (which
// never includes CUDA headers) can hold, initialise, send and compare bf16/fp16 tensors, and the CUDA
// kernels can reinterpret the same buffers. Conversions round to nearest even, as __float2bfloat16_rn and
// __float2half_rn do; NaN stays NaN. Arithmetic on the host goes through float.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace parm {

struct Bf16 {
  std::uint16_t bits = 0;

  Bf16() = default;
  explicit Bf16(float f) : bits(from_float(f)) {}
  explicit operator float() const { return std::bit_cast<float>(std::uint32_t{bits} << 16); }
  explicit operator double() const { return static_cast<double>(static_cast<float>(*this)); }

  static std::uint16_t from_float(float f) {
    const auto u = std::bit_cast<std::uint32_t>(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);  // quiet NaN
    const std::uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
    return static_cast<std::uint16_t>((u + rounding) >> 16);
  }
};

struct F16 {
  std::uint16_t bits = 0;

  F16() = default;
  explicit F16(float f) : bits(from_float(f)) {}
  explicit operator float() const { return to_float(bits); }
  explicit operator double() const { return static_cast<double>(to_float(bits)); }

  static std::uint16_t from_float(float f) {
    const auto u = std::bit_cast<std::uint32_t>(f);
    const std::uint32_t sign = (u >> 16) & 0x8000u;
    const std::uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);   // NaN
    if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // overflow to inf
    if (abs < 0x38800000u) {  // subnormal or zero in half: scale by 2^24 and round to an integer
      const float scaled = std::bit_cast<float>(abs) * 16777216.0f;
      const auto q = static_cast<std::uint32_t>(scaled);
      const float rem = scaled - static_cast<float>(q);
      const std::uint32_t r = q + ((rem > 0.5f || (rem == 0.5f && (q & 1u))) ? 1u : 0u);
      return static_cast<std::uint16_t>(sign | r);
    }
    const std::uint32_t rounded = abs + 0x0fffu + ((abs >> 13) & 1u);
    return static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
  }
  static float to_float(std::uint16_t h) {
    const std::uint32_t sign = std::uint32_t{h & 0x8000u} << 16;
    const std::uint32_t exp = (h >> 10) & 0x1fu;
    const std::uint32_t man = h & 0x3ffu;
    if (exp == 0) {
      const float f = static_cast<float>(man) / 16777216.0f;  // subnormal: man * 2^-24
      return sign ? -f : f;
    }
    if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (man << 13));
    return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (man << 13));
  }
};

static_assert(sizeof(Bf16) == 2 && sizeof(F16) == 2, "bit-compatible with __nv_bfloat16 / __half");

// float for the 16-bit types, the type itself otherwise: what host code accumulates in.
template <typename T>
struct HostMath {
  using type = T;
};
template <>
struct HostMath<Bf16> {
  using type = float;
};
template <>
struct HostMath<F16> {
  using type = float;
};

template <typename T>
inline double to_double(T v) {
  return static_cast<double>(v);
}

}  // namespace parm
