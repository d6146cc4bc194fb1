// Error of a codec against the exact values, computed in double precision, and gradient-like test data.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/codec.hpp"

namespace bitscale {

struct ErrorStats {
  std::size_t values = 0, finite = 0;
  std::size_t nonfinite_in = 0, nonfinite_out = 0;  // NaN or inf before and after the round trip
  double relative_rms = 0;     // sqrt(sum (y - x)^2 / sum x^2) over the finite inputs
  double max_abs_error = 0;    // max |y - x|
  double max_error_vs_absmax = 0;  // max |y - x| / max |x|
  double max_relative_error = 0;   // max |y - x| / |x| over x != 0 (subnormal and tiny values included)
};

// `exact` are the values before encoding, `decoded` after the round trip.
ErrorStats error_stats(std::span<const float> exact, std::span<const float> decoded);

// Round trip through a codec on the CPU and its error.
ErrorStats codec_error(const WireFormat& f, std::span<const float> x, const CodecOptions& o = {});

// Gradient-like values: per block of 256 a scale drawn log-uniformly from 1e-8 to 1, Laplace-distributed
// values around it with a Student-t tail (heavy), 10% exact zeros, and a few fp32 subnormals. Deterministic.
std::vector<float> gradient_like(std::size_t n, std::uint64_t seed);

}  // namespace bitscale
