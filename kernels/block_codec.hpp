// The per-value arithmetic of the block codecs (int8-block, dettmers8), shared by CPU and CUDA so both produce
// the same bytes. Each block of up to 256 values carries its absmax as an fp32 scale.
//   int8-block: q = round_half_even((x / absmax) * 127), |q| <= 127 by construction; x' = q * (absmax / 127)
//   dettmers8:  a = |x| / absmax; the code is the sign and the nearest of the 128 code-book magnitudes (ties to
//               the smaller); x' = +-magnitude * absmax
// A block holding a NaN or an infinity gets a NaN scale and zero codes, so it decodes to NaN (the poison stays
// visible); a block of zeros gets scale 0.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/minifloat.hpp"

namespace bitscale {

BITSCALE_HD int round_half_even(float v) {
  const float down = floorf(v);
  const float rest = v - down;  // exact for |v| < 2^23
  int r = static_cast<int>(down);
  if (rest > 0.5f || (rest == 0.5f && (r & 1))) r += 1;
  return r;
}

// Which of its block's 256 values a warp's lane (0..31) holds in its slot j (0..7), in the CUDA kernels: values
// 4 lane .. 4 lane + 3 and 128 + 4 lane .. 128 + 4 lane + 3. A warp's float4 accesses then cover 512 consecutive
// bytes each (whole sectors) and its 32-bit code words 128 consecutive bytes; with 8 consecutive values per lane
// each float4 access used half of every sector it touched (docs/gpu-results.md).
BITSCALE_HD int block_lane_value(int lane, int j) { return (j < 4 ? 0 : 128) + 4 * lane + (j & 3); }

// The fp32 scale of a block from its running max |x|; `bad` when a value was not finite.
BITSCALE_HD float block_scale(float absmax, bool bad) { return bad ? bits_float(0x7FC00000u) : absmax; }
BITSCALE_HD bool scale_usable(float scale) { return scale > 0.0f && scale <= 3.4028235e38f; }

// The code of a quotient x / scale: round_half_even(quotient x 127), within +-127.
BITSCALE_HD std::uint8_t int8_code(float quotient) {
  int q = round_half_even(quotient * 127.0f);
  q = q > 127 ? 127 : (q < -127 ? -127 : q);
  return static_cast<std::uint8_t>(static_cast<std::int8_t>(q));
}
BITSCALE_HD std::uint8_t int8_encode(float x, float scale) {
  if (!scale_usable(scale)) return 0;
  // |x| <= scale, so |x / scale| <= 1 (division is correctly rounded) and |q| <= 127 even for a tiny scale
  return int8_code(x / scale);
}

// int8_encode without a division per value, for the CUDA kernels, where a correctly rounded division is a subroutine
// with a slow path for subnormal operands (docs/gpu-results.md: the int8-block encode was bound by its instructions).
// With r = 1 / scale correctly rounded once per block, q0 = x r is within about 1.5 ulps of x / scale, and one
// correction by the remainder, q0 + (x - q0 scale) r with two fused multiply-adds (P. Markstein, IBM J. Res. Dev.
// 34(1), 1990), gives the correctly rounded quotient in every case checked. Not a proof: q0 can be more than an ulp
// off and the remainder inexact, against the hypotheses of Markstein's theorem.
// Codec.Int8ReciprocalMatchesTheDivision checks the code against int8_encode around every rounding boundary at 698
// scales; a review swept every x in [1, 2) at 56 scales (those whose reciprocal rounds worst among them) and found no
// quotient that differed in 470 million. Scales in [2^-90, 2^125] keep everything normal for quotients of at least
// 2^-9, and a smaller quotient gives code 0 either way (127 x 2^-9 < 0.5); other scales take the division.
BITSCALE_HD bool int8_reciprocal_usable(float scale) { return scale >= 0x1p-90f && scale <= 0x1p125f; }
BITSCALE_HD std::uint8_t int8_encode_reciprocal(float x, float scale, float reciprocal) {
  if (!int8_reciprocal_usable(scale)) return int8_encode(x, scale);
  const float q0 = x * reciprocal;
  return int8_code(fmaf(fmaf(-q0, scale, x), reciprocal, q0));
}
BITSCALE_HD float int8_decode(std::uint8_t code, float scale) {
  if (is_nan_bits(scale)) return bits_float(0x7FC00000u);
  return static_cast<float>(static_cast<std::int8_t>(code)) * (scale / 127.0f);
}

// `sorted` holds the 128 magnitudes in increasing order, `code_of` the 7-bit code of each.
BITSCALE_HD std::uint8_t dettmers8_encode(float x, float scale, const float* sorted, const std::uint8_t* code_of) {
  if (!scale_usable(scale)) return 0;
  const std::uint32_t sign = float_bits(x) >> 31;
  const float a = fabsf(x) / scale;
  int i = 0;  // number of magnitudes below a, found in 7 halving steps
  for (int step = 64; step > 0; step >>= 1) {
    if (sorted[i + step - 1] < a) i += step;
  }
  if (i > 127) i = 127;
  if (i > 0 && a - sorted[i - 1] <= sorted[i] - a) i -= 1;
  return static_cast<std::uint8_t>((sign << 7) | code_of[i]);
}
BITSCALE_HD float dettmers8_decode(std::uint8_t code, float scale, const float* magnitude) {
  if (is_nan_bits(scale)) return bits_float(0x7FC00000u);
  const float v = magnitude[code & 0x7F] * scale;
  return (code & 0x80) ? -v : v;
}

}  // namespace bitscale
