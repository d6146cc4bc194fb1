// The `calibrate` command: fit a cluster profile from nccl-tests logs, or from microbenchmarks run under
// mpirun (one process per rank).
#pragma once
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace bitscale {

struct CalibrateOptions {
  CLI::App* command = nullptr;
  std::vector<std::string> logs;
  std::string backend, op, base, out, rendezvous, sizes = "8..268435456", iters = "20", warmup = "5", max_error = "25";
  std::string ops = "allreduce,allgather,reduce-scatter,broadcast,alltoall", types = "fp32,fp16,bf16,int8";
  bool force = false;
};

void add_calibrate_command(CLI::App& app, CalibrateOptions& o);
int run_calibrate(const CalibrateOptions& o, std::ostream& out, std::ostream& err);
int calibrate_with_mpi(const CalibrateOptions& o, std::ostream& out, std::ostream& err);  // calibrate_mpi.cpp

}  // namespace bitscale
