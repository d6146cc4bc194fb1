// Run CSVs (data/runs/*.csv): one row per training step of a real distributed run, with the run's whole
// configuration, as `bitscale train` (and tools/ddp_train.py) write them. Reading checks every field and names
// the file, line and column of the first bad one (InputError).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bitscale {

// The engine column of bitscale train's runs (tools/ddp_train.py writes pytorch-ddp).
inline constexpr std::string_view kBitscaleTrainEngine = "bitscale-mpi";

// One run: its configuration and the step times after its warm-up steps.
struct Run {
  std::string engine, id, workload, cluster, precision, date, host;
  std::int64_t nodes = 0, ranks = 0, ranks_per_node = 0, batch = 0, steps = 0, warmup_steps = 0;
  double rate_mbit = 0, bucket_bytes = 0, first_bucket_bytes = 0;
  std::vector<double> step_s, compute_s, codec_s, comm_s;  // timed steps only (step >= warmup_steps)
  double first_loss = 0, last_loss = 0;
  // a probe of the host's speed: the GEMM calibration times (fp32 512^3, every rank at once, the median over
  // ranks), just before the first step and just after the last, in GFLOP/s; 0: not probed (older runs)
  double host_gflops_before = 0, host_gflops_after = 0;
  std::string source;  // "file:line" of its first row

  double median_step_s() const;
  double median_compute_s() const;
  double host_gflops() const;  // the geometric mean of the two probes; 0 when not probed
};

// The lines of a text, without their '\n' or "\r\n" (no empty last line after a final newline).
std::vector<std::string_view> text_lines(std::string_view text);
// The comma-separated fields of one line, unquoted (run CSVs and calibration measurements hold no quotes).
std::vector<std::string> split_csv_fields(std::string_view line);

// The columns every run CSV has, in order (runs written before 2026-12-01 lack the last two, the host probe,
// and are read as not probed).
std::string_view run_csv_header();

// Parses a run CSV's text; runs in the order their first rows appear. Rows of one run must agree on its
// configuration; a run needs every step 0..steps-1 once.
std::vector<Run> parse_run_csv(std::string_view text, const std::string& source);
// A file, or every *.csv in a directory (sorted by name).
std::vector<Run> load_runs(const std::string& path, std::string_view field = "--runs");

}  // namespace bitscale
