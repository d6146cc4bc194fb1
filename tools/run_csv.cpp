#include "tools/run_csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "calibrate/fit.hpp"
#include "kernels/input_error.hpp"
#include "model/parse.hpp"

namespace bitscale {

namespace {

// Runs written before 2026-12-01 have no host probe: the header without its last two columns.
constexpr std::string_view kHeader =
    "engine,run,workload,nodes,ranks,ranks_per_node,rate_mbit,cluster,precision,batch,bucket_bytes,"
    "first_bucket_bytes,buckets,parameters,steps,warmup_steps,step,loss,compute_s,codec_s,comm_s,wait_s,step_s,"
    "date,host,host_gflops_before,host_gflops_after";
constexpr std::string_view kHeaderWithoutProbe = kHeader.substr(0, kHeader.find(",host_gflops_before"));

}  // namespace

std::vector<std::string_view> text_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos < text.size();) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = end + 1;
  }
  return lines;
}

std::vector<std::string> split_csv_fields(std::string_view line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = line.find(',', start);
    out.emplace_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

double Run::median_step_s() const { return median_value(step_s); }
double Run::host_gflops() const {
  return host_gflops_before > 0 && host_gflops_after > 0 ? std::sqrt(host_gflops_before * host_gflops_after) : 0.0;
}
double Run::median_compute_s() const { return median_value(compute_s); }

std::string_view run_csv_header() { return kHeader; }

std::vector<Run> parse_run_csv(std::string_view text, const std::string& source) {
  auto columns = split_csv_fields(kHeader);
  std::vector<Run> runs;
  std::map<std::string, std::size_t> index;
  std::map<std::string, std::vector<bool>> seen;
  std::size_t line_no = 0;
  bool header = false;
  for (const std::string_view line : text_lines(text)) {
    const std::string where = fmt::format("{}:{}", source, ++line_no);
    if (!header) {
      if (line == kHeaderWithoutProbe) {
        columns = split_csv_fields(kHeaderWithoutProbe);
      } else if (line != kHeader) {
        throw InputError(where, "header", std::string(line.substr(0, 60)),
                         fmt::format("a run CSV starts with the header '{}'", kHeader));
      }
      header = true;
      continue;
    }
    if (line.empty()) continue;
    const auto f = split_csv_fields(line);
    if (f.size() != columns.size()) {
      throw InputError(where, "row", "", fmt::format("has {} fields; the header has {}", f.size(), columns.size()));
    }
    auto field = [&](std::size_t i) { return fmt::format("{} column {}", where, columns[i]); };
    auto integer = [&](std::size_t i, std::int64_t lo, std::int64_t hi) { return parse_int(field(i), f[i], lo, hi); };
    auto positive = [&](std::size_t i, double hi, bool zero) { return parse_positive(field(i), f[i], hi, zero); };
    auto name = [&](std::size_t i) {
      if (f[i].empty() || f[i].find('"') != std::string::npos) throw InputError("", field(i), f[i], "must be a non-empty name");
      return f[i];
    };
    Run r;
    r.engine = name(0);
    r.id = name(1);
    r.workload = name(2);
    r.nodes = integer(3, 1, kMaxGpus);
    r.ranks = integer(4, 1, kMaxGpus);
    r.ranks_per_node = integer(5, 1, kMaxGpus);
    if (r.nodes * r.ranks_per_node != r.ranks) {
      throw InputError("", field(4), f[4], fmt::format("must equal nodes x ranks_per_node = {} x {}", r.nodes, r.ranks_per_node));
    }
    r.rate_mbit = positive(6, 1e7, true);
    r.cluster = f[7];
    r.precision = name(8);
    r.batch = integer(9, 1, 1 << 24);
    r.bucket_bytes = positive(10, 1e12, false);
    r.first_bucket_bytes = positive(11, 1e12, false);
    integer(12, 0, 1 << 30);  // buckets: the trainer's count, informative
    integer(13, 1, std::int64_t{1} << 40);
    r.steps = integer(14, 1, 10000000);
    r.warmup_steps = integer(15, 0, r.steps - 1);
    const auto step = integer(16, 0, r.steps - 1);
    const double loss = positive(17, 1e30, true);
    const double compute = positive(18, 1e6, true), codec = positive(19, 1e6, true), comm = positive(20, 1e6, true);
    positive(21, 1e6, true);
    const double total = positive(22, 1e6, false);
    r.date = f[23];
    r.host = f[24];
    if (columns.size() > 25) {  // the host's GEMM rate just before the first step and just after the last
      r.host_gflops_before = positive(25, 1e9, false);
      r.host_gflops_after = positive(26, 1e9, false);
    }
    r.source = where;
    auto [it, fresh] = index.emplace(r.id, runs.size());
    if (fresh) {
      runs.push_back(r);
      seen[r.id].assign(static_cast<std::size_t>(r.steps), false);
    }
    Run& run = runs[it->second];
    const bool same = run.engine == r.engine && run.workload == r.workload && run.nodes == r.nodes &&
                      run.ranks == r.ranks && run.rate_mbit == r.rate_mbit && run.cluster == r.cluster &&
                      run.precision == r.precision && run.batch == r.batch && run.bucket_bytes == r.bucket_bytes &&
                      run.first_bucket_bytes == r.first_bucket_bytes && run.steps == r.steps &&
                      run.warmup_steps == r.warmup_steps && run.host_gflops_before == r.host_gflops_before &&
                      run.host_gflops_after == r.host_gflops_after;
    if (!same) {
      throw InputError(where, "run", r.id, fmt::format("its configuration differs from its first row ({})", run.source));
    }
    auto& flags = seen[r.id];
    if (flags[static_cast<std::size_t>(step)]) throw InputError("", field(16), f[16], "appears twice in this run");
    flags[static_cast<std::size_t>(step)] = true;
    if (step == 0) run.first_loss = loss;
    if (step == run.steps - 1) run.last_loss = loss;
    if (step >= run.warmup_steps) {
      run.step_s.push_back(total);
      run.compute_s.push_back(compute);
      run.codec_s.push_back(codec);
      run.comm_s.push_back(comm);
    }
  }
  if (!header) throw InputError(source, "header", "", "the file is empty: a run CSV starts with its header");
  for (const auto& r : runs) {
    const auto& flags = seen[r.id];
    const auto missing = std::find(flags.begin(), flags.end(), false);
    if (missing != flags.end()) {
      throw InputError(r.source, "run", r.id, fmt::format("step {} of {} is missing", missing - flags.begin(), r.steps));
    }
  }
  return runs;
}

std::vector<Run> load_runs(const std::string& path, std::string_view field) {
  std::error_code ec;
  std::vector<std::string> files;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
      if (e.path().extension() == ".csv" && e.is_regular_file(ec)) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw InputError("", std::string(field), path, "is a directory without .csv files");
  } else if (std::filesystem::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    throw InputError("", std::string(field), path, "no such file or directory");
  }
  std::vector<Run> all;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw InputError("", std::string(field), file, "cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    auto runs = parse_run_csv(text.str(), file);
    all.insert(all.end(), runs.begin(), runs.end());
  }
  return all;
}

}  // namespace bitscale
