// The `gemm` command: matrix-product rates through cuBLAS at a workload's layer shapes, per compute precision.
#pragma once
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace bitscale {

struct GemmOptions {
  CLI::App* command = nullptr;
  std::string workload, batch, computes = "fp32,tf32,fp16,bf16,fp8", runs = "20", cluster = "dgx-h100", csv;
};

void add_gemm_command(CLI::App& app, GemmOptions& o);
int run_gemm(const GemmOptions& o, std::ostream& out, std::ostream& err);

}  // namespace bitscale
