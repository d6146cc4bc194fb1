// The `calibrate` command: fit a cluster profile from nccl-tests logs, or from microbenchmarks run under
// mpirun (one process per rank).
#pragma once
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "model/cluster.hpp"

namespace bitscale {

struct CalibrateOptions {
  CLI::App* command = nullptr;
  std::vector<std::string> logs;
  std::string from_engine;  // another engine's measurements (tools/ddp_train.py calibrate)
  std::string refit;        // a calibration's measurements (PROFILE.csv) to fit again onto --base
  std::string backend, op, base, out, rendezvous, sizes = "8..268435456", iters = "20", warmup = "5", max_error = "25";
  std::string ops = "allreduce,allgather,reduce-scatter,broadcast,alltoall", types = "fp32,fp16,bf16,int8";
  std::string layers_of;  // workloads whose layers' rates to measure (CPU ranks)
  bool force = false;
  bool resume = false;  // --backend: finish an interrupted calibration from OUT.partial
};

void add_calibrate_command(CLI::App& app, CalibrateOptions& o);
int run_calibrate(const CalibrateOptions& o, std::ostream& out, std::ostream& err);
// The end of every calibration: refuse (exit 1) when a fit missed --max-error without --force; else print the
// profile, or write it and `extra` files (path, text) atomically.
int finish_profile(const ClusterProfile& c, bool fits_ok, const CalibrateOptions& o, std::ostream& out,
                   std::ostream& err, const std::vector<std::pair<std::string, std::string>>& extra = {});
int calibrate_with_mpi(const CalibrateOptions& o, std::ostream& out, std::ostream& err);  // calibrate_mpi.cpp
int calibrate_from_engine(const CalibrateOptions& o, std::ostream& out, std::ostream& err);  // calibrate_engine.cpp
// --refit CSV --base PROFILE: the collectives measured by an earlier calibration (the PROFILE.csv written beside
// its profile) fitted again with today's fits onto that profile, whose host part (compute, codecs, contention)
// is kept: a change of the fits is checked on old measurements without measuring again.
int calibrate_refit(const CalibrateOptions& o, std::ostream& out, std::ostream& err);

}  // namespace bitscale
