// bitscale calibrate --refit CSV --base PROFILE: an earlier calibration's measured collectives, fitted again.
// The CSV is the one a calibration writes beside its profile (PROFILE.csv: op,type,ranks,nodes,bytes,median_s,
// min_s,max_s, then that day's fit); only the measured columns are read. The profile's links, [reductions] and
// network uncertainty come from the new fits; everything else (compute, codecs, contention) stays as measured.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "kernels/input_error.hpp"
#include "model/cluster.hpp"
#include "model/collectives.hpp"
#include "model/parse.hpp"
#include "model/toml_reader.hpp"
#include "tools/calibrate_command.hpp"
#include "tools/calibrate_host.hpp"
#include "tools/report.hpp"
#include "tools/run_csv.hpp"

namespace bitscale {

std::string today();  // calibrate_command.cpp

namespace {

constexpr std::string_view kMeasured = "op,type,ranks,nodes,bytes,median_s,min_s,max_s";

struct Measurements {
  std::vector<MpiTiming> timings;
  std::int64_t ranks = 0, nodes = 0;
};

Measurements parse_measurements(std::string_view text, const std::string& source) {
  Measurements m;
  std::size_t line_no = 0, columns = 0;
  for (const std::string_view line : text_lines(text)) {
    const std::string where = fmt::format("{}:{}", source, ++line_no);
    if (columns == 0) {
      if (!line.starts_with(kMeasured)) {
        throw InputError(where, "header", std::string(line.substr(0, 60)),
                         fmt::format("a calibration's measurements start with the columns '{}'", kMeasured));
      }
      columns = split_csv_fields(line).size();
      continue;
    }
    if (line.empty()) continue;
    const auto f = split_csv_fields(line);
    if (f.size() != columns) {
      throw InputError(where, "row", "", fmt::format("has {} fields; the header has {}", f.size(), columns));
    }
    const auto field = [&](std::string_view column) { return fmt::format("{} column {}", where, column); };
    MpiTiming t;
    t.op = parse_collective_op(f[0], field("op"));
    if (f[1].empty()) throw InputError("", field("type"), f[1], "must name the data type");
    t.type = f[1];
    const auto ranks = parse_int(field("ranks"), f[2], 1, kMaxGpus);
    const auto nodes = parse_int(field("nodes"), f[3], 1, ranks);
    if (m.ranks == 0) {
      m.ranks = ranks;
      m.nodes = nodes;
    } else if (ranks != m.ranks || nodes != m.nodes) {
      throw InputError("", field("ranks"), f[2],
                       fmt::format("every row is one calibration: {} ranks on {} nodes above", m.ranks, m.nodes));
    }
    t.bytes = parse_positive(field("bytes"), f[4], 1e15);
    t.size = t.bytes;
    t.median_s = parse_positive(field("median_s"), f[5], 1e6);
    t.min_s = parse_positive(field("min_s"), f[6], 1e6);
    t.max_s = parse_positive(field("max_s"), f[7], 1e6);
    if (!(t.min_s <= t.median_s && t.median_s <= t.max_s)) {
      throw InputError("", field("median_s"), f[5], fmt::format("must lie between min_s {} and max_s {}", f[6], f[7]));
    }
    m.timings.push_back(t);
  }
  if (columns == 0) throw InputError(source, "header", "", "empty file: no measurements");
  if (m.timings.empty()) {
    throw InputError(source, "rows", "0", "no collective was measured (a one-rank calibration): nothing to refit");
  }
  if (m.ranks < 2) throw InputError(source, "ranks", "1", "one rank measures no link: nothing to refit");
  if (m.ranks % m.nodes != 0) {
    throw InputError(source, "ranks", std::to_string(m.ranks),
                     fmt::format("not the same number of ranks on each of the {} nodes", m.nodes));
  }
  return m;
}

}  // namespace

int calibrate_refit(const CalibrateOptions& o, std::ostream& out, std::ostream& err) {
  const double max_error = parse_positive("--max-error", o.max_error, 1000);
  if (o.base.empty()) {
    throw InputError("", "--base", "", "missing: name the profile the measurements were calibrated into");
  }
  if (!o.out.empty()) check_output_path(o.out, "--out");
  const auto m = parse_measurements(read_text_file(o.refit, "--refit"), o.refit);
  auto c = find_cluster(o.base, "--base");
  const std::int64_t per_node = m.ranks / m.nodes;
  if (c.gpus_per_node != per_node) {
    throw InputError("", "--base", o.base,
                     fmt::format("has {} rank(s) per node; the measurements are {} ranks on {} node(s)",
                                 c.gpus_per_node, m.ranks, m.nodes));
  }
  bool ring = false;
  for (const auto& t : m.timings) ring = ring || (t.op == CollectiveOp::allreduce && t.type == "fp32/ring");
  const std::string links_type = ring ? "fp32/ring" : "fp32";
  if (std::none_of(m.timings.begin(), m.timings.end(), [&](const MpiTiming& t) {
        return t.op == CollectiveOp::allreduce && t.type == links_type;
      })) {
    throw InputError(o.refit, "rows", "", "no allreduce fp32 rows: nothing sets the links, nothing to refit");
  }
  const std::string command =
      fmt::format("the measurements in {}, fitted again by bitscale calibrate --refit on {}",
                  std::filesystem::path(o.refit).filename().string(), today());
  // what the fits set is set again from nothing: a format no slower than fp32's now has no [reductions] entry
  c.reduction_gbyte_per_s.clear();
  c.reduction_by_size.clear();
  c.sources.erase("reductions");
  c.sources.erase("reduction_sizes");
  out << fmt::format("# bitscale calibrate --refit {}: {} rows, {} ranks on {} node(s), onto {}\n", o.refit,
                     m.timings.size(), m.ranks, m.nodes, o.base);
  const auto fits = fit_series(m.timings, links_type, static_cast<int>(m.ranks),
                               static_cast<int>(m.nodes), max_error, command, c, out, err);
  if (fits.links_failed) return 1;
  c.name = o.out.empty() ? c.name + "-refit" : std::filesystem::path(o.out).stem().string();
  c.description += "; collectives fitted again (bitscale calibrate --refit)";
  c.source = o.out;
  return finish_profile(c, fits.ok, o, out, err,
                        o.out.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                      : std::vector<std::pair<std::string, std::string>>{
                                            {measurements_csv_path(o.out), fits.csv}});
}

}  // namespace bitscale
