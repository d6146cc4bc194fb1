// Roofline compute and memory per GPU against values worked out by hand.
#include "model/compute.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "model/memory.hpp"

namespace bitscale {
namespace {

// One Linear(1000, 1000) layer: 1,001,000 parameters, 2e6 FLOPs and 1000 outputs per sample.
Workload one_linear() {
  Workload w;
  w.name = "one-linear";
  NetBuilder(w).linear("fc", 1000, 1000);
  return w;
}

ClusterProfile simple_gpu() {
  ClusterProfile c;
  c.name = "simple";
  c.gpu_memory_gib = 16;
  c.memory_reserved_gib = 0.5;
  c.hbm_gbyte_per_s = 1000;  // 1e12 B/s
  c.peak_tflops[static_cast<int>(ComputePrecision::fp32)] = 10;
  c.peak_tflops[static_cast<int>(ComputePrecision::fp16)] = 100;
  c.efficiency.fill(0.5);
  c.codec_hbm_efficiency = 0.5;
  return c;
}

// A per-precision efficiency ([efficiency.fp16]) replaces the kind's efficiency for that precision only.
TEST(Compute, PerPrecisionEfficiencyAppliesToItsPrecisionOnly) {
  const auto w = one_linear();
  auto c = simple_gpu();
  c.efficiency_by_compute[static_cast<int>(ComputePrecision::fp16)][static_cast<int>(LayerKind::linear)] = 0.25;
  // fp16: 2e6 FLOPs x 100 samples at 100 TFLOP/s x 0.25 = 8 us (memory: (1,001,000 + 2 x 1000 x 100) x 2 B at
  // 1e12 B/s = 2.4 us, below it); fp32 keeps 0.5: 2e8 / 5e12 = 40 us (memory 4.8 us)
  const auto h = step_compute(w, c, ComputePrecision::fp16, StoragePolicy::amp, Optimizer::momentum, 100);
  EXPECT_NEAR(h.forward_s, 8e-6, 1e-15);
  const auto f = step_compute(w, c, ComputePrecision::fp32, StoragePolicy::fp32, Optimizer::momentum, 100);
  EXPECT_NEAR(f.forward_s, 40e-6, 1e-15);
  EXPECT_NEAR(layer_forward_seconds(w.layers[0], c, ComputePrecision::fp16, 100), 8e-6, 1e-15);
}

// A measured layer rate replaces the roofline for that shape, precision and batch only.
TEST(Compute, MeasuredLayerRateReplacesTheRoofline) {
  const auto w = one_linear();
  auto c = simple_gpu();
  EXPECT_EQ(layer_shape_key(w.layers[0], ComputePrecision::fp32, 100), "fp32 linear 1000x1000 b100");
  c.layer_gflops["fp32 linear 1000x1000 b100"] = 2000;  // 2 TFLOP/s forward + backward
  // forward = 2e6 * 100 / 2e12 = 100 us (a third of the measured 3x FLOPs), backward twice that
  const auto s = step_compute(w, c, ComputePrecision::fp32, StoragePolicy::fp32, Optimizer::momentum, 100);
  EXPECT_NEAR(s.forward_s, 100e-6, 1e-15);
  EXPECT_NEAR(s.backward_s, 200e-6, 1e-15);
  EXPECT_NEAR(layer_forward_seconds(w.layers[0], c, ComputePrecision::fp32, 100), 100e-6, 1e-15);
  // another batch or precision: the roofline (40 us at batch 100, fp32: RooflineByHand)
  EXPECT_NEAR(layer_forward_seconds(w.layers[0], c, ComputePrecision::fp32, 50), 20e-6, 1e-15);
  EXPECT_NEAR(layer_forward_seconds(w.layers[0], c, ComputePrecision::fp16, 100), 4e-6, 1e-12);
  // conv keys carry the geometry; layers given by counts have none
  Workload cnn;
  NetBuilder(cnn).conv("c", {3, 32, 32}, 16, 3, 3, 2, 1, 1);
  EXPECT_EQ(layer_shape_key(cnn.layers[0], ComputePrecision::fp32, 8), "fp32 conv 3x16 k3 s2 p1 32x32 b8");
  Layer counted{"x", LayerKind::linear, 10, 20, 10, 1};
  EXPECT_EQ(layer_shape_key(counted, ComputePrecision::fp32, 8), "");
}

TEST(Compute, RooflineByHand) {
  const auto w = one_linear();
  const auto c = simple_gpu();
  // batch 100, fp32: math 2e6*100 / (10e12*0.5) = 40 us; memory (1,001,000*4 + 2*1000*100*4)/1e12 = 4.804 us
  const auto s = step_compute(w, c, ComputePrecision::fp32, StoragePolicy::fp32, Optimizer::momentum, 100);
  EXPECT_NEAR(s.forward_s, 40e-6, 1e-15);
  EXPECT_NEAR(s.backward_s, 80e-6, 1e-15);
  // momentum, fp32: 1,001,000 * (2*(4 + 0 + 4) + 4) B / 1e12 = 20.02 us
  EXPECT_NEAR(s.optimizer_s, 20.02e-6, 1e-15);
  // batch 1, fp16: math 2e6 / (100e12*0.5) = 0.04 us; memory (1,001,000*2 + 2*1000*2)/1e12 = 2.006 us: memory-bound
  const auto m = step_compute(w, c, ComputePrecision::fp16, StoragePolicy::amp, Optimizer::sgd, 1);
  EXPECT_NEAR(m.forward_s, 2.006e-6, 1e-15);
}

TEST(Compute, CodecIsMemoryBound) {
  constexpr auto enc = CodecDirection::encode, dec = CodecDirection::decode;
  // read 4e6 + write 2e6 bytes at 0.5 * 1e12 B/s = 12 us
  EXPECT_NEAR(codec_seconds(simple_gpu(), "fp16", 4e6, 2e6, enc), 12e-6, 1e-15);
  // a measured rate for the codec wins: 6e6 bytes at 3 GB/s = 2 ms, either direction
  auto c = simple_gpu();
  c.codec_gbyte_per_s["fp16"] = 3;
  EXPECT_NEAR(codec_seconds(c, "fp16", 4e6, 2e6, enc), 2e-3, 1e-15);
  EXPECT_NEAR(codec_seconds(c, "fp16", 2e6, 4e6, dec), 2e-3, 1e-15);
  EXPECT_NEAR(codec_seconds(c, "bf16", 4e6, 2e6, enc), 12e-6, 1e-15);
  // a direction measured apart wins for that direction only: decode 6e6 bytes at 12 GB/s = 0.5 ms, the encode
  // still at the both-directions rate
  c.codec_decode_gbyte_per_s["fp16"] = 12;
  EXPECT_NEAR(codec_seconds(c, "fp16", 2e6, 4e6, dec), 0.5e-3, 1e-15);
  EXPECT_NEAR(codec_seconds(c, "fp16", 4e6, 2e6, enc), 2e-3, 1e-15);
  c.codec_encode_gbyte_per_s["fp16"] = 1.5;  // 6e6 bytes at 1.5 GB/s = 4 ms
  EXPECT_NEAR(codec_seconds(c, "fp16", 4e6, 2e6, enc), 4e-3, 1e-15);
}

// A sum's cost by size ([reduction_sizes]): (p-1)/p x n x the cost per byte at n, interpolated in log(n) between
// the two nearest calibrated sizes and the end's beyond either end; the table, not [reductions], where both are
// listed. Worked by hand: 4 ranks, sizes 1 MB, 10 MB, 100 MB at 4, 2 and 1 ns per byte.
TEST(Compute, SumCostFollowsItsSizes) {
  auto c = find_cluster("dgx-a100");
  c.reduction_gbyte_per_s["fp16"] = 0.001;  // 1000 ns per byte: must not be used
  c.reduction_by_size["fp16"] = {{1e6, 1e7, 1e8}, {4, 2, 1}};
  // at the sizes themselves
  EXPECT_NEAR(reduction_seconds(c, "fp16", 1e7, 4), 0.75 * 1e7 * 2e-9, 1e-15);
  // 3.16e7 B is half-way between 1e7 and 1e8 in log(n): 1.5 ns per byte
  EXPECT_NEAR(reduction_seconds(c, "fp16", std::sqrt(1e15), 4), 0.75 * std::sqrt(1e15) * 1.5e-9, 1e-12);
  // 2e6 B: log10(2) = 0.30102999566 of the way from 4 to 2 ns
  EXPECT_NEAR(reduction_seconds(c, "fp16", 2e6, 4), 0.75 * 2e6 * (4 - 2 * 0.30102999566) * 1e-9, 1e-13);
  // beyond the ends: the end's cost per byte
  EXPECT_NEAR(reduction_seconds(c, "fp16", 1e5, 4), 0.75 * 1e5 * 4e-9, 1e-15);
  EXPECT_NEAR(reduction_seconds(c, "fp16", 1e9, 4), 0.75 * 1e9 * 1e-9, 1e-12);
  // one rank sums nothing; a format in [reductions] alone keeps its rate
  EXPECT_EQ(reduction_seconds(c, "fp16", 1e7, 1), 0.0);
  c.reduction_gbyte_per_s["bf16"] = 0.5;
  EXPECT_NEAR(reduction_seconds(c, "bf16", 1e7, 4), 0.75 * 1e7 / 0.5e9, 1e-15);
  EXPECT_EQ(reduction_seconds(c, "fp8-e4m3", 1e7, 4), 0.0);
}

TEST(Memory, BytesPerParameterByPolicy) {
  // ZeRO (arXiv 1910.02054, section 3.1): mixed precision with Adam holds 2 + 2 + 12 = 16 bytes per parameter
  EXPECT_DOUBLE_EQ(bytes_per_parameter(StoragePolicy::amp, Optimizer::adam).total(), 16);
  EXPECT_DOUBLE_EQ(bytes_per_parameter(StoragePolicy::fp32, Optimizer::adam).total(), 16);
  EXPECT_DOUBLE_EQ(bytes_per_parameter(StoragePolicy::fp32, Optimizer::sgd).total(), 8);
  // standalone 16-bit training: half the bytes of fp32 for every optimizer
  for (auto o : {Optimizer::sgd, Optimizer::momentum, Optimizer::adam}) {
    EXPECT_DOUBLE_EQ(bytes_per_parameter(StoragePolicy::standalone16, o).total() * 2,
                     bytes_per_parameter(StoragePolicy::fp32, o).total());
  }
  // fp8: 1 + 1 + 2 (fp16 master) + 1 (fp8 first moment) + 2 (fp16 second moment) = 7
  EXPECT_DOUBLE_EQ(bytes_per_parameter(StoragePolicy::fp8, Optimizer::adam).total(), 7);
}

TEST(Memory, PerGpuByHand) {
  const auto w = one_linear();
  const auto c = simple_gpu();
  // momentum fp32: 1,001,000 * 12 B; activations 1000 * 64 * 4 B; buffers 1 MB; reserve 0.5 GiB
  const auto m = memory_per_gpu(w, c, ComputePrecision::fp32, StoragePolicy::fp32, Optimizer::momentum, 64, 1e6);
  EXPECT_DOUBLE_EQ(m.model_state_bytes, 12'012'000);
  EXPECT_DOUBLE_EQ(m.activation_bytes, 256'000);
  EXPECT_DOUBLE_EQ(m.total(), 12'012'000 + 256'000 + 1e6 + 0.5 * 1024 * 1024 * 1024);
}

}  // namespace
}  // namespace bitscale

namespace bitscale {
namespace {

// A layer's matrix products from its counts, against the shapes worked out by hand from its architecture.
TEST(LayerGemms, ConvAndLinearShapesFromTheirCounts) {
  Workload w;
  NetBuilder b(w);
  // ResNet-50's first convolution, no bias: 3 -> 64 channels, 7x7, stride 2, pad 3: 224 -> 112; k = 3 x 7 x 7
  b.conv("conv1", {3, 224, 224}, 64, 7, 7, 2, 3, 3, false);
  // a 3x3 convolution with a bias (k + 1 weights per output channel): 64 -> 128 on 56x56, stride 2 -> 28x28
  b.conv("conv2", {64, 56, 56}, 128, 3, 3, 2, 1, 1, true);
  // GPT-2 XL's attention input projection: 1600 -> 4800 on 1024 tokens, with a bias
  b.linear("c_attn", 1600, 4800, true, 1024);
  b.layernorm("ln", 1600, 1024);
  const auto c1 = layer_gemms(w.layers[0], 8);
  ASSERT_TRUE(c1.has_value());
  EXPECT_EQ(c1->forward.m, 8 * 112 * 112);
  EXPECT_EQ(c1->forward.n, 64);
  EXPECT_EQ(c1->forward.k, 147);
  // input gradient dX[m x k] = dY[m x n] W; weight gradient dW[n x k] = dY^T X
  EXPECT_EQ(c1->input_gradient.m, 8 * 112 * 112);
  EXPECT_EQ(c1->input_gradient.n, 147);
  EXPECT_EQ(c1->input_gradient.k, 64);
  EXPECT_EQ(c1->weight_gradient.m, 64);
  EXPECT_EQ(c1->weight_gradient.n, 147);
  EXPECT_EQ(c1->weight_gradient.k, 8 * 112 * 112);
  const auto c2 = layer_gemms(w.layers[1], 2);
  ASSERT_TRUE(c2.has_value());
  EXPECT_EQ(c2->forward.m, 2 * 28 * 28);
  EXPECT_EQ(c2->forward.n, 128);
  EXPECT_EQ(c2->forward.k, 64 * 9);
  const auto l = layer_gemms(w.layers[2], 4);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->forward.m, 4 * 1024);
  EXPECT_EQ(l->forward.n, 4800);
  EXPECT_EQ(l->forward.k, 1600);
  EXPECT_FALSE(layer_gemms(w.layers[3], 4).has_value());  // a norm layer has no product
  EXPECT_FALSE(layer_gemms(w.layers[0], 0).has_value());
}

// Every linear and conv layer of the shipped convolutional and transformer workloads has its products (GPT-2's
// tied head, with no weights of its own, excepted), and the three carry 3x the forward FLOPs the model counts.
TEST(LayerGemms, ProductsCarryThreeTimesTheForwardFlops) {
  for (const char* name : {"resnet50", "vgg16", "alexnet", "bert-large", "gpt2-xl"}) {
    const auto w = find_workload(name);
    for (const auto& layer : w.layers) {
      if (layer.kind != LayerKind::linear && layer.kind != LayerKind::conv) continue;
      const auto g = layer_gemms(layer, 3);
      if (layer.parameters == 0) {
        EXPECT_FALSE(g.has_value()) << name << " " << layer.name;
        continue;
      }
      ASSERT_TRUE(g.has_value()) << name << " " << layer.name;
      const double flops = g->forward.flops() + g->input_gradient.flops() + g->weight_gradient.flops();
      EXPECT_NEAR(flops, 3.0 * 3.0 * layer.forward_flops, 1e-9 * flops) << name << " " << layer.name;
    }
  }
}

}  // namespace
}  // namespace bitscale
