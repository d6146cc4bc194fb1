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

const std::array<WireFormat, 7>& table() {
  static const std::array<WireFormat, 7> kFormats = {{
      // name         e  m   bits block  scale/blk  scale/bucket  summable aps
      {"fp32", 8, 23, 32, 0, 0, 0, true, false, "IEEE binary32, no compression"},
      {"fp16", 5, 10, 16, 0, 0, 0, true, false, "IEEE binary16, round to nearest even"},
      {"bf16", 8, 7, 16, 0, 0, 0, true, false, "bfloat16, round to nearest even"},
      {"fp8-e4m3", 4, 3, 8, 0, 0, kFp32ScaleBytes, true, true,
       "OCP FP8 E4M3, saturating, Auto Precision Scaling (power-of-two scale per bucket)"},
      {"fp8-e5m2", 5, 2, 8, 0, 0, kFp32ScaleBytes, true, true,
       "OCP FP8 E5M2, saturating, Auto Precision Scaling (power-of-two scale per bucket)"},
      {"int8-block", 0, 0, 8, kBlock, kFp32ScaleBytes, 0, false, false,
       "int8, absmax scale (fp32) per block of 256 values; gathered, not summed"},
      {"dettmers8", 0, 0, 8, kBlock, kFp32ScaleBytes, 0, false, false,
       "8-bit dynamic tree code, absmax scale (fp32) per block of 256 values; gathered, not summed"},
  }};
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
      WireFormat f;
      f.name = std::string(name);
      f.exponent_bits = e;
      f.mantissa_bits = mant;
      f.value_bits = 1 + e + mant;
      f.bucket_scale_bytes = kFp32ScaleBytes;
      f.summable = true;
      f.aps = true;
      f.description = fmt::format("custom float: sign, {} exponent bits, {} mantissa bits, APS-scaled", e, mant);
      return f;
    }
  }
  std::string valid;
  for (const auto& f : table()) valid += f.name + ", ";
  valid += "or eXmY (e.g. e5m2, e4m10)";
  throw InputError("", std::string(field), std::string(name), "unknown precision; valid: " + valid);
}

}  // namespace bitscale
