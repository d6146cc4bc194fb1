// The command line in-process: the contract's fields, the sweep's rows, and the bad-input matrix (exit 2,
// one line naming the field, no output file).
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <thread>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "kernels/cuda_device.hpp"
#include "model/cluster.hpp"
#include "model/workload.hpp"
#include "tests/tools/run_cli.hpp"
#include "tools/calibrate_host.hpp"
#include "tools/cli.hpp"

namespace bitscale {
namespace {

namespace fs = std::filesystem;

using test::Result;
using test::run;

// this process's scratch directory, removed with whatever is left in it once its tests have run
fs::path scratch_dir() { return fs::temp_directory_path() / ("bitscale-cli-test-" + std::to_string(::getpid())); }

fs::path scratch(const std::string& name) {
  const auto dir = scratch_dir();
  fs::create_directories(dir);
  return dir / name;
}

class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(scratch_dir(), ec);
  }
};
[[maybe_unused]] const auto* const scratch_cleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

TEST(Cli, PredictJsonHasEveryContractField) {
  const auto r = run({"predict", "--workload", "resnet50", "--cluster", "dgx-a100", "--gpus", "64", "--precision",
                      "fp16", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* field : {"workload", "cluster", "gpus", "precision", "compute", "storage", "batch", "step_time_s",
                            "compute_s", "comm_s", "exposed_comm_s", "codec_s", "throughput_samples_per_s", "speedup",
                            "efficiency", "memory_per_gpu_bytes", "fits_in_memory", "algorithm", "predictor"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_EQ(j["workload"], "resnet50");
  EXPECT_EQ(j["gpus"], 64);
  EXPECT_EQ(j["precision"], "fp16");
  EXPECT_EQ(j["predictor"], "timeline");
  const double step = j["step_time_s"];
  EXPECT_NEAR(j["throughput_samples_per_s"].get<double>(), 64.0 * j["batch"].get<double>() / step, 1e-6);
  EXPECT_NEAR(j["efficiency"].get<double>(), j["speedup"].get<double>() / 64, 1e-12);
  EXPECT_NEAR(j["exposed_comm_s"].get<double>(), step - j["compute_s"].get<double>(), 1e-12);
}

TEST(Cli, TraceHasOneEventPerTask) {
  const auto path = scratch("trace.json");
  const std::vector<std::string> args = {"predict", "-w", "resnet50", "-c", "dgx-a100", "-g", "64", "-p", "fp16"};
  auto with_trace = args;
  with_trace.insert(with_trace.end(), {"--format", "json", "--trace", path.string()});
  const auto r = run(with_trace);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  std::ifstream in(path);
  const auto trace = nlohmann::json::parse(in);
  std::int64_t complete = 0;
  double last_end = 0;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ++complete;
    last_end = std::max(last_end, e["ts"].get<double>() + e["dur"].get<double>());
  }
  // forward, 109 backward layers, then encode, allreduce and decode per bucket, and the optimizer step
  const std::int64_t buckets = j["buckets"];
  EXPECT_EQ(complete, 1 + 109 + 3 * buckets + 1);
  EXPECT_NEAR(last_end, j["step_time_s"].get<double>() * 1e6, 1e-6 * last_end);
  fs::remove(path);
}

TEST(Cli, MaxBatchPredictsAtTheLargestBatchThatFits) {
  const auto r = run({"predict", "-w", "resnet50", "-c", "dgx-a100", "-g", "1", "-p", "fp32", "--compute", "fp32",
                      "--storage", "fp32", "--max-batch", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["batch"], 941);  // worked by hand in tests/predictors/timeline_test.cpp
  EXPECT_EQ(j["fits_in_memory"], true);
}

// The bitscale binary as a child process; returns its pid.
// The bitscale binary as a child process (stderr to /dev/null, default signal dispositions, nothing blocked);
// `env` adds variables (NAME=VALUE). Returns its pid.
pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  std::vector<char*> argv{const_cast<char*>(BITSCALE_BINARY)};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, BITSCALE_BINARY, &actions, &attr, argv.data(), envp.data()), 0);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// The exit code, or -signal when a signal killed the child (a clean stop on SIGINT exits 130 itself).
int wait_exit(pid_t pid) {
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::string slurp_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Cli, InterruptedSweepLeavesWholeRowsAndResumesToTheSameFile) {
  // 7 x 3 x 3 x 16 = 1,008 configurations in chunks of 128 (BITSCALE_TEST_CHUNK_ROWS; 65,536 outside tests): seven
  // whole chunks and a rest of 112
  std::string batches;
  for (int b = 1; b <= 16; ++b) batches += (b > 1 ? "," : "") + std::to_string(b);
  const auto full = scratch("sweep-full.csv"), cut = scratch("sweep-cut.csv");
  const std::vector<std::string> grid = {"sweep", "-w", "resnet50", "-c", "dgx-h100", "--gpus", "1,2,4..64",
                                         "--bandwidth-gbps", "10,100,400", "--precision", "fp32,fp16,int8-block",
                                         "--compute", "fp16", "--batch", batches};
  const std::string chunks = "BITSCALE_TEST_CHUNK_ROWS=128";
  auto with = [&](std::vector<std::string> extra) {
    auto a = grid;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  ASSERT_EQ(wait_exit(spawn(with({"--out", full.string()}), {chunks})), 0);
  const auto expected = slurp_text(full);
  ASSERT_EQ(std::count(expected.begin(), expected.end(), '\n'), 1 + 7 * 3 * 3 * 16);

  const auto partial = fs::path(cut.string() + ".partial");
  // a real SIGINT, sent by the sweep to itself once two chunks are written (BITSCALE_TEST_INTERRUPT_AFTER_ROWS),
  // so the test does not race the sweep
  EXPECT_EQ(wait_exit(spawn(with({"--out", cut.string()}), {chunks, "BITSCALE_TEST_INTERRUPT_AFTER_ROWS=256"})), 130);
  EXPECT_FALSE(fs::exists(cut)) << "no final file after an interruption";
  const auto part = slurp_text(partial);
  ASSERT_FALSE(part.empty());
  EXPECT_EQ(part.back(), '\n') << "whole rows only";
  const auto rows = std::count(part.begin(), part.end(), '\n') - 1;
  EXPECT_EQ(rows, 256);
  EXPECT_EQ(expected.compare(0, part.size(), part), 0) << "the rows written are the first rows of the sweep";

  // a resume with other options is refused; the same options finish the file
  auto other = with({"--out", cut.string(), "--resume"});
  other[2] = "vgg16";
  EXPECT_EQ(wait_exit(spawn(other, {chunks})), 2);
  EXPECT_EQ(wait_exit(spawn(with({"--out", cut.string(), "--resume"}), {chunks})), 0);
  EXPECT_EQ(slurp_text(cut), expected);
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_FALSE(fs::exists(cut.string() + ".partial.meta"));
  fs::remove(full);
  fs::remove(cut);
}

TEST(Cli, SweepWritesOneRowPerConfiguration) {
  const auto path = scratch("sweep.csv");
  const auto r = run({"sweep", "-w", "resnet50", "-c", "dgx-a100", "--gpus", "1,2,4..1024", "--bandwidth-gbps",
                      "25,100,400", "--precision", "fp32,fp16,fp8-e4m3,int8-block", "--out", path.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("workload,cluster,gpus,", 0), 0u) << line;
  const auto columns = std::count(line.begin(), line.end(), ',');
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), columns) << line;
  }
  EXPECT_EQ(rows, 11 * 3 * 4);
  fs::remove_all(path.parent_path());
}

TEST(Cli, PredictListsPrintATable) {
  const auto r = run({"predict"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* p : {"fp32", "fp16", "bf16", "fp8-e4m3", "int8-block", "dettmers8", "1024"}) {
    EXPECT_NE(r.out.find(p), std::string::npos) << p;
  }
}

TEST(Cli, CollectiveJson) {
  const auto r = run({"collective", "--cluster", "dgx-a100", "--op", "allreduce", "--bytes", "1GiB", "--gpus", "8",
                      "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* f : {"op", "bytes", "gpus", "time_s", "algbw_gbps", "busbw_gbps", "algorithm"}) {
    EXPECT_TRUE(j.contains(f)) << f;
  }
  // one node of NVSwitch, 300 GB/s per GPU, 3.4 us per step; NCCL's ring beats its tree (2n/B):
  // busbw = 2(p-1)/p n / (2(p-1) alpha + 2(p-1)/p n / B) = 1.75 * 2^30 / (47.6 us + 1.75 * 2^30 / 3e11)
  EXPECT_EQ(j["algorithm"], "ring");
  const double moved = 1.75 * 1073741824.0;
  EXPECT_NEAR(j["busbw_gbps"].get<double>(), moved / (47.6e-6 + moved / 3e11) / 1e9, 1e-9);
}

TEST(Cli, ListsAndShows) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"workload", "list"}, {"workload", "show", "resnet50"}, {"cluster", "list"},
        {"cluster", "show", "dgx-h100"}, {"codec", "list"}, {"predictors"}, {"version"},
        {"workload", "show", "gpt2-xl", "--format", "json"}}) {
    const auto r = run(args);
    EXPECT_EQ(r.code, 0) << args[0] << ": " << r.err;
    EXPECT_FALSE(r.out.empty());
  }
  EXPECT_NE(run({"workload", "list"}).out.find("25,557,032"), std::string::npos);
  EXPECT_NE(run({"cluster", "show", "dgx-a100"}).out.find("source"), std::string::npos);
}

TEST(Cli, HelpOnEveryCommand) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, {"predict", "--help"}, {"sweep", "--help"}, {"collective", "--help"},
        {"workload", "--help"}, {"workload", "show", "--help"}, {"cluster", "list", "--help"}, {"codec", "--help"},
        {"gemm", "--help"}}) {
    const auto r = run(args);
    EXPECT_EQ(r.code, 0) << args[0];
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << args[0] << r.out;
  }
}

// Each bad input: exit 2, one line on stderr that names the field, and no output file.
TEST(Cli, BadInputMatrix) {
  const auto out = scratch("never-written.csv");
  const auto bad_profile = scratch("bad.toml");
  const auto missing_field = scratch("missing.toml");
  const auto empty = scratch("empty.toml");
  const auto no_fp32 = scratch("no-fp32.toml");
  {
    std::ostringstream text;
    run_cli({"cluster", "show", "dgx-a100"}, text, text);
    auto profile = text.str().substr(text.str().find("name = "));
    profile.replace(profile.find("fp32 = 19.5"), 11, "");
    std::ofstream(no_fp32) << profile;
  }
  const auto torus = scratch("torus.toml");
  const auto undersubscribed = scratch("under.toml");
  {
    std::ostringstream text;
    run_cli({"cluster", "show", "dgx-a100"}, text, text);
    auto profile = text.str().substr(text.str().find("name = "));
    auto at = profile.find("topology = \"rail-optimized\"");
    std::ofstream(torus) << profile.substr(0, at) << "topology = \"torus\"" << profile.substr(at + 27);
    at = profile.find("oversubscription = 1.0");
    std::ofstream(undersubscribed) << profile.substr(0, at) << "oversubscription = 0.5" << profile.substr(at + 22);
  }
  std::ofstream(bad_profile) << "name = \"x\"\n[gpu\n";
  std::ofstream(missing_field) << "name = \"x\"\ndefault_compute = \"fp32\"\n";
  std::ofstream(empty).close();
  struct Case {
    std::vector<std::string> args;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{"predict", "--workload", "resnet5"}, "--workload"},
      {{"predict", "--cluster", "dgx-z"}, "--cluster"},
      {{"predict", "--precision", "fp12"}, "--precision"},
      {{"predict", "--compute", "fp64"}, "--compute"},
      {{"predict", "--compute", "fp8"}, "--compute"},
      {{"predict", "--storage", "fp4"}, "--storage"},
      {{"predict", "--optimizer", "lion"}, "--optimizer"},
      {{"predict", "--gpus", "0"}, "--gpus"},
      {{"predict", "--gpus", "-8"}, "--gpus"},
      {{"predict", "--gpus", "2.5"}, "--gpus"},
      {{"predict", "--gpus", "eight"}, "--gpus"},
      {{"predict", "--gpus", "1000000000000"}, "--gpus"},
      {{"predict", "--gpus", "12"}, "--gpus"},
      {{"predict", "--bandwidth-gbps", "0"}, "--bandwidth-gbps"},
      {{"predict", "--bandwidth-gbps", "-100"}, "--bandwidth-gbps"},
      {{"predict", "--bandwidth-gbps", "nan"}, "--bandwidth-gbps"},
      {{"predict", "--bandwidth-gbps", "inf"}, "--bandwidth-gbps"},
      {{"predict", "--bandwidth-gbps", "1e308"}, "--bandwidth-gbps"},
      {{"predict", "--batch", "0"}, "--batch"},
      {{"predict", "--batch", "nan"}, "--batch"},
      {{"predict", "--bucket", "0"}, "--bucket"},
      {{"predict", "--bucket", "12XB"}, "--bucket"},
      {{"predict", "--predictor", "oracle"}, "--predictor"},
      {{"predict", "--algorithm", "butterfly"}, "--algorithm"},
      {{"predict", "--precision", "int8-block", "--algorithm", "ring"}, "--algorithm"},
      {{"predict", "--format", "xml"}, "--format"},
      {{"predict", "--overlap", "some"}, "--overlap"},
      {{"predict", "--cluster", bad_profile.string()}, "malformed TOML"},
      {{"predict", "--cluster", missing_field.string()}, "gpu: missing"},
      {{"predict", "--cluster", empty.string()}, "name: missing"},
      {{"predict", "--cluster", "/nonexistent/x.toml"}, "--cluster"},
      {{"predict", "--cluster", no_fp32.string()}, "gpu.peak_tflops.fp32"},
      {{"predict", "--cluster", "/dev/zero"}, "not a regular file"},
      {{"predict", "--gpus", "1\n2"}, "--gpus = '1\\n2'"},
      {{"predict", "--workload", "foo\nbar"}, "foo\\nbar"},
      {{"predict", "--bandwidth-gbps", "1e-320"}, "--bandwidth-gbps"},
      {{"predict", "--bucket", "1"}, "--bucket"},
      {{"collective", "--bytes", "1.5", "--gpus", "8"}, "--bytes"},
      {{"predict", "--workload", "mlp:1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,"
                                 "1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,"
                                 "1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,"
                                 "1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,"
                                 "1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,"
                                 "1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,"
                                 "1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,"
                                 "1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,"
                                 "1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,"
                                 "1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,1000000,"
                                 "1000000,1000000,1000000"},
       "1e14"},
      {{"predict", "--cluster", out.parent_path().string()}, "directory"},
      {{"predict", "--workload", "/nonexistent/w.toml"}, "--workload"},
      {{"predict", "--workload", empty.string()}, "name: missing"},
      {{"predict", "--nonsense"}, "--nonsense"},
      {{"predict", "--cluster", torus.string()}, "inter_node.topology"},
      {{"predict", "--cluster", undersubscribed.string()}, "inter_node.oversubscription"},
      {{"predict", "--codec-stream", "side"}, "--codec-stream"},
      {{"predict", "--first-bucket", "0"}, "--first-bucket"},
      {{"predict", "--max-batch", "--batch", "8"}, "--max-batch"},
      {{"predict", "-w", "gpt2-xl", "-c", "commodity-a10", "-g", "8", "--compute", "fp32", "--storage", "fp32",
        "--max-batch"},
       "--max-batch"},
      {{"predict", "--gpus", "8,16", "--trace", scratch("t.json").string()}, "--trace"},
      {{"predict", "--gpus", "8", "-p", "fp16", "--trace", "/nonexistent/dir/t.json"}, "--trace"},
      {{"predict", "--gpus", "8", "-p", "fp16", "--predictor", "alpha-beta", "--trace", scratch("t.json").string()},
       "--trace"},
      {{"collective", "--gpus", "8"}, "--bytes"},
      {{"collective", "--bytes", "1GiB", "--gpus", "0"}, "--gpus"},
      {{"collective", "--bytes", "-1", "--gpus", "8"}, "--bytes"},
      {{"collective", "--bytes", "1GiB", "--gpus", "8", "--op", "allscatter"}, "--op"},
      {{"workload", "show", "nope"}, "--workload"},
      {{"cluster", "show", "nope"}, "--cluster"},
      {{"frobnicate"}, "frobnicate"},
  };
  for (const auto& c : cases) {
    auto args = c.args;
    if (args[0] == "predict") {
      args.push_back("--out");
      args.push_back(out.string());
    }
    const auto r = run(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.code, 2) << shown << "\n" << r.err;
    EXPECT_NE(r.err.find(c.field), std::string::npos) << shown << "\nstderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << shown << "\nstderr: " << r.err;
    EXPECT_FALSE(fs::exists(out)) << shown;
  }
  // --out into a missing directory, onto a directory or onto a FIFO: exit 2, nothing written or replaced
  EXPECT_EQ(run({"sweep", "--gpus", "8", "--out", "/nonexistent/dir/x.csv"}).code, 2);
  EXPECT_EQ(run({"sweep", "--gpus", "8", "--out", out.parent_path().string()}).code, 2);
  const auto fifo = scratch("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(run({"sweep", "--gpus", "8", "--out", fifo.string()}).code, 2);
  EXPECT_TRUE(fs::is_fifo(fifo));
  fs::remove(fifo);
  for (const auto& entry : fs::directory_iterator(out.parent_path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  }
  fs::remove_all(out.parent_path());
}

// An .npy file written byte by byte from the NumPy format spec (version 1.0), independent of our writer.
void write_npy(const fs::path& path, const std::vector<float>& values, const std::string& descr = "<f4") {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" +
                       std::to_string(values.size()) + ",), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size() & 0xFF), static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out << header;
  out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
}

std::vector<char> slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Cli, CodecEncodeDecodeRoundTripThroughFiles) {
  std::vector<float> x(1000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((static_cast<double>(i) - 500.0) / 64.0);
  const auto npy = scratch("grads.npy");
  write_npy(npy, x);
  const auto wire = scratch("grads.fp16");
  auto r = run({"codec", "encode", "--codec", "fp16", "--in", npy.string(), "--out", wire.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(fs::file_size(wire), 2000u);  // 1000 values x 2 bytes, no header
  const auto bytes = slurp(wire);
  // (i - 500) / 64 is exact in fp16: value 0 (i = 500) is 0x0000, 1.0 (i = 564) is 0x3C00, little-endian
  EXPECT_EQ(static_cast<unsigned char>(bytes[2 * 564]), 0x00);
  EXPECT_EQ(static_cast<unsigned char>(bytes[2 * 564 + 1]), 0x3C);
  const auto back = scratch("back.npy");
  r = run({"codec", "decode", "--codec", "fp16", "--in", wire.string(), "--out", back.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto npy_bytes = slurp(back);
  ASSERT_EQ(npy_bytes.size(), 128u + 4000u);  // 128-byte header (padded to 64) + data
  EXPECT_EQ(std::memcmp(npy_bytes.data() + 128, x.data(), 4000), 0);
  // raw fp32 output, and the error command reads it back: fp16 is exact on these values
  const auto raw = scratch("back.f32");
  ASSERT_EQ(run({"codec", "decode", "--codec", "fp16", "--in", wire.string(), "--out", raw.string()}).code, 0);
  EXPECT_EQ(fs::file_size(raw), 4000u);
  r = run({"codec", "error", "--codec", "fp16,int8-block", "--in", raw.string(), "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j[0]["codec"], "fp16");
  EXPECT_EQ(j[0]["relative_rms_error"], 0.0);
  EXPECT_GT(j[1]["relative_rms_error"].get<double>(), 0.0);
  fs::remove_all(npy.parent_path());
}

TEST(Cli, CodecBadInput) {
  const auto f8 = scratch("f8.npy");
  write_npy(f8, {1.0f, 2.0f}, "<f8");
  const auto odd = scratch("odd.bin");
  std::ofstream(odd) << "abcde";  // 5 bytes: not whole fp32 values, not a whole int8-block stream
  const auto three = scratch("three.bin");
  std::ofstream(three) << "abc";  // 3 bytes: neither fp16 values nor an int8-block stream (scale + codes)
  const auto empty = scratch("empty.bin");
  std::ofstream(empty).close();
  const auto out = scratch("never.bin");
  struct Case {
    std::vector<std::string> args;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{"codec", "encode", "--codec", "fp16", "--in", f8.string(), "--out", out.string()}, "dtype"},
      {{"codec", "encode", "--codec", "fp16", "--in", odd.string(), "--out", out.string()}, "--in"},
      {{"codec", "encode", "--codec", "fp16", "--in", empty.string(), "--out", out.string()}, "--in"},
      {{"codec", "encode", "--codec", "fp7", "--in", odd.string(), "--out", out.string()}, "--codec"},
      {{"codec", "encode", "--codec", "fp16", "--in", "/nonexistent", "--out", out.string()}, "--in"},
      {{"codec", "encode", "--codec", "fp16", "--in", odd.parent_path().string(), "--out", out.string()}, "--in"},
      {{"codec", "encode", "--codec", "fp8-e4m3", "--in", odd.string(), "--rounding", "up", "--out", out.string()},
       "--rounding"},
      {{"codec", "decode", "--codec", "int8-block", "--in", three.string(), "--out", out.string()}, "int8-block"},
      {{"codec", "decode", "--codec", "fp16", "--in", three.string(), "--out", out.string()}, "fp16"},
      {{"codec", "error", "--in", odd.string()}, "--in"},
      {{"codec", "bench", "--sizes", "0"}, "--sizes"},
      {{"codec", "bench", "--runs", "0"}, "--runs"},
  };
  for (const auto& c : cases) {
    const auto r = run(c.args);
    std::string shown;
    for (const auto& a : c.args) shown += a + " ";
    EXPECT_EQ(r.code, 2) << shown << "\n" << r.err;
    EXPECT_NE(r.err.find(c.field), std::string::npos) << shown << "\nstderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << shown << "\nstderr: " << r.err;
    EXPECT_FALSE(fs::exists(out)) << shown;
  }
  if (!cuda_available()) {
    const auto r = run({"codec", "bench", "--gpu", "--sizes", "4KiB"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--gpu"), std::string::npos) << r.err;
    // gemm times on the GPU only: without one it says so, in one line, and writes no CSV
    const auto g = run({"gemm", "-w", "resnet50", "--csv", out.string()});
    EXPECT_EQ(g.code, 2);
    EXPECT_NE(g.err.find("device"), std::string::npos) << g.err;
    EXPECT_EQ(std::count(g.err.begin(), g.err.end(), '\n'), 1) << g.err;
    EXPECT_FALSE(fs::exists(out));
  }
  fs::remove_all(out.parent_path());
}

TEST(Cli, CalibrateFromLogs) {
  const std::string data = std::string(BITSCALE_TEST_DATA_DIR) + "/nccl-tests/";
  const auto out = scratch("a100.toml");
  auto r = run({"calibrate", "--from-nccl-tests", data + "a100-8gpu_all_reduce_perf.log", "--out", out.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("R^2"), std::string::npos);
  // the profile predicts the log: 1 GiB took 8166.8 us out of place, 8154.1 in place
  const auto p = run({"collective", "--cluster", out.string(), "--bytes", "1GiB", "--gpus", "8", "--format", "json"});
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_NEAR(nlohmann::json::parse(p.out)["time_s"].get<double>(), 8154.1e-6, 0.05 * 8154.1e-6);
  // a threshold no fit meets: exit 1, nothing written
  const auto strict = scratch("strict.toml");
  r = run({"calibrate", "--from-nccl-tests", data + "a100-8gpu_all_reduce_perf.log", "--max-error", "0.5", "--out",
           strict.string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(fs::exists(strict));
  r = run({"calibrate", "--from-nccl-tests", data + "a100-8gpu_all_reduce_perf.log", "--max-error", "0.5", "--force",
           "--out", strict.string()});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(fs::exists(strict));
  // bad logs: exit 2, one line, nothing written
  const auto never = scratch("never.toml");
  const auto garbage = scratch("garbage_all_reduce_perf.log");
  std::ofstream(garbage) << "this is not\na log\n";
  const auto empty = scratch("empty_all_reduce_perf.log");
  std::ofstream(empty).close();
  const auto cut = scratch("cut_all_reduce_perf.log");
  {
    std::ifstream in(data + "a100-8gpu_all_reduce_perf.log");
    std::stringstream s;
    s << in.rdbuf();
    std::ofstream(cut) << s.str().substr(0, s.str().find("   4096 ") + 30);
  }
  for (const auto& log : {garbage, empty, cut, fs::path(data + "p4d-2node-no-ranks_all_reduce_perf.log"),
                          fs::path("/nonexistent_all_reduce_perf.log")}) {
    r = run({"calibrate", "--from-nccl-tests", log.string(), "--out", never.string()});
    EXPECT_EQ(r.code, 2) << log << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(never));
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"calibrate"}, {"calibrate", "--backend", "ucx"},
        {"calibrate", "--backend", "mpi", "--sizes", "0"}, {"calibrate", "--backend", "mpi", "--iters", "5"},
        {"calibrate", "--backend", "gloo", "--types", "bf16"}, {"calibrate", "--backend", "mpi", "--ops", "allgather"},
        {"calibrate", "--from-nccl-tests", data + "a100-8gpu_all_reduce_perf.log", "--base", "dgx-z"}}) {
    r = run(args);
    EXPECT_EQ(r.code, 2) << args.back() << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  fs::remove_all(out.parent_path());
}

// calibrate --from-engine: another engine's measurements (as tools/ddp_train.py calibrate writes them) fitted
// into a profile, every number recovered from series made by hand from known parameters.
TEST(Cli, CalibrateFromEngineRecoversTheParametersOfItsMeasurements) {
  const auto measured = scratch("engine.toml");
  const auto out = scratch("ddp-2n.toml");
  const std::string workload = std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-mlp.toml";
  // two ranks on two nodes; fp32 allreduce: 80 us + n / 50 MB/s; fp16's sums add (p-1)/p x n / 0.2 GB/s
  std::string text = R"(engine = "pytorch-ddp"
library = "gloo"
engine_version = "torch 1.13"
command = "tools/ddp_train.py calibrate"
date = "2026-11-29"
host = "n1"
cpu = "Test CPU"
ranks = 2
nodes = 2
memory_gib = 12.0
rank_skew_timing = "one training step of train-mlp on every rank after a barrier"
contention_sizing = "doubled while it ran under 30 ms alone"
[rates]
memcpy_bytes_per_s = 2e10
gemm_fp32_flops_per_s = 1e11
linear_flops_per_s = 8e10
conv_flops_per_s = 5e10
compute_during_comm = 0.5
comm_during_compute = 0.75
rank_skew = 0.05
contention_measured = true
probe_gflops_early = 90.0
probe_gflops_late = 95.0
contention_bytes = 8388608
contention_samples = 32
[codecs]
fp16 = 4e9
[contention.fp16]
compute_during_comm = 0.25
comm_during_compute = 0.375
[[layer]]
workload = ")" + workload + R"("
layer = "fc2"
batch = 256
seconds = 0.02
)";
  for (double n = 65536; n <= 4194304; n *= 2) {
    const double t32 = 80e-6 + n / 50e6;
    for (const auto& [type, t] : {std::pair{"fp32", t32}, std::pair{"fp16", t32 + 0.5 * n / 0.2e9}}) {
      text += fmt::format("[[collective]]\nop = \"allreduce\"\ntype = \"{}\"\nbytes = {}\nmedian_s = {}\nmin_s = {}\n"
                          "max_s = {}\n",
                          type, n, t, 0.9 * t, 1.1 * t);
    }
  }
  std::ofstream(measured) << text;
  auto r = run({"calibrate", "--from-engine", measured.string(), "--out", out.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto c = find_cluster(out.string());
  EXPECT_EQ(c.collective_library, "gloo");
  EXPECT_DOUBLE_EQ(c.hbm_gbyte_per_s, 20.0);
  EXPECT_DOUBLE_EQ(c.peak_tflops[static_cast<int>(ComputePrecision::fp32)], 0.1);
  EXPECT_DOUBLE_EQ(c.efficiency[static_cast<int>(LayerKind::linear)], 0.8);
  EXPECT_DOUBLE_EQ(c.efficiency[static_cast<int>(LayerKind::conv)], 0.5);
  EXPECT_DOUBLE_EQ(c.compute_during_comm, 0.5);
  EXPECT_DOUBLE_EQ(c.comm_during_compute, 0.75);
  EXPECT_DOUBLE_EQ(c.rank_skew, 0.05);
  const auto& skew_source = c.sources.at("gpu.rank_skew");
  EXPECT_EQ(skew_source.rfind("one training step of train-mlp on every rank after a barrier; ", 0), 0u)
      << "the engine's own words for what its rank skew timed: " << skew_source;
  EXPECT_DOUBLE_EQ(c.probe_gflops, 95.0) << "two probes (files before 2026-12-02): the faster, as the faster layer "
                                          "measurement was kept";
  EXPECT_NE(c.sources.at("gpu.probe_gflops").find("90.00 and 95.00"), std::string::npos);
  // the fp16 collective's own pair, and the [gpu] pair for the formats not measured apart
  ASSERT_EQ(c.contention_by_format.size(), 1u);
  EXPECT_DOUBLE_EQ(c.contention_for("fp16").compute_during_comm, 0.25);
  EXPECT_DOUBLE_EQ(c.contention_for("fp16").comm_during_compute, 0.375);
  EXPECT_DOUBLE_EQ(c.contention_for("fp32").compute_during_comm, 0.5);
  EXPECT_DOUBLE_EQ(c.contention_for("bf16").comm_during_compute, 0.75);
  EXPECT_NE(c.sources.at("contention.fp16").find("fp16"), std::string::npos);
  // the contention rounds' allreduce and layer batch as the engine chose them, in the sources
  const auto& joint = c.sources.at("gpu.compute_during_comm");
  EXPECT_NE(joint.find("(32 samples) and one allreduce of 8 MiB (fp32; doubled while it ran under 30 ms alone) "
                       "through gloo"),
            std::string::npos)
      << joint;
  EXPECT_NE(c.sources.at("contention.fp16").find("allreduce of 8 MiB of fp16 values"), std::string::npos);
  EXPECT_DOUBLE_EQ(c.codec_gbyte_per_s.at("fp16"), 4.0);
  EXPECT_DOUBLE_EQ(c.gpu_memory_gib, 12.0);
  // fc2: 2 x 1024 x 1024 FLOPs a sample forward, x 3 with the backward, x 256 samples, in 20 ms
  EXPECT_NEAR(c.layer_gflops.at("fp32 linear 1024x1024 b256"), 3.0 * 2 * 1024 * 1024 * 256 / 0.02 / 1e9, 1e-9);
  // the link: on 2 ranks the ring's 2(p-1)/p n / B is n / B, so the NIC runs at the fit's 50 MB/s = 0.4 Gbit/s
  EXPECT_NEAR(c.nic_gbps, 0.4, 1e-6);
  EXPECT_NEAR(c.reduction_gbyte_per_s.at("fp16"), 0.2, 1e-9);
  // collective: fp32 is the fitted line; fp16 at the same bytes adds its sums (half of them on each rank)
  const auto seconds = [&](const char* precision) {
    const auto p = run({"collective", "--cluster", out.string(), "--bytes", "4MiB", "--gpus", "2", "--precision",
                        precision, "--format", "json"});
    EXPECT_EQ(p.code, 0) << p.err;
    return nlohmann::json::parse(p.out)["time_s"].get<double>();
  };
  EXPECT_NEAR(seconds("fp32"), 80e-6 + 4194304 / 50e6, 1e-3 * (80e-6 + 4194304 / 50e6));
  // --bytes is the buffer in the precision's values: 4 MiB of fp16 on the wire, half of it summed on each rank
  EXPECT_NEAR(seconds("fp16"), 80e-6 + 4194304 / 50e6 + 0.5 * 4194304 / 0.2e9, 1e-3 * seconds("fp16"));

  // bad measurements: exit 2, one line naming the field, nothing written
  const auto never = scratch("never.toml");
  const auto bad = scratch("bad-engine.toml");
  const std::pair<std::string, std::string> cases[] = {
      {"ranks = 2", "ranks = 0"},
      {"nodes = 2", "nodes = 3"},
      {"ranks = 2\nnodes = 2", "ranks = 1\nnodes = 1"},  // collectives at one rank (found by fuzz_engine_toml)
      {"layer = \"fc2\"", "layer = \"fc9\""},
      {"seconds = 0.02", "seconds = -1"},
      {"fp16 = 4e9", "fp17 = 4e9"},
      {"compute_during_comm = 0.5", "compute_during_comm = 1.5"},
      {"compute_during_comm = 0.25", "compute_during_comm = 0.001"},
      {"comm_during_compute = 0.375\n", ""},
      {"[contention.fp16]", "[contention.fp99]"},
      {"type = \"fp32\"", "type = \"fp64\""},
      {"memcpy_bytes_per_s = 2e10\n", ""},
      {"op = \"allreduce\"", "op = \"allsum\""},
      {"probe_gflops_late = 95.0\n", ""},
      {"probe_gflops_early = 90.0", "probe_gflops_early = -90.0"},
      {"probe_gflops_late = 95.0", "probe_gflops_middle = 80.0"},  // early and middle, no late
      {"probe_gflops_late = 95.0", "probe_gflops_late = 95.0\nprobe_gflops_middle = 0"},
      {"seconds = 0.02", "seconds = 0.02\nseconds_first = 0.025\nseconds_third = 0.016"},  // no seconds_second
      {"seconds = 0.02", "seconds = 0.02\nseconds_first = 0.025\nseconds_second = -0.02\nseconds_third = 0.016"},
      {"seconds = 0.02", "seconds = 0.02\nseconds_first = 0.025\nseconds_second = 0.03\nseconds_third = 0.016"},
      {"contention_bytes = 8388608", "contention_bytes = 0"},
      {"contention_samples = 32", "contention_samples = 2.5"},
  };
  for (const auto& [from, to] : cases) {
    auto t = text;
    const auto at = t.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    t.replace(at, from.size(), to);
    if (from.starts_with("type")) {  // every fp32 series point, so that no fp32 allreduce is left
      for (auto i = t.find(from); i != std::string::npos; i = t.find(from)) t.replace(i, from.size(), to);
    }
    std::ofstream(bad) << t;
    r = run({"calibrate", "--from-engine", bad.string(), "--out", never.string()});
    EXPECT_EQ(r.code, 2) << to << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(never)) << to;
  }
  r = run({"calibrate", "--from-engine", measured.string(), "--backend", "mpi"});
  EXPECT_EQ(r.code, 2) << r.err;
  // three probes (since 2026-12-02, each layer's median of three measurements kept): the median probe, 90 of
  // 90, 80 and 95
  {
    auto t = text;
    t.replace(t.find("probe_gflops_late"), 0, "probe_gflops_middle = 80.0\n");
    std::ofstream(measured) << t;
    r = run({"calibrate", "--from-engine", measured.string(), "--out", out.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto three = find_cluster(out.string());
    EXPECT_DOUBLE_EQ(three.probe_gflops, 90.0);
    EXPECT_NE(three.sources.at("gpu.probe_gflops").find("(90.00, 80.00 and 95.00 GFLOP/s), the median kept"),
              std::string::npos)
        << three.sources.at("gpu.probe_gflops");
    EXPECT_NE(r.out.find("90.00 GFLOP/s before the first layer measurement, 80.00 before the second, 95.00 before "
                         "the third"),
              std::string::npos)
        << "the log line scripts/host-probe reads: " << r.out;
  }
  // a layer's three measurements, in the log that scripts/validation-what-if reads: fc2's 3 x 2 x 1024 x 1024 x
  // 256 FLOPs in 25, 20 and 16 ms are 64.42, 80.53 and 100.66 GFLOP/s; the kept 20 ms (80.53) is their median
  {
    auto t = text;
    t.replace(t.find("seconds = 0.02"), 14, "seconds = 0.02\nseconds_first = 0.025\nseconds_second = 0.02\n"
                                             "seconds_third = 0.016");
    std::ofstream(measured) << t;
    r = run({"calibrate", "--from-engine", measured.string(), "--out", out.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("80.53 GFLOP/s (forward + backward; the median of 64.42, 80.53 and 100.66)"),
              std::string::npos)
        << r.out;
  }
  // each direction of the codec timed apart (files since 2026-12-02): both rates into the profile beside the
  // combined one, with their sources; one direction alone, a format [codecs] does not hold, or a zero rate is bad
  {
    const std::string directions = "[codec_encode]\nfp16 = 2.5e9\n[codec_decode]\nfp16 = 1e10\n";
    auto t = text;
    t.replace(t.find("[contention.fp16]"), 0, directions);
    std::ofstream(measured) << t;
    r = run({"calibrate", "--from-engine", measured.string(), "--out", out.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto apart = find_cluster(out.string());
    EXPECT_DOUBLE_EQ(apart.codec_gbyte_per_s.at("fp16"), 4.0);
    EXPECT_DOUBLE_EQ(apart.codec_encode_gbyte_per_s.at("fp16"), 2.5);
    EXPECT_DOUBLE_EQ(apart.codec_decode_gbyte_per_s.at("fp16"), 10.0);
    EXPECT_NE(apart.sources.at("codec_encode").find("the encode alone"), std::string::npos);
    EXPECT_NE(apart.sources.at("codec_decode").find("the decode alone"), std::string::npos);
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"[codec_decode]\nfp16 = 1e10\n", ""},
                                   {"[codec_encode]\nfp16 = 2.5e9\n", ""},
                                   {"[codec_encode]\nfp16 = 2.5e9", "[codec_encode]\nfp16 = 2.5e9\nbf16 = 3e9"},
                                   {"fp16 = 1e10", "fp16 = 0"}}) {
      auto b = t;
      b.replace(b.find(from), from.size(), to);
      std::ofstream(bad) << b;
      r = run({"calibrate", "--from-engine", bad.string(), "--out", never.string()});
      EXPECT_EQ(r.code, 2) << to << ": " << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_NE(r.err.find("codec_"), std::string::npos) << "names the field: " << r.err;
      EXPECT_FALSE(fs::exists(never)) << to;
    }
  }
  // measurements written before the engine chose its contention allreduce: 2 MiB beside 256 samples
  {
    auto t = text;
    for (const std::string line : {"contention_sizing = \"doubled while it ran under 30 ms alone\"\n",
                                   "contention_bytes = 8388608\n", "contention_samples = 32\n"}) {
      t.erase(t.find(line), line.size());
    }
    std::ofstream(measured) << t;
    r = run({"calibrate", "--from-engine", measured.string(), "--out", out.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(find_cluster(out.string())
                  .sources.at("gpu.compute_during_comm")
                  .find("(256 samples) and one allreduce of 2 MiB (fp32) through gloo"),
              std::string::npos);
  }
  fs::remove_all(out.parent_path());
}

// calibrate --refit: a calibration's measurements fitted again onto its profile. The fp32 allreduce of 16 ranks on
// two 8-GPU nodes slows from 50 to 46 MB/s above 1.5 MiB: one line fits it within 5% RMS, but its residuals
// change sign with size; cross-validation takes the second regime, and the refitted profile predicts both sides. fp16's sums add (p-1)/p x n / 0.2 GB/s.
TEST(Cli, CalibrateRefitFitsOldMeasurementsAgain) {
  const auto csv = scratch("old.csv");
  const auto out = scratch("refit.toml");
  const auto truth = [](double n) { return n <= 1572864 ? 60e-6 + n / 50e6 : 60e-6 + n / 46e6; };
  std::string text = "op,type,ranks,nodes,bytes,median_s,min_s,max_s,fitted_s,relative_error,fit_r_squared,"
                     "fit_max_relative_error\n";
  for (double n : {65536., 131072., 262144., 524288., 786432., 1048576., 1572864., 2097152., 3145728., 4194304.,
                   6291456., 8388608.}) {
    const double t = truth(n), t16 = t + 15.0 / 16 * n / 0.2e9;
    text += fmt::format("allreduce,fp32,16,2,{},{},{},{},0,0,0,0\n", n, t, 0.95 * t, 1.05 * t);
    text += fmt::format("allreduce,fp16,16,2,{},{},{},{},0,0,0,0\n", n, t16, 0.95 * t16, 1.05 * t16);
  }
  std::ofstream(csv) << text;
  auto r = run({"calibrate", "--refit", csv.string(), "--base", "dgx-a100", "--out", out.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("fit allreduce fp32: 2 regimes"), std::string::npos) << r.out;
  const auto c = find_cluster(out.string());
  EXPECT_EQ(c.inter_node_regimes.size(), 2u);
  EXPECT_NEAR(c.reduction_gbyte_per_s.at("fp16"), 0.2, 2e-3);
  EXPECT_EQ(c.codec_gbyte_per_s, find_cluster("dgx-a100").codec_gbyte_per_s);  // the host part is the base's
  EXPECT_TRUE(fs::exists(out.parent_path() / "refit.csv"));
  {  // refitted again onto its own output: the links' uncertainty is stated once, from the newest fit
    const auto again = scratch("refit-again.toml");
    const auto r2 = run({"calibrate", "--refit", csv.string(), "--base", out.string(), "--out", again.string()});
    ASSERT_EQ(r2.code, 0) << r2.err;
    const auto source = find_cluster(again.string()).sources.at("uncertainty");
    EXPECT_EQ(source.find("calibrated: "), 0u) << source;
    EXPECT_EQ(source.find("calibrated: ", 1), std::string::npos) << source;
  }
  for (double n : {262144., 4194304.}) {
    const auto p = run({"collective", "--cluster", out.string(), "--bytes", fmt::format("{:.0f}", n), "--gpus", "16",
                        "--precision", "fp32", "--format", "json"});
    ASSERT_EQ(p.code, 0) << p.err;
    EXPECT_NEAR(nlohmann::json::parse(p.out)["time_s"].get<double>(), truth(n), 0.01 * truth(n)) << n;
  }
  // bad input: exit 2, one line naming the field, nothing written
  const auto never = scratch("never.toml");
  const auto bad = scratch("bad.csv");
  const std::pair<std::string, std::string> cases[] = {
      {"op,type", "op;type"},
      {"allreduce,fp32,16,2,65536,", "allsum,fp32,16,2,65536,"},
      {"allreduce,fp32,16,2,65536,", "allreduce,fp32,16,3,65536,"},
      {"allreduce,fp32,16,2,65536,", "allreduce,fp32,16,2,-1,"},
      {"allreduce,fp32,16,2,131072,0.", "allreduce,fp32,16,2,131072,9."},  // median over max
  };
  for (const auto& [from, to] : cases) {
    auto t = text;
    const auto at = t.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    t.replace(at, from.size(), to);
    std::ofstream(bad) << t;
    r = run({"calibrate", "--refit", bad.string(), "--base", "dgx-a100", "--out", never.string()});
    EXPECT_EQ(r.code, 2) << to << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(never)) << to;
  }
  {  // no fp32 allreduce: nothing sets the links
    auto t = text;
    for (std::size_t at; (at = t.find("allreduce,fp32,")) != std::string::npos;) t.replace(at, 15, "allgather,fp32,");
    std::ofstream(bad) << t;
    r = run({"calibrate", "--refit", bad.string(), "--base", "dgx-a100", "--out", never.string()});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("no allreduce fp32 rows"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(never));
  }
  r = run({"calibrate", "--refit", csv.string(), "--out", never.string()});  // no --base
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--base"), std::string::npos) << r.err;
  r = run({"calibrate", "--refit", csv.string(), "--base", "dgx-h100", "--backend", "mpi"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_FALSE(fs::exists(never));
  fs::remove_all(out.parent_path());
}

// A format's sum cost at each calibrated size ([reduction_sizes], docs/validation.md item 30): 16 ranks on 2 nodes
// (dgx-a100's 8 per node), fp16 summed at 0.2 GB/s ((p-1)/p x n / rate over fp32's: 5 ns per summed byte) at ten
// sizes, at 0.3 GB/s (3.33 ns) at the two largest, and one size (1 MiB) ten times slower, a noisy one. Each size's
// cost is the median of the three nearest sizes: 5 ns up to 4 MiB (1 MiB's outlier outvoted by its neighbours),
// then 3.33 at 6 and 8 MiB (the last three: 5, 3.33, 3.33). [reductions] keeps the least-squares rate through the
// origin, which the largest sizes set: sum n e / sum n^2. Then a noisy largest size, whose cost would hold for
// every larger bucket, and every row listed twice.
TEST(Cli, CalibrateSumCostFollowsItsSizes) {
  const auto csv = scratch("sums.csv");
  const auto out = scratch("sums.toml");
  const std::string header = "op,type,ranks,nodes,bytes,median_s,min_s,max_s,fitted_s,relative_error,fit_r_squared,"
                             "fit_max_relative_error\n";
  const std::vector<double> sizes = {65536.,  131072.,  262144.,  524288.,  786432.,  1048576.,
                                     1572864., 2097152., 3145728., 4194304., 6291456., 8388608.};
  // the rows at each size; fp16's extra times `scale` (a noisy size) where its size is `noisy`, times `shift`
  const auto rows = [&](double noisy, double shift, double* nn, double* ne) {
    std::string text;
    for (double n : sizes) {
      const double rate = (n > 4194304 ? 0.3e9 : 0.2e9) / (n == noisy ? 10 : 1);
      const double t = 60e-6 + n / 50e6, extra = 15. / 16 * n / rate * shift;
      text += fmt::format("allreduce,fp32,16,2,{},{},{},{},0,0,0,0\n", n, t, 0.95 * t, 1.05 * t);
      text += fmt::format("allreduce,fp16,16,2,{},{},{},{},0,0,0,0\n", n, t + extra, 0.95 * (t + extra),
                          1.05 * (t + extra));
      if (nn) *nn += n * n;
      if (ne) *ne += n * extra;
    }
    return text;
  };
  // --force: the fp16 series' own line misses the noisy size by more than --max-error, as a grid's may
  const auto refit = [&](const std::string& text, const fs::path& to) {
    std::ofstream(csv) << header << text;
    const auto r = run({"calibrate", "--refit", csv.string(), "--base", "dgx-a100", "--out", to.string(), "--force"});
    EXPECT_EQ(r.code, 0) << r.err;
    return r;
  };
  double nn = 0, ne = 0;
  const auto r = refit(rows(1048576, 1.0, &nn, &ne), out);
  ASSERT_EQ(r.code, 0);
  const auto c = find_cluster(out.string());
  EXPECT_NEAR(c.reduction_gbyte_per_s.at("fp16"), 15. / 16 / (ne / nn) / 1e9, 1e-9);
  const auto& curve = c.reduction_by_size.at("fp16");
  EXPECT_EQ(curve.bytes, sizes);
  ASSERT_EQ(curve.ns_per_byte.size(), sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_NEAR(curve.ns_per_byte[i], i < 10 ? 5.0 : 1 / 0.3, 1e-6) << sizes[i];
  }
  EXPECT_NE(c.sources.at("reduction_sizes").find("the median of the three nearest sizes"), std::string::npos);
  EXPECT_NE(r.out.find("at 12 shared sizes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("by size 3.33 to 5 ns per summed byte"), std::string::npos) << r.out;
  {  // the largest size ten times slower (33.3 ns): the last three are 5, 3.33 and 33.3, so 6 and 8 MiB cost 5
    const auto noisy_end = scratch("sums-end.toml");
    ASSERT_EQ(refit(rows(8388608, 1.0, nullptr, nullptr), noisy_end).code, 0);
    const auto end_cluster = find_cluster(noisy_end.string());
    const auto& end = end_cluster.reduction_by_size.at("fp16");
    EXPECT_NEAR(end.ns_per_byte[10], 5.0, 1e-6);
    EXPECT_NEAR(end.ns_per_byte[11], 5.0, 1e-6);
  }
  {  // every row twice, fp16's extra 10% over in one copy and 10% under in the other: each size once, at the mean
    const auto twice = scratch("sums-twice.toml");
    const auto r2 = refit(rows(1048576, 1.1, nullptr, nullptr) + rows(1048576, 0.9, nullptr, nullptr), twice);
    ASSERT_EQ(r2.code, 0);
    EXPECT_NE(r2.out.find("at 12 shared sizes"), std::string::npos) << r2.out;
    const auto both_cluster = find_cluster(twice.string());
    const auto& both = both_cluster.reduction_by_size.at("fp16");
    EXPECT_EQ(both.bytes, sizes);
    for (std::size_t i = 0; i < sizes.size(); ++i) EXPECT_NEAR(both.ns_per_byte[i], curve.ns_per_byte[i], 1e-6);
  }
  fs::remove_all(out.parent_path());
}

// A run CSV for validate's tests: its header, then `runs` of train-mlp at batch 64 on dgx-a100, each 4 steps (step 0
// the warm-up) on one node; a run is (id, ranks, rate in Mbit/s, precision, the 4 steps' seconds).
struct TestRun {
  std::string id;
  int ranks, rate;
  std::string precision;
  std::array<double, 4> steps;
};
// `probe`: ",BEFORE,AFTER" (GFLOP/s) for runs with the host probe, "" for the layout without it
void write_runs(const fs::path& path, const std::vector<TestRun>& runs, const std::string& probe = "") {
  const std::string workload = std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-mlp.toml";
  std::ofstream f(path);
  f << "engine,run,workload,nodes,ranks,ranks_per_node,rate_mbit,cluster,precision,batch,bucket_bytes,"
       "first_bucket_bytes,buckets,parameters,steps,warmup_steps,step,loss,compute_s,codec_s,comm_s,wait_s,step_s,"
       "date,host"
    << (probe.empty() ? "" : ",host_gflops_before,host_gflops_after") << "\n";
  for (const auto& r : runs) {
    for (std::size_t step = 0; step < r.steps.size(); ++step) {
      f << "bitscale-mpi," << r.id << "," << workload << ",1," << r.ranks << "," << r.ranks << "," << r.rate
        << ",dgx-a100," << r.precision << ",64,26214400,1048576,2,1863690,4,1," << step << ",2.3,0.1,"
        << (r.ranks > 1 ? "0.01,0.5,0.4," : "0,0,0,") << r.steps[step] << ",2026-11-23,test" << probe << "\n";
    }
  }
}

// The host probe: runs whose GEMM ran at half the profile's rate (25% over it before, 25% under after: a
// geometric mean of one half) have a host speed of 0.5; --rescale-compute predicts them with every CPU rate of
// the profile halved, as `predict` does on a profile halved by hand.
TEST(Cli, ValidateSetsTheHostProbeBesideTheProfile) {
  const auto csv = scratch("probed.csv");
  const auto table = scratch("probed-validation.csv");
  const auto halved = scratch("dgx-a100-half.toml");
  const std::string workload = std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-mlp.toml";
  auto c = find_cluster("dgx-a100");
  const double gemm = c.peak_flops(ComputePrecision::fp32) / 1e9;
  write_runs(csv, {{"two", 2, 100, "fp16", {9.0, 1.0, 3.0, 2.0}}, {"one", 1, 0, "fp32", {0.5, 0.5, 0.5, 0.5}}},
             fmt::format(",{:.17g},{:.17g}", 0.5 * gemm * 1.25, 0.5 * gemm / 1.25));
  for (auto& t : c.peak_tflops) t *= 0.5;
  for (auto* rates : {&c.layer_gflops, &c.codec_gbyte_per_s, &c.codec_encode_gbyte_per_s, &c.codec_decode_gbyte_per_s,
                      &c.reduction_gbyte_per_s}) {
    for (auto& [key, rate] : *rates) rate *= 0.5;
  }
  c.name = "dgx-a100-half";
  std::ofstream(halved) << to_toml(c);
  auto predicted = [&](const std::string& cluster) {
    const auto r = run({"predict", "--workload", workload, "--cluster", cluster, "--gpus", "2", "--precision", "fp16",
                        "--compute", "fp32", "--storage", "fp32", "--optimizer", "momentum", "--batch", "64",
                        "--format", "json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out)["step_time_s"].get<double>();
  };
  const double as_calibrated = predicted("dgx-a100"), at_half = predicted(halved.string());
  EXPECT_GT(at_half, as_calibrated);
  const auto two = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args{"validate", "--runs", csv.string(), "--cluster", "dgx-a100", "--max-error", "1e6",
                                  "--csv", table.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("# host speed in the runs (their GEMM probe over the calibration's): median 0.500, 0.500 to 0.500 "
                         "over 2 runs; 2 more than 10% off the calibration"),
              std::string::npos)
        << r.out;
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);
    EXPECT_TRUE(line.ends_with(",runs,host_speed")) << line;
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
      if (f[1] != "two") continue;
      EXPECT_EQ(f.back(), "0.5000");
      return std::stod(f[10]);
    }
    ADD_FAILURE() << "no row for run two";
    return 0.0;
  };
  EXPECT_NEAR(two({}), as_calibrated, 1e-5 * as_calibrated);
  EXPECT_NEAR(two({"--rescale-compute"}), at_half, 1e-5 * at_half);
  const auto r = run({"validate", "--published", std::string(BITSCALE_SOURCE_DIR) + "/data/published/cases.csv",
                      "--rescale-compute"});  // published cases have no probe
  EXPECT_EQ(r.code, 2) << r.err;
  // a profile that took the probe itself ([gpu] probe_gflops) is the reference instead of its GEMM rate: the runs'
  // 0.5 x gemm over 0.25 x gemm
  auto probed = find_cluster("dgx-a100");
  probed.probe_gflops = 0.25 * gemm;
  probed.name = "dgx-a100-probed";
  const auto probed_path = scratch("dgx-a100-probed.toml");
  std::ofstream(probed_path) << to_toml(probed);
  ASSERT_EQ(find_cluster(probed_path.string()).probe_gflops, probed.probe_gflops) << "written and read back";
  const auto v = run({"validate", "--runs", csv.string(), "--cluster", probed_path.string(), "--max-error", "1e6"});
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_NE(v.out.find("probe over the calibration's): median 2.000, 2.000 to 2.000 over 2 runs"), std::string::npos)
      << v.out;
  fs::remove_all(csv.parent_path());
}

// validate's arithmetic against `predict` for the same configurations and medians worked by hand.
TEST(Cli, ValidateComparesRunsWithPredictions) {
  const auto csv = scratch("runs.csv");
  const auto table = scratch("validation.csv");
  const std::string workload = std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-mlp.toml";
  // two ranks on one node (dgx-a100 holds 8), fp16: timed steps 1..3 take 1, 3 and 2 s (median 2); one rank,
  // fp32: 0.5 s (the baseline)
  write_runs(csv, {{"two", 2, 100, "fp16", {9.0, 1.0, 3.0, 2.0}}, {"one", 1, 0, "fp32", {0.5, 0.5, 0.5, 0.5}}});
  auto predicted = [&](const std::string& gpus, const std::string& precision) {
    const auto r = run({"predict", "--workload", workload, "--cluster", "dgx-a100", "--gpus", gpus, "--precision",
                        precision, "--compute", "fp32", "--storage", "fp32", "--optimizer", "momentum", "--batch", "64",
                        "--format", "json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out)["step_time_s"].get<double>();
  };
  const double t2 = predicted("2", "fp16"), t1 = predicted("1", "fp32");
  auto r = run({"validate", "--runs", csv.string(), "--cluster", "dgx-a100", "--max-error", "1e6", "--csv",
                table.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("# step time: median error"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("comp.err runs"), std::string::npos) << r.out;  // no runs column: nothing repeats
  std::ifstream in(table);
  std::string header, line;
  std::getline(in, header);
  ASSERT_EQ(header.rfind("engine,run,workload,ranks,nodes,rate_mbit,cluster,precision,batch,measured_step_s,"
                         "predicted_step_s,step_error,",
                         0),
            0u)
      << header;
  bool seen = false;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    if (f[1] != "two") continue;
    seen = true;
    EXPECT_DOUBLE_EQ(std::stod(f[9]), 2.0);  // median of 1, 3, 2
    EXPECT_NEAR(std::stod(f[10]), t2, 1e-5 * t2);
    EXPECT_NEAR(std::stod(f[11]), std::abs(t2 - 2.0) / 2.0, 1e-5);
    EXPECT_NEAR(std::stod(f[15]), 2 * 0.5 / 2.0, 1e-9);  // measured speedup: 2 ranks x t1 / t2
    EXPECT_NEAR(std::stod(f[16]), 2 * t1 / t2, 1e-4 * 2 * t1 / t2);
  }
  EXPECT_TRUE(seen);
  // over the bound: exit 1, the table still printed
  r = run({"validate", "--runs", csv.string(), "--cluster", "dgx-a100", "--max-error", "5"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--max-error"), std::string::npos) << r.err;
  // a run whose ranks per node the profile contradicts is refused, naming the field
  {
    std::ifstream in2(csv);
    std::string text((std::istreambuf_iterator<char>(in2)), std::istreambuf_iterator<char>());
    for (std::size_t at; (at = text.find(",1,2,2,100,")) != std::string::npos;) text.replace(at, 11, ",2,2,1,100,");
    std::ofstream(csv) << text;
  }
  r = run({"validate", "--runs", csv.string(), "--cluster", "dgx-a100"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("ranks_per_node"), std::string::npos) << r.err;
  // published cases: every one printed with its error
  r = run({"validate", "--published", std::string(BITSCALE_SOURCE_DIR) + "/data/published/cases.csv"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("azure-nd-a100-v4-1GiB"), std::string::npos);
  EXPECT_NE(r.out.find("published cases: median error"), std::string::npos);
  fs::remove_all(csv.parent_path());
}

// bitscale train's compute_s times the passes and the optimizer, not the posts of its collectives: validate compares
// it with the predicted compute less the launches. On dgx-a100 (no contention) a profile that charges a launch of
// 2 ms per collective predicts a longer step but the same compute to compare as the profile without launches, and
// the launches themselves appear in predict's JSON.
TEST(Cli, ValidateComparesComputeWithoutTheLaunches) {
  const auto csv = scratch("launch-runs.csv");
  const auto table = scratch("launch-validation.csv");
  const auto launching = scratch("dgx-a100-launch.toml");
  write_runs(csv, {{"two", 2, 100, "fp16", {9.0, 1.0, 3.0, 2.0}}});
  auto c = find_cluster("dgx-a100");
  c.comm_launch_s = 0.002;
  c.name = "dgx-a100-launch";
  std::ofstream(launching) << to_toml(c);
  const auto predicted = [&](const std::string& cluster) {
    const auto r = run({"validate", "--runs", csv.string(), "--cluster", cluster, "--max-error", "1e6", "--csv",
                        table.string()});
    EXPECT_EQ(r.code, 0) << r.err;
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);
    std::getline(in, line);
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    EXPECT_GT(f.size(), 13u) << line;
    return std::pair{std::stod(f.at(10)), std::stod(f.at(13))};  // predicted step, predicted compute
  };
  const auto [step0, compute0] = predicted("dgx-a100");
  const auto [step1, compute1] = predicted(launching.string());
  EXPECT_GT(step1, step0 + 0.002 - 1e-9);  // at least the first collective's launch
  EXPECT_NEAR(compute1, compute0, 1e-6 * compute0);
  // nor the time the slowest rank adds (a rank's own compute does not hold it): a skew of 0.5 makes the step
  // longer and leaves the compute compared where it was
  auto skewed = c;
  skewed.rank_skew = 0.5;
  skewed.name = "dgx-a100-skew";
  const auto skewing = scratch("dgx-a100-skew.toml");
  std::ofstream(skewing) << to_toml(skewed);
  const auto [step2, compute2] = predicted(skewing.string());
  EXPECT_GT(step2, step1);
  EXPECT_NEAR(compute2, compute0, 1e-6 * compute0);
  fs::remove(skewing);
  const auto r = run({"predict", "--workload", std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-mlp.toml",
                      "--cluster", launching.string(), "--gpus", "2", "--precision", "fp16", "--batch", "64",
                      "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const double launched = j.at("launch_s").get<double>();
  EXPECT_GE(launched, 0.002 - 1e-12);
  EXPECT_NEAR(launched / 0.002, std::round(launched / 0.002), 1e-6);  // whole launches
  EXPECT_EQ(j.at("contention_s").get<double>(), 0);  // dgx-a100: no contention
  // the one-configuration table and --explain show the launches inside the backward pass
  const auto explained = run({"predict", "--workload", std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-mlp.toml",
                          "--cluster", launching.string(), "--gpus", "2", "--precision", "fp16", "--batch", "64",
                          "--explain"});
  ASSERT_EQ(explained.code, 0) << explained.err;
  EXPECT_NE(explained.out.find(fmt::format("{:.3f} ms launching them", 1e3 * launched)), std::string::npos) << explained.out;
  EXPECT_NE(explained.out.find(fmt::format("+ {:.3f} launching them)", 1e3 * launched)), std::string::npos) << explained.out;
  fs::remove(csv);
  fs::remove(table);
  fs::remove(launching);
}

// Repeats: runs of one configuration count once, measured as the median of their median steps (worked by hand:
// runs whose timed steps have medians 2, 5 and 3 s are measured at 3 s), and the CSV says how many runs.
TEST(Cli, ValidateTakesTheMedianOfRepeatedRuns) {
  const auto csv = scratch("repeats.csv");
  const auto table = scratch("repeats-validation.csv");
  // a, b and c: one configuration; d: the same at another rate, a configuration of its own
  write_runs(csv, {{"a", 2, 100, "fp16", {9.0, 1.0, 3.0, 2.0}},
                   {"b", 2, 100, "fp16", {9.0, 5.0, 4.0, 6.0}},
                   {"c", 2, 100, "fp16", {9.0, 3.0, 3.5, 2.5}},
                   {"one", 1, 0, "fp32", {0.5, 0.5, 0.5, 0.5}},
                   {"d", 2, 200, "fp16", {7.0, 7.0, 7.0, 7.0}}});
  const auto r = run({"validate", "--runs", csv.string(), "--cluster", "dgx-a100", "--max-error", "1e6", "--csv",
                      table.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("5 runs of 3 configurations"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("over 3 configurations"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("comp.err runs\n"), std::string::npos) << r.out;  // the table's runs column
  std::ifstream in(table);
  std::string header, line;
  std::getline(in, header);
  EXPECT_TRUE(header.ends_with(",runs,host_speed")) << header;  // empty: these runs have no host probe
  int rows = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    ASSERT_EQ(f.size(), 21u) << line;  // the empty host_speed last
    EXPECT_TRUE(line.ends_with(",")) << line;
    ++rows;
    if (f[1] == "a") {
      EXPECT_DOUBLE_EQ(std::stod(f[9]), 3.0);  // the median of 2, 5 and 3
      EXPECT_EQ(f[20], "3");
      EXPECT_NEAR(std::stod(f[15]), 2 * 0.5 / 3.0, 1e-6);  // the speedup from the medians (6 digits in the CSV)
    } else if (f[1] == "d") {
      EXPECT_DOUBLE_EQ(std::stod(f[9]), 7.0);
      EXPECT_EQ(f[20], "1");
    } else {
      EXPECT_EQ(f[1], "one");
      EXPECT_EQ(f[20], "1");
    }
  }
  EXPECT_EQ(rows, 3);
  fs::remove_all(csv.parent_path());
}

// The layer measurements' combination (calibrate's and --from-engine's): the median of three, and the spread
// of one measurement, worked by hand.
TEST(Calibrate, LayerMeasurementsMedianAndSpread) {
  EXPECT_DOUBLE_EQ(median_of_three(3, 1, 2), 2);
  EXPECT_DOUBLE_EQ(median_of_three(1, 2, 3), 2);
  EXPECT_DOUBLE_EQ(median_of_three(2, 5, 2), 2);
  EXPECT_DOUBLE_EQ(median_of_three(5, 1, 1), 1);
  // ln 1, ln e^0.1, ln e^0.2 = 0, 0.1, 0.2: mean 0.1, s = sqrt((0.01 + 0 + 0.01) / 2) = 0.1, over sqrt(ln 2)
  // (0.832555) = 0.120112; the same for any common factor and any order
  EXPECT_NEAR(three_measurement_spread(1, std::exp(0.1), std::exp(0.2)), 0.120112, 1e-6);
  EXPECT_NEAR(three_measurement_spread(7 * std::exp(0.2), 7, 7 * std::exp(0.1)), 0.120112, 1e-6);
  EXPECT_DOUBLE_EQ(three_measurement_spread(4, 4, 4), 0);
  // the profile's probe: the median of three where the middle one was taken, else the faster of two
  HostRates r;
  r.probe_gflops_early = 90;
  r.probe_gflops_late = 95;
  EXPECT_DOUBLE_EQ(r.probe_gflops(), 95);
  r.probe_gflops_middle = 80;
  EXPECT_DOUBLE_EQ(r.probe_gflops(), 90);
}

}  // namespace
}  // namespace bitscale
