#include "kernels/minifloat.hpp"

namespace bitscale {

MiniFloat make_minifloat(int exponent_bits, int mantissa_bits, bool ocp_e4m3, bool saturate) {
  MiniFloat f;
  f.exponent_bits = exponent_bits;
  f.mantissa_bits = mantissa_bits;
  f.ocp_e4m3 = ocp_e4m3;
  f.saturate = saturate;
  f.bias = (1 << (exponent_bits - 1)) - 1;
  const std::uint32_t top = (1u << exponent_bits) - 1u;
  const std::uint32_t all_mantissa = (1u << mantissa_bits) - 1u;
  if (ocp_e4m3) {
    f.max_code = (top << mantissa_bits) | (all_mantissa - 1u);
    f.nan_code = (top << mantissa_bits) | all_mantissa;
    f.inf_code = f.max_code;  // no infinity: overflow saturates
    f.saturate = true;
  } else {
    f.max_code = ((top - 1u) << mantissa_bits) | all_mantissa;
    f.inf_code = top << mantissa_bits;
    f.nan_code = (top << mantissa_bits) | (mantissa_bits > 0 ? 1u << (mantissa_bits - 1) : 0u);
  }
  f.code_bytes = (1 + exponent_bits + mantissa_bits + 7) / 8;
  return f;
}

}  // namespace bitscale
