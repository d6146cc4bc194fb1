// Codecs against known bit patterns (IEEE 754, OCP OFP8), round-trip error bounds worked from each format's
// definition, the APS scale's guarantees, NaN and infinity behaviour, the fused variants, and CUDA == CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "kernels/block_codec.hpp"
#include "kernels/codec.hpp"
#include "kernels/codec_cuda.hpp"
#include "kernels/cuda_device.hpp"
#include "kernels/error_stats.hpp"
#include "kernels/input_error.hpp"

namespace bitscale {
namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

std::uint32_t code_of(const char* format, float x) {
  return minifloat_encode(x, find_wire_format(format).minifloat, false, 0);
}
float value_of(const char* format, std::uint32_t code) { return minifloat_decode(code, find_wire_format(format).minifloat); }

TEST(Codec, Fp16BitPatterns) {
  // IEEE 754 binary16: 1.0 = 0x3C00, max normal 65504 = 0x7BFF, smallest subnormal 2^-24 = 0x0001
  EXPECT_EQ(code_of("fp16", 1.0f), 0x3C00u);
  EXPECT_EQ(code_of("fp16", -2.0f), 0xC000u);
  EXPECT_EQ(code_of("fp16", 65504.0f), 0x7BFFu);
  EXPECT_EQ(code_of("fp16", 65520.0f), 0x7C00u);  // halfway to 2^16 rounds to even: infinity
  EXPECT_EQ(code_of("fp16", 65519.0f), 0x7BFFu);
  EXPECT_EQ(code_of("fp16", std::ldexp(1.0f, -24)), 0x0001u);
  EXPECT_EQ(code_of("fp16", std::ldexp(1.0f, -25)), 0x0000u);       // tie between 0 and 2^-24: even is 0
  EXPECT_EQ(code_of("fp16", std::ldexp(3.0f, -25)), 0x0002u);       // 1.5 ulp: tie to even is 2
  EXPECT_EQ(code_of("fp16", std::ldexp(1.0f, -14)), 0x0400u);       // smallest normal
  EXPECT_EQ(code_of("fp16", 1.0f + std::ldexp(1.0f, -11)), 0x3C00u);  // tie to even (down)
  EXPECT_EQ(code_of("fp16", 1.0f + std::ldexp(3.0f, -11)), 0x3C02u);  // tie to even (up)
  EXPECT_EQ(code_of("fp16", kInf), 0x7C00u);
  EXPECT_EQ(code_of("fp16", -kInf), 0xFC00u);
  EXPECT_EQ(code_of("fp16", kNaN), 0x7E00u);
  EXPECT_EQ(code_of("fp16", -kNaN), 0xFE00u);
  EXPECT_EQ(value_of("fp16", 0x7BFF), 65504.0f);
  EXPECT_EQ(value_of("fp16", 0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isnan(value_of("fp16", 0x7C01)));
  EXPECT_EQ(value_of("fp16", 0xFC00), -kInf);
}

TEST(Codec, Bf16BitPatterns) {
  EXPECT_EQ(code_of("bf16", 1.0f), 0x3F80u);
  EXPECT_EQ(code_of("bf16", 1.0f + std::ldexp(1.0f, -8)), 0x3F80u);  // tie to even
  EXPECT_EQ(code_of("bf16", 1.0f + std::ldexp(3.0f, -8)), 0x3F82u);
  EXPECT_EQ(code_of("bf16", 3.3895314e38f), 0x7F7Fu);                // max finite
  EXPECT_EQ(code_of("bf16", std::numeric_limits<float>::max()), 0x7F80u);  // rounds up to infinity
  EXPECT_EQ(code_of("bf16", kNaN), 0x7FC0u);
  EXPECT_EQ(code_of("bf16", std::ldexp(1.0f, -133)), 0x0001u);  // smallest bf16 subnormal
  EXPECT_EQ(value_of("bf16", 0x3F80), 1.0f);
}

TEST(Codec, Fp8BitPatterns) {
  // OCP OFP8 E4M3: bias 7, max 448 = S.1111.110, NaN = S.1111.111, no infinity; saturating conversion
  EXPECT_EQ(code_of("fp8-e4m3", 1.0f), 0x38u);
  EXPECT_EQ(code_of("fp8-e4m3", 448.0f), 0x7Eu);
  EXPECT_EQ(code_of("fp8-e4m3", 480.0f), 0x7Eu);  // would be 1111.111 (NaN): saturates
  EXPECT_EQ(code_of("fp8-e4m3", 1e10f), 0x7Eu);
  EXPECT_EQ(code_of("fp8-e4m3", -kInf), 0xFEu);
  EXPECT_EQ(code_of("fp8-e4m3", kNaN), 0x7Fu);
  EXPECT_EQ(code_of("fp8-e4m3", std::ldexp(1.0f, -9)), 0x01u);  // smallest subnormal
  EXPECT_EQ(code_of("fp8-e4m3", std::ldexp(1.0f, -6)), 0x08u);  // smallest normal
  EXPECT_EQ(code_of("fp8-e4m3", std::ldexp(1.0f, -10)), 0x00u);  // tie to even
  EXPECT_EQ(code_of("fp8-e4m3", 1.0625f), 0x38u);                // 1 + 2^-4: tie to even
  EXPECT_EQ(code_of("fp8-e4m3", 1.1875f), 0x3Au);                // 1 + 3*2^-4
  EXPECT_EQ(value_of("fp8-e4m3", 0x7E), 448.0f);
  EXPECT_EQ(value_of("fp8-e4m3", 0x78), 256.0f);  // S.1111.000 is finite in E4M3
  EXPECT_TRUE(std::isnan(value_of("fp8-e4m3", 0xFF)));
  // E5M2: bias 15, max 57344 = 0x7B, infinity 0x7C, NaN 0x7D..0x7F
  EXPECT_EQ(code_of("fp8-e5m2", 1.0f), 0x3Cu);
  EXPECT_EQ(code_of("fp8-e5m2", 57344.0f), 0x7Bu);
  EXPECT_EQ(code_of("fp8-e5m2", 61440.0f), 0x7Bu);  // saturates
  EXPECT_EQ(code_of("fp8-e5m2", kInf), 0x7Bu);
  EXPECT_EQ(code_of("fp8-e5m2", kNaN), 0x7Eu);
  EXPECT_EQ(code_of("fp8-e5m2", std::ldexp(1.0f, -16)), 0x01u);
  EXPECT_EQ(value_of("fp8-e5m2", 0x7C), kInf);
  EXPECT_TRUE(std::isnan(value_of("fp8-e5m2", 0x7D)));
}

TEST(Codec, CustomFloatsMatchTheirDefinition) {
  // e8m23 is fp32 itself: every finite value survives
  const auto x = gradient_like(4096, 1);
  const auto f = find_wire_format("e8m23");
  for (float v : x) EXPECT_EQ(minifloat_decode(minifloat_encode(v, f.minifloat, false, 0), f.minifloat), v);
  // e5m10 has fp16's bits but saturates
  EXPECT_EQ(code_of("e5m10", 1.0f), 0x3C00u);
  EXPECT_EQ(code_of("e5m10", 1e6f), 0x7BFFu);
  // e3m0 (the 4-bit APS format): bias 3, values 2^-2 .. 2^3, subnormal 0 only, top exponent NaN
  // 3 is a tie between 2 (code 0b100) and 4 (0b101): ties go to the even code
  EXPECT_EQ(value_of("e3m0", code_of("e3m0", 3.0f)), 2.0f);
  EXPECT_EQ(value_of("e3m0", code_of("e3m0", 3.5f)), 4.0f);
  EXPECT_EQ(value_of("e3m0", code_of("e3m0", 100.0f)), 8.0f);
  EXPECT_TRUE(std::isnan(value_of("e3m0", code_of("e3m0", kNaN))));
}

// The vector paths (AVX2/F16C) and the scalar definition give the same bytes, NaN payloads included.
TEST(Codec, VectorPathsMatchTheScalarDefinition) {
  auto x = gradient_like(1 << 16, 2);
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    std::uint32_t bits = static_cast<std::uint32_t>(rng());
    float v;
    std::memcpy(&v, &bits, 4);
    x[rng() % x.size()] = v;  // any bit pattern: NaN payloads, infinities, subnormals, huge values
  }
  for (const char* name : {"fp16", "bf16", "fp32"}) {
    const auto f = find_wire_format(name);
    const auto wire = encode_cpu(f, x);
    for (std::size_t i = 0; i < x.size(); ++i) {
      std::uint32_t code = 0;
      std::memcpy(&code, wire.data() + i * f.minifloat.code_bytes, f.minifloat.code_bytes);
      ASSERT_EQ(code, minifloat_encode(x[i], f.minifloat, false, 0)) << name << " at " << i;
    }
    const auto y = decode_cpu(f, wire);
    for (std::size_t i = 0; i < x.size(); ++i) {
      std::uint32_t code = 0;
      std::memcpy(&code, wire.data() + i * f.minifloat.code_bytes, f.minifloat.code_bytes);
      const float expect = minifloat_decode(code, f.minifloat);
      ASSERT_EQ(std::memcmp(&y[i], &expect, 4), 0) << name << " at " << i;
    }
  }
}

// The block codecs' vector paths against the scalar definition of block_codec.hpp, block by block.
TEST(Codec, BlockVectorPathsMatchTheScalarDefinition) {
  auto x = gradient_like(300 * 256 + 100, 12);
  x[1000] = 0.0f;
  x[1001] = -0.0f;
  // block 8: absmax 1, int8 values whose (x / 1) * 127 is exactly j + 0.5 (ties), found by search
  x[2048] = 1.0f;
  int ties = 0;
  for (int j = 0, slot = 2049; j < 127 && slot < 2048 + 256; ++j) {
    float v = (static_cast<float>(j) + 0.5f) / 127.0f;
    for (int step = 0; step < 8; ++step, v = std::nextafter(v, 2.0f)) {
      if (v * 127.0f == static_cast<float>(j) + 0.5f) {
        x[static_cast<std::size_t>(slot++)] = (j % 2 ? v : -v);
        ++ties;
        break;
      }
    }
  }
  ASSERT_GT(ties, 10);
  // block 9: absmax 1, the midpoints between neighbouring dettmers8 magnitudes (ties of the code book)
  const auto& sorted = dettmers8_book().sorted;
  x[2304] = 1.0f;
  for (int i = 1; i < 128; ++i) x[2304 + static_cast<std::size_t>(i)] = (sorted[i - 1] + sorted[i]) / 2.0f;
  // block 10: a tiny absmax, where 127 / absmax would overflow
  for (int i = 0; i < 256; ++i) x[2560 + static_cast<std::size_t>(i)] = static_cast<float>(i % 3 - 1) * 1e-37f * static_cast<float>(i % 7);
  const auto& book = dettmers8_book();
  for (const char* name : {"int8-block", "dettmers8"}) {
    const auto f = find_wire_format(name);
    const auto wire = encode_cpu(f, x);
    const auto decoded = decode_cpu(f, wire);
    std::size_t offset = 0;
    for (std::size_t start = 0; start < x.size(); start += 256) {
      const std::size_t len = std::min<std::size_t>(256, x.size() - start);
      float absmax = 0;
      for (std::size_t i = start; i < start + len; ++i) absmax = std::max(absmax, std::fabs(x[i]));
      float scale;
      std::memcpy(&scale, wire.data() + offset, 4);
      ASSERT_EQ(scale, absmax);
      for (std::size_t i = 0; i < len; ++i) {
        const auto expect = f.kind == CodecKind::int8_block
                                ? int8_encode(x[start + i], scale)
                                : dettmers8_encode(x[start + i], scale, book.sorted.data(), book.code_of.data());
        ASSERT_EQ(static_cast<std::uint8_t>(wire[offset + 4 + i]), expect) << name << " at " << start + i;
        const float back = f.kind == CodecKind::int8_block ? int8_decode(expect, scale)
                                                           : dettmers8_decode(expect, scale, book.magnitude.data());
        ASSERT_EQ(std::memcmp(&decoded[start + i], &back, 4), 0) << name << " at " << start + i;
      }
      offset += 4 + len;
    }
  }
}

// Per value: RNE keeps a normal value within half an ulp, 2^-(Y+1) relative; a subnormal within half the
// subnormal spacing, 2^(-bias-Y) absolute; APS divides both by 2^k.
TEST(Codec, MiniFloatRoundTripWithinHalfAnUlp) {
  const auto x = gradient_like(1 << 15, 3);
  for (const char* name : {"fp16", "bf16", "fp8-e4m3", "fp8-e5m2", "e4m10", "e3m4", "e8m23"}) {
    const auto f = find_wire_format(name);
    const auto wire = encode_cpu(f, x);
    const auto y = decode_cpu(f, wire);
    float scale = 1.0f;
    if (f.aps) std::memcpy(&scale, wire.data(), 4);
    const double rel = std::ldexp(1.0, -(f.mantissa_bits + 1));
    const double abs = std::ldexp(1.0, -f.minifloat.bias - f.mantissa_bits) / scale;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double err = std::fabs(static_cast<double>(y[i]) - x[i]);
      const double bound = std::max(rel * std::fabs(x[i]), abs) * (1 + 1e-6) + std::ldexp(1.0, -149) / scale;
      ASSERT_LE(err, bound) << name << " x=" << x[i] << " y=" << y[i];
    }
  }
}

TEST(Codec, Int8BlockWithinHalfAStep) {
  const auto x = gradient_like(1000 * 256 + 77, 4);  // a partial last block
  const auto f = find_wire_format("int8-block");
  const auto y = decode_cpu(f, encode_cpu(f, x));
  for (std::size_t start = 0; start < x.size(); start += 256) {
    double absmax = 0;
    for (std::size_t i = start; i < std::min(x.size(), start + 256); ++i) absmax = std::max(absmax, std::fabs(double(x[i])));
    for (std::size_t i = start; i < std::min(x.size(), start + 256); ++i) {
      ASSERT_LE(std::fabs(double(y[i]) - x[i]), absmax * (0.5 / 127) * (1 + 1e-5)) << i;
    }
  }
}

// The CUDA kernels' int8 encode (one reciprocal per block, two fused multiply-adds per value) gives int8_encode's
// code, which divides, wherever a code can change: at and around every rounding boundary (k + 1/2) x scale / 127,
// for scales from 2^-90 to 2^125 (powers of two, significands of all ones, random ones), both signs; on random
// values, tiny ones and subnormals; and outside that range of scales (where it divides) at the extremes.
TEST(Codec, Int8ReciprocalMatchesTheDivision) {
  std::mt19937 rng(12);
  constexpr float kMax = std::numeric_limits<float>::max();
  std::vector<float> scales = {0x1p-90f, 0x1p125f, 1.0f, std::nextafter(1.0f, 0.0f), kMax, 1e-38f,
                               0x1p-126f, 0x1p-149f, std::nextafter(0x1p-90f, 0.0f), std::nextafter(0x1p125f, 1e38f)};
  for (int e = -90; e <= 125; e += 5) {
    scales.push_back(std::ldexp(1.0f, e));
    scales.push_back(std::nextafter(std::ldexp(1.0f, e + 1), 0.0f));  // significand of all ones
  }
  std::uniform_real_distribution<float> exponent(-90.0f, 125.0f), unit(-1.0f, 1.0f);
  for (int i = 0; i < 600; ++i) scales.push_back(std::exp2(exponent(rng)));
  std::int64_t checked = 0;
  const auto same = [&](float x, float s) {
    ++checked;
    return int8_encode_reciprocal(x, s, 1.0f / s) == int8_encode(x, s);
  };
  for (const float s : scales) {
    for (int k = 0; k <= 127; ++k) {
      float x = static_cast<float>((k + 0.5) * static_cast<double>(s) / 127.0);
      for (int u = 0; u < 4; ++u) x = std::nextafter(x, 0.0f);
      for (int u = 0; u < 9 && x <= s; ++u, x = std::nextafter(x, kMax)) {
        ASSERT_TRUE(same(x, s)) << "x=" << x << " scale=" << s << " k=" << k;
        ASSERT_TRUE(same(-x, s)) << "x=" << -x << " scale=" << s << " k=" << k;
      }
    }
    for (int i = 0; i < 2000; ++i) {
      const float x = unit(rng) * s;
      ASSERT_TRUE(same(x, s)) << "x=" << x << " scale=" << s;
      const float tiny = x * 0x1p-20f;
      ASSERT_TRUE(same(tiny, s)) << "x=" << tiny << " scale=" << s;
    }
    for (const float x : {0.0f, -0.0f, s, -s, 0x1p-149f, -0x1p-130f, std::nextafter(s, 0.0f)}) {
      if (std::fabs(x) <= s) {
        ASSERT_TRUE(same(x, s)) << "x=" << x << " scale=" << s;
      }
    }
  }
  EXPECT_GT(checked, 4'000'000);  // 4,390,757
}

// The code book recomputed here from the published table's structure (../shared/seed-models.md, section 1.2).
std::vector<double> reference_magnitudes() {
  std::vector<double> m = {0.0, 1.0};
  for (int k = 0; k <= 5; ++k) {
    const int n = 1 << (6 - k), h = n / 2;
    for (int j = 0; j < h; ++j) m.push_back(std::pow(10.0, -k) * (0.1 + 0.35 * (j + 0.5) / h));
    for (int j = 0; j < h; ++j) m.push_back(std::pow(10.0, -k) * (0.45 + 0.55 * (j + 0.5) / h));
  }
  std::sort(m.begin(), m.end());
  return m;
}

TEST(Codec, Dettmers8CodeBook) {
  const auto& book = dettmers8_book();
  // values of the 2015 table: k = 5 -> 2.75e-6, 7.25e-6; k = 0 -> 0.10546875 ... 0.99140625
  EXPECT_FLOAT_EQ(book.magnitude[2], 2.75e-6f);
  EXPECT_FLOAT_EQ(book.magnitude[3], 7.25e-6f);
  EXPECT_FLOAT_EQ(book.magnitude[64], 0.10546875f);
  EXPECT_FLOAT_EQ(book.magnitude[127], 0.99140625f);
  EXPECT_EQ(book.magnitude[0], 0.0f);
  EXPECT_EQ(book.magnitude[1], 1.0f);
  const auto ref = reference_magnitudes();
  ASSERT_EQ(ref.size(), 128u);
  for (int i = 0; i < 128; ++i) {
    EXPECT_FLOAT_EQ(book.sorted[i], static_cast<float>(ref[i])) << i;
    if (i > 0) {
      EXPECT_LT(book.sorted[i - 1], book.sorted[i]);
    }
    EXPECT_EQ(book.magnitude[book.code_of[i]], book.sorted[i]);
  }
}

TEST(Codec, Dettmers8PicksTheNearestCode) {
  const auto x = gradient_like(300 * 256, 6);
  const auto f = find_wire_format("dettmers8");
  const auto y = decode_cpu(f, encode_cpu(f, x));
  const auto ref = reference_magnitudes();
  for (std::size_t start = 0; start < x.size(); start += 256) {
    double absmax = 0;
    for (std::size_t i = start; i < start + 256; ++i) absmax = std::max(absmax, std::fabs(double(x[i])));
    if (absmax == 0) continue;
    for (std::size_t i = start; i < start + 256; ++i) {
      // brute force in double: the distance of the chosen magnitude is the least of all 128 (up to the
      // fp32 rounding of |x| / absmax, a few units in its last place)
      const double a = std::fabs(double(x[i])) / absmax;
      double best = 1e300;
      for (double m : ref) best = std::min(best, std::fabs(m - a));
      const double chosen = std::fabs(std::fabs(double(y[i])) / absmax - a);
      ASSERT_LE(chosen, best + 4 * std::ldexp(std::max(a, 1e-30), -23)) << i << " a=" << a;
      ASSERT_EQ(std::signbit(y[i]) && y[i] != 0, std::signbit(x[i]) && y[i] != 0);
    }
  }
}

TEST(Codec, ApsScaleNeverOverflowsAndWastesAtMostOneBinade) {
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> exponent(-30, 30);
  for (const char* name : {"fp8-e4m3", "fp8-e5m2", "e3m0", "e5m10", "e4m3"}) {
    const auto f = find_wire_format(name).minifloat;
    const double top = aps_max_finite(f);
    for (int i = 0; i < 2000; ++i) {
      const auto max_abs = static_cast<float>(std::pow(2.0, exponent(rng)));
      const std::int64_t ranks = 1 + static_cast<std::int64_t>(rng() % 1024);
      const int k = aps_exponent(max_abs, ranks, f);
      const double headroom = static_cast<double>(max_abs) * static_cast<double>(ranks);
      ASSERT_LE(std::ldexp(headroom, k), top) << name;
      ASSERT_GT(std::ldexp(headroom, k + 1), top) << name;
    }
  }
  // 3.0 in E4M3 (max 448): 3 * 2^7 = 384 <= 448 < 768
  EXPECT_EQ(aps_exponent(3.0f, 1, find_wire_format("fp8-e4m3").minifloat), 7);
  // the wire starts with the scale 2^k; the largest value lands in the top binade and survives
  const std::vector<float> x = {3.0f, -1.5f, 0.001f};
  const auto f = find_wire_format("fp8-e4m3");
  const auto wire = encode_cpu(f, x);
  float scale;
  std::memcpy(&scale, wire.data(), 4);
  EXPECT_EQ(scale, 128.0f);
  EXPECT_EQ(static_cast<std::uint8_t>(wire[4]), code_of("fp8-e4m3", 384.0f));
  EXPECT_EQ(decode_cpu(f, wire)[0], 3.0f);
}

TEST(Codec, NonFiniteValues) {
  // fp16 and bf16 keep infinities and NaN; fp8 saturates infinities and keeps NaN
  const std::vector<float> x = {1.0f, kInf, -kInf, kNaN, -2.0f};
  auto y = decode_cpu(find_wire_format("fp16"), encode_cpu(find_wire_format("fp16"), x));
  EXPECT_EQ(y[1], kInf);
  EXPECT_EQ(y[2], -kInf);
  EXPECT_TRUE(std::isnan(y[3]));
  y = decode_cpu(find_wire_format("fp8-e5m2"), encode_cpu(find_wire_format("fp8-e5m2"), x));
  EXPECT_TRUE(std::isfinite(y[1]));
  EXPECT_GT(y[1], 0);
  EXPECT_TRUE(std::isnan(y[3]));
  EXPECT_EQ(y[0], 1.0f);  // the APS scale ignores the infinities: max finite is 2
  // -NaN keeps its sign through APS scaling: E4M3 code S.1111.111 with S = 1
  const std::vector<float> neg = {1.0f, -kNaN};
  EXPECT_EQ(static_cast<std::uint8_t>(encode_cpu(find_wire_format("fp8-e4m3"), neg)[5]), 0xFF);
  // a NaN made by accumulating is the canonical 0x7FC00000, whatever the operands' payloads
  std::vector<float> acc = {-kNaN, 1.0f};
  decode_accumulate_cpu(find_wire_format("fp32"), encode_cpu(find_wire_format("fp32"), std::vector<float>{1.0f, kNaN}), acc);
  std::uint32_t b0, b1;
  std::memcpy(&b0, &acc[0], 4);
  std::memcpy(&b1, &acc[1], 4);
  EXPECT_EQ(b0, 0x7FC00000u);
  EXPECT_EQ(b1, 0x7FC00000u);
  // e1m0 has no nonzero finite value: refused
  EXPECT_THROW(find_wire_format("e1m0"), InputError);
  // block codecs: a block with a NaN or infinity decodes to NaN; the other blocks are untouched
  std::vector<float> b(512, 0.5f);
  b[3] = kInf;
  for (const char* name : {"int8-block", "dettmers8"}) {
    const auto f = find_wire_format(name);
    const auto out = decode_cpu(f, encode_cpu(f, b));
    for (int i = 0; i < 256; ++i) ASSERT_TRUE(std::isnan(out[i])) << name;
    for (int i = 256; i < 512; ++i) ASSERT_EQ(out[i], 0.5f) << name;
    const std::vector<float> zeros(300, 0.0f);
    for (float v : decode_cpu(f, encode_cpu(f, zeros))) ASSERT_EQ(v, 0.0f);
    // whichever it holds, NaN or an infinity, in the vectorized part of the block or its last values, the
    // block's scale is the canonical NaN
    for (float bad : {kNaN, -kNaN, kInf, -kInf}) {
      for (std::size_t at : {3u, 252u}) {
        std::vector<float> c(255, 0.5f);
        c[at] = bad;
        const auto wire = encode_cpu(f, c);
        std::uint32_t scale = 0;
        std::memcpy(&scale, wire.data(), 4);
        EXPECT_EQ(scale, 0x7FC00000u) << name << " " << bad << " at " << at;
        for (float v : decode_cpu(f, wire)) ASSERT_TRUE(std::isnan(v)) << name << " " << bad << " at " << at;
      }
    }
  }
  // int8-block with a tiny absmax (127 / absmax overflows): codes stay within +-127 and keep their signs
  const std::vector<float> tiny = {1e-37f, -1e-37f, 0.0f, 5e-38f, -5e-38f};
  const auto t = decode_cpu(find_wire_format("int8-block"), encode_cpu(find_wire_format("int8-block"), tiny));
  for (std::size_t i = 0; i < tiny.size(); ++i) EXPECT_NEAR(t[i], tiny[i], 1e-37 / 254 * 1.01) << i;
}

TEST(Codec, StochasticRoundingIsUnbiasedAndSeeded) {
  // 1 + 2^-12 lies a quarter of the way from 1 to the next fp16 value (1 + 2^-10): P(up) = 1/4
  const std::vector<float> x(200000, 1.0f + std::ldexp(1.0f, -12));
  CodecOptions o;
  o.rounding = Rounding::stochastic;
  o.seed = 42;
  const auto f = find_wire_format("fp16");
  const auto wire = encode_cpu(f, x, o);
  const auto y = decode_cpu(f, wire);
  double up = 0;
  for (float v : y) up += v > 1.0f ? 1 : 0;
  const double p = up / static_cast<double>(y.size());
  EXPECT_NEAR(p, 0.25, 3 * std::sqrt(0.25 * 0.75 / static_cast<double>(y.size())));
  EXPECT_EQ(encode_cpu(f, x, o), wire);  // same seed, same bytes
  o.seed = 43;
  EXPECT_NE(encode_cpu(f, x, o), wire);
  // bf16 subnormal range too: 1.25 * 2^-133 rounds up with probability 1/4
  const std::vector<float> s(100000, std::ldexp(1.25f, -133));
  const auto ys = decode_cpu(find_wire_format("bf16"), encode_cpu(find_wire_format("bf16"), s, o));
  double ups = 0;
  for (float v : ys) ups += v > std::ldexp(1.0f, -133) ? 1 : 0;
  EXPECT_NEAR(ups / 1e5, 0.25, 3 * std::sqrt(0.25 * 0.75 / 1e5));
}

TEST(Codec, DecodeAccumulateAddsTheDecodedValues) {
  const auto x = gradient_like(10000, 7);
  const auto acc0 = gradient_like(10000, 8);
  for (const auto& f : wire_formats()) {
    const auto wire = encode_cpu(f, x);
    const auto decoded = decode_cpu(f, wire);
    auto acc = acc0;
    decode_accumulate_cpu(f, wire, acc);
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(acc[i], acc0[i] + decoded[i]) << f.name;
  }
}

TEST(Codec, ErrorFeedbackKeepsWhatWasNotSent) {
  for (const auto& f : wire_formats()) {
    std::vector<float> residual(5000, 0.0f);
    double sent = 0, given = 0;
    for (int step = 0; step < 10; ++step) {
      const auto g = gradient_like(5000, 100 + static_cast<std::uint64_t>(step));
      const auto before = residual;
      std::vector<std::byte> wire(wire_size(f, g.size()));
      encode_error_feedback_cpu(f, g, residual, wire);
      const auto y = decode_cpu(f, wire);
      for (std::size_t i = 0; i < g.size(); ++i) {
        // the residual is exactly what the wire lost of the corrected gradient
        ASSERT_EQ(residual[i], (g[i] + before[i]) - y[i]) << f.name;
        sent += y[i];
        given += g[i];
      }
    }
    double left = 0;
    for (float r : residual) left += r;
    // telescoping: everything given was sent or is still in the residual
    EXPECT_NEAR(sent + left, given, 1e-3 * (std::fabs(given) + 1)) << f.name;
  }
}

TEST(Codec, WireSizesAndMalformedWires) {
  for (const auto& f : wire_formats()) {
    for (std::size_t n : {0u, 1u, 255u, 256u, 257u, 10000u}) {
      EXPECT_EQ(values_in_wire(f, wire_size(f, n)), n) << f.name << " " << n;
      EXPECT_DOUBLE_EQ(f.wire_bytes(static_cast<double>(n)), static_cast<double>(wire_size(f, n))) << f.name;
    }
  }
  EXPECT_THROW(values_in_wire(find_wire_format("int8-block"), 260 * 2 + 3), InputError);
  EXPECT_THROW(values_in_wire(find_wire_format("fp8-e4m3"), 3), InputError);
  EXPECT_THROW(values_in_wire(find_wire_format("fp16"), 7), InputError);
  // a wire whose APS scale is not a power of two
  std::vector<std::byte> wire(8);
  const float bad = 3.0f;
  std::memcpy(wire.data(), &bad, 4);
  EXPECT_THROW(decode_cpu(find_wire_format("fp8-e4m3"), wire), InputError);
}

TEST(Codec, ErrorStatisticsByHand) {
  const std::vector<float> x = {1.0f, -2.0f, 0.0f, kNaN};
  const std::vector<float> y = {1.5f, -2.0f, 0.0f, kNaN};
  const auto s = error_stats(x, y);
  EXPECT_EQ(s.finite, 3u);
  EXPECT_EQ(s.nonfinite_in, 1u);
  EXPECT_DOUBLE_EQ(s.max_abs_error, 0.5);
  EXPECT_DOUBLE_EQ(s.relative_rms, std::sqrt(0.25 / 5.0));
  EXPECT_DOUBLE_EQ(s.max_error_vs_absmax, 0.25);
  EXPECT_DOUBLE_EQ(s.max_relative_error, 0.5);
}

// The CUDA block kernels' lane layout (block_lane_value): the 32 lanes' 8 slots hold each of a block's 256 values
// exactly once; a lane's slots 0-3 and 4-7 are 4 consecutive values starting at a multiple of 4 (one float4, one
// 32-bit code word); and at each slot the warp's 32 lanes read 128 consecutive values, 512 bytes, in lane order.
TEST(Codec, BlockLaneLayoutCoversEveryValueOnceInWholeSectors) {
  std::vector<int> seen(256, 0);
  for (int lane = 0; lane < 32; ++lane) {
    for (int j = 0; j < 8; ++j) {
      const int i = block_lane_value(lane, j);
      ASSERT_GE(i, 0);
      ASSERT_LT(i, 256);
      ++seen[static_cast<std::size_t>(i)];
      EXPECT_EQ(i, block_lane_value(lane, j & 4) + (j & 3)) << "lane " << lane << " slot " << j;
    }
    EXPECT_EQ(block_lane_value(lane, 0) % 4, 0);
    EXPECT_EQ(block_lane_value(lane, 4) % 4, 0);
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 256);
  for (int j = 0; j < 8; ++j) {
    int lo = 256, hi = -1;
    for (int lane = 0; lane < 32; ++lane) {
      lo = std::min(lo, block_lane_value(lane, j & 4));
      hi = std::max(hi, block_lane_value(lane, j & 4) + 3);
      if (lane > 0) {
        EXPECT_EQ(block_lane_value(lane, j), block_lane_value(lane - 1, j) + 4);
      }
    }
    EXPECT_EQ(hi - lo + 1, 128) << "slot " << j;  // 128 floats: 4 whole 128-byte lines
  }
}

// CUDA gives the same bytes as the CPU on random data of odd sizes (and for stochastic rounding, the same bytes
// for the same seed: the random bits depend on the value's index only).
TEST(CodecCuda, MatchesCpuBitForBit) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (std::size_t n : {0u, 1u, 7u, 15u, 16u, 17u, 255u, 256u, 400u, 1000003u}) {  // 400: a block and 144
    auto x = gradient_like(n, 11 + n);
    if (n > 0) x[0] = -0.0f;
    if (n > 100) {
      x[17] = kNaN;
      x[18] = -kNaN;
      x[99] = -kInf;
      for (std::size_t i = 512; i < std::min<std::size_t>(768, n); ++i) x[i] = 1e-38f * static_cast<float>(i % 5) - 2e-38f;  // tiny absmax
    }
    if (n > 1536) {
      // two blocks of values at int8-block's rounding boundaries, (k + 1/2) scale / 127 and an ulp either side,
      // both signs, the scale held by the block's first value: the CUDA encode multiplies by the scale's
      // reciprocal where the CPU divides (int8_encode_reciprocal); the second scale's significand is all ones
      const float scales[2] = {1.7f, std::nextafter(2.0f, 0.0f)};
      for (std::size_t blk = 0; blk < 2; ++blk) {
        const std::size_t first = 1024 + 256 * blk;
        const float s = scales[blk];
        x[first] = s;
        for (std::size_t i = 1; i < 256; ++i) {
          const auto k = static_cast<double>((i - 1) / 2 % 127);
          float v = static_cast<float>((k + 0.5) * static_cast<double>(s) / 127.0);
          if (i % 3 == 0) v = std::nextafter(v, 0.0f);
          if (i % 3 == 2) v = std::nextafter(v, s);
          x[first + i] = (i & 1) ? -v : v;
        }
      }
    }
    for (const auto& f : wire_formats()) {
      for (auto rounding : {Rounding::nearest, Rounding::stochastic}) {
        CodecOptions o;
        o.rounding = rounding;
        o.seed = 5;
        const auto cpu = encode_cpu(f, x, o);
        const auto gpu = encode_cuda(f, x, o);
        ASSERT_EQ(cpu, gpu) << f.name << " n=" << n;
        const auto y_cpu = decode_cpu(f, cpu);
        const auto y_gpu = decode_cuda(f, cpu);
        ASSERT_EQ(std::memcmp(y_cpu.data(), y_gpu.data(), n * 4), 0) << f.name << " n=" << n;
      }
      CodecOptions global;
      global.global_max_abs = 3.0f;
      global.ranks = 64;
      ASSERT_EQ(encode_cpu(f, x, global), encode_cuda(f, x, global)) << f.name;
      const auto acc = gradient_like(n, 3);
      const auto wire = encode_cpu(f, x);
      auto acc_cpu = acc;
      decode_accumulate_cpu(f, wire, acc_cpu);
      const auto acc_gpu = decode_accumulate_cuda(f, wire, acc);
      ASSERT_EQ(std::memcmp(acc_cpu.data(), acc_gpu.data(), n * 4), 0) << f.name;
      std::vector<float> r_cpu(n, 0.001f), r_gpu(n, 0.001f);
      std::vector<std::byte> w_cpu(wire_size(f, n));
      encode_error_feedback_cpu(f, x, r_cpu, w_cpu);
      const auto w_gpu = encode_error_feedback_cuda(f, x, r_gpu);
      ASSERT_EQ(w_cpu, w_gpu) << f.name;
      ASSERT_EQ(std::memcmp(r_cpu.data(), r_gpu.data(), n * 4), 0) << f.name;
    }
  }
  // a misaligned device pointer is refused, not a sticky CUDA error
  auto* d = static_cast<float*>(cuda_malloc(1024));
  auto* w = static_cast<std::byte*>(cuda_malloc(1024));
  EXPECT_THROW(encode_cuda_device(find_wire_format("fp16"), d + 1, 16, w, {}), std::invalid_argument);
  cuda_free(d);
  cuda_free(w);
}

}  // namespace
}  // namespace bitscale
