// End to end: `mpirun -np 2 bitscale train` on this machine (shared memory, seconds): every codec path
// (fp32 sums, 16-bit sums rounded in the format, APS fp8 with its scale allreduce, gathered int8 blocks) must
// keep the two replicas identical (the trainer checks and exits 1 otherwise), write one CSV row per step that
// `validate` reads back, and lower the loss.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

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

// --events: every rank's threads, step by step, in the order the step's dependencies allow: per bucket its
// absmax (APS) before its scale allreduce, the encode after both, the collective after the encode and the decode
// after the collective; every layer's backward once, after the forward; the optimizer after the wait.
TEST(TrainMpi, EventsFollowEveryBucketsDependencies) {
  const auto dir = fs::temp_directory_path() / ("bitscale-train-events-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string mpirun = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 PMIX_MCA_gds=hash timeout 300 "
                             "mpirun -np 2 --oversubscribe --bind-to none ";
  const std::string workload = std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-cnn.toml";
  const int steps = 4;
  for (const std::string p : {"fp8-e4m3", "int8-block", "fp32"}) {
    const auto csv = dir / (p + ".csv");
    const auto events = dir / (p + ".events.csv");
    std::string log;
    ASSERT_EQ(run(mpirun + BITSCALE_BINARY + " train -w " + workload + " -p " + p + " --batch 8 --steps " +
                      std::to_string(steps) + " --warmup-steps 1 --first-bucket 64KiB --bucket 256KiB --out " +
                      csv.string() + " --events " + events.string(),
                  dir, log),
              0)
        << p << ":\n" << log;
    // (step, rank, event, index) -> [start, end]
    std::map<std::tuple<int, int, std::string, int>, std::pair<double, double>> at;
    std::ifstream in(events);
    std::string line;
    std::getline(in, line);
    ASSERT_EQ(line, "step,rank,event,index,start_s,end_s");
    std::set<int> layers, buckets;
    const bool aps = p == "fp8-e4m3", gathered = p == "int8-block", coded = p != "fp32";
    const std::string collective = gathered ? "allgather" : "allreduce";
    while (std::getline(in, line)) {
      std::stringstream row(line);
      std::string f[6];
      for (auto& x : f) std::getline(row, x, ',');
      const auto key = std::make_tuple(std::stoi(f[0]), std::stoi(f[1]), f[2], std::stoi(f[3]));
      const double a = std::stod(f[4]), b = std::stod(f[5]);
      EXPECT_LE(a, b) << line;
      EXPECT_GE(a, 0.0) << line;
      EXPECT_TRUE(at.emplace(key, std::make_pair(a, b)).second) << "twice: " << line;
      if (f[2] == "backward") layers.insert(std::stoi(f[3]));
      if (f[2] == collective) buckets.insert(std::stoi(f[3]));
    }
    // the CNN's layers; buckets of 64 KiB then 256 KiB: more than one
    ASSERT_GE(layers.size(), 4u);
    ASSERT_GE(buckets.size(), 2u);
    for (int step = 0; step < steps; ++step) {
      for (int rank = 0; rank < 2; ++rank) {
        auto get = [&](const std::string& e, int i) {
          const auto it = at.find({step, rank, e, i});
          EXPECT_NE(it, at.end()) << p << " step " << step << " rank " << rank << ": no " << e << " " << i;
          return it == at.end() ? std::make_pair(0.0, 0.0) : it->second;
        };
        const auto fwd = get("forward", -1);
        for (int l : layers) EXPECT_LE(fwd.second, get("backward", l).first) << p << " layer " << l;
        const auto wait = get("wait", -1), opt = get("optimizer", -1);
        EXPECT_LE(wait.second, opt.first) << p;
        for (int b : buckets) {
          const auto comm = get(collective, b);
          EXPECT_LE(comm.second, wait.second) << p << " bucket " << b;
          if (aps) {
            const auto absmax = get("absmax", b), scale = get("scale_allreduce", b);
            EXPECT_LE(absmax.second, scale.first) << p << " bucket " << b;
            EXPECT_LE(scale.second, get("encode", b).first) << p << " bucket " << b;
          }
          if (coded) {
            EXPECT_LE(get("encode", b).second, comm.first) << p << " bucket " << b;
            EXPECT_LE(comm.second, get("decode", b).first) << p << " bucket " << b;
          }
        }
        if (step > 0) {
          EXPECT_LE(at[std::make_tuple(step - 1, rank, std::string("optimizer"), -1)].second, fwd.first) << p;
        }
      }
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bitscale
