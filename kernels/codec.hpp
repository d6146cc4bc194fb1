// Gradient codecs: fp32 gradients to the wire format of ../shared/DESIGN.md and back, on the CPU (this file's
// functions are the specification) and on CUDA (codec_cuda.hpp, the same bytes).
//
// Wire layout:
//   minifloat formats (fp32, fp16, bf16, fp8-*, eXmY): [fp32 APS scale, where the format uses APS] then one code
//     per value, little-endian, in code_bytes bytes each (1 for fp8, 2 for fp16/bf16/e5m10, ...)
//   block formats (int8-block, dettmers8): per block of 256 values (the last may be shorter): its fp32 scale
//     (the block's absmax), then one byte per value
//
// Auto Precision Scaling (Han, Demmel, You, arXiv 1911.08907; the CPD code's sum_gradients): every rank
// multiplies its bucket by the same power of two 2^k before rounding, chosen from the global max |g| (one scalar
// max-allreduce) so that the largest magnitude times the rank count (the sum's headroom) lands in the format's
// top binade: max*ranks*2^k <= max_finite < max*ranks*2^(k+1). The wire carries 2^k; decode divides by it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <array>
#include <optional>
#include <span>
#include <vector>

#include "kernels/wire_format.hpp"

namespace bitscale {

enum class Rounding { nearest, stochastic };

struct CodecOptions {
  Rounding rounding = Rounding::nearest;  // minifloat formats
  std::uint64_t seed = 0;                 // stochastic rounding: random bits = hash(seed, value index)
  std::int64_t ranks = 1;                 // APS headroom for a sum over this many ranks
  std::optional<float> global_max_abs;    // APS: the max |g| over all ranks; default: this buffer's
};

// Exact wire bytes for `count` values, and its inverse (throws InputError when no count gives `bytes`).
std::size_t wire_size(const WireFormat& f, std::size_t count);
std::size_t values_in_wire(const WireFormat& f, std::size_t bytes);

// Largest |x| over the finite values (0 when there are none).
float max_abs_finite(std::span<const float> x);
// The APS exponent k for a bucket whose global max is `max_abs`, clamped so 2^k is a normal fp32 number.
int aps_exponent(float max_abs, std::int64_t ranks, const MiniFloat& f);
float aps_max_finite(const MiniFloat& f);

// CPU codecs. `wire` must hold wire_size(f, in.size()) bytes, `out` values_in_wire(f, wire.size()) values.
void encode_cpu(const WireFormat& f, std::span<const float> in, std::span<std::byte> wire, const CodecOptions& o = {});
void decode_cpu(const WireFormat& f, std::span<const std::byte> wire, std::span<float> out);
// acc[i] += decoded[i] (the receive side of a gather-based reduction)
void decode_accumulate_cpu(const WireFormat& f, std::span<const std::byte> wire, std::span<float> acc);
// Error feedback: c = grad + residual; wire = encode(c); residual = c - decode(wire), in one pass per block.
void encode_error_feedback_cpu(const WireFormat& f, std::span<const float> grad, std::span<float> residual,
                               std::span<std::byte> wire, const CodecOptions& o = {});

std::vector<std::byte> encode_cpu(const WireFormat& f, std::span<const float> in, const CodecOptions& o = {});
std::vector<float> decode_cpu(const WireFormat& f, std::span<const std::byte> wire);

// The dettmers8 code book: magnitude of each 7-bit code (index = code & 0x7F), normalized to the block absmax.
// Code 0 is zero, code 1 is exactly 1 (the absmax); a code 1 x x x x x x with k leading zero bits (k = 0..5)
// after the sign is 10^-k times the centre of bin j (the 6-k low bits) of 2^(6-k) bins: the lower half of the
// bins splits [0.1, 0.45] evenly, the upper half [0.45, 1.0]. This reproduces the 126 magnitudes of the 2015
// table (multigpupy 8bit_floats.npy, see ../shared/seed-models.md) in the bit layout of ../shared/DESIGN.md.
struct Dettmers8Book {
  std::array<float, 128> magnitude{};        // by 7-bit code
  std::array<float, 128> sorted{};           // the same magnitudes, increasing
  std::array<std::uint8_t, 128> code_of{};   // the code of sorted[i]
};
const Dettmers8Book& dettmers8_book();

}  // namespace bitscale
