// Predictions per second on one core.
//   alpha-beta  resnet50 on dgx-a100 at 1..65536 GPUs (goal: >= 1e6/s)
//   timeline    resnet50 and gpt2-xl on dgx-h100 at 8..65536 GPUs, fp16 gradients (goal: <= 50 us each, i.e.
//               >= 20,000/s): the whole task graph, built and scheduled per prediction; the flow solutions of
//               the collectives are computed on the first pass over the GPU counts and cached (the benchmark
//               reports the steady state; `first_pass_s` is the cold cost of that first pass)
// Each iteration is one full prediction: compute roofline over every layer, buckets, collectives, memory.
#include <benchmark/benchmark.h>

#include <chrono>

#include "kernels/wire_format.hpp"
#include "model/cluster.hpp"
#include "predictors/predictor.hpp"

namespace {

void BM_AlphaBetaPredict(benchmark::State& state) {
  const auto workload = bitscale::find_workload("resnet50");
  const auto cluster = bitscale::find_cluster("dgx-a100");
  const auto predictor = bitscale::make_predictor("alpha-beta");
  bitscale::Scenario s;
  s.workload = &workload;
  s.cluster = &cluster;
  s.precision = bitscale::find_wire_format(state.range(1) == 0 ? "fp16" : "int8-block");
  s.compute = bitscale::ComputePrecision::fp16;
  s.storage = bitscale::StoragePolicy::amp;
  s.batch = 128;
  const std::int64_t max_gpus = state.range(0);
  std::int64_t gpus = 1;
  for (auto _ : state) {
    s.gpus = gpus;
    auto p = predictor->predict(s);
    benchmark::DoNotOptimize(p.step_time_s);
    gpus = gpus >= max_gpus ? 1 : gpus * 2;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["predictions_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                           benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AlphaBetaPredict)->Args({65536, 0})->Args({65536, 1});

void BM_TimelinePredict(benchmark::State& state) {
  const auto workload = bitscale::find_workload(state.range(0) == 0 ? "resnet50" : "gpt2-xl");
  const auto cluster = bitscale::find_cluster("dgx-h100");
  const auto predictor = bitscale::make_predictor("timeline");
  bitscale::Scenario s;
  s.workload = &workload;
  s.cluster = &cluster;
  s.precision = bitscale::find_wire_format(state.range(1) == 0 ? "fp16" : "int8-block");
  s.compute = bitscale::ComputePrecision::bf16;
  s.storage = bitscale::StoragePolicy::amp;
  s.batch = workload.default_batch;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t g = 8; g <= 65536; g *= 2) {
    s.gpus = g;
    benchmark::DoNotOptimize(predictor->predict(s).step_time_s);
  }
  const double first_pass = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::int64_t gpus = 8;
  for (auto _ : state) {
    s.gpus = gpus;
    auto p = predictor->predict(s);
    benchmark::DoNotOptimize(p.step_time_s);
    gpus = gpus >= 65536 ? 8 : gpus * 2;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(workload.name + (state.range(1) == 0 ? " fp16" : " int8-block"));
  state.counters["predictions_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                           benchmark::Counter::kIsRate);
  state.counters["first_pass_s"] = first_pass;
}
BENCHMARK(BM_TimelinePredict)->Args({0, 0})->Args({1, 0})->Args({0, 1})->Args({1, 1})->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
