// Tensor, pipeline and model parallelism in the timeline predictor, against values worked out by hand from the
// rules in predictors/timeline.cpp.
#include <gtest/gtest.h>

#include "kernels/input_error.hpp"
#include "model/compute.hpp"
#include "model/memory.hpp"
#include "model/topology_collectives.hpp"
#include "predictors/predictor.hpp"

namespace bitscale {
namespace {

Scenario base(const Workload& w, const ClusterProfile& c, std::int64_t gpus, std::int64_t batch) {
  Scenario s;
  s.workload = &w;
  s.cluster = &c;
  s.gpus = gpus;
  s.precision = find_wire_format("bf16");
  s.compute = ComputePrecision::bf16;
  s.storage = StoragePolicy::amp;
  s.optimizer = Optimizer::adam;
  s.batch = batch;
  return s;
}

TEST(Parallelism, TensorParallelGpt2XlHasTwoAllreducesPerBlockEachWay) {
  const auto w = find_workload("gpt2-xl");
  const auto c = find_cluster("dgx-h100");
  auto s = base(w, c, 8, 4);
  s.tensor_parallel = 8;
  const auto p = make_predictor("timeline")->predict(s);
  EXPECT_EQ(p.data_parallel, 1);
  // 48 blocks x 2 row-parallel layers (attn.c_proj, mlp.c_proj), each an allreduce of 1024 tokens x 1600 x
  // batch 4 x 2 bytes in the forward pass and one as large in the backward pass, over the node's 8 GPUs
  const double bytes = 1024.0 * 1600 * 4 * 2;
  const double one = topology_best_allreduce(c, make_fabric(c, 8), bytes).seconds;
  EXPECT_NEAR(p.tensor_comm_s, 2 * 96 * one, 1e-9 * p.tensor_comm_s);
  EXPECT_EQ(p.comm_s, p.tensor_comm_s);  // no data-parallel partner: nothing else moves
  // weights, gradients and Adam state of 1/8 of the splittable layers (16 bytes per parameter with amp)
  double shard = 0;
  for (const auto& l : w.layers) {
    const bool split = l.kind != LayerKind::norm;
    shard += static_cast<double>(split ? (l.parameters + 7) / 8 : l.parameters);
  }
  // activations: 1/8 of the split layers', all of the norms', batch 4 in bf16
  double activations = 0;
  for (const auto& l : w.layers) {
    activations += static_cast<double>(l.kind != LayerKind::norm ? (l.activations + 7) / 8 : l.activations);
  }
  EXPECT_NEAR(p.memory_per_gpu_bytes - activations * 4 * 2 - gib(c.memory_reserved_gib), shard * 16, 1.0);
}

TEST(Parallelism, PipelineOfFourEqualLayersByHand) {
  // mlp:1024x4 on 2 GPUs of one node as 2 stages of 2 layers, 8 microbatches of 4 samples, no data parallelism:
  // step = (m + P - 1)(f + b) + 2 (P - 1) s + optimizer, f and b of one stage and one microbatch, s one send of
  // 4 x 1024 bf16 activations over NVLink
  const auto w = find_workload("mlp:1024,1024,1024,1024,1024");
  const auto c = find_cluster("dgx-h100");
  auto s = base(w, c, 2, 32);
  s.pipeline_parallel = 2;
  s.microbatches = 8;
  const auto p = make_predictor("timeline")->predict(s);
  const double f = 2 * layer_forward_seconds(w.layers[0], c, ComputePrecision::bf16, 4);
  const double send = c.intra_node_latency_us * 1e-6 + 4.0 * 1024 * 2 / (c.intra_node_gbps * 1e9 / 8);
  Workload stage = w;
  stage.layers.resize(2);
  const double opt = step_compute(stage, c, ComputePrecision::bf16, StoragePolicy::amp, Optimizer::adam, 32).optimizer_s;
  EXPECT_NEAR(p.step_time_s, 9 * (f + 2 * f) + 2 * send + opt, 1e-9 * p.step_time_s);
  EXPECT_NEAR(p.bubble_s, 3 * f, 1e-12);
  EXPECT_NEAR(p.pipeline_comm_s, 2 * send, 1e-15);
  EXPECT_NEAR(p.compute_s, 8 * 3 * f + opt, 1e-9 * p.compute_s);
}

TEST(Parallelism, GradientAccumulationWithoutPipelineAddsNoBubble) {
  const auto w = find_workload("resnet50");
  const auto c = find_cluster("dgx-a100");
  auto s = base(w, c, 1, 128);
  s.microbatches = 4;
  const auto p = make_predictor("timeline")->predict(s);
  EXPECT_EQ(p.bubble_s, 0);
  EXPECT_NEAR(p.step_time_s, p.compute_s, 1e-12 * p.step_time_s);
}

TEST(Parallelism, ModelParallelFcExchangesActivationsNotGradients) {
  // alexnet's three fc layers hold 58.6 M of its 61.1 M parameters: split over 16 GPUs they leave the gradient
  // exchange; their input activations move instead (9216, 4096 and 4096 values per sample, gathered from every
  // GPU in the forward pass and as much again in the backward pass)
  const auto w = find_workload("alexnet");
  const auto c = find_cluster("dgx-a100");
  auto s = base(w, c, 16, 128);
  const auto data = make_predictor("timeline")->predict(s);
  s.model_parallel_fc = true;
  const auto model = make_predictor("timeline")->predict(s);
  EXPECT_LT(model.wire_bytes_per_step, 0.1 * data.wire_bytes_per_step);
  const Fabric f = make_fabric(c, 16);
  const auto wire = find_wire_format("bf16");
  double expected = 0;
  for (double in : {9216.0, 4096.0, 4096.0}) {
    expected += 2 * topology_collective_seconds(c, f, wire.wire_bytes(in * 128), Algorithm::gather);
  }
  EXPECT_NEAR(model.model_parallel_comm_s, expected, 1e-9 * expected);
}

TEST(Parallelism, StagesAreCutEvenWhenTheHeavyLayerIsLast) {
  // three layers, the last 10,000x heavier: three stages must still be one layer each, and the last sets the pace
  const auto w = find_workload("mlp:64,64,64,640000");
  const auto c = find_cluster("dgx-h100");
  auto s = base(w, c, 3, 8);
  s.pipeline_parallel = 3;
  s.microbatches = 4;
  const auto p = make_predictor("timeline")->predict(s);
  const double f = layer_forward_seconds(w.layers[2], c, ComputePrecision::bf16, 2);
  EXPECT_NEAR(p.bubble_s, 2 * 3 * f, 1e-12);
  s.pipeline_parallel = 4;
  s.gpus = 4;
  EXPECT_THROW(make_predictor("timeline")->predict(s), InputError);  // more stages than layers
}

TEST(Parallelism, BadDegrees) {
  const auto w = find_workload("gpt2-xl");
  const auto c = find_cluster("dgx-h100");
  auto s = base(w, c, 64, 8);
  s.tensor_parallel = 3;
  EXPECT_THROW(make_predictor("timeline")->predict(s), InputError);
  s.tensor_parallel = 8;
  s.pipeline_parallel = 2;
  s.microbatches = 3;  // does not divide 8
  EXPECT_THROW(make_predictor("timeline")->predict(s), InputError);
  s.microbatches = 0;
  EXPECT_THROW(make_predictor("timeline")->predict(s), InputError);
}

}  // namespace
}  // namespace bitscale
