// The alpha-beta fit recovers known parameters from synthetic measurements with noise.
#include "calibrate/fit.hpp"

#include <gtest/gtest.h>

#include <random>

#include "kernels/input_error.hpp"

namespace bitscale {
namespace {

TEST(Fit, RecoversAlphaAndBeta) {
  // T(n) = 5 us + n / 10 GB/s, sizes 8 B .. 1 GiB doubling, +-2% multiplicative noise
  const double alpha = 5e-6, bw = 10e9;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> noise(-0.02, 0.02);
  std::vector<double> bytes, seconds;
  for (double n = 8; n <= 1073741824.0; n *= 2) {
    bytes.push_back(n);
    seconds.push_back((alpha + n / bw) * (1 + noise(rng)));
  }
  const auto fit = fit_alpha_beta(bytes, seconds);
  EXPECT_NEAR(fit.alpha_s, alpha, 0.03 * alpha);
  EXPECT_NEAR(fit.bytes_per_s, bw, 0.03 * bw);
  EXPECT_GT(fit.r_squared, 0.999);
  EXPECT_LT(fit.relative_rms, 0.02);
  EXPECT_EQ(fit.relative_residuals.size(), bytes.size());
}

TEST(Fit, ExactDataFitsExactly) {
  const std::vector<double> bytes = {1e3, 1e6};
  const std::vector<double> seconds = {2e-6 + 1e3 / 1e9, 2e-6 + 1e6 / 1e9};
  const auto fit = fit_alpha_beta(bytes, seconds);
  EXPECT_NEAR(fit.alpha_s, 2e-6, 1e-15);
  EXPECT_NEAR(fit.bytes_per_s, 1e9, 1e-3);
  EXPECT_NEAR(fit.relative_rms, 0, 1e-12);
}

TEST(Fit, RejectsUnfittableInput) {
  const std::vector<double> one = {1e3};
  EXPECT_THROW(fit_alpha_beta(one, one), InputError);
  const std::vector<double> same = {1e3, 1e3}, t = {1e-6, 2e-6};
  EXPECT_THROW(fit_alpha_beta(same, t), InputError);
  const std::vector<double> sizes = {1e3, 1e6}, zero = {0, 1e-3};
  EXPECT_THROW(fit_alpha_beta(sizes, zero), InputError);
  const std::vector<double> shrinking = {2e-3, 1e-3};  // larger messages faster: no bandwidth
  EXPECT_THROW(fit_alpha_beta(sizes, shrinking), InputError);
}

}  // namespace
}  // namespace bitscale
