// The `validate` command: predictions of real runs (run CSVs) against their measured step times.
#pragma once
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace bitscale {

struct ValidateOptions {
  CLI::App* command = nullptr;
  std::string runs, cluster, published, predictor = "timeline", max_error = "15", max_median_error, csv;
  bool rescale_compute = false;  // predict each configuration at its runs' host speed (their GEMM probe)
};

void add_validate_command(CLI::App& app, ValidateOptions& o);
int run_validate(const ValidateOptions& o, std::ostream& out, std::ostream& err);

}  // namespace bitscale
