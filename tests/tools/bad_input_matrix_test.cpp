// The bad-input matrix: every command x every option that takes a value x {negative, zero, NaN, inf, 1e308, text,
// empty, GPU counts 0 and 10^12, unknown names} and every file input x {missing, empty, a directory, garbage,
// duplicate keys, wrong types}. Each must end with exit 2, exactly one line on stderr naming the option (or the
// file), and no output file: neither the named one nor a temporary or partial one beside it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/cli.hpp"

namespace bitscale {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::vector<std::string> args;
  std::string names;  // what stderr must contain
};

fs::path scratch_dir() {
  const auto dir = fs::temp_directory_path() / ("bitscale-matrix-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

void expect_rejected(const Case& c, const fs::path& dir) {
  std::ostringstream out, err;
  const int code = run_cli(c.args, out, err);
  std::string shown;
  for (const auto& a : c.args) shown += "[" + a + "] ";
  const auto e = err.str();
  EXPECT_EQ(code, 2) << shown << "\n" << e;
  EXPECT_NE(e.find(c.names), std::string::npos) << shown << "\nstderr: " << e;
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 1) << shown << "\nstderr: " << e;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    EXPECT_TRUE(name.starts_with("input-")) << shown << " left " << name;
    if (!name.starts_with("input-")) fs::remove_all(entry.path());  // keep the next cases independent
  }
}

TEST(BadInputMatrix, EveryNumericAndNamedOptionOfEveryCommand) {
  const auto dir = scratch_dir();
  const auto out = (dir / "out.csv").string();
  struct Command {
    std::vector<std::string> base;
    std::vector<std::string> numeric, named;
    bool takes_out;
  };
  const std::vector<Command> commands = {
      {{"predict", "-g", "8"},
       {"--gpus", "--batch", "--bandwidth-gbps", "--bucket", "--first-bucket", "--tensor-parallel",
        "--pipeline-parallel", "--microbatches"},
       {"--workload", "--cluster", "--precision", "--compute", "--storage", "--optimizer", "--predictor", "--algorithm",
        "--overlap", "--codec-stream", "--format"},
       true},
      {{"sweep", "-g", "8"},
       {"--gpus", "--batch", "--bandwidth-gbps", "--bucket", "--first-bucket", "--tensor-parallel",
        "--pipeline-parallel", "--microbatches"},
       {"--workload", "--cluster", "--precision", "--compute", "--storage", "--optimizer", "--predictor", "--algorithm",
        "--overlap", "--codec-stream", "--format"},
       true},
      {{"collective", "--bytes", "1MiB", "--gpus", "8"},
       {"--bytes", "--gpus", "--bandwidth-gbps"},
       {"--cluster", "--op", "--precision", "--algorithm", "--format"},
       false},
      {{"codec", "bench", "--sizes", "4KiB"}, {"--sizes", "--runs"}, {"--codec"}, false},
      // gemm checks every flag before it looks for a device
      {{"gemm", "-w", "resnet50"}, {"--batch", "--runs"}, {"--workload", "--computes", "--cluster"}, false},
      {{"calibrate", "--from-nccl-tests", std::string(BITSCALE_TEST_DATA_DIR) + "/nccl-tests/a100-8gpu_all_reduce_perf.log"},
       {"--max-error"},
       {"--op", "--base"},
       true},
      // train checks every flag before MPI starts
      {{"train", "-w", std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-mlp.toml"},
       {"--batch", "--steps", "--warmup-steps", "--bucket", "--first-bucket", "--lr", "--momentum", "--seed",
        "--rate-mbit"},
       {"--workload", "--precision"},
       true},
      {{"validate", "--runs", std::string(BITSCALE_SOURCE_DIR) + "/tests/fuzz/corpus/run_csv/one-run.csv", "--cluster",
        "dgx-a100"},
       {"--max-error"},
       {"--predictor"},
       false},
  };
  const std::vector<std::string> numbers = {"-1", "0", "nan", "inf", "-inf", "1e308", "eight", "", "1000000000000"};
  int cases = 0;
  for (const auto& c : commands) {
    auto with = [&](const std::string& option, const std::string& value) {
      auto args = c.base;
      // a value given twice: the last wins in CLI11, so the bad one goes last
      args.push_back(option);
      args.push_back(value);
      if (c.takes_out) {
        args.push_back("--out");
        args.push_back(out);
      }
      return args;
    };
    for (const auto& option : c.numeric) {
      for (const auto& v : numbers) {
        // valid values of some options: skip those, the rest must be rejected
        if (v == "1000000000000" && (option == "--bytes" || option == "--bandwidth-gbps" || option == "--bucket" ||
                                     option == "--first-bucket" || option == "--seed")) {
          continue;
        }
        if (v == "0" && (option == "--momentum" || option == "--seed" || option == "--rate-mbit" ||
                         option == "--warmup-steps")) {
          continue;
        }
        expect_rejected({with(option, v), option}, dir);
        ++cases;
      }
    }
    for (const auto& option : c.named) {
      for (const std::string v : {"bogus-name", "", "fp32\nfp16"}) {
        expect_rejected({with(option, v), option}, dir);
        ++cases;
      }
    }
  }
  // bad input that only a configuration deep in the grid shows: a sweep must leave no partial file either
  expect_rejected({{"sweep", "-g", "8,16,12", "--out", out}, "--gpus"}, dir);
  expect_rejected({{"sweep", "-g", "8", "--batch", "1..64", "--pipeline-parallel", "2", "--microbatches", "3",
                    "--out", out},
                   "--microbatches"},
                  dir);
  cases += 2;
  std::cout << cases << " cases\n";
  EXPECT_GT(cases, 250);
  fs::remove_all(dir);
}

TEST(BadInputMatrix, EveryFileInputOfEveryCommand) {
  const auto dir = scratch_dir();
  const auto out = (dir / "out.toml").string();
  auto input = [&](const std::string& name, const std::string& text) {
    const auto p = dir / ("input-" + name);
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  };
  const std::string missing = (dir / "input-missing.toml").string();
  const std::string empty = input("empty.toml", "");
  const std::string garbage = input("garbage.toml", std::string("\x00\xff\xfe=[[[\n\"unterminated", 19));
  const std::string duplicate = input("duplicate.toml", "name = \"a\"\nname = \"b\"\n");
  fs::create_directories(dir / "input-directory.toml");
  const std::string directory = (dir / "input-directory.toml").string();
  // the shipped profile with a string where a number belongs, and a workload with a negative width
  std::string profile;
  {
    std::ostringstream text, err;
    run_cli({"cluster", "show", "dgx-a100"}, text, err);
    profile = text.str().substr(text.str().find("name = "));
    profile.replace(profile.find("gpus_per_node = 8"), 17, "gpus_per_node = \"eight\"");
  }
  const std::string wrong_cluster = input("wrong-types-cluster.toml", profile);
  const std::string wrong_workload =
      input("wrong-types-workload.toml", "name = \"w\"\n[[layer]]\nname = \"fc\"\nkind = \"linear\"\nparameters = -5\n");
  const std::vector<std::string> files = {missing, empty, garbage, duplicate, directory};

  int cases = 0;
  struct Slot {
    std::vector<std::string> before, after;
    std::string names;
    bool any_bytes_valid = false;  // a wire file: any bytes of a whole number of values decode
  };
  const std::vector<Slot> slots = {
      {{"predict", "--workload"}, {"--out", out}, "--workload"},
      {{"predict", "--cluster"}, {"--out", out}, "--cluster"},
      {{"sweep", "-g", "8", "--cluster"}, {"--out", out}, "--cluster"},
      {{"collective", "--bytes", "1MiB", "--gpus", "8", "--cluster"}, {}, "--cluster"},
      {{"workload", "show"}, {}, "--workload"},
      {{"cluster", "show"}, {}, "--cluster"},
      {{"codec", "error", "--codec", "fp16", "--in"}, {}, "--in"},
      {{"codec", "encode", "--codec", "fp16", "--in"}, {"--out", out}, "--in"},
      {{"codec", "decode", "--codec", "fp16", "--in"}, {"--out", out}, "--in", true},
      {{"calibrate", "--from-nccl-tests"}, {"--out", out}, "--from-nccl-tests"},
      {{"calibrate", "--from-engine"}, {"--out", out}, "--from-engine"},
      {{"train", "--workload"}, {"--out", out}, "--workload"},
      {{"validate", "--runs"}, {"--cluster", "dgx-a100", "--csv", out}, "--runs"},
      {{"validate", "--runs", std::string(BITSCALE_SOURCE_DIR) + "/tests/fuzz/corpus/run_csv/one-run.csv", "--cluster"},
       {"--csv", out},
       "--cluster"},
      {{"validate", "--published"}, {"--csv", out}, "--published"},
      {{"calibrate", "--from-nccl-tests", std::string(BITSCALE_TEST_DATA_DIR) + "/nccl-tests/a100-8gpu_all_reduce_perf.log",
        "--base"},
       {"--out", out},
       "--base"},
  };
  for (const auto& slot : slots) {
    for (const auto& f : files) {
      if (slot.any_bytes_valid && (f == duplicate)) continue;  // 22 bytes: 11 fp16 values, a valid wire file
      auto args = slot.before;
      args.push_back(f);
      args.insert(args.end(), slot.after.begin(), slot.after.end());
      std::ostringstream o, e;
      const int code = run_cli(args, o, e);
      std::string shown;
      for (const auto& a : args) shown += "[" + a + "] ";
      const auto err = e.str();
      EXPECT_EQ(code, 2) << shown << "\n" << err;
      // the message names the option or the file
      EXPECT_TRUE(err.find(slot.names) != std::string::npos || err.find(f) != std::string::npos)
          << shown << "\nstderr: " << err;
      EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << shown << "\nstderr: " << err;
      EXPECT_FALSE(fs::exists(out)) << shown;
      fs::remove(out);
      ++cases;
    }
  }
  for (const auto& [args, names] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"predict", "--cluster", wrong_cluster}, "node.gpus_per_node"},
           {{"cluster", "show", wrong_cluster}, "node.gpus_per_node"},
           {{"predict", "--workload", wrong_workload}, "parameters"},
           {{"workload", "show", wrong_workload}, "parameters"},
           // the events file may not overwrite the run CSV
           {{"train", "-w", std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-mlp.toml", "--out", out,
             "--events", out},
            "--events"},
           // a run CSV written before the host probe is not appended to
           {{"train", "-w", std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-mlp.toml", "--out",
             input("old-runs.csv",
                   "engine,run,workload,nodes,ranks,ranks_per_node,rate_mbit,cluster,precision,batch,bucket_bytes,"
                   "first_bucket_bytes,buckets,parameters,steps,warmup_steps,step,loss,compute_s,codec_s,comm_s,"
                   "wait_s,step_s,date,host\n")},
            "before the host probe"},
       }) {
    expect_rejected({args, names}, dir);
    ++cases;
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_TRUE(entry.path().filename().string().starts_with("input-")) << entry.path();
  }
  EXPECT_EQ(cases, static_cast<int>(slots.size()) * 5 - 1 + 6);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bitscale
