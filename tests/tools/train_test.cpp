// The validation trainer's network (tools/train_nn.hpp) and the run CSV reader (tools/run_csv.hpp).
// References: the workload's own parameter count (model/workload.cpp, counted from the architecture), central
// finite differences of the loss in double precision for the gradients, and hand-written CSVs.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "kernels/input_error.hpp"
#include "model/workload.hpp"
#include "tools/run_csv.hpp"
#include "tools/train_nn.hpp"

namespace bitscale {
namespace {

Workload tiny_cnn() {
  return parse_workload_toml(R"(
name = "tiny"
sample = "6x6x2"
batch = 3
[[layer]]
name = "c1"
kind = "conv"
in_channels = 2
out_channels = 3
kernel = 3
padding = 1
input = [6, 6]
[[layer]]
name = "c2"
kind = "conv"
in_channels = 3
out_channels = 4
kernel = 3
stride = 2
padding = 1
input = [6, 6]
[[layer]]
name = "fc1"
kind = "linear"
in_features = 36
out_features = 7
[[layer]]
name = "fc2"
kind = "linear"
in_features = 7
out_features = 5
)",
                             "tiny.toml");
}

TEST(TrainNetwork, ParametersMatchTheWorkloadCount) {
  for (const char* file : {"/data/workloads/train-mlp.toml", "/data/workloads/train-cnn.toml"}) {
    const auto w = load_workload_toml(std::string(BITSCALE_SOURCE_DIR) + file);
    Network net(w, 4, 1);
    EXPECT_EQ(net.parameters(), w.parameters()) << file;
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < net.layers(); ++i) sum += net.layer_parameters(i);
    EXPECT_EQ(sum, w.parameters()) << file;
  }
  // 784*1024+1024 + 1024*1024+1024 + 1024*10+10, by hand
  EXPECT_EQ(Network(load_workload_toml(std::string(BITSCALE_SOURCE_DIR) + "/data/workloads/train-mlp.toml"), 1, 1)
                .parameters(),
            1863690);
}

// The gradient of every layer against central differences of the loss: for random directions d, (L(w + h d) -
// L(w - h d)) / 2h must equal g . d. Computed on float weights, compared in double.
TEST(TrainNetwork, GradientsMatchFiniteDifferences) {
  const auto w = tiny_cnn();
  Network net(w, 3, 7);
  TeacherTask task(net.input_features(), net.classes(), 7);
  Matrix x;
  std::vector<std::int32_t> y;
  task.draw(3, 0, 0, x, y);
  net.forward(x, y);
  for (auto i = net.layers() - 1; i >= 0; --i) net.backward_layer(i);
  const std::vector<float> grad(net.gradients().begin(), net.gradients().end());
  std::vector<float> base(net.weights().begin(), net.weights().end());
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  for (std::int64_t layer = 0; layer < net.layers(); ++layer) {
    const auto off = static_cast<std::size_t>(net.gradient_offset(layer));
    const auto n = static_cast<std::size_t>(net.layer_parameters(layer));
    std::vector<double> d(n);
    double dot = 0, norm = 0;
    for (std::size_t k = 0; k < n; ++k) {
      d[k] = normal(rng);
      dot += d[k] * grad[off + k];
      norm += d[k] * d[k];
    }
    const double h = 1e-2 / std::sqrt(norm);
    auto loss_at = [&](double t) {
      auto wts = net.weights();
      std::copy(base.begin(), base.end(), wts.begin());
      for (std::size_t k = 0; k < n; ++k) wts[off + k] = static_cast<float>(base[off + k] + t * d[k]);
      return net.forward(x, y);
    };
    const double numeric = (loss_at(h) - loss_at(-h)) / (2 * h);
    EXPECT_NEAR(numeric, dot, 2e-2 * std::abs(dot) + 1e-4) << "layer " << w.layers[static_cast<std::size_t>(layer)].name;
  }
}

// The backward pass runs layer by layer: after the last layer's step only its gradients are written (the
// trainer starts a bucket's reduction then, while the layers below are still computing).
TEST(TrainNetwork, BackwardStopsAtTheLayerAsked) {
  const auto w = tiny_cnn();
  Network net(w, 3, 7);
  EXPECT_EQ(net.layers(), 4);
  TeacherTask task(net.input_features(), net.classes(), 7);
  Matrix x;
  std::vector<std::int32_t> y;
  task.draw(3, 0, 0, x, y);
  net.forward(x, y);
  auto span_of = [&](std::int64_t layer) {
    return net.gradients().subspan(static_cast<std::size_t>(net.gradient_offset(layer)),
                                   static_cast<std::size_t>(net.layer_parameters(layer)));
  };
  auto nonzero = [](std::span<const float> g) { return std::any_of(g.begin(), g.end(), [](float v) { return v != 0; }); };
  net.backward_layer(3);
  EXPECT_TRUE(nonzero(span_of(3)));
  for (std::int64_t l = 0; l < 3; ++l) EXPECT_FALSE(nonzero(span_of(l))) << "layer " << l;
  net.backward_layer(1);  // through the layout change between the convolutions and the classifier
  EXPECT_TRUE(nonzero(span_of(2)));
  EXPECT_TRUE(nonzero(span_of(1)));
  EXPECT_FALSE(nonzero(span_of(0)));
  net.backward_layer(0);
  EXPECT_TRUE(nonzero(span_of(0)));
}

// Timing the forward pass layer by layer (calibration's network_layer_seconds) must not change what it computes:
// the same loss and gradients bit for bit as the untimed pass; every workload layer gets a time, and the times are
// pieces of the pass (their sum within the pass's own time on the same clock).
TEST(TrainNetwork, TimedPassComputesTheSameAndTimesEveryLayer) {
  const auto w = tiny_cnn();
  Network plain(w, 3, 7), timed(w, 3, 7);
  TeacherTask task(plain.input_features(), plain.classes(), 7);
  Matrix x;
  std::vector<std::int32_t> y;
  task.draw(3, 0, 0, x, y);
  std::vector<double> seconds(w.layers.size(), 0.0);
  const double loss = plain.forward(x, y);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(loss, timed.forward(x, y, seconds));
  const double pass = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double sum = 0;
  for (double s : seconds) sum += s;
  EXPECT_LE(sum, pass);
  for (auto i = plain.layers() - 1; i >= 0; --i) {
    plain.backward_layer(i);
    timed.backward_layer(i);
  }
  EXPECT_TRUE(std::equal(plain.gradients().begin(), plain.gradients().end(), timed.gradients().begin()));
  for (std::size_t i = 0; i < seconds.size(); ++i) EXPECT_GT(seconds[i], 0.0) << w.layers[i].name;
  const auto steps = network_layer_seconds(w, 3, 5);
  ASSERT_EQ(steps.size(), w.layers.size());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].size(), 5u) << w.layers[i].name;
    for (double s : steps[i]) EXPECT_GT(s, 0.0) << w.layers[i].name;
  }
}

TEST(TrainNetwork, SgdLowersTheLossOnTheTeacherTask) {
  const auto w = tiny_cnn();
  Network net(w, 32, 1);
  TeacherTask task(net.input_features(), net.classes(), 1);
  Matrix x;
  std::vector<std::int32_t> y;
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    task.draw(32, 0, static_cast<std::uint64_t>(step % 4), x, y);
    const double loss = net.forward(x, y);
    for (auto i = net.layers() - 1; i >= 0; --i) net.backward_layer(i);
    auto wts = net.weights();
    auto g = net.gradients();
    for (std::size_t k = 0; k < wts.size(); ++k) wts[k] -= 0.05f * g[k];
    if (step < 4) first += loss / 4;
    if (step >= 56) last += loss / 4;
  }
  EXPECT_LT(last, 0.7 * first) << "first " << first << " last " << last;
}

TEST(TrainNetwork, RefusesLayersItCannotRun) {
  auto w = parse_workload_toml(R"(
name = "p"
sample = "x"
[[layer]]
name = "pool"
kind = "pool"
parameters = 0
forward_flops = 10
activations = 10
[[layer]]
name = "fc"
kind = "linear"
in_features = 10
out_features = 2
)",
                               "p.toml");
  EXPECT_THROW(Network(w, 1, 1), InputError);
  auto mismatch = parse_workload_toml(R"(
name = "m"
sample = "x"
[[layer]]
name = "a"
kind = "linear"
in_features = 10
out_features = 5
[[layer]]
name = "b"
kind = "linear"
in_features = 6
out_features = 2
)",
                                      "m.toml");
  try {
    Network net(mismatch, 1, 1);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer.b.in_features"), std::string::npos) << e.what();
  }
}

std::string row(const std::string& run, int step, double step_s, int steps = 3, const std::string& precision = "fp16",
                const std::string& probe = ",32,18") {
  return "bitscale-mpi," + run + ",data/workloads/train-mlp.toml,2,2,1,100,emu," + precision + ",64,26214400,1048576,2,"
         "1863690," + std::to_string(steps) + ",1," + std::to_string(step) + ",2.5,0.1,0.01,0.2,0.05," +
         std::to_string(step_s) + ",2026-11-23,vm" + probe + "\n";
}

TEST(RunCsv, ReadsRunsAndTheirTimedSteps) {
  const std::string text = std::string(run_csv_header()) + "\n" + row("a", 0, 9.0) + row("b", 0, 1.0) +
                           row("a", 2, 0.5) + row("a", 1, 0.3) + row("b", 1, 2.0) + row("b", 2, 4.0);
  const auto runs = parse_run_csv(text, "t.csv");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, "a");
  EXPECT_EQ(runs[0].step_s.size(), 2u);  // step 0 is warm-up
  EXPECT_DOUBLE_EQ(runs[0].median_step_s(), 0.4);  // (0.3 + 0.5) / 2
  EXPECT_DOUBLE_EQ(runs[1].median_step_s(), 3.0);
  EXPECT_EQ(runs[1].ranks, 2);
  EXPECT_EQ(runs[1].precision, "fp16");
  EXPECT_DOUBLE_EQ(runs[0].host_gflops_before, 32.0);
  EXPECT_DOUBLE_EQ(runs[0].host_gflops(), 24.0);  // sqrt(32 x 18)
}

// Runs written before the host probe: the header without its two columns, read as not probed.
TEST(RunCsv, ReadsRunsWithoutTheHostProbe) {
  const std::string header(run_csv_header());
  const std::string old = header.substr(0, header.find(",host_gflops_before"));
  ASSERT_EQ(old + ",host_gflops_before,host_gflops_after", header);
  const auto runs = parse_run_csv(old + "\n" + row("a", 0, 1.0, 2, "fp16", "") + row("a", 1, 2.0, 2, "fp16", ""), "t.csv");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_DOUBLE_EQ(runs[0].median_step_s(), 2.0);
  EXPECT_EQ(runs[0].host_gflops(), 0.0);
  // a row of the new layout under the old header has too many fields
  EXPECT_THROW(parse_run_csv(old + "\n" + row("a", 0, 1.0, 2) + row("a", 1, 2.0, 2), "t.csv"), InputError);
}

TEST(RunCsv, NamesTheLineAndColumnOfBadInput) {
  const std::string head = std::string(run_csv_header()) + "\n";
  auto message = [&](const std::string& text) {
    try {
      parse_run_csv(text, "t.csv");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("").find("empty"), std::string::npos);
  EXPECT_NE(message("a,b\n").find("header"), std::string::npos);
  EXPECT_NE(message(head + "x,y\n").find("t.csv:2"), std::string::npos);
  EXPECT_NE(message(head + row("a", 0, 1) + row("a", 1, 1)).find("step 2 of 3 is missing"), std::string::npos);
  EXPECT_NE(message(head + row("a", 0, 1) + row("a", 0, 1)).find("appears twice"), std::string::npos);
  EXPECT_NE(message(head + row("a", 0, 1) + row("a", 1, 1, 3, "fp32")).find("differs"), std::string::npos);
  std::string nan_row = row("a", 0, 1);
  nan_row.replace(nan_row.find(",2.5,"), 5, ",nan,");
  EXPECT_NE(message(head + nan_row).find("column loss"), std::string::npos);
  EXPECT_NE(message(head + row("a", 0, 0)).find("column step_s"), std::string::npos);  // zero step time
  EXPECT_NE(message(head + row("a", 5, 1)).find("column step"), std::string::npos);    // step beyond steps
  EXPECT_NE(message(head + row("a", 0, 1, 3, "fp16", ",0,18")).find("column host_gflops_before"), std::string::npos);
  EXPECT_NE(message(head + row("a", 0, 1, 3, "fp16", ",32,nan")).find("column host_gflops_after"), std::string::npos);
  EXPECT_NE(message(head + row("a", 0, 1) + row("a", 1, 1, 3, "fp16", ",31,18")).find("differs"), std::string::npos);
}

}  // namespace
}  // namespace bitscale
