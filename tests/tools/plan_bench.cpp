// `bitscale plan` search speed: about 10^6 configurations of gpt2-xl on dgx-h100 (17 GPU counts 1..65536 x 7
// gradient precisions x 12 bucket sizes x 5 algorithms x 5 network options x 6 batches x 5 compute precisions =
// 1,071,000) for 1e9 samples within 24 hours, searched on every core, the whole command in-process (parsing,
// search, the answers' intervals). Reports configurations per second and how many were simulated.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tools/cli.hpp"

namespace {

void BM_PlanSearch(benchmark::State& state) {
  const std::vector<std::string> args = {
      "plan", "-w", "gpt2-xl", "-c", "dgx-h100", "--deadline-hours", "24", "--samples", "1e9", "--gpu-hour-cost", "2.5",
      "--max-gpus", "65536", "--bucket", "1MiB,2MiB,5MiB,10MiB,25MiB,50MiB,100MiB,200MiB,400MiB,800MiB,1600MiB,3200MiB",
      "--algorithm", "auto,ring,tree,halving-doubling,hierarchical", "--bandwidth-gbps", "50,100,200,400,800",
      "--batch", "1,2,4,8,16,32", "--format", "json"};
  double configurations = 0, simulated = 0, search_s = 0;
  for (auto _ : state) {
    std::ostringstream out, err;
    if (bitscale::run_cli(args, out, err) != 0) {
      state.SkipWithError(err.str().c_str());
      return;
    }
    const auto j = nlohmann::json::parse(out.str());
    configurations = j["configurations"].get<double>();
    simulated = j["simulated"].get<double>();
    search_s = j["search_seconds"].get<double>();
  }
  state.counters["configurations"] = configurations;
  state.counters["simulated"] = simulated;
  state.counters["search_s"] = search_s;
  state.counters["configurations_per_s"] =
      benchmark::Counter(configurations * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PlanSearch)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
