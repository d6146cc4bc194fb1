// Rounding fp32 to a small float format and back: the bit-level specification shared by the CPU and CUDA
// implementations (host-device functions, so both produce the same bytes by construction).
//
// A format has X exponent bits (bias 2^(X-1)-1), Y mantissa bits and a sign bit, with subnormals. Two families:
//  - IEEE-like (fp16, bf16, fp8-e5m2, eXmY): the top exponent holds infinity (mantissa 0) and NaN; with Y = 0 it
//    holds NaN only.
//  - OCP E4M3 (fp8-e4m3): no infinity; only S.1111.111 is NaN, so S.1111.000..110 are finite (max 448).
// Encoding rounds to nearest, ties to even (or stochastically: the discarded bits are compared with random bits
// from a counter-based hash of (seed, index), so the result does not depend on the order of evaluation).
// NaN encodes to the canonical quiet NaN with its sign. Overflow and infinities go to infinity for
// non-saturating formats (fp16, bf16: as IEEE 754 conversion) and to the largest finite value for saturating ones
// (fp8 and eXmY: OCP "saturation" mode, as CUDA's __NV_SATFINITE).
// Sources: IEEE 754-2019 section 4.3.1; OCP 8-bit Floating Point Specification (OFP8) rev 1.0, sections 4-5.
#pragma once
#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#define BITSCALE_HD __host__ __device__ __forceinline__
#else
#define BITSCALE_HD inline
#endif

namespace bitscale {

struct MiniFloat {
  int exponent_bits = 5;
  int mantissa_bits = 10;
  bool ocp_e4m3 = false;  // E4M3 encodings of OCP: no infinity, one NaN per sign
  bool saturate = false;  // overflow -> largest finite instead of infinity
  int bias = 15;
  std::uint32_t max_code = 0;  // largest finite magnitude code
  std::uint32_t inf_code = 0;  // magnitude code of infinity (saturating formats never produce it)
  std::uint32_t nan_code = 0;  // magnitude code of the canonical NaN
  int code_bytes = 2;          // bytes one code occupies on the wire (byte-aligned)
};

// The parameters of a format; e.g. make_minifloat(5, 10, false, false) is IEEE binary16.
MiniFloat make_minifloat(int exponent_bits, int mantissa_bits, bool ocp_e4m3, bool saturate);

BITSCALE_HD std::uint32_t float_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
BITSCALE_HD float bits_float(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// A 32-bit hash of (seed, index) for stochastic rounding (splitmix64's finalizer).
BITSCALE_HD std::uint32_t random_bits(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
}

// x * 2^k for |k| <= 252, exact for powers of two in range (no libm call, identical on host and device).
BITSCALE_HD float scale_pow2(float x, int k) {
  while (k > 126) {
    x *= 0x1p126f;
    k -= 126;
  }
  while (k < -126) {
    x *= 0x1p-126f;
    k += 126;
  }
  return x * bits_float(static_cast<std::uint32_t>(127 + k) << 23);
}

BITSCALE_HD bool is_nan_bits(float x) { return (float_bits(x) & 0x7FFFFFFFu) > 0x7F800000u; }

// NaN is never left to the hardware: x86 passes an operand's NaN through, NVIDIA GPUs return 0x7FFFFFFF. These
// helpers pin it down so CPU and CUDA write the same bits: scaling keeps a NaN as it is, and a NaN produced by
// an addition (accumulate, error feedback) is the canonical positive quiet NaN 0x7FC00000.
BITSCALE_HD float scale_keep_nan(float x, float scale) { return is_nan_bits(x) ? x : x * scale; }
BITSCALE_HD float add_canonical(float a, float b) {
  const float r = a + b;
  return is_nan_bits(r) ? bits_float(0x7FC00000u) : r;
}
BITSCALE_HD float sub_canonical(float a, float b) {
  const float r = a - b;
  return is_nan_bits(r) ? bits_float(0x7FC00000u) : r;
}

// Rounds fp32 `x` to the format; `random` is used only when `stochastic`.
BITSCALE_HD std::uint32_t minifloat_encode(float x, const MiniFloat& f, bool stochastic, std::uint32_t random) {
  const std::uint32_t u = float_bits(x);
  const std::uint32_t sign = (u >> 31) << (f.exponent_bits + f.mantissa_bits);
  const std::uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return sign | f.nan_code;
  if (a == 0x7F800000u) return sign | (f.saturate ? f.max_code : f.inf_code);
  const int shift = 23 - f.mantissa_bits;
  const std::uint32_t min_normal_field = static_cast<std::uint32_t>(128 - f.bias);  // fp32 exponent field
  std::uint32_t code;
  if ((a >> 23) >= min_normal_field) {
    std::uint32_t r = a;
    if (shift > 0) {
      const std::uint32_t dropped_mask = (1u << shift) - 1u;
      if (stochastic) {
        r = (a + (random & dropped_mask)) >> shift;
      } else {
        r = (a + (dropped_mask >> 1) + ((a >> shift) & 1u)) >> shift;
      }
    }
    code = r - (static_cast<std::uint32_t>(127 - f.bias) << f.mantissa_bits);
  } else {
    // subnormal in the format: |x| / 2^(1 - bias - Y), rounded to an integer (2^Y is the smallest normal)
    const float scaled = scale_pow2(bits_float(a), f.mantissa_bits + f.bias - 1);  // exact, < 2^Y
    if (stochastic) {
      // floor(scaled + u), u uniform in [0, 1) with 24 bits: exact in double
      const double sum = static_cast<double>(scaled) + static_cast<double>(random >> 8) * 0x1p-24;
      code = static_cast<std::uint32_t>(sum);
    } else {
      const std::uint32_t whole = static_cast<std::uint32_t>(scaled);
      const float rest = scaled - static_cast<float>(whole);  // exact
      code = whole + ((rest > 0.5f || (rest == 0.5f && (whole & 1u))) ? 1u : 0u);
    }
  }
  if (code > f.max_code) code = f.saturate ? f.max_code : f.inf_code;
  return sign | code;
}

BITSCALE_HD float minifloat_decode(std::uint32_t code, const MiniFloat& f) {
  const int width = f.exponent_bits + f.mantissa_bits;
  const std::uint32_t sign = ((code >> width) & 1u) << 31;
  const std::uint32_t c = code & ((1u << width) - 1u);
  const std::uint32_t exponent = c >> f.mantissa_bits;
  const std::uint32_t mantissa = c & ((1u << f.mantissa_bits) - 1u);
  const std::uint32_t top = (1u << f.exponent_bits) - 1u;
  if (f.ocp_e4m3) {
    if (c == f.nan_code) return bits_float(sign | 0x7FC00000u);
  } else if (exponent == top) {
    if (mantissa == 0 && f.mantissa_bits > 0) return bits_float(sign | 0x7F800000u);
    return bits_float(sign | 0x7FC00000u);
  }
  if (exponent == 0) {
    return bits_float(sign | float_bits(scale_pow2(static_cast<float>(mantissa), 1 - f.bias - f.mantissa_bits)));
  }
  return bits_float(sign | ((exponent - static_cast<std::uint32_t>(f.bias) + 127u) << 23) |
                    (mantissa << (23 - f.mantissa_bits)));
}

}  // namespace bitscale
