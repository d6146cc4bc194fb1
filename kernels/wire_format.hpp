// Gradient wire formats: how many bytes a gradient of `count` fp32 values occupies on the wire, and whether
// the wire values can be summed in flight (allreduce) or must be gathered and summed after decoding.
//
//   wire_bytes(count) = ceil(count * value_bits / 8) + ceil(count / block_values) * block_scale_bytes
//                       + bucket_scale_bytes                                    (one per bucket, e.g. APS)
//
// Summable formats share one scale across ranks (none for fp32/fp16/bf16; the APS power-of-two scale, agreed
// by a one-scalar max-allreduce per bucket, for fp8 and eXmY); block formats (int8-block, dettmers8) carry a
// per-rank absmax scale per block and so cannot be added on the wire (../shared/DESIGN.md, "Codec").
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "kernels/minifloat.hpp"

namespace bitscale {

enum class CodecKind { minifloat, int8_block, dettmers8 };

struct WireFormat {
  std::string name;
  CodecKind kind = CodecKind::minifloat;
  MiniFloat minifloat;  // for kind == minifloat
  int exponent_bits = 0;          // for float formats; 0 for integer/code formats
  int mantissa_bits = 0;
  double value_bits = 32;         // payload bits per value
  std::int64_t block_values = 0;  // 0: no per-block metadata
  double block_scale_bytes = 0;   // metadata per block (fp32 absmax scale)
  double bucket_scale_bytes = 0;  // metadata per bucket (the APS scale)
  bool summable = true;           // can be reduced on the wire
  bool aps = false;               // needs the one-scalar max-allreduce per bucket (Auto Precision Scaling)
  std::string description;

  // Bits per value including metadata, for large counts (the figure `codec list` shows).
  double bits_per_value() const {
    return value_bits + (block_values > 0 ? 8.0 * block_scale_bytes / static_cast<double>(block_values) : 0.0);
  }
  double wire_bytes(double count) const;
};

// The shipped formats, in table order (fp32 first).
std::span<const WireFormat> wire_formats();

// A shipped name, or eXmY ("e5m2", "e4m10": 1..8 exponent bits, 0..23 mantissa bits, sign bit added; each
// value occupies whole bytes on the wire, e.g. 2 for e4m10, and the format saturates like fp8).
// Throws InputError naming `field` and listing the valid names.
WireFormat find_wire_format(std::string_view name, std::string_view field = "--precision");

}  // namespace bitscale
