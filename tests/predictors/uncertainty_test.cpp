// Uncertainty and sensitivity (predictors/uncertainty.hpp), against what a compute-bound step gives by hand: on one
// GPU, mlp:4096,4096,4096 at batch 4096 in fp16 spends A = forward + backward in GEMMs 15x past the roofline's
// knee (so A scales as 1 / compute rate) and B = the optimizer in memory traffic: T(m) = A / m + B for a compute
// rate multiplied by m.
#include <gtest/gtest.h>

#include <cmath>

#include "model/cluster.hpp"
#include "model/workload.hpp"
#include "predictors/predictor.hpp"
#include "predictors/uncertainty.hpp"

namespace bitscale {
namespace {

struct ComputeBound : ::testing::Test {
  Workload w = find_workload("mlp:4096,4096,4096");
  ClusterProfile c = find_cluster("dgx-a100");
  std::unique_ptr<Predictor> timeline = make_predictor("timeline");
  Scenario s;
  void SetUp() override {
    c.uncertainty = ParameterUncertainty{};  // none but what a test states
    s.workload = &w;
    s.cluster = &c;
    s.gpus = 1;
    s.precision = find_wire_format("fp16");
    s.compute = ComputePrecision::fp16;
    s.storage = StoragePolicy::amp;
    s.batch = 4096;
  }
};

TEST_F(ComputeBound, StepTimeIsComputeOverTheRateAndTheOptimizer) {
  // the premise of the other tests: T(m) = A / m + B, checked at m = 2
  const auto p = timeline->predict(s);
  const double a = p.forward_s + p.backward_s, b = p.optimizer_s;
  ParameterScale twice;
  twice.compute = 2;
  const auto fast = scaled(c, twice);
  Scenario s2 = s;
  s2.cluster = &fast;
  EXPECT_NEAR(timeline->predict(s2).step_time_s, a / 2 + b, 1e-12 * (a + b));
}

TEST_F(ComputeBound, NoStatedUncertaintyGivesThePredictionItself) {
  const double t = timeline->predict(s).step_time_s;
  const auto i = step_time_interval(*timeline, s);
  EXPECT_EQ(i.samples, 0);
  EXPECT_DOUBLE_EQ(i.low_s, t);
  EXPECT_DOUBLE_EQ(i.high_s, t);
}

TEST_F(ComputeBound, IntervalIsTheLogNormalQuantilesOfTheComputeRate) {
  // compute rate m = exp(0.2 z), z standard normal: T = A exp(-0.2 z) + B falls as z rises, so T's 95th
  // percentile is T at z's 5th, z = -1.645 (and the 5th at z = +1.645). 4096 draws put the empirical 5% quantile
  // of z within +-0.1 of it (its standard error is sqrt(0.05 x 0.95 / 4096) / phi(1.645) = 0.033)
  c.uncertainty.compute = 0.2;
  const auto p = timeline->predict(s);
  const double a = p.forward_s + p.backward_s, b = p.optimizer_s;
  const auto t = [&](double z) { return a * std::exp(-0.2 * z) + b; };
  const auto i = step_time_interval(*timeline, s, 4096);
  EXPECT_EQ(i.samples, 4096);
  EXPECT_GT(i.high_s, t(-1.545));
  EXPECT_LT(i.high_s, t(-1.745));
  EXPECT_LT(i.low_s, t(1.545));
  EXPECT_GT(i.low_s, t(1.745));
  EXPECT_NEAR(i.median_s, t(0), t(0) - t(0.1));
}

TEST_F(ComputeBound, IntervalIsTheSameEveryRun) {
  c.uncertainty.compute = 0.2;
  c.uncertainty.network_bandwidth = 0.3;
  const auto a = step_time_interval(*timeline, s), b = step_time_interval(*timeline, s);
  EXPECT_EQ(a.low_s, b.low_s);
  EXPECT_EQ(a.high_s, b.high_s);
}

TEST_F(ComputeBound, ElasticitiesAreTheWorkedOnes) {
  // d log T / d log m = -A / (A + B) at m = 1; the +-5% central difference is within (ln 1.05)^2 / 6 = 0.04% of
  // it. One GPU sends nothing: no network, node or bucket dependence; codecs do not run
  const auto p = timeline->predict(s);
  const double a = p.forward_s + p.backward_s, b = p.optimizer_s;
  const auto e = elasticities(*timeline, s);
  ASSERT_EQ(e.size(), 8u);
  EXPECT_EQ(e.front().parameter, "compute rate");  // the largest magnitude first
  EXPECT_NEAR(e.front().value, -a / (a + b), 1e-3 * a / (a + b));
  for (const auto& x : e) {
    if (x.parameter == "memory bandwidth") {
      EXPECT_NEAR(x.value, -b / (a + b), 1e-3);
    }
    if (x.parameter != "compute rate" && x.parameter != "memory bandwidth") {
      EXPECT_EQ(x.value, 0.0) << x.parameter;
    }
  }
}

TEST(Uncertainty, NetworkIntervalIsTheLogNormalQuantilesOfTheBandwidth) {
  // 64 GPUs (8 nodes) with no overlap: the step is compute + communication, and the communication falls as the
  // network's bandwidth m = exp(0.25 z) rises; T's 95th percentile is T at z = -1.645. The draws are rounded to a
  // grid of 0.05 in log (a fifth of sigma), so the bracket is +-0.1 in z plus that half step
  const auto w = find_workload("resnet50");
  auto c = find_cluster("dgx-a100");
  c.uncertainty = ParameterUncertainty{};
  c.uncertainty.network_bandwidth = 0.25;
  const auto timeline = make_predictor("timeline");
  Scenario s;
  s.workload = &w;
  s.cluster = &c;
  s.gpus = 64;
  s.precision = find_wire_format("fp32");
  s.compute = ComputePrecision::fp16;
  s.storage = StoragePolicy::amp;
  s.batch = 64;
  s.overlap = Overlap::none;
  const auto t = [&](double z) {
    ParameterScale m;
    m.network_bandwidth = std::exp(0.25 * z);
    const auto scaled_c = scaled(c, m);
    Scenario at = s;
    at.cluster = &scaled_c;
    return timeline->predict(at).step_time_s;
  };
  ASSERT_GT(t(-1), t(1));  // the premise: the network matters here
  const auto i = step_time_interval(*timeline, s, 4096);
  const double half_step = 0.025 / 0.25;
  EXPECT_GE(i.high_s, t(-1.545 + half_step));
  EXPECT_LE(i.high_s, t(-1.745 - half_step));
  EXPECT_LE(i.low_s, t(1.545 - half_step));
  EXPECT_GE(i.low_s, t(1.745 + half_step));
}

TEST(Uncertainty, ScaledMultipliesEveryNumberOfAGroup) {
  const auto c = find_cluster("dgx-h100");
  ParameterScale m;
  m.network_bandwidth = 2;
  m.node_latency = 3;
  m.codecs = 0.5;
  const auto s = scaled(c, m);
  EXPECT_DOUBLE_EQ(s.inter_node_gbps_per_gpu(), 2 * c.inter_node_gbps_per_gpu());
  EXPECT_DOUBLE_EQ(s.intra_node_latency_us, 3 * c.intra_node_latency_us);
  EXPECT_DOUBLE_EQ(s.codec_hbm_efficiency, 0.5 * c.codec_hbm_efficiency);
  EXPECT_DOUBLE_EQ(s.intra_node_gbps, c.intra_node_gbps);
  EXPECT_DOUBLE_EQ(s.peak_tflops[2], c.peak_tflops[2]);
}

TEST(Uncertainty, ShippedProfilesStateIt) {
  for (auto name : shipped_cluster_names()) {
    const auto c = find_cluster(name);
    EXPECT_TRUE(c.uncertainty.stated()) << name;
    EXPECT_TRUE(c.sources.contains("uncertainty")) << name;
  }
}

}  // namespace
}  // namespace bitscale
