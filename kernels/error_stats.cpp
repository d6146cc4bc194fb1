#include "kernels/error_stats.hpp"

#include <cmath>
#include <random>

#include "kernels/input_error.hpp"

namespace bitscale {

ErrorStats error_stats(std::span<const float> exact, std::span<const float> decoded) {
  BITSCALE_CHECK(exact.size() == decoded.size()) << "sizes differ";
  ErrorStats s;
  s.values = exact.size();
  double sum_sq_err = 0, sum_sq = 0, absmax = 0;
  for (std::size_t i = 0; i < exact.size(); ++i) {
    const double x = exact[i], y = decoded[i];
    if (!std::isfinite(x)) {
      ++s.nonfinite_in;
      continue;
    }
    if (!std::isfinite(y)) {
      ++s.nonfinite_out;
      continue;
    }
    ++s.finite;
    const double e = std::fabs(y - x);
    sum_sq_err += e * e;
    sum_sq += x * x;
    absmax = std::max(absmax, std::fabs(x));
    s.max_abs_error = std::max(s.max_abs_error, e);
    if (x != 0) s.max_relative_error = std::max(s.max_relative_error, e / std::fabs(x));
  }
  s.relative_rms = sum_sq > 0 ? std::sqrt(sum_sq_err / sum_sq) : 0.0;
  s.max_error_vs_absmax = absmax > 0 ? s.max_abs_error / absmax : 0.0;
  return s;
}

ErrorStats codec_error(const WireFormat& f, std::span<const float> x, const CodecOptions& o) {
  const auto wire = encode_cpu(f, x, o);
  const auto y = decode_cpu(f, wire);
  return error_stats(x, y);
}

std::vector<float> gradient_like(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::exponential_distribution<double> laplace(1.0);
  std::student_t_distribution<double> tail(3.0);
  std::vector<float> x(n);
  double scale = 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 256 == 0) scale = std::pow(10.0, -8.0 + 8.0 * unit(rng));
    const double u = unit(rng);
    double v;
    if (u < 0.10) {
      v = 0;
    } else if (u < 0.11) {
      v = std::ldexp(unit(rng), -127);  // an fp32 subnormal
    } else if (u < 0.20) {
      v = scale * tail(rng);
    } else {
      v = scale * laplace(rng);
    }
    x[i] = static_cast<float>(unit(rng) < 0.5 ? -v : v);
  }
  return x;
}

}  // namespace bitscale
