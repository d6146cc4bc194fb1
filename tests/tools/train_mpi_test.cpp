// End to end: `mpirun -np 2 bitscale train` on this machine (shared memory, seconds): every codec path
// (fp32 sums, 16-bit sums rounded in the format, APS fp8 with its scale allreduce, gathered int8 blocks) must
// keep the two replicas identical (the trainer checks and exits 1 otherwise), write one CSV row per step that
// `validate` reads back, and lower the loss.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/run_csv.hpp"

namespace bitscale {
namespace {

namespace fs = std::filesystem;

int run(const std::string& command, const fs::path& dir, std::string& log) {
  const int code = std::system((command + " > " + (dir / "log.txt").string() + " 2>&1").c_str());
  std::ifstream in(dir / "log.txt");
  std::stringstream text;
  text << in.rdbuf();
  log = text.str();
  return code;
}

TEST(TrainMpi, EveryCodecPathTrainsAndKeepsReplicasIdentical) {
  ASSERT_EQ(std::system("command -v mpirun > /dev/null"), 0) << "mpirun not found: scripts/setup-deps installs it";
  const auto dir = fs::temp_directory_path() / ("bitscale-train-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto csv = dir / "runs.csv";
  const std::string mpirun = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 PMIX_MCA_gds=hash timeout 300 "
                             "mpirun -np 2 --oversubscribe --bind-to none ";
  const std::string workload = std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-cnn.toml";
  const std::vector<std::string> precisions{"fp32", "bf16", "fp8-e4m3", "int8-block", "dettmers8"};
  for (const auto& p : precisions) {
    std::string log;
    ASSERT_EQ(run(mpirun + BITSCALE_BINARY + " train -w " + workload + " -p " + p +
                      " --batch 16 --steps 30 --warmup-steps 2 --lr 0.02 --first-bucket 64KiB --bucket 256KiB"
                      " --cluster-name test --out " + csv.string(),
                  dir, log),
              0)
        << p << ":\n" << log;
    EXPECT_NE(log.find("replicas agree"), std::string::npos) << log;
  }
  std::ifstream in(csv);
  std::stringstream text;
  text << in.rdbuf();
  const auto runs = parse_run_csv(text.str(), csv.string());
  ASSERT_EQ(runs.size(), precisions.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].precision, precisions[i]);
    EXPECT_EQ(runs[i].ranks, 2);
    EXPECT_EQ(runs[i].step_s.size(), 28u);
    // the loss falls: the last step's against the first (the task is learnable; 30 steps at lr 0.02)
    EXPECT_LT(runs[i].last_loss, 0.8 * runs[i].first_loss)
        << runs[i].precision << ": " << runs[i].first_loss << " -> " << runs[i].last_loss;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bitscale
