// Closed-form predictions per second: resnet50 on dgx-a100 at 1..65536 GPUs, fp16 gradients (goal: >= 1e6/s on
// one core). Each iteration is one full prediction: compute roofline over every layer, buckets, collectives,
// memory.
#include <benchmark/benchmark.h>

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

}  // namespace

BENCHMARK_MAIN();
