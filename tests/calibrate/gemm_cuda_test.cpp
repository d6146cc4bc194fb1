// The GPU matrix-product timer: every compute precision runs (fp8 through cuBLASLt, padded to multiples of 16) and
// its time is a real one. Skips without a CUDA device.
#include "calibrate/gemm_cuda.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/cuda_device.hpp"

namespace bitscale {
namespace {

TEST(GemmPadding, Fp8RoundsEveryDimensionUpToSixteen) {
  const GemmShape s{100, 64, 147};
  const auto p = padded_gemm(ComputePrecision::fp8, s);
  EXPECT_EQ(p.m, 112);
  EXPECT_EQ(p.n, 64);
  EXPECT_EQ(p.k, 160);
  const auto q = padded_gemm(ComputePrecision::bf16, s);
  EXPECT_EQ(q.m, 100);
  EXPECT_EQ(q.k, 147);
}

TEST(GemmTimerCuda, EveryPrecisionRunsAtAPlausibleRate) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (auto p : {ComputePrecision::fp32, ComputePrecision::tf32, ComputePrecision::fp16, ComputePrecision::bf16,
                 ComputePrecision::fp8}) {
    GemmTimer timer(p);
    for (const GemmShape s : {GemmShape{1024, 2048, 512}, GemmShape{100, 64, 147}}) {
      const double t = timer.seconds(s, 5);
      ASSERT_TRUE(std::isfinite(t)) << name(p);
      // a product of 2 mnk FLOPs takes longer than at 10 PFLOP/s (no GPU runs faster) and less than a second
      EXPECT_GT(t, s.flops() / 1e16) << name(p);
      EXPECT_LT(t, 1.0) << name(p);
    }
  }
}

}  // namespace
}  // namespace bitscale
