// The `plan` command: the inverse question. Given a workload, one or more clusters and a target (a throughput,
// or S samples within H hours), search GPU counts x gradient precisions x compute precisions x bucket sizes x
// allreduce algorithms x network bandwidths x per-GPU batches, and print the cheapest configurations that meet
// the target and the Pareto frontier of time against cost, each with its 90% interval from the profiles'
// stated uncertainty (predictors/uncertainty.hpp).
//
// Cost = GPUs x hours x the cluster's price per GPU-hour (--gpu-hour-cost; GPU-hours without one); hours = the
// samples (--samples, else one million) over the predicted throughput. A configuration counts when it fits in GPU
// memory. The search rules configurations out without simulating them by a bound: no step is shorter than the
// one-GPU compute time of its (cluster, compute, batch), so a configuration whose GPUs could not reach the target
// even at perfect scaling, or whose cost and time at perfect scaling are already beaten by configurations found,
// needs no prediction.
#pragma once
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace bitscale {

struct PlanOptions {
  CLI::App* command = nullptr;
  std::string workload, clusters, target_throughput, deadline_hours, samples, max_gpus = "1024", gpu_hour_cost;
  std::string gpus, precision = "fp32,fp16,bf16,fp8-e4m3,fp8-e5m2,int8-block,dettmers8", compute;
  std::string bucket = "5MiB,25MiB,100MiB", algorithm = "auto", bandwidth, batch;
  std::string predictor = "timeline", top = "10", format = "table", out;
};

void add_plan_command(CLI::App& app, PlanOptions& o);
int run_plan(const PlanOptions& o, std::ostream& out, std::ostream& err);

}  // namespace bitscale
