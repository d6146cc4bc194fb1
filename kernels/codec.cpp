// CPU codecs: the reference implementation (scalar), with AVX2/F16C paths for fp16 and bf16 chosen at run time
// (they produce the same bytes as the scalar code, NaN payloads included: lanes holding a NaN are redone by the
// scalar code), and GCC target clones (AVX2 or baseline) for the loops the compiler vectorizes.
#include "kernels/codec.hpp"

#include <fmt/format.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cpuid.h>

#include <cstring>

#include "kernels/block_codec.hpp"
#include "kernels/input_error.hpp"

namespace bitscale {

namespace {

constexpr std::size_t kBlock = 256;

bool cpu_has_avx2_f16c() {
  // F16C is CPUID leaf 1, ECX bit 29 (clang's __builtin_cpu_supports does not know "f16c")
  static const bool yes = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1u << 29)) != 0;
    return f16c && __builtin_cpu_supports("avx2");
  }();
  return yes;
}

void store_code(std::byte* p, std::uint32_t code, int bytes) {
  for (int b = 0; b < bytes; ++b) p[b] = static_cast<std::byte>((code >> (8 * b)) & 0xFFu);
}
std::uint32_t load_code(const std::byte* p, int bytes) {
  std::uint32_t code = 0;
  for (int b = 0; b < bytes; ++b) code |= static_cast<std::uint32_t>(p[b]) << (8 * b);
  return code;
}
void store_f32(std::byte* p, float v) { std::memcpy(p, &v, 4); }
float load_f32(const std::byte* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

bool is_fp16(const MiniFloat& f) { return f.exponent_bits == 5 && f.mantissa_bits == 10 && !f.saturate; }
bool is_bf16(const MiniFloat& f) { return f.exponent_bits == 8 && f.mantissa_bits == 7 && !f.saturate; }

// Outputs larger than the caches are written with non-temporal stores (as glibc's memcpy does), so the
// destination is not read for ownership first; small outputs stay in cache for the next kernel.
constexpr std::size_t kStreamBytes = std::size_t{8} << 20;

__attribute__((target("avx2"))) inline void put16(std::byte* p, __m128i v, bool stream) {
  if (stream) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(p), v);
  } else {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
  }
}
__attribute__((target("avx2"))) inline void put8f(float* p, __m256 v, bool stream) {
  if (stream) {
    _mm_stream_ps(p, _mm256_castps256_ps128(v));
    _mm_stream_ps(p + 4, _mm256_extractf128_ps(v, 1));
  } else {
    _mm256_storeu_ps(p, v);
  }
}
// a + b with any NaN result made the canonical 0x7FC00000, as add_canonical
__attribute__((target("avx2"))) inline __m256 add_canonical_avx2(__m256 a, __m256 b) {
  const __m256 r = _mm256_add_ps(a, b);
  return _mm256_blendv_ps(r, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000)), _mm256_cmp_ps(r, r, _CMP_UNORD_Q));
}

bool streamable(const void* p, std::size_t bytes, bool accumulate) {
  return !accumulate && bytes >= kStreamBytes && reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

// ---- fp16 / bf16 with AVX2 and F16C -------------------------------------------------------------------------

// Encoding to 16-bit floats, 8 at a time: `narrow` rounds 8 fp32 values to 8 codes as the scalar definition
// does for every non-NaN value; lanes of a group holding a NaN are redone by the scalar definition.
template <typename Narrow>
__attribute__((target("avx2,f16c"))) void half_encode_avx2(const float* in, std::byte* out, std::size_t n,
                                                            const MiniFloat& f, Narrow narrow) {
  const bool stream = streamable(out, 2 * n, false);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(in + i);
    __m128i h = narrow(x);
    if (_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)) != 0) {
      alignas(16) std::uint16_t fixed[8];
      for (int j = 0; j < 8; ++j) fixed[j] = static_cast<std::uint16_t>(minifloat_encode(in[i + j], f, false, 0));
      h = _mm_load_si128(reinterpret_cast<const __m128i*>(fixed));
    }
    put16(out + 2 * i, h, stream);
  }
  if (stream) _mm_sfence();
  for (; i < n; ++i) store_code(out + 2 * i, minifloat_encode(in[i], f, false, 0), 2);
}

struct NarrowFp16 {
  __attribute__((target("avx2,f16c"))) __m128i operator()(__m256 x) const {
    return _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
};
// bf16: (u + 0x7FFF + lsb) >> 16 on the bit pattern, then 8 x 32 -> 8 x 16 bits in order
struct NarrowBf16 {
  __attribute__((target("avx2"))) __m128i operator()(__m256 x) const {
    const __m256i u = _mm256_castps_si256(x);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    const __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), lsb), 16);
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0xD8));
  }
};

void fp16_encode_avx2(const float* in, std::byte* out, std::size_t n, const MiniFloat& f) {
  half_encode_avx2(in, out, n, f, NarrowFp16{});
}
void bf16_encode_avx2(const float* in, std::byte* out, std::size_t n, const MiniFloat& f) {
  half_encode_avx2(in, out, n, f, NarrowBf16{});
}

// Decoding of 16-bit floats, 8 at a time: `widen` turns 8 codes into 8 fp32 values (exact for every non-NaN
// code); a lane holding a NaN code (above `inf` once the sign is cleared) is redone by the scalar definition.
template <typename Widen>
__attribute__((target("avx2,f16c"))) void half_decode_avx2(const std::byte* in, float* out, std::size_t n,
                                                            const MiniFloat& f, bool accumulate, std::int16_t inf,
                                                            Widen widen) {
  const bool stream = streamable(out, 4 * n, accumulate);
  std::size_t i = 0;
  const __m128i abs_mask = _mm_set1_epi16(0x7FFF);
  const __m128i inf_bits = _mm_set1_epi16(inf);
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 2 * i));
    __m256 x = widen(h);
    if (_mm_movemask_epi8(_mm_cmpgt_epi16(_mm_and_si128(h, abs_mask), inf_bits)) != 0) {
      alignas(32) float tmp[8];
      for (int j = 0; j < 8; ++j) tmp[j] = minifloat_decode(load_code(in + 2 * (i + j), 2), f);
      x = _mm256_load_ps(tmp);
    }
    if (accumulate) x = add_canonical_avx2(_mm256_loadu_ps(out + i), x);
    put8f(out + i, x, stream);
  }
  if (stream) _mm_sfence();
  for (; i < n; ++i) {
    const float v = minifloat_decode(load_code(in + 2 * i, 2), f);
    out[i] = accumulate ? add_canonical(out[i], v) : v;
  }
}

struct WidenFp16 {
  __attribute__((target("avx2,f16c"))) __m256 operator()(__m128i h) const { return _mm256_cvtph_ps(h); }
};
struct WidenBf16 {
  __attribute__((target("avx2"))) __m256 operator()(__m128i h) const {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
};

void fp16_decode_avx2(const std::byte* in, float* out, std::size_t n, const MiniFloat& f, bool accumulate) {
  half_decode_avx2(in, out, n, f, accumulate, 0x7C00, WidenFp16{});
}


void bf16_decode_avx2(const std::byte* in, float* out, std::size_t n, const MiniFloat& f, bool accumulate) {
  half_decode_avx2(in, out, n, f, accumulate, 0x7F80, WidenBf16{});
}

// fp32 "encoding" is a copy with NaN made canonical; decoding likewise (and may accumulate)
__attribute__((target("avx2"))) void fp32_copy_avx2(const float* in, float* out, std::size_t n, const MiniFloat& f,
                                                     bool accumulate) {
  const bool stream = streamable(out, 4 * n, accumulate);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(in + i);
    if (_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)) != 0) {
      alignas(32) float tmp[8];
      for (int j = 0; j < 8; ++j) tmp[j] = bits_float(minifloat_encode(in[i + j], f, false, 0));
      x = _mm256_load_ps(tmp);
    }
    if (accumulate) x = add_canonical_avx2(_mm256_loadu_ps(out + i), x);
    put8f(out + i, x, stream);
  }
  if (stream) _mm_sfence();
  for (; i < n; ++i) {
    const float v = bits_float(minifloat_encode(in[i], f, false, 0));
    out[i] = accumulate ? add_canonical(out[i], v) : v;
  }
}

bool is_fp32(const MiniFloat& f) { return f.exponent_bits == 8 && f.mantissa_bits == 23 && !f.saturate; }

// ---- generic minifloat -----------------------------------------------------------------------------------

struct Aps {
  bool on = false;
  int k = 0;  // values are multiplied by 2^k before rounding
};

Aps aps_for(const WireFormat& f, std::span<const float> values, const CodecOptions& o) {
  if (!f.aps) return {};
  const float max_abs = o.global_max_abs ? *o.global_max_abs : max_abs_finite(values);
  return {true, aps_exponent(max_abs, o.ranks, f.minifloat)};
}

__attribute__((target_clones("avx2", "default"))) void minifloat_encode_loop(const float* in, std::byte* out,
                                                                             std::size_t n, MiniFloat f, int k,
                                                                             bool stochastic, std::uint64_t seed) {
  const int bytes = f.code_bytes;
  const float scale = scale_pow2(1.0f, k);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t r = stochastic ? random_bits(seed, i) : 0u;
    store_code(out + bytes * i, minifloat_encode(scale_keep_nan(in[i], scale), f, stochastic, r), bytes);
  }
}

__attribute__((target_clones("avx2", "default"))) void minifloat_decode_loop(const std::byte* in, float* out,
                                                                             std::size_t n, MiniFloat f, int k,
                                                                             bool accumulate) {
  const int bytes = f.code_bytes;
  const float unscale = scale_pow2(1.0f, -k);
  for (std::size_t i = 0; i < n; ++i) {
    const float v = scale_keep_nan(minifloat_decode(load_code(in + bytes * i, bytes), f), unscale);
    out[i] = accumulate ? add_canonical(out[i], v) : v;
  }
}

void minifloat_encode_cpu(const WireFormat& f, std::span<const float> in, std::span<std::byte> wire,
                          const CodecOptions& o) {
  const auto aps = aps_for(f, in, o);
  std::byte* codes = wire.data();
  if (aps.on) {
    store_f32(codes, scale_pow2(1.0f, aps.k));
    codes += 4;
  }
  const bool stochastic = o.rounding == Rounding::stochastic;
  if (!aps.on && !stochastic && cpu_has_avx2_f16c()) {
    if (is_fp16(f.minifloat)) return fp16_encode_avx2(in.data(), codes, in.size(), f.minifloat);
    if (is_bf16(f.minifloat)) return bf16_encode_avx2(in.data(), codes, in.size(), f.minifloat);
    if (is_fp32(f.minifloat)) {
      return fp32_copy_avx2(in.data(), reinterpret_cast<float*>(codes), in.size(), f.minifloat, false);
    }
  }
  minifloat_encode_loop(in.data(), codes, in.size(), f.minifloat, aps.k, stochastic, o.seed);
}

int read_aps_exponent(const WireFormat& f, std::span<const std::byte> wire) {
  if (!f.aps) return 0;
  const float scale = load_f32(wire.data());
  int e = 0;
  const float m = std::frexp(scale, &e);
  if (!(m == 0.5f) || !std::isfinite(scale)) {
    throw InputError("wire", "APS scale", fmt::format("{}", scale), "must be a power of two");
  }
  return e - 1;
}

void minifloat_decode_cpu(const WireFormat& f, std::span<const std::byte> wire, std::span<float> out,
                          bool accumulate) {
  const int k = read_aps_exponent(f, wire);
  const std::byte* codes = wire.data() + (f.aps ? 4 : 0);
  if (!f.aps && cpu_has_avx2_f16c()) {
    if (is_fp16(f.minifloat)) return fp16_decode_avx2(codes, out.data(), out.size(), f.minifloat, accumulate);
    if (is_bf16(f.minifloat)) return bf16_decode_avx2(codes, out.data(), out.size(), f.minifloat, accumulate);
    if (is_fp32(f.minifloat)) {
      return fp32_copy_avx2(reinterpret_cast<const float*>(codes), out.data(), out.size(), f.minifloat, accumulate);
    }
  }
  minifloat_decode_loop(codes, out.data(), out.size(), f.minifloat, k, accumulate);
}

// ---- block codecs ----------------------------------------------------------------------------------------

}  // namespace

const Dettmers8Book& dettmers8_book() {
  static const Dettmers8Book book = [] {
    Dettmers8Book b;
    b.magnitude[0] = 0.0f;
    b.magnitude[1] = 1.0f;
    for (int k = 0; k <= 5; ++k) {
      const int n = 1 << (6 - k);  // codes 2^(6-k) .. 2^(7-k)-1: k zero bits, the indicator, 6-k fraction bits
      const int h = n / 2;
      for (int j = 0; j < n; ++j) {
        const double f = j < h ? 0.1 + (j + 0.5) * 0.35 / h : 0.45 + (j - h + 0.5) * 0.55 / h;
        b.magnitude[static_cast<std::size_t>(n + j)] = static_cast<float>(f * std::pow(10.0, -k));
      }
    }
    std::array<std::uint8_t, 128> order{};
    for (int c = 0; c < 128; ++c) order[c] = static_cast<std::uint8_t>(c);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint8_t x, std::uint8_t y) { return b.magnitude[x] < b.magnitude[y]; });
    for (int i = 0; i < 128; ++i) {
      b.code_of[i] = order[i];
      b.sorted[i] = b.magnitude[order[i]];
    }
    return b;
  }();
  return book;
}

namespace {

template <typename Encode>
void block_encode(std::span<const float> in, std::byte* wire, Encode encode) {
  for (std::size_t start = 0; start < in.size(); start += kBlock) {
    const std::size_t len = std::min(kBlock, in.size() - start);
    const float* x = in.data() + start;
    float absmax = 0.0f;
    bool bad = false;
    for (std::size_t j = 0; j < len; ++j) {
      const float a = std::fabs(x[j]);
      bad = bad || !(a <= 3.4028235e38f);
      absmax = a > absmax ? a : absmax;
    }
    const float scale = block_scale(absmax, bad);
    store_f32(wire, scale);
    std::uint8_t* codes = reinterpret_cast<std::uint8_t*>(wire + 4);
    for (std::size_t j = 0; j < len; ++j) codes[j] = encode(x[j], scale);
    wire += 4 + len;
  }
}

template <typename Decode>
void block_decode(std::span<const std::byte> wire, std::span<float> out, bool accumulate, Decode decode) {
  const std::byte* p = wire.data();
  for (std::size_t start = 0; start < out.size(); start += kBlock) {
    const std::size_t len = std::min(kBlock, out.size() - start);
    const float scale = load_f32(p);
    const std::uint8_t* codes = reinterpret_cast<const std::uint8_t*>(p + 4);
    float* y = out.data() + start;
    for (std::size_t j = 0; j < len; ++j) {
      const float v = decode(codes[j], scale);
      y[j] = accumulate ? add_canonical(y[j], v) : v;
    }
    p += 4 + len;
  }
}

// AVX2: a block's absmax and the NaN/infinity check in 8 lanes; codes as the scalar definition computes them
// (x * (127 / scale) rounded half to even by vroundps; |x| / scale and the 7-step search with gathers).
__attribute__((target("avx2"))) float block_absmax_avx2(const float* x, std::size_t len, bool& bad) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256 finite_max = _mm256_set1_ps(3.4028235e38f);
  __m256 m = _mm256_setzero_ps();
  __m256 ok = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  std::size_t j = 0;
  for (; j + 8 <= len; j += 8) {
    const __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + j), abs_mask);
    ok = _mm256_and_ps(ok, _mm256_cmp_ps(a, finite_max, _CMP_LE_OQ));
    m = _mm256_max_ps(m, a);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  float absmax = 0.0f;
  for (float v : lanes) absmax = v > absmax ? v : absmax;
  bad = _mm256_movemask_ps(ok) != 0xFF;
  for (; j < len; ++j) {
    const float a = std::fabs(x[j]);
    bad = bad || !(a <= 3.4028235e38f);
    absmax = a > absmax ? a : absmax;
  }
  return absmax;
}

// 8 int32 codes (each 0..255) to 8 bytes
__attribute__((target("avx2"))) inline void store_bytes_avx2(std::uint8_t* out, __m256i codes) {
  const __m128i lo = _mm256_castsi256_si128(codes), hi = _mm256_extracti128_si256(codes, 1);
  const __m128i words = _mm_packus_epi32(lo, hi);
  const __m128i bytes = _mm_packus_epi16(words, words);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
}

template <typename Codes>
__attribute__((target("avx2"))) void block_encode_avx2(std::span<const float> in, std::byte* wire, Codes codes8,
                                                        std::uint8_t (*scalar)(float, float)) {
  for (std::size_t start = 0; start < in.size(); start += kBlock) {
    const std::size_t len = std::min(kBlock, in.size() - start);
    const float* x = in.data() + start;
    bool bad = false;
    // two statements: block_absmax_avx2 sets `bad`, and a function's arguments are evaluated in no fixed order
    const float absmax = block_absmax_avx2(x, len, bad);
    const float scale = block_scale(absmax, bad);
    store_f32(wire, scale);
    std::uint8_t* codes = reinterpret_cast<std::uint8_t*>(wire + 4);
    std::size_t j = 0;
    if (scale_usable(scale)) {
      for (; j + 8 <= len; j += 8) {
        __m256i c;
        if (codes8(_mm256_loadu_ps(x + j), scale, c)) {
          store_bytes_avx2(codes + j, c);
        } else {
          for (std::size_t q = j; q < j + 8; ++q) codes[q] = scalar(x[q], scale);
        }
      }
    }
    for (; j < len; ++j) codes[j] = scalar(x[j], scale);
    wire += 4 + len;
  }
}

__attribute__((target("avx2"))) bool int8_codes_avx2(__m256 x, float scale, __m256i& out) {
  const __m256 q = _mm256_mul_ps(_mm256_div_ps(x, _mm256_set1_ps(scale)), _mm256_set1_ps(127.0f));
  __m256 r = _mm256_round_ps(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  r = _mm256_min_ps(_mm256_max_ps(r, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
  out = _mm256_and_si256(_mm256_cvtps_epi32(r), _mm256_set1_epi32(0xFF));
  return true;
}

std::uint8_t int8_scalar(float x, float scale) { return int8_encode(x, scale); }

__attribute__((target_clones("avx2", "default"))) void int8_encode_scalar(std::span<const float> in, std::byte* wire) {
  block_encode(in, wire, [](float x, float scale) { return int8_encode(x, scale); });
}

__attribute__((target("avx2"))) bool dettmers8_codes_avx2(__m256 x, float scale, const float* sorted, __m256i& out);

// functors, so the per-8-values code inlines into the block loop
struct Int8Codes {
  __attribute__((target("avx2"))) bool operator()(__m256 x, float scale, __m256i& out) const {
    return int8_codes_avx2(x, scale, out);
  }
};
struct Dettmers8Codes {
  const float* sorted = dettmers8_book().sorted.data();
  __attribute__((target("avx2"))) bool operator()(__m256 x, float scale, __m256i& out) const {
    return dettmers8_codes_avx2(x, scale, sorted, out);
  }
};

void int8_encode_cpu(std::span<const float> in, std::byte* wire) {
  if (cpu_has_avx2_f16c()) return block_encode_avx2(in, wire, Int8Codes{}, int8_scalar);
  int8_encode_scalar(in, wire);
}
__attribute__((target_clones("avx2", "default"))) void int8_decode_cpu(std::span<const std::byte> wire,
                                                                      std::span<float> out, bool accumulate) {
  block_decode(wire, out, accumulate, [](std::uint8_t c, float scale) { return int8_decode(c, scale); });
}
std::uint8_t dettmers8_scalar(float x, float scale) {
  const auto& b = dettmers8_book();
  return dettmers8_encode(x, scale, b.sorted.data(), b.code_of.data());
}

// The search of dettmers8_encode without its seven dependent look-ups: the decade k of a = |x|/scale comes from
// six comparisons with the decades' bounds, the position L = #{magnitudes < a} inside the decade from the
// uniform bins' arithmetic, and two gathers confirm sorted[L-1] < a <= sorted[L] exactly. A lane where the
// estimate misses (a within rounding of a bin edge) sends its 8 values to the scalar code.
__attribute__((target("avx2"))) inline bool dettmers8_codes_avx2(__m256 x, float scale, const float* sorted,
                                                                  __m256i& out) {
  const __m256 a = _mm256_div_ps(_mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF))),
                                 _mm256_set1_ps(scale));
  // decade k (0..5) holds sorted indices B_k = 2^(6-k) - 1 .. B_k + 2^(6-k) - 1; a > sorted[B_d - 1] counts decades
  __m256i passed = _mm256_setzero_si256();
  for (int d = 0; d <= 5; ++d) {
    const float below = sorted[(1 << (6 - d)) - 2];
    passed = _mm256_sub_epi32(passed, _mm256_castps_si256(_mm256_cmp_ps(a, _mm256_set1_ps(below), _CMP_GT_OQ)));
  }
  // k = 6 - passed; passed == 0 means a == 0: L = 0
  const __m256i k = _mm256_sub_epi32(_mm256_set1_epi32(6), passed);
  const __m256i kc = _mm256_min_epi32(k, _mm256_set1_epi32(5));
  const __m256 pow10 = _mm256_permutevar8x32_ps(_mm256_setr_ps(1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e5f, 1e5f), kc);
  const __m256i size = _mm256_srlv_epi32(_mm256_set1_epi32(64), kc);  // 2^(6-k) magnitudes in decade k
  const __m256i half = _mm256_srli_epi32(size, 1);
  const __m256 hf = _mm256_cvtepi32_ps(half);
  const __m256 f = _mm256_mul_ps(a, pow10);
  // centres below f: lower half 0.1 + (j + 0.5) 0.35/h, upper half 0.45 + (j + 0.5) 0.55/h
  // (an estimate: the exact check below decides)
  const __m256 lower = _mm256_sub_ps(
      _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(f, _mm256_set1_ps(0.1f)), hf), _mm256_set1_ps(1.0f / 0.35f)),
      _mm256_set1_ps(0.5f));
  const __m256 upper = _mm256_add_ps(
      _mm256_sub_ps(
          _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(f, _mm256_set1_ps(0.45f)), hf), _mm256_set1_ps(1.0f / 0.55f)),
          _mm256_set1_ps(0.5f)),
      hf);
  const __m256 est = _mm256_blendv_ps(lower, upper, _mm256_cmp_ps(f, _mm256_set1_ps(0.45f), _CMP_GT_OQ));
  __m256i c = _mm256_cvtps_epi32(_mm256_ceil_ps(_mm256_max_ps(est, _mm256_setzero_ps())));
  c = _mm256_min_epi32(c, size);
  const __m256i base = _mm256_sub_epi32(size, _mm256_set1_epi32(1));
  __m256i L = _mm256_add_epi32(base, c);
  const __m256i zero_a = _mm256_cmpeq_epi32(passed, _mm256_setzero_si256());
  L = _mm256_andnot_si256(zero_a, L);  // a == 0: L = 0
  L = _mm256_min_epi32(L, _mm256_set1_epi32(127));
  const __m256i prev = _mm256_max_epi32(_mm256_sub_epi32(L, _mm256_set1_epi32(1)), _mm256_setzero_si256());
  const __m256 lo = _mm256_i32gather_ps(sorted, prev, 4);
  const __m256 hi = _mm256_i32gather_ps(sorted, L, 4);
  const __m256i positive = _mm256_cmpgt_epi32(L, _mm256_setzero_si256());
  // exact check: (L == 0 or sorted[L-1] < a) and a <= sorted[L]
  const __m256 ok = _mm256_and_ps(
      _mm256_or_ps(_mm256_castsi256_ps(_mm256_xor_si256(positive, _mm256_set1_epi32(-1))),
                   _mm256_cmp_ps(lo, a, _CMP_LT_OQ)),
      _mm256_cmp_ps(a, hi, _CMP_LE_OQ));
  if (_mm256_movemask_ps(ok) != 0xFF) return false;
  const __m256 take_lower = _mm256_and_ps(_mm256_cmp_ps(_mm256_sub_ps(a, lo), _mm256_sub_ps(hi, a), _CMP_LE_OQ),
                                          _mm256_castsi256_ps(positive));
  const __m256i idx = _mm256_blendv_epi8(L, prev, _mm256_castps_si256(take_lower));
  // code of sorted index: 0 -> 0, 127 -> 1, others idx + 1
  __m256i code = _mm256_add_epi32(idx, _mm256_set1_epi32(1));
  code = _mm256_andnot_si256(_mm256_cmpeq_epi32(idx, _mm256_setzero_si256()), code);
  code = _mm256_blendv_epi8(code, _mm256_set1_epi32(1), _mm256_cmpeq_epi32(idx, _mm256_set1_epi32(127)));
  const __m256i sign = _mm256_slli_epi32(_mm256_srli_epi32(_mm256_castps_si256(x), 31), 7);
  out = _mm256_or_si256(code, sign);
  return true;
}

void dettmers8_encode_cpu(std::span<const float> in, std::byte* wire) {
  if (cpu_has_avx2_f16c()) return block_encode_avx2(in, wire, Dettmers8Codes{}, dettmers8_scalar);
  block_encode(in, wire, dettmers8_scalar);
}
__attribute__((target("avx2"))) void dettmers8_decode_avx2(std::span<const std::byte> wire, std::span<float> out,
                                                            bool accumulate) {
  const float* magnitude = dettmers8_book().magnitude.data();
  const bool stream = streamable(out.data(), 4 * out.size(), accumulate);
  const std::byte* p = wire.data();
  for (std::size_t start = 0; start < out.size(); start += kBlock) {
    const std::size_t len = std::min(kBlock, out.size() - start);
    const float scale = load_f32(p);
    const std::uint8_t* codes = reinterpret_cast<const std::uint8_t*>(p + 4);
    float* y = out.data() + start;
    const __m256 s = _mm256_set1_ps(scale);
    std::size_t j = 0;
    for (; j + 8 <= len; j += 8) {
      const __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + j)));
      const __m256 m = _mm256_i32gather_ps(magnitude, _mm256_and_si256(c, _mm256_set1_epi32(0x7F)), 4);
      const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(c, _mm256_set1_epi32(0x80)), 24);
      __m256 v = _mm256_xor_ps(_mm256_mul_ps(m, s), _mm256_castsi256_ps(sign));
      if (accumulate) v = add_canonical_avx2(_mm256_loadu_ps(y + j), v);
      put8f(y + j, v, stream);
    }
    for (; j < len; ++j) {
      const float v = dettmers8_decode(codes[j], scale, magnitude);
      y[j] = accumulate ? add_canonical(y[j], v) : v;
    }
    p += 4 + len;
  }
  if (stream) _mm_sfence();
}

void dettmers8_decode_cpu(std::span<const std::byte> wire, std::span<float> out, bool accumulate) {
  if (cpu_has_avx2_f16c()) return dettmers8_decode_avx2(wire, out, accumulate);
  const auto& b = dettmers8_book();
  block_decode(wire, out, accumulate,
               [&](std::uint8_t c, float scale) { return dettmers8_decode(c, scale, b.magnitude.data()); });
}

void check_sizes(const WireFormat& f, std::size_t values, std::size_t wire_bytes, const char* what) {
  BITSCALE_CHECK(wire_size(f, values) == wire_bytes)
      << what << ": " << values << " values need " << wire_size(f, values) << " wire bytes, got " << wire_bytes;
}

void decode_any(const WireFormat& f, std::span<const std::byte> wire, std::span<float> out, bool accumulate) {
  check_sizes(f, out.size(), wire.size(), "decode");
  switch (f.kind) {
    case CodecKind::minifloat: return minifloat_decode_cpu(f, wire, out, accumulate);
    case CodecKind::int8_block: return int8_decode_cpu(wire, out, accumulate);
    case CodecKind::dettmers8: return dettmers8_decode_cpu(wire, out, accumulate);
  }
}

}  // namespace

std::size_t wire_size(const WireFormat& f, std::size_t count) {
  if (f.kind != CodecKind::minifloat) return count + 4 * ((count + kBlock - 1) / kBlock);
  return (f.aps ? 4 : 0) + count * static_cast<std::size_t>(f.minifloat.code_bytes);
}

std::size_t values_in_wire(const WireFormat& f, std::size_t bytes) {
  const auto bad = [&](const std::string& rule) {
    return InputError("wire", f.name, fmt::format("{} bytes", bytes), rule);
  };
  if (f.kind != CodecKind::minifloat) {
    const std::size_t full = bytes / (kBlock + 4), rest = bytes % (kBlock + 4);
    if (rest != 0 && rest < 5) throw bad("is not a whole number of blocks (4-byte scale + up to 256 codes each)");
    return full * kBlock + (rest == 0 ? 0 : rest - 4);
  }
  const std::size_t header = f.aps ? 4 : 0;
  const auto code = static_cast<std::size_t>(f.minifloat.code_bytes);
  if (bytes < header || (bytes - header) % code != 0) {
    throw bad(fmt::format("must be {}{} bytes per value", header ? "a 4-byte scale and " : "", code));
  }
  return (bytes - header) / code;
}

float max_abs_finite(std::span<const float> x) {
  float m = 0.0f;
  for (float v : x) {
    const float a = std::fabs(v);
    if (a <= 3.4028235e38f && a > m) m = a;
  }
  return m;
}

float aps_max_finite(const MiniFloat& f) { return minifloat_decode(f.max_code, f); }

int aps_exponent(float max_abs, std::int64_t ranks, const MiniFloat& f) {
  if (!(max_abs > 0) || !std::isfinite(max_abs)) return 0;
  const double target = aps_max_finite(f);
  if (!(target > 0)) return 0;
  const double v = static_cast<double>(max_abs) * static_cast<double>(std::max<std::int64_t>(ranks, 1));
  int k = std::ilogb(target) - std::ilogb(v);
  while (std::ldexp(v, k) > target) --k;
  while (std::ldexp(v, k + 1) <= target) ++k;
  return std::clamp(k, -126, 126);
}

void encode_cpu(const WireFormat& f, std::span<const float> in, std::span<std::byte> wire, const CodecOptions& o) {
  check_sizes(f, in.size(), wire.size(), "encode");
  switch (f.kind) {
    case CodecKind::minifloat: return minifloat_encode_cpu(f, in, wire, o);
    case CodecKind::int8_block: return int8_encode_cpu(in, wire.data());
    case CodecKind::dettmers8: return dettmers8_encode_cpu(in, wire.data());
  }
}

void decode_cpu(const WireFormat& f, std::span<const std::byte> wire, std::span<float> out) {
  decode_any(f, wire, out, false);
}

void decode_accumulate_cpu(const WireFormat& f, std::span<const std::byte> wire, std::span<float> acc) {
  decode_any(f, wire, acc, true);
}

void encode_error_feedback_cpu(const WireFormat& f, std::span<const float> grad, std::span<float> residual,
                               std::span<std::byte> wire, const CodecOptions& o) {
  BITSCALE_CHECK(grad.size() == residual.size()) << "gradient and residual differ in size";
  check_sizes(f, grad.size(), wire.size(), "encode_error_feedback");
  // one block of corrected values at a time: c = g + r; encode c; r = c - decode(code)
  constexpr std::size_t kChunk = 4096;  // a multiple of the block size
  std::array<float, kChunk> c{}, back{};
  CodecOptions chunk_options = o;
  if (f.aps && !o.global_max_abs) {
    float m = 0.0f;
    for (std::size_t i = 0; i < grad.size(); ++i) {
      const float a = std::fabs(add_canonical(grad[i], residual[i]));
      if (a <= 3.4028235e38f && a > m) m = a;
    }
    chunk_options.global_max_abs = m;
  }
  std::byte* out = wire.data();
  if (f.kind == CodecKind::minifloat && f.aps) {
    store_f32(out, scale_pow2(1.0f, aps_exponent(*chunk_options.global_max_abs, o.ranks, f.minifloat)));
    out += 4;
  }
  for (std::size_t start = 0; start < grad.size(); start += kChunk) {
    const std::size_t len = std::min(kChunk, grad.size() - start);
    for (std::size_t j = 0; j < len; ++j) c[j] = add_canonical(grad[start + j], residual[start + j]);
    const std::span<const float> chunk(c.data(), len);
    std::size_t bytes;
    if (f.kind == CodecKind::minifloat) {
      // the chunk's codes, without the scale that was written once at the front
      const int k = f.aps ? aps_exponent(*chunk_options.global_max_abs, o.ranks, f.minifloat) : 0;
      const bool stochastic = o.rounding == Rounding::stochastic;
      bytes = len * static_cast<std::size_t>(f.minifloat.code_bytes);
      const float scale = scale_pow2(1.0f, k), unscale = scale_pow2(1.0f, -k);
      for (std::size_t j = 0; j < len; ++j) {
        const std::uint32_t r = stochastic ? random_bits(o.seed, start + j) : 0u;
        const std::uint32_t code = minifloat_encode(scale_keep_nan(c[j], scale), f.minifloat, stochastic, r);
        store_code(out + j * static_cast<std::size_t>(f.minifloat.code_bytes), code, f.minifloat.code_bytes);
        back[j] = scale_keep_nan(minifloat_decode(code, f.minifloat), unscale);
      }
    } else {
      bytes = wire_size(f, len);
      encode_cpu(f, chunk, std::span<std::byte>(out, bytes), chunk_options);
      decode_cpu(f, std::span<const std::byte>(out, bytes), std::span<float>(back.data(), len));
    }
    for (std::size_t j = 0; j < len; ++j) residual[start + j] = sub_canonical(c[j], back[j]);
    out += bytes;
  }
}

std::vector<std::byte> encode_cpu(const WireFormat& f, std::span<const float> in, const CodecOptions& o) {
  std::vector<std::byte> wire(wire_size(f, in.size()));
  encode_cpu(f, in, wire, o);
  return wire;
}

std::vector<float> decode_cpu(const WireFormat& f, std::span<const std::byte> wire) {
  std::vector<float> out(values_in_wire(f, wire.size()));
  decode_cpu(f, wire, out);
  return out;
}

}  // namespace bitscale
