// `bitscale plan` against an exhaustive search done here from `sweep`'s rows: the same cheapest configurations
// and the same Pareto frontier (so the bound that rules configurations out never drops one that counts), and its
// bad input. `sweep --uncertainty` columns and `--plot` run through the CLI too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/tools/run_cli.hpp"
#include "tools/cli.hpp"

namespace bitscale {
namespace {

namespace fs = std::filesystem;

using test::Result;
using test::run;

std::vector<std::map<std::string, std::string>> parse_csv(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::istringstream h(line);
    for (std::string cell; std::getline(h, cell, ',');) header.push_back(cell);
  }
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::istringstream r(line);
    std::map<std::string, std::string> row;
    std::size_t i = 0;
    for (std::string cell; std::getline(r, cell, ',') && i < header.size(); ++i) row[header[i]] = cell;
    rows.push_back(row);
  }
  return rows;
}

struct Config {
  double cost, hours;
  std::string key;
};

// resnet50 for 1e8 samples within 2 hours (13,889 samples/s) on dgx-a100 at $3 and dgx-h100 at $5 per GPU-hour,
// two bucket sizes, the fastest algorithm or ring forced: the space both commands cover
// (sweep's CSV holds 9 significant digits: the comparisons allow 1e-7)
const std::vector<std::string> kSpace = {"--gpus", "1..512", "--compute", "tf32,fp16", "--batch", "64,256"};

TEST(Plan, CheapestAndFrontierMatchAnExhaustiveSweep) {
  std::vector<std::string> plan = {"plan", "-w", "resnet50", "-c", "dgx-a100,dgx-h100", "--deadline-hours", "2",
                                   "--samples", "1e8", "--gpu-hour-cost", "3,5", "--bucket", "5MiB,25MiB",
                                   "--algorithm", "auto,ring", "--precision", "fp32,fp16,int8-block", "--top", "6",
                                   "--format", "json"};
  plan.insert(plan.end(), kSpace.begin(), kSpace.end());
  const auto p = run(plan);
  ASSERT_EQ(p.code, 0) << p.err;
  const auto j = nlohmann::json::parse(p.out);
  EXPECT_EQ(j["configurations"].get<std::size_t>(), 10u * 3 * 2 * 2 * (2 * 2 * 2));
  const double target = 1e8 / (2 * 3600.0);
  std::vector<Config> meet;
  std::size_t rows = 0;
  for (const auto& [cluster, price] : {std::pair{"dgx-a100", 3.0}, std::pair{"dgx-h100", 5.0}}) {
    for (const char* bucket : {"5MiB", "25MiB"}) {
      for (const bool ring : {false, true}) {
        // ring cannot carry int8-block (gathered): not applicable
        std::vector<std::string> sweep = {"sweep", "-w", "resnet50", "-c", cluster, "--bucket", bucket,
                                          "--precision", ring ? "fp32,fp16" : "fp32,fp16,int8-block"};
        if (ring) sweep.insert(sweep.end(), {"--algorithm", "ring"});
        sweep.insert(sweep.end(), kSpace.begin(), kSpace.end());
        const auto s = run(sweep);
        ASSERT_EQ(s.code, 0) << s.err;
        for (const auto& r : parse_csv(s.out)) {
          ++rows;
          const double throughput = std::stod(r.at("throughput_samples_per_s"));
          if (r.at("fits_in_memory") != "true" || throughput < target) continue;
          const double gpus = std::stod(r.at("gpus"));
          const double hours = 1e8 / throughput / 3600;
          meet.push_back({price * gpus * hours, hours, r.at("cluster") + " " + r.at("gpus") + " " + r.at("precision")});
        }
      }
    }
  }
  ASSERT_EQ(rows, 2u * 2 * (3 + 2) * 10 * 2 * 2);
  ASSERT_GE(meet.size(), 6u) << "the test needs a target some configurations meet";
  // the plan counts those it simulated; the bound leaves out some that meet the target but cannot be cheaper
  EXPECT_LE(j["meet_target"].get<std::size_t>(), meet.size());
  std::sort(meet.begin(), meet.end(), [](const Config& a, const Config& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.hours < b.hours;
  });
  const auto& cheapest = j["cheapest"];
  ASSERT_EQ(cheapest.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_NEAR(cheapest[i]["cost"].get<double>(), meet[i].cost, 1e-7 * meet[i].cost) << i << " " << meet[i].key;
    EXPECT_LE(cheapest[i]["cost_low"].get<double>(), cheapest[i]["cost"].get<double>());
    EXPECT_GE(cheapest[i]["cost_high"].get<double>(), cheapest[i]["cost"].get<double>());
    EXPECT_EQ(cheapest[i]["cost_unit"], "USD");
  }
  // the frontier: configurations no other one beats in both hours and cost, cheapest (slowest) first
  std::vector<Config> frontier;
  for (const auto& a : meet) {
    bool dominated = false;
    for (const auto& b : meet) {
      dominated = dominated || (b.hours <= a.hours && b.cost <= a.cost && (b.hours < a.hours || b.cost < a.cost));
    }
    if (!dominated) frontier.push_back(a);
  }
  std::sort(frontier.begin(), frontier.end(), [](const Config& a, const Config& b) { return a.hours > b.hours; });
  // ties (two configurations at the same hours and cost, as a forced ring where the fastest is ring) keep one
  frontier.erase(std::unique(frontier.begin(), frontier.end(),
                             [](const Config& a, const Config& b) { return a.hours == b.hours && a.cost == b.cost; }),
                 frontier.end());
  const auto& f = j["frontier"];
  ASSERT_EQ(f.size(), frontier.size());
  for (std::size_t i = 0; i < frontier.size(); ++i) {
    EXPECT_NEAR(f[i]["hours"].get<double>(), frontier[i].hours, 1e-7 * frontier[i].hours) << i;
    EXPECT_NEAR(f[i]["cost"].get<double>(), frontier[i].cost, 1e-7 * frontier[i].cost) << i;
  }
  // the bound ruled some out; ring for int8-block is not applicable (2 clusters x 2 buckets x 10 GPU counts x 4
  // (compute, batch)); one GPU is simulated once per (cluster, compute, batch), not for every precision, bucket
  // and algorithm (8 x (3 x 2 x 2 - 1 - 2) left out: of the 11 others, ring for int8-block at both buckets is
  // not applicable)
  EXPECT_GT(j["ruled_out_by_bound"].get<std::size_t>(), 0u);
  EXPECT_EQ(j["not_applicable"].get<std::size_t>(), 2u * 2 * 10 * 4);
  EXPECT_EQ(j["same_on_one_gpu"].get<std::size_t>(), 8u * 9);
  EXPECT_EQ(j["simulated"].get<std::size_t>() + j["ruled_out_by_bound"].get<std::size_t>() +
                j["not_applicable"].get<std::size_t>() + j["same_on_one_gpu"].get<std::size_t>(),
            j["configurations"].get<std::size_t>());
}

TEST(Plan, TableNamesTheAnswerAndSaysWhenNothingMeetsTheTarget) {
  const auto ok = run({"plan", "-w", "gpt2-xl", "-c", "dgx-h100", "--deadline-hours", "24", "--samples", "1e9",
                       "--gpu-hour-cost", "2.5"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("cheapest meeting the target"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("Pareto frontier"), std::string::npos);
  EXPECT_NE(ok.out.find("$"), std::string::npos);
  const auto none = run({"plan", "-w", "gpt2-xl", "-c", "dgx-h100", "--target-throughput", "1e9", "--max-gpus", "64"});
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_NE(none.out.find("No configuration meets the target"), std::string::npos) << none.out;
  EXPECT_NE(none.out.find("The fastest that fits: dgx-h100 x 64 GPUs"), std::string::npos) << none.out;
}

TEST(Plan, BadInputNamesTheField) {
  struct Case {
    std::vector<std::string> args;
    std::string field;
  };
  const std::vector<std::string> base = {"plan", "-w", "resnet50", "-c", "dgx-a100"};
  const Case cases[] = {
      {{}, "--target-throughput"},
      {{"--target-throughput", "100", "--deadline-hours", "2", "--samples", "1e6"}, "--target-throughput"},
      {{"--deadline-hours", "2"}, "--samples"},
      {{"--deadline-hours", "-2", "--samples", "1e6"}, "--deadline-hours"},
      {{"--target-throughput", "nan"}, "--target-throughput"},
      {{"--target-throughput", "100", "--gpu-hour-cost", "1,2"}, "--gpu-hour-cost"},
      {{"--target-throughput", "100", "--gpu-hour-cost", "0"}, "--gpu-hour-cost"},
      {{"--target-throughput", "100", "--gpus", "2048"}, "--gpus"},
      {{"--target-throughput", "100", "--top", "0"}, "--top"},
      {{"--target-throughput", "100", "--precision", "fp12"}, "--precision"},
      {{"--target-throughput", "100", "--algorithm", "ring", "--precision", "int8-block"}, "--algorithm"},
      {{"--target-throughput", "100", "--compute", "fp8"}, "--compute"},
      {{"--target-throughput", "100", "--bucket", "0MiB"}, "--bucket"},
  };
  for (const auto& c : cases) {
    auto args = base;
    args.insert(args.end(), c.args.begin(), c.args.end());
    const auto r = run(args);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find(c.field), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  const auto missing = run({"plan", "-c", "dgx-a100", "--target-throughput", "100"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("--workload"), std::string::npos) << missing.err;
}

TEST(Sweep, UncertaintyAddsLowAndHighColumnsAroundThePrediction) {
  const auto r = run({"sweep", "-w", "resnet50", "-c", "dgx-a100", "--gpus", "8,64", "--precision", "fp16",
                      "--uncertainty"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = parse_csv(r.out);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    const double t = std::stod(row.at("step_time_s")), lo = std::stod(row.at("step_time_low_s")),
                 hi = std::stod(row.at("step_time_high_s"));
    EXPECT_LT(lo, t);
    EXPECT_GT(hi, t);
    const double thr = std::stod(row.at("throughput_samples_per_s"));
    EXPECT_NEAR(std::stod(row.at("throughput_low_samples_per_s")), thr * t / hi, 1e-6 * thr);
  }
  const auto plain = run({"sweep", "-w", "resnet50", "-c", "dgx-a100", "--gpus", "8", "--precision", "fp16"});
  EXPECT_EQ(plain.out.find("step_time_low_s"), std::string::npos);
}

TEST(Sweep, PlotIsAnSvgWithEverySeriesAndTheIdealLine) {
  const auto path = fs::temp_directory_path() / ("bitscale-plot-" + std::to_string(::getpid()) + ".svg");
  const auto r = run({"sweep", "-w", "resnet50", "-c", "dgx-a100", "--gpus", "1..1024", "--precision",
                      "fp32,fp16,int8-block", "--bandwidth-gbps", "25,200", "--plot", path.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(path);
  const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(path);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  for (const char* label : {"fp32, 25 Gb/s", "fp16, 200 Gb/s", "int8-block, 25 Gb/s", "ideal (speedup = GPUs)",
                            "GPUs (log scale)", "speedup over one GPU"}) {
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  }
  // 6 series of 11 points: 66 markers
  std::size_t markers = 0;
  for (auto at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) ++markers;
  EXPECT_EQ(markers, 66u);
  // a bad plot path writes nothing
  const auto bad = run({"sweep", "-w", "resnet50", "-c", "dgx-a100", "--gpus", "8", "--plot", "/nonexistent/x.svg"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--plot"), std::string::npos);
}

TEST(Report, IsOneSelfContainedHtmlFileWithPlotsTablesTimelineAndSources) {
  const auto path = fs::temp_directory_path() / ("bitscale-report-" + std::to_string(::getpid()) + ".html");
  const auto r = run({"report", "-w", "resnet50", "-c", "dgx-a100", "--gpus", "1..256", "--precision",
                      "fp32,fp16", "--detail-gpus", "64", "--out", path.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(path);
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(path);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  std::size_t svgs = 0;
  for (auto at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 2u);  // the speedup plot and the timeline
  for (const char* part : {"fp32", "fp16", "90% interval", "One step of 64 GPUs", "What moves the step time",
                           "compute rate", "network bandwidth", "Workload: resnet50", "Cluster profile: dgx-a100",
                           "A100", "uncertainty", "bitscale report -w resnet50", "</html>"}) {
    EXPECT_NE(html.find(part), std::string::npos) << part;
  }
  // self-contained: no script, no link to another file
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src=\""), std::string::npos);
  // 2 x 9 rows of predictions
  std::size_t rows = 0;
  for (auto at = html.find("<tr><td class=\"n\">"); at != std::string::npos; at = html.find("<tr><td class=\"n\">", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 18u);
  const auto no_out = run({"report", "-w", "resnet50", "-c", "dgx-a100"});
  EXPECT_EQ(no_out.code, 2);
  EXPECT_NE(no_out.err.find("--out"), std::string::npos);
}

}  // namespace
}  // namespace bitscale
