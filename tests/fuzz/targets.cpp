#include "tests/fuzz/targets.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "calibrate/fit.hpp"
#include "calibrate/nccl_tests_log.hpp"
#include "kernels/input_error.hpp"
#include "model/cluster.hpp"
#include "model/workload.hpp"
#include "tools/calibrate_engine.hpp"
#include "tools/cli.hpp"
#include "tools/run_csv.hpp"

namespace bitscale::fuzz {

namespace {
std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}
}  // namespace

void workload_toml(const std::uint8_t* data, std::size_t size) {
  try {
    const auto w = parse_workload_toml(text(data, size), "fuzz.toml");
    (void)w.parameters();
  } catch (const InputError&) {
  }
}

void cluster_toml(const std::uint8_t* data, std::size_t size) {
  ClusterProfile c;
  try {
    c = parse_cluster_toml(text(data, size), "fuzz.toml");
  } catch (const InputError&) {
    return;
  }
  // what parses must write back and read again the same: any exception here is a bug
  const auto again = parse_cluster_toml(to_toml(c), "fuzz-again.toml");
  if (again.gpus_per_node != c.gpus_per_node || again.nic_gbps != c.nic_gbps) std::abort();
}

void nccl_log(const std::uint8_t* data, std::size_t size) {
  try {
    const auto log = parse_nccl_tests_log(text(data, size), "fuzz.log", std::nullopt);
    const auto seconds = log.best_seconds();
    (void)fit_piecewise(log.bytes, seconds);
  } catch (const InputError&) {
  }
}

void run_csv(const std::uint8_t* data, std::size_t size) {
  try {
    const auto runs = parse_run_csv(text(data, size), "fuzz.csv");
    for (const auto& r : runs) {
      if (!(r.median_step_s() >= 0) || r.ranks < 1) std::abort();  // what parses holds checked values
    }
  } catch (const InputError&) {
  }
}

void engine_toml(const std::uint8_t* data, std::size_t size) {
  EngineMeasurements m;
  try {
    m = parse_engine_measurements(text(data, size), "fuzz.toml", [](const std::string& name) {
      const bool shipped = std::any_of(workload_table().begin(), workload_table().end(),
                                       [&](const WorkloadInfo& w) { return w.name == name; });
      if (!shipped && !name.starts_with("mlp:")) throw InputError("", "workload", name, "fuzzing reads no files");
      return find_workload(name);
    });
  } catch (const InputError&) {
    return;
  }
  // what parses must fit into a profile, or fail as bad input; anything else is a bug
  std::ostringstream out, err;
  try {
    const auto p = engine_profile(m, "fuzz.toml", 25, out, err);
    if (!p.fits.links_failed) p.profile.validate();
  } catch (const InputError&) {
  }
}

void cli(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;
  static const std::vector<std::vector<std::string>> kCommands = {
      {"predict"}, {"collective"}, {"workload", "show"}, {"cluster", "show"}, {"codec", "list"}, {"predictors"}};
  std::vector<std::string> args = kCommands[data[0] % kCommands.size()];
  std::string current;
  auto flush = [&] {
    const bool files = current.find('/') != std::string::npos || current.starts_with("--out") ||
                       current.starts_with("-o") || current.starts_with("--trace") || current.starts_with("--rendezvous");
    if (!files && args.size() < 24) args.push_back(current);
    current.clear();
  };
  for (std::size_t i = 1; i < size; ++i) {
    if (data[i] == '\n') {
      flush();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  if (!current.empty()) flush();
  // grids stay small (a few hundred configurations): the fuzzer looks for crashes, not for slow sweeps
  std::size_t commas = 0;
  for (const auto& a : args) {
    if (a.find("..") != std::string::npos) return;
    commas += static_cast<std::size_t>(std::count(a.begin(), a.end(), ','));
  }
  if (commas > 8) return;
  // a dropped value can leave its flag at the end; the command line stays what a user could type
  std::ostringstream out, err;
  const int code = run_cli(args, out, err);
  if (code == 3 || code < 0 || code > 3) {
    std::cerr << "internal error (exit " << code << ") for:";
    for (const auto& a : args) std::cerr << " [" << a << "]";
    std::cerr << "\n" << err.str();
    std::abort();
  }
  const auto message = err.str();
  if (code == 2 && std::count(message.begin(), message.end(), '\n') != 1) {
    std::cerr << "bad input without exactly one line on stderr:\n" << message;
    std::abort();
  }
}

}  // namespace bitscale::fuzz
