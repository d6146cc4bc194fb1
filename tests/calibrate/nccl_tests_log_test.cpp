// The nccl-tests log parser and fits on real logs (tests/data/nccl-tests/SOURCES.md).
#include "calibrate/nccl_tests_log.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "calibrate/fit.hpp"
#include "calibrate/link_fit.hpp"
#include "kernels/input_error.hpp"
#include "model/collectives.hpp"

namespace bitscale {
namespace {

std::string data(const std::string& name) {
  std::ifstream in(std::string(BITSCALE_TEST_DATA_DIR) + "/nccl-tests/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(NcclTestsLog, ReadsASingleNodeLog) {
  const auto log = parse_nccl_tests_log(data("a100-8gpu_all_reduce_perf.log"), "a100-8gpu_all_reduce_perf.log");
  EXPECT_EQ(log.op, CollectiveOp::allreduce);
  EXPECT_EQ(log.ranks, 8);
  EXPECT_EQ(log.nodes, 1);
  EXPECT_EQ(log.gpu, "NVIDIA A100-SXM4-40GB");
  EXPECT_EQ(log.type, "float");
  ASSERT_EQ(log.bytes.size(), 28u);
  EXPECT_EQ(log.bytes.front(), 64);
  EXPECT_EQ(log.bytes.back(), 8589934592.0);
  EXPECT_DOUBLE_EQ(log.out_of_place_s.front(), 32.01e-6);  // the first row's out-of-place time: 32.01 us
  EXPECT_EQ(log.in_place_s.size(), 28u);
}

TEST(NcclTestsLog, ReadsATwoNodeLog) {
  const auto log = parse_nccl_tests_log(data("h100-16gpu-2node_all_reduce_perf.log"), "x/h100_all_reduce_perf.log");
  EXPECT_EQ(log.ranks, 16);
  EXPECT_EQ(log.nodes, 2);
  EXPECT_EQ(log.bytes.size(), 31u);
  EXPECT_DOUBLE_EQ(log.out_of_place_s.front(), 135.8e-6);
  // 1 KiB: out-of-place 147.1 us (a spike), in-place 123.1 us: the size's time is the faster
  EXPECT_DOUBLE_EQ(log.best_seconds()[7], 123.1e-6);
}

// A fit of the even-indexed sizes predicts the odd-indexed ones within its reported (cross-validated) error.
// The A100 log is the exception the test states: at 32 MiB its time jumps 11% above any line through its even
// neighbours (16 MiB and 64 MiB: NCCL changes its algorithm there), which no fit of the even sizes can know; its
// other odd sizes are within the reported error, and the 32 MiB one within 1.15 times it.
TEST(NcclTestsLog, EvenSizesPredictTheOddOnes) {
  for (const char* file : {"a100-8gpu_all_reduce_perf.log", "h100-16gpu-2node_all_reduce_perf.log"}) {
    const auto log = parse_nccl_tests_log(data(file), file);
    const auto t = log.best_seconds();
    std::vector<double> even_b, even_t, odd_b, odd_t;
    for (std::size_t i = 0; i < log.bytes.size(); ++i) {
      (i % 2 == 0 ? even_b : odd_b).push_back(log.bytes[i]);
      (i % 2 == 0 ? even_t : odd_t).push_back(t[i]);
    }
    const auto fit = fit_piecewise(even_b, even_t);
    for (std::size_t i = 0; i < odd_b.size(); ++i) {
      const double e = std::fabs(fit.predict_seconds(odd_b[i]) / odd_t[i] - 1);
      const bool jump = std::string(file).starts_with("a100") && odd_b[i] == 33554432;
      EXPECT_LE(e, fit.prediction_error * (jump ? 1.15 : 1.0)) << file << " at " << odd_b[i];
    }
    EXPECT_GE(fit.prediction_error, fit.max_relative_error);
    EXPECT_GT(fit.r_squared, 0.999) << file;
  }
}

// The profile written from a fit predicts the logged times through the ring formula (model/collectives.hpp).
TEST(NcclTestsLog, CalibratedProfilePredictsTheLog) {
  const auto log = parse_nccl_tests_log(data("a100-8gpu_all_reduce_perf.log"), "a100_all_reduce_perf.log");
  const auto fit = fit_piecewise(log.bytes, log.best_seconds());
  auto profile = find_cluster("dgx-a100");
  apply_allreduce_fit(profile, fit, log.ranks, log.nodes, "test");
  const auto fabric = make_fabric(profile, log.ranks);
  for (std::size_t i = 0; i < log.bytes.size(); ++i) {
    const auto r = best_allreduce(fabric, log.bytes[i]);
    EXPECT_EQ(r.algorithm, Algorithm::ring);
    EXPECT_NEAR(r.seconds, fit.predict_seconds(log.bytes[i]), 1e-9 * r.seconds) << log.bytes[i];
    EXPECT_LE(std::fabs(r.seconds / log.best_seconds()[i] - 1), fit.max_relative_error + 1e-12);
  }
  // large messages: busbw ~ 233 GB/s, the published single-node A100 figure (Azure ND A100 v4: 231 GB/s)
  EXPECT_NEAR(profile.intra_node_gbps / 8, 233, 5);
}

TEST(NcclTestsLog, BadLogs) {
  const auto good = data("a100-8gpu_all_reduce_perf.log");
  const auto cut = good.substr(0, good.find("      8192 ") + 40);  // a row cut in the middle
  auto error_of = [](const std::string& text, const std::string& source) {
    try {
      parse_nccl_tests_log(text, source);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of(cut, "cut_all_reduce_perf.log").find("truncated row"), std::string::npos)
      << error_of(cut, "cut_all_reduce_perf.log");
  EXPECT_NE(error_of("", "empty_all_reduce_perf.log").find("no nccl-tests data rows"), std::string::npos);
  EXPECT_NE(error_of("hello\nworld\n", "junk_all_reduce_perf.log").find("no nccl-tests data rows"), std::string::npos);
  EXPECT_NE(error_of(good, "mystery.log").find("cannot tell which collective"), std::string::npos);
  EXPECT_NE(error_of(data("p4d-2node-no-ranks_all_reduce_perf.log"), "p4d_all_reduce_perf.log").find("cannot count ranks"),
            std::string::npos);
  EXPECT_NE(error_of(good + good, "twice_all_reduce_perf.log").find("more than one run"), std::string::npos);
  std::string garbled = good;
  garbled.replace(garbled.find("32.01"), 5, "3x.01");
  EXPECT_NE(error_of(garbled, "bad_all_reduce_perf.log").find("not a nccl-tests data row"), std::string::npos);
}

}  // namespace
}  // namespace bitscale
