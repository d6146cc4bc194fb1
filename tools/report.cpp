#include "tools/report.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kernels/input_error.hpp"

namespace bitscale {

std::vector<Field> prediction_fields(const Prediction& p) {
  std::vector<Field> fields{
      {"workload", p.workload},
      {"cluster", p.cluster},
      {"gpus", p.gpus},
      {"nodes", p.nodes},
      {"precision", p.precision},
      {"compute", p.compute},
      {"storage", p.storage},
      {"optimizer", p.optimizer},
      {"batch", p.batch},
      {"bandwidth_gbps", p.bandwidth_gbps},
      {"bucket_bytes", p.bucket_bytes},
      {"buckets", p.buckets},
      {"step_time_s", p.step_time_s},
      {"compute_s", p.compute_s},
      {"forward_s", p.forward_s},
      {"backward_s", p.backward_s},
      {"optimizer_s", p.optimizer_s},
      {"contention_s", p.contention_s},
      {"launch_s", p.launch_s},
      {"skew_s", p.skew_s},
      {"comm_s", p.comm_s},
      {"exposed_comm_s", p.exposed_comm_s},
      {"codec_s", p.codec_s},
      {"overlap", p.overlap},
      {"step_time_no_overlap_s", p.step_time_no_overlap_s},
      {"step_time_perfect_overlap_s", p.step_time_perfect_overlap_s},
      {"wire_bytes_per_step", p.wire_bytes_per_step},
      {"throughput_samples_per_s", p.throughput_samples_per_s},
      {"speedup", p.speedup},
      {"speedup_vs_fp32_1gpu", p.speedup_vs_fp32_1gpu},
      {"efficiency", p.efficiency},
      {"memory_per_gpu_bytes", p.memory_per_gpu_bytes},
      {"gpu_memory_bytes", p.gpu_memory_bytes},
      {"fits_in_memory", p.fits_in_memory},
      {"max_batch", p.max_batch},
      {"data_parallel", p.data_parallel},
      {"tensor_parallel", p.tensor_parallel},
      {"pipeline_parallel", p.pipeline_parallel},
      {"microbatches", p.microbatches},
      {"bubble_s", p.bubble_s},
      {"tensor_comm_s", p.tensor_comm_s},
      {"pipeline_comm_s", p.pipeline_comm_s},
      {"model_parallel_comm_s", p.model_parallel_comm_s},
      {"algorithm", p.algorithm},
      {"predictor", p.predictor},
  };
  if (p.has_interval) {
    // throughput is samples over the step time: its interval is the step time's, inverted
    const double samples = p.throughput_samples_per_s * p.step_time_s;
    fields.insert(fields.end(), {{"step_time_low_s", p.step_time_low_s},
                                 {"step_time_high_s", p.step_time_high_s},
                                 {"throughput_low_samples_per_s", samples / p.step_time_high_s},
                                 {"throughput_high_samples_per_s", samples / p.step_time_low_s}});
  }
  return fields;
}

namespace {
std::string grouped(const std::string& digits, bool negative) {
  std::string out = negative ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}
}  // namespace

std::string group_digits(std::int64_t v) {
  return grouped(v < 0 ? std::to_string(v).substr(1) : std::to_string(v), v < 0);
}

std::string group_digits(double v) {
  const auto digits = fmt::format("{:.0f}", std::abs(v));
  return grouped(digits, v < 0 && digits != "0");
}

Format parse_format(std::string_view text) {
  if (text == "table") return Format::table;
  if (text == "json") return Format::json;
  if (text == "csv") return Format::csv;
  throw InputError("", "--format", std::string(text), "unknown format; valid: table, json, csv");
}

namespace {

std::string csv_cell(const FieldValue& v) {
  struct Visitor {
    std::string operator()(const std::string& s) const {
      if (s.find_first_of(",\"\n") == std::string::npos) return s;
      std::string q = "\"";
      for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      return q + "\"";
    }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return fmt::format("{:.9g}", d); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
  };
  return std::visit(Visitor{}, v);
}

nlohmann::ordered_json to_json(const std::vector<Field>& row) {
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  for (const auto& f : row) {
    std::visit([&](const auto& v) { o[std::string(f.name)] = v; }, f.value);
  }
  return o;
}

std::string human_bytes(double b) {
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.2f} MiB", b / (1024.0 * 1024));
  if (b >= 1024.0) return fmt::format("{:.2f} KiB", b / 1024.0);
  return fmt::format("{:.0f} B", b);
}

std::string ms(double s) { return fmt::format("{:.3f}", s * 1e3); }

void write_csv_header(std::ostream& out, const std::vector<Field>& row) {
  std::string line;
  for (const auto& f : row) line += (line.empty() ? "" : ",") + std::string(f.name);
  out << line << '\n';
}
void write_csv_row(std::ostream& out, const std::vector<Field>& row) {
  std::string line;
  for (std::size_t i = 0; i < row.size(); ++i) line += (i ? "," : "") + csv_cell(row[i].value);
  out << line << '\n';
}
}  // namespace

void write_csv(std::ostream& out, std::span<const std::vector<Field>> rows) {
  if (rows.empty()) return;
  write_csv_header(out, rows.front());
  for (const auto& row : rows) write_csv_row(out, row);
}

void write_json(std::ostream& out, std::span<const std::vector<Field>> rows) {
  if (rows.size() == 1) {
    out << to_json(rows.front()).dump(2) << '\n';
    return;
  }
  auto array = nlohmann::ordered_json::array();
  for (const auto& row : rows) array.push_back(to_json(row));
  out << array.dump(2) << '\n';
}

void write_prediction_table(std::ostream& out, const Prediction& p) {
  out << fmt::format("{} on {} x {} ({} node{}), gradients in {}, predictor {}\n", p.workload, p.gpus, p.cluster,
                     p.nodes, p.nodes == 1 ? "" : "s", p.precision, p.predictor);
  auto line = [&](std::string_view label, const std::string& value) {
    out << fmt::format("  {:<28} {}\n", label, value);
  };
  line("compute / storage / optimizer", fmt::format("{} / {} / {}", p.compute, p.storage, p.optimizer));
  line("batch per GPU", std::to_string(p.batch));
  line("inter-node bandwidth", fmt::format("{:g} Gb/s per GPU", p.bandwidth_gbps));
  line("step time", fmt::format("{} ms ({} overlap; none: {} ms, perfect: {} ms)", ms(p.step_time_s), p.overlap,
                                ms(p.step_time_no_overlap_s), ms(p.step_time_perfect_overlap_s)));
  if (p.has_interval) {
    line("  90% interval", fmt::format("{} .. {} ms (+{:.1f}% / -{:.1f}%), from the profile's stated uncertainty",
                                       ms(p.step_time_low_s), ms(p.step_time_high_s),
                                       100.0 * (p.step_time_high_s / p.step_time_s - 1),
                                       100.0 * (1 - p.step_time_low_s / p.step_time_s)));
  }
  line("compute", fmt::format("{} ms (forward {}, backward {}, optimizer {})", ms(p.compute_s), ms(p.forward_s),
                              ms(p.backward_s), ms(p.optimizer_s)));
  if (p.contention_s > 0 || p.launch_s > 0) {
    line("  in backward", fmt::format("{} ms slowed beside collectives, {} ms launching them", ms(p.contention_s),
                                      ms(p.launch_s)));
  }
  if (p.skew_s > 0) {
    line("  in the passes", fmt::format("{} ms waiting for the slowest rank (the profile's rank skew)", ms(p.skew_s)));
  }
  line("communication", fmt::format("{} ms in {} bucket{} of {}, {} on the wire per step", ms(p.comm_s), p.buckets,
                                    p.buckets == 1 ? "" : "s", human_bytes(p.bucket_bytes),
                                    human_bytes(p.wire_bytes_per_step)));
  line("exposed communication", ms(p.exposed_comm_s) + " ms");
  line("codec", ms(p.codec_s) + " ms");
  line("algorithm", p.algorithm);
  line("throughput", fmt::format("{:.1f} samples/s", p.throughput_samples_per_s));
  line("speedup", fmt::format("{:.2f}x over 1 GPU (same precision), {:.2f}x over 1 GPU fp32", p.speedup,
                              p.speedup_vs_fp32_1gpu));
  line("scaling efficiency", fmt::format("{:.1f}%", 100.0 * p.efficiency));
  line("memory per GPU", fmt::format("{} of {} ({})", human_bytes(p.memory_per_gpu_bytes),
                                     human_bytes(p.gpu_memory_bytes), p.fits_in_memory ? "fits" : "DOES NOT FIT"));
}

void write_predictions_table(std::ostream& out, std::span<const Prediction> rows) {
  if (rows.empty()) return;
  const auto& first = rows.front();
  out << fmt::format("{} on {}, batch {} per GPU, compute {}, storage {}, optimizer {}, predictor {}, overlap {}\n",
                     first.workload, first.cluster, first.batch, first.compute, first.storage, first.optimizer,
                     first.predictor, first.overlap);
  const bool intervals = first.has_interval;
  out << fmt::format("{:>6} {:>10} {:>10} {:>8} {:>10} {}{:>9} {:>9} {:>8} {:>12} {:>8} {:>6} {:>9} {:<16}\n", "gpus",
                     "precision", "bw Gb/s", "compute", "step ms", intervals ? fmt::format("{:>16} ", "90% +/-") : "",
                     "comm ms", "exposed", "codec", "samples/s", "speedup", "eff", "mem GiB", "algorithm");
  for (const auto& p : rows) {
    const std::string spread =
        intervals ? fmt::format("{:>16} ", fmt::format("+{:.2f}/-{:.2f}", (p.step_time_high_s - p.step_time_s) * 1e3,
                                                       (p.step_time_s - p.step_time_low_s) * 1e3))
                  : "";
    out << fmt::format("{:>6} {:>10} {:>10g} {:>8} {:>10.2f} {}{:>9.2f} {:>9.2f} {:>8.2f} {:>12.1f} {:>8.2f} {:>5.1f}% "
                       "{:>8.1f}{} {:<16}\n",
                       p.gpus, p.precision, p.bandwidth_gbps, p.compute, p.step_time_s * 1e3, spread, p.comm_s * 1e3,
                       p.exposed_comm_s * 1e3, p.codec_s * 1e3, p.throughput_samples_per_s, p.speedup,
                       100.0 * p.efficiency, p.memory_per_gpu_bytes / (1024.0 * 1024 * 1024),
                       p.fits_in_memory ? " " : "!", p.algorithm);
  }
  bool any_unfit = false;
  for (const auto& p : rows) any_unfit = any_unfit || !p.fits_in_memory;
  if (any_unfit) out << "! does not fit in GPU memory\n";
}

void check_output_path(const std::string& path, std::string_view field) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target(path);
  if (path.empty()) throw InputError("", std::string(field), path, "must name a file");
  if (fs::is_directory(target, ec)) throw InputError("", std::string(field), path, "is a directory; a file is expected");
  if (fs::exists(target, ec) && !fs::is_regular_file(target, ec)) {
    throw InputError("", std::string(field), path, "exists and is not a regular file; not replaced");
  }
  const auto dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) throw InputError("", std::string(field), path, "its directory does not exist");
}

void write_file_atomically(const std::string& path, std::string_view field,
                           const std::function<void(std::ostream&)>& write) {
  namespace fs = std::filesystem;
  std::error_code ec;
  check_output_path(path, field);
  const fs::path target(path);
  const auto dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const auto tmp = dir / fmt::format(".{}.tmp.{}", target.filename().string(), ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError("", std::string(field), path, "cannot create a file in its directory");
    try {
      write(out);
    } catch (...) {
      out.close();
      fs::remove(tmp, ec);
      throw;
    }
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      throw InputError("", std::string(field), path, "writing failed (disk full?)");
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw InputError("", std::string(field), path, "cannot rename the finished file into place: " + ec.message());
  }
}

void write_file_atomically(const std::string& path, std::string_view text, std::string_view field) {
  write_file_atomically(path, field,
                        [&](std::ostream& out) { out.write(text.data(), static_cast<std::streamsize>(text.size())); });
}

void write_predictions_csv_header(std::ostream& out, bool intervals) {
  Prediction shape;
  shape.has_interval = intervals;
  write_csv_header(out, prediction_fields(shape));
}

void write_predictions_csv(std::ostream& out, std::span<const Prediction> rows, bool header) {
  // one prediction's fields at a time: a sweep may hold millions of rows
  if (header) write_csv_header(out, prediction_fields(rows.empty() ? Prediction{} : rows.front()));
  for (const auto& p : rows) write_csv_row(out, prediction_fields(p));
}

std::string find_beside(const std::string& path, const std::string& file) {
  std::error_code ec;
  const std::filesystem::path given(path);
  if (!given.is_relative() || std::filesystem::exists(given, ec)) return path;
  for (auto dir = std::filesystem::absolute(file, ec).parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (std::filesystem::is_regular_file(dir / given, ec)) return (dir / given).string();
    if (dir == dir.parent_path()) break;
  }
  return path;
}

}  // namespace bitscale
