// The `train` command: a real data-parallel SGD job (one process per rank under mpirun) that logs per-step
// compute, codec and communication times to a run CSV (data/runs/), the held-out truth of `validate`.
#pragma once
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace bitscale {

struct TrainOptions {
  CLI::App* command = nullptr;
  std::string workload, precision = "fp32", batch, steps = "20", warmup = "3", bucket = "25MiB",
                        first_bucket = "1MiB", lr = "0.01", momentum = "0.9", seed = "1", rate_mbit, cluster_name,
                        out, events;
};

void add_train_command(CLI::App& app, TrainOptions& o);
int run_train(const TrainOptions& o, std::ostream& out, std::ostream& err);

}  // namespace bitscale
