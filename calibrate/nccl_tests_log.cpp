#include "calibrate/nccl_tests_log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

#include "kernels/input_error.hpp"

namespace bitscale {

namespace {

std::vector<std::string> tokens(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

bool number(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

std::optional<CollectiveOp> op_from_text(std::string_view text) {
  struct Name {
    const char* pattern;
    CollectiveOp op;
  };
  static constexpr Name kNames[] = {{"all_reduce", CollectiveOp::allreduce}, {"allreduce", CollectiveOp::allreduce},
                                    {"all_gather", CollectiveOp::allgather}, {"allgather", CollectiveOp::allgather},
                                    {"reduce_scatter", CollectiveOp::reduce_scatter},
                                    {"reducescatter", CollectiveOp::reduce_scatter},
                                    {"broadcast", CollectiveOp::broadcast}, {"alltoall", CollectiveOp::alltoall}};
  for (const auto& n : kNames) {
    if (text.find(n.pattern) != std::string_view::npos) return n.op;
  }
  return std::nullopt;
}

}  // namespace

std::vector<double> NcclTestsLog::best_seconds() const {
  std::vector<double> t = out_of_place_s;
  for (std::size_t i = 0; i < t.size() && i < in_place_s.size(); ++i) t[i] = std::min(t[i], in_place_s[i]);
  return t;
}

NcclTestsLog parse_nccl_tests_log(std::string_view text, const std::string& source, std::optional<CollectiveOp> op) {
  NcclTestsLog log;
  log.source = source;
  if (op) {
    log.op = *op;
  } else {
    const auto slash = source.find_last_of('/');
    auto from_name = op_from_text(slash == std::string::npos ? source : source.substr(slash + 1));
    if (!from_name) {
      // the command line, when the log shows it (e.g. "./build/all_reduce_perf -b 8 ...")
      const auto perf = text.find("_perf");
      if (perf != std::string_view::npos) from_name = op_from_text(text.substr(perf > 20 ? perf - 20 : 0, 26));
    }
    if (!from_name) {
      throw InputError(source, "collective", "",
                       "cannot tell which collective this log measures: name the file after the test "
                       "(all_reduce_perf.log) or pass --op");
    }
    log.op = *from_name;
  }
  const std::regex rank_line(R"(^#\s*Rank\s+\d+\b.*\bon\s+(\S+)\s+device\s+\d+\s+\[[^\]]*\]\s+(.*?)\s*$)");
  const std::regex ngpus(R"(nGpus\s+(\d+))");
  std::set<std::string> hosts;
  std::int64_t rank_lines = 0, gpus_per_process = 0;
  std::vector<std::string> header;
  std::size_t time_out = 0, time_in = 0;
  std::istringstream in{std::string(text)};
  std::size_t line_no = 0;
  bool rows_done = false;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    if (line[first] == '#') {
      std::smatch m;
      if (std::regex_search(line, m, rank_line)) {
        ++rank_lines;
        hosts.insert(m[1]);
        if (log.gpu.empty()) log.gpu = m[2];
        continue;
      }
      if (std::regex_search(line, m, ngpus) && gpus_per_process == 0) gpus_per_process = std::stoll(m[1]);
      auto t = tokens(line.substr(first + 1));
      if (std::find(t.begin(), t.end(), "size") != t.end() && std::find(t.begin(), t.end(), "time") != t.end()) {
        if (!log.bytes.empty()) rows_done = true;  // a second table: a second run
        header = t;
        std::vector<std::size_t> times;
        for (std::size_t i = 0; i < t.size(); ++i) {
          if (t[i] == "time") times.push_back(i);
        }
        time_out = times[0];
        time_in = times.size() > 1 ? times[1] : 0;
      }
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(line[first]))) continue;  // "Out of bounds values", NCCL INFO...
    if (header.empty()) {
      throw InputError(source, fmt::format("line {}", line_no), "", "a data row before the nccl-tests column header");
    }
    if (rows_done) {
      throw InputError(source, fmt::format("line {}", line_no), "",
                       "the log holds more than one run: keep one table per file");
    }
    const auto t = tokens(line);
    if (t.size() < header.size() - (header.back() == "#wrong" || header.back() == "error" ? 1 : 0)) {
      throw InputError(source, fmt::format("line {}", line_no), "",
                       fmt::format("truncated row: {} columns where the header has {}", t.size(), header.size()));
    }
    double size = 0, out_us = 0, in_us = 0;
    if (!number(t[0], size) || size < 0 || !number(t[time_out], out_us) || !(out_us > 0) ||
        (time_in > 0 && time_in < t.size() && !number(t[time_in], in_us))) {
      throw InputError(source, fmt::format("line {}", line_no), "", "not a nccl-tests data row (size or time)");
    }
    if (!log.bytes.empty() && size <= log.bytes.back()) {
      throw InputError(source, fmt::format("line {}", line_no), "",
                       "sizes must grow down the table (a second run in the same file?)");
    }
    if (log.type.empty() && t.size() > 2) log.type = t[2];
    log.bytes.push_back(size);
    log.out_of_place_s.push_back(out_us * 1e-6);
    if (time_in > 0 && time_in < t.size() && in_us > 0) log.in_place_s.push_back(in_us * 1e-6);
  }
  if (log.bytes.empty()) throw InputError(source, "rows", "", "no nccl-tests data rows (empty or not a nccl-tests log)");
  if (!log.in_place_s.empty() && log.in_place_s.size() != log.bytes.size()) log.in_place_s.clear();
  if (rank_lines > 0) {
    log.ranks = rank_lines;
    log.nodes = static_cast<std::int64_t>(hosts.size());
  } else if (gpus_per_process > 0) {
    log.ranks = gpus_per_process;
    log.nodes = 1;
  } else {
    throw InputError(source, "ranks", "", "the log shows neither '#  Rank' lines nor 'nGpus': cannot count ranks");
  }
  if (log.ranks < 2) throw InputError(source, "ranks", std::to_string(log.ranks), "a collective needs >= 2 ranks");
  return log;
}

}  // namespace bitscale
