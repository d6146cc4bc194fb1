// Every input saved in tests/fuzz/regressions/<target>/ (crashes the fuzzers found, once fixed; each folder holds a
// .gitkeep, an empty input, until then) and every seed, replayed through its fuzz target in every build.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/targets.hpp"

namespace bitscale::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int replay(const std::string& dir, void (*target)(const std::uint8_t*, std::size_t)) {
  int n = 0;
  if (!fs::is_directory(dir)) return n;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const auto bytes = read(e.path());
    SCOPED_TRACE(e.path().string());
    target(bytes.data(), bytes.size());
    ++n;
  }
  return n;
}

const std::string kFuzz = std::string(BITSCALE_SOURCE_DIR) + "/tests/fuzz";

TEST(FuzzRegressions, WorkloadToml) {
  replay(kFuzz + "/regressions/workload_toml", workload_toml);
  EXPECT_GT(replay(std::string(BITSCALE_DATA_DIR) + "/workloads", workload_toml), 0);
}

TEST(FuzzRegressions, ClusterToml) {
  replay(kFuzz + "/regressions/cluster_toml", cluster_toml);
  EXPECT_GT(replay(std::string(BITSCALE_DATA_DIR) + "/clusters", cluster_toml), 0);
}

TEST(FuzzRegressions, NcclLog) {
  replay(kFuzz + "/regressions/nccl_log", nccl_log);
  EXPECT_GT(replay(std::string(BITSCALE_TEST_DATA_DIR) + "/nccl-tests", nccl_log), 0);
}

TEST(FuzzRegressions, EngineToml) {
  replay(kFuzz + "/regressions/engine_toml", engine_toml);
  EXPECT_GT(replay(kFuzz + "/corpus/engine_toml", engine_toml), 0);
}

TEST(FuzzRegressions, RunCsv) {
  replay(kFuzz + "/regressions/run_csv", run_csv);
  EXPECT_GT(replay(kFuzz + "/corpus/run_csv", run_csv), 0);
}

TEST(FuzzRegressions, Cli) {
  replay(kFuzz + "/regressions/cli", cli);
  EXPECT_GT(replay(kFuzz + "/corpus/cli", cli), 0);
}

}  // namespace
}  // namespace bitscale::fuzz
