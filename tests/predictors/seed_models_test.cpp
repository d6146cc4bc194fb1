// The seed papers' headline figures from their reconstructed performance models (docs/model.md).
#include <gtest/gtest.h>

#include "model/topology_collectives.hpp"
#include "predictors/predictor.hpp"

namespace bitscale {
namespace {

Prediction run(const std::string& predictor, const Workload& w, const ClusterProfile& c, std::int64_t gpus,
               const std::string& precision) {
  Scenario s;
  s.workload = &w;
  s.cluster = &c;
  s.gpus = gpus;
  s.precision = find_wire_format(precision);
  s.compute = ComputePrecision::fp32;
  s.storage = StoragePolicy::fp32;
  s.optimizer = Optimizer::momentum;
  s.batch = w.default_batch;
  return make_predictor(predictor)->predict(s);
}

// Dettmers, arXiv 1511.04561 (v4 abstract): "a speedup of 50x and more on a system of 96 GPUs compared to a
// speedup of 23x for 32-bit". The setting (data/papers/dettmers2015-cluster.toml: Titan X GPUs, 4 per node, FDR
// InfiniBand; VGG-16, batch 64) is rebuilt from the paper's time, not fitted to these figures, so the 32-bit
// figure is held to 15% (the network and GPU of the paper are not known) and the 8-bit one to "50x and more"
// (at most 20% more), with 8-bit at least doubling the 32-bit speedup.
TEST(Dettmers2015, NinetySixGpusFiftyXAgainstTwentyThreeX) {
  const auto w = find_workload("vgg16");
  const auto c = find_cluster(std::string(BITSCALE_DATA_DIR) + "/papers/dettmers2015-cluster.toml");
  const auto fp32 = run("dettmers2015", w, c, 96, "fp32");
  const auto int8 = run("dettmers2015", w, c, 96, "dettmers8");
  EXPECT_NEAR(fp32.speedup, 23.0, 0.15 * 23.0);
  EXPECT_GE(int8.speedup, 50.0);
  EXPECT_LE(int8.speedup, 60.0);
  EXPECT_GE(int8.speedup / fp32.speedup, 2.0);
  EXPECT_EQ(int8.algorithm, "gather");
  EXPECT_EQ(fp32.buckets, 16);  // one message per layer with parameters: 13 conv + 3 fc
}

// Han, Demmel, You, arXiv 1911.08907: APS makes 8-bit gradients usable at the cost of one allreduce(MAX) of one
// exponent per tensor per step, "trivial communication cost". On 8 GPUs (the CPD artifact's runs) and on 256, that
// collective stays under 1% of the step's communication for ResNet-50, and the 8-bit payload is a quarter of fp32.
TEST(Aps, OneTinyCollectivePerStep) {
  const auto w = find_workload("resnet50");
  const auto c = find_cluster("dgx-a100");
  for (std::int64_t gpus : {8, 256}) {
    const auto fp32 = run("aps", w, c, gpus, "fp32");
    const auto e5m2 = run("aps", w, c, gpus, "fp8-e5m2");
    const double scale = topology_best_allreduce(c, make_fabric(c, gpus), 4.0 * 161).seconds;  // 161 tensors
    ASSERT_EQ(w.parameter_tensors(), 161);
    EXPECT_LT(scale, 0.01 * e5m2.comm_s) << gpus;
    EXPECT_LT(e5m2.comm_s - scale, fp32.comm_s) << gpus;  // a quarter of the bytes, the same latencies
    EXPECT_NEAR(e5m2.wire_bytes_per_step, fp32.wire_bytes_per_step / 4 + 4.0 * static_cast<double>(fp32.buckets),
                1.0);
    // no overlap in the APS code: the step is compute + codec + communication
    EXPECT_NEAR(e5m2.step_time_s, e5m2.compute_s + e5m2.codec_s + e5m2.comm_s, 1e-9 * e5m2.step_time_s);
  }
}

}  // namespace
}  // namespace bitscale
