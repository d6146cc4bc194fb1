// The one table of gradient wire formats. Bytes per value follow the formats of ../shared/DESIGN.md:
// fp8 per OCP 8-bit floating point spec (E4M3, E5M2); int8-block: absmax per block of 256 values, scale fp32;
// dettmers8: dynamic tree code (Dettmers, arXiv 1511.04561), absmax per block of 256 values, scale fp32.
#include "kernels/wire_format.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>

#include "kernels/input_error.hpp"

namespace bitscale {

namespace {

constexpr std::int64_t kBlock = 256;
constexpr double kFp32ScaleBytes = 4;

WireFormat minifloat_format(std::string name, int e, int m, bool ocp_e4m3, bool saturate, bool aps,
                            std::string description) {
  WireFormat f;
  f.name = std::move(name);
  f.kind = CodecKind::minifloat;
  f.minifloat = make_minifloat(e, m, ocp_e4m3, saturate);
  f.exponent_bits = e;
  f.mantissa_bits = m;
  f.value_bits = 8.0 * f.minifloat.code_bytes;
  f.bucket_scale_bytes = aps ? kFp32ScaleBytes : 0;
  f.summable = true;
  f.aps = aps;
  f.description = std::move(description);
  return f;
}

WireFormat block_format(std::string name, CodecKind kind, std::string description) {
  WireFormat f;
  f.name = std::move(name);
  f.kind = kind;
  f.value_bits = 8;
  f.block_values = kBlock;
  f.block_scale_bytes = kFp32ScaleBytes;
  f.summable = false;
  f.description = std::move(description);
  return f;
}

// The one table of codecs: a new codec is its kernels plus one line here.
const std::array<WireFormat, 7>& table() {
  static const std::array<WireFormat, 7> kFormats = {
      minifloat_format("fp32", 8, 23, false, false, false, "IEEE binary32, no compression"),
      minifloat_format("fp16", 5, 10, false, false, false, "IEEE binary16, round to nearest even (or stochastic)"),
      minifloat_format("bf16", 8, 7, false, false, false, "bfloat16, round to nearest even (or stochastic)"),
      minifloat_format("fp8-e4m3", 4, 3, true, true, true,
                       "OCP FP8 E4M3, saturating, APS power-of-two scale per bucket"),
      minifloat_format("fp8-e5m2", 5, 2, false, true, true,
                       "OCP FP8 E5M2, saturating, APS power-of-two scale per bucket"),
      block_format("int8-block", CodecKind::int8_block,
                   "int8, absmax scale (fp32) per block of 256 values; gathered, not summed"),
      block_format("dettmers8", CodecKind::dettmers8,
                   "8-bit dynamic tree code, absmax scale (fp32) per block of 256; gathered, not summed"),
  };
  return kFormats;
}

bool parse_small_int(std::string_view text, int& out) {
  if (text.empty() || text.size() > 2) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

double WireFormat::wire_bytes(double count) const {
  double bytes = std::ceil(count * value_bits / 8.0) + bucket_scale_bytes;
  if (block_values > 0) bytes += std::ceil(count / static_cast<double>(block_values)) * block_scale_bytes;
  return bytes;
}

std::span<const WireFormat> wire_formats() { return table(); }

WireFormat find_wire_format(std::string_view name, std::string_view field) {
  for (const auto& f : table()) {
    if (f.name == name) return f;
  }
  // eXmY: a custom float simulated by rounding fp32 values, scaled by APS so it can be summed.
  if (name.size() >= 4 && name[0] == 'e') {
    const auto m = name.find('m');
    int e = 0, mant = 0;
    if (m != std::string_view::npos && parse_small_int(name.substr(1, m - 1), e) &&
        parse_small_int(name.substr(m + 1), mant)) {
      if (e < 1 || e > 8 || mant < 0 || mant > 23) {
        throw InputError("", std::string(field), std::string(name),
                         "eXmY needs 1 <= X <= 8 exponent bits and 0 <= Y <= 23 mantissa bits");
      }
      if (e == 1 && mant == 0) {
        throw InputError("", std::string(field), std::string(name), "e1m0 has no nonzero finite value");
      }
      return minifloat_format(std::string(name), e, mant, false, true, true,
                              fmt::format("custom float: sign, {} exponent bits, {} mantissa bits, saturating, "
                                          "APS-scaled, {} byte(s) per value",
                                          e, mant, (1 + e + mant + 7) / 8));
    }
  }
  std::string valid;
  for (const auto& f : table()) valid += f.name + ", ";
  valid += "or eXmY (e.g. e5m2, e4m10)";
  throw InputError("", std::string(field), std::string(name), "unknown precision; valid: " + valid);
}

}  // namespace bitscale
