// The timeline predictor: limits that hold exactly, the bounds every schedule respects, memory by hand, and the
// task graph's scheduling rules.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "model/compute.hpp"
#include "model/timeline.hpp"
#include "model/topology_collectives.hpp"
#include "predictors/predictor.hpp"

namespace bitscale {
namespace {

Scenario scenario(const Workload& w, const ClusterProfile& c, std::int64_t gpus, const std::string& precision) {
  Scenario s;
  s.workload = &w;
  s.cluster = &c;
  s.gpus = gpus;
  s.precision = find_wire_format(precision);
  s.compute = ComputePrecision::fp16;
  s.storage = StoragePolicy::amp;
  s.optimizer = Optimizer::momentum;
  s.batch = 32;
  return s;
}

// The whole model in one bucket, reduced after the backward pass: every bucket-level cost shows whole.
void one_bucket_no_overlap(Scenario& s) {
  s.bucket_bytes = 1e9;
  s.first_bucket_bytes = 1e9;
  s.overlap = Overlap::none;
}

TEST(TaskGraph, StreamsRunOneTaskAtATimeInReadyOrder) {
  TaskGraph g;
  const auto a = g.add({TaskKind::backward, Stream::compute, 2.0, 0, -1, 1}, {});
  const auto b = g.add({TaskKind::backward, Stream::compute, 2.0, 1, -1, 1}, {a});
  const auto enc = g.add({TaskKind::encode, Stream::compute, 1.0, -1, 0, 0}, {a});
  const auto comm = g.add({TaskKind::allreduce, Stream::comm, 5.0, -1, 0, 0}, {enc});
  const auto dec = g.add({TaskKind::decode, Stream::compute, 1.0, -1, 0, 0}, {comm});
  g.schedule();
  // at t = 2 both b and the encode are ready: the encode (priority 0) goes first, b waits until 3
  EXPECT_DOUBLE_EQ(g[enc].start_s, 2.0);
  EXPECT_DOUBLE_EQ(g[b].start_s, 3.0);
  EXPECT_DOUBLE_EQ(g[comm].start_s, 3.0);
  EXPECT_DOUBLE_EQ(g[comm].end_s, 8.0);
  EXPECT_DOUBLE_EQ(g[dec].start_s, 8.0);
  EXPECT_DOUBLE_EQ(g.end_s(), 9.0);
}

// Compute at half speed while communication runs, and communication while compute runs, worked by hand.
TEST(TaskGraph, ComputeSlowsWhileCommunicationRuns) {
  TaskGraph g;
  const auto comm = g.add({TaskKind::allreduce, Stream::comm, 4.0, -1, 0, 0}, {});
  const auto a = g.add({TaskKind::backward, Stream::compute, 10.0, 0, -1, 1}, {});
  const auto after = g.add({TaskKind::allreduce, Stream::comm, 1.0, -1, 1, 0}, {a});
  g.schedule();
  EXPECT_DOUBLE_EQ(g[a].end_s, 10.0);
  // [0, 4) with the allreduce: 2 s of work at half speed; the other 8 s alone: ends at 12
  const auto added = g.contend(0.5, 1.0);
  EXPECT_DOUBLE_EQ(g[a].end_s, 12.0);
  EXPECT_DOUBLE_EQ(added.first, 2.0);
  EXPECT_DOUBLE_EQ(added.second, 0.0);
  EXPECT_DOUBLE_EQ(g[after].start_s, 12.0);
  EXPECT_DOUBLE_EQ(g[comm].end_s, 4.0);

  // work that ends inside the busy interval: 1 s of work from 0 under a 4 s collective takes 2 s
  TaskGraph h;
  h.add({TaskKind::allreduce, Stream::comm, 4.0, -1, 0, 0}, {});
  const auto b = h.add({TaskKind::backward, Stream::compute, 1.0, 0, -1, 1}, {});
  h.schedule();
  h.contend(0.5, 1.0);
  EXPECT_DOUBLE_EQ(h[b].end_s, 2.0);
  // no contention: nothing changes
  EXPECT_DOUBLE_EQ(h.contend(1.0, 1.0).first, 0.0);

  // the other way: a 4 s collective under 10 s of compute at half speed takes 8 s; the compute is untouched
  TaskGraph k;
  const auto c = k.add({TaskKind::allreduce, Stream::comm, 4.0, -1, 0, 0}, {});
  const auto d = k.add({TaskKind::backward, Stream::compute, 10.0, 0, -1, 1}, {});
  k.schedule();
  const auto more = k.contend(1.0, 0.5);
  EXPECT_DOUBLE_EQ(k[c].end_s, 8.0);
  EXPECT_DOUBLE_EQ(k[d].end_s, 10.0);
  EXPECT_DOUBLE_EQ(more.second, 4.0);
}

// A launch is itself the compute stream's loss: contention neither stretches it nor slows a collective during it.
TEST(TaskGraph, ALaunchIsNeitherStretchedNorSlowsTheCollective) {
  TaskGraph g;
  const auto launch = g.add({TaskKind::launch, Stream::compute, 1.0, -1, 0, 0}, {});
  const auto comm = g.add({TaskKind::allreduce, Stream::comm, 2.0, -1, 0, 0}, {});
  g.schedule();
  const auto added = g.contend(0.5, 0.5);
  EXPECT_DOUBLE_EQ(added.first, 0.0);
  EXPECT_DOUBLE_EQ(added.second, 0.0);
  EXPECT_DOUBLE_EQ(g[launch].end_s, 1.0);
  EXPECT_DOUBLE_EQ(g[comm].end_s, 2.0);

  // with a backward task after the launch (one round, by hand): launch [0, 1), backward of 4 s from 1, the
  // collective of 4 s from 0. The backward runs at half speed under the collective until 4 (1.5 s of work in 3 s),
  // then alone: ends at 6.5. The collective runs alone during the launch (1 s of work), at half speed under the
  // backward from 1 to 5 (2 s of work), then alone for the last 1 s: ends at 6
  TaskGraph h;
  const auto l = h.add({TaskKind::launch, Stream::compute, 1.0, -1, 0, 0}, {});
  const auto b = h.add({TaskKind::backward, Stream::compute, 4.0, 0, -1, 1}, {});
  const auto c = h.add({TaskKind::allreduce, Stream::comm, 4.0, -1, 0, 0}, {});
  h.schedule();
  EXPECT_DOUBLE_EQ(h[b].start_s, 1.0);
  h.contend(0.5, 0.5, 1);
  EXPECT_DOUBLE_EQ(h[l].end_s, 1.0);
  EXPECT_DOUBLE_EQ(h[b].end_s, 6.5);
  EXPECT_DOUBLE_EQ(h[c].end_s, 6.0);
}

// [gpu] comm_launch_s: each collective that finds the communication stream idle costs the compute stream the launch
TEST(Timeline, ALaunchPerCollectiveThatWakesTheCommunicationThread) {
  const auto w = find_workload("resnet50");
  // links so fast that every collective ends before the next bucket is ready: each one wakes the thread, and
  // each launch delays the rest of the backward pass; the last one runs before the optimizer
  auto fast = find_cluster("dgx-a100");
  fast.intra_node_gbps = 1e12;
  fast.nic_gbps = 1e12;
  fast.intra_node_latency_us = 0;
  fast.inter_node_latency_us = 0;
  auto fast_launch = fast;
  fast_launch.comm_launch_s = 0.002;
  const auto p0 = make_predictor("timeline")->predict(scenario(w, fast, 64, "fp32"));
  const auto p1 = make_predictor("timeline")->predict(scenario(w, fast_launch, 64, "fp32"));
  ASSERT_GE(p0.buckets, 2);
  const double launches = static_cast<double>(p0.buckets) * 0.002;
  EXPECT_NEAR(p1.step_time_s, p0.step_time_s + launches, 1e-9);
  EXPECT_NEAR(p1.backward_s, p0.backward_s + launches, 1e-12);
  EXPECT_NEAR(p1.launch_s, launches, 1e-12);  // the launches apart, for the explanation and validate
  EXPECT_EQ(p0.launch_s, 0);
  EXPECT_DOUBLE_EQ(p1.forward_s, p0.forward_s);
  // one GPU launches nothing
  EXPECT_DOUBLE_EQ(make_predictor("timeline")->predict(scenario(w, fast_launch, 1, "fp32")).step_time_s,
                   make_predictor("timeline")->predict(scenario(w, fast, 1, "fp32")).step_time_s);

  // a network so slow that every later bucket queues behind the first collective: only the first wakes the
  // thread; its launch comes after the bucket is ready, so the collectives and the step do not move
  auto slow = find_cluster("dgx-a100");
  slow.nic_gbps = 0.1;
  auto slow_launch = slow;
  slow_launch.comm_launch_s = 0.002;
  const auto q0 = make_predictor("timeline")->predict(scenario(w, slow, 64, "fp32"));
  const auto q1 = make_predictor("timeline")->predict(scenario(w, slow_launch, 64, "fp32"));
  ASSERT_GT(q0.comm_s, 10 * q0.compute_s);  // communication-bound: the buckets queue
  EXPECT_NEAR(q1.step_time_s, q0.step_time_s, 1e-12 * q0.step_time_s);
  EXPECT_NEAR(q1.backward_s, q0.backward_s + 0.002, 1e-12);
  EXPECT_NEAR(q1.launch_s, 0.002, 1e-15);
}

TEST(Timeline, ContentionSlowsOnlyTheOverlappedCompute) {
  const auto w = find_workload("resnet50");
  auto c = find_cluster("dgx-a100");
  const auto s = scenario(w, c, 64, "fp32");
  const auto free = make_predictor("timeline")->predict(s);
  c.compute_during_comm = 0.5;
  const auto slowed = make_predictor("timeline")->predict(s);
  // the step grows, by at most the compute that overlapped communication (at half speed: twice as long)
  EXPECT_GT(slowed.step_time_s, free.step_time_s);
  EXPECT_LE(slowed.step_time_s, free.step_time_s + free.backward_s + free.codec_s + 1e-12);
  EXPECT_GT(slowed.backward_s, free.backward_s);
  // the time lost beside collectives, apart: all the backward pass gained (no launch charged here)
  EXPECT_EQ(free.contention_s, 0);
  EXPECT_NEAR(slowed.contention_s, slowed.backward_s - free.backward_s, 1e-12);
  EXPECT_EQ(slowed.launch_s, 0);
  EXPECT_DOUBLE_EQ(slowed.forward_s, free.forward_s);
  // one GPU has no communication to contend with
  EXPECT_DOUBLE_EQ(make_predictor("timeline")->predict(scenario(w, c, 1, "fp32")).step_time_s,
                   make_predictor("timeline")->predict(scenario(w, find_cluster("dgx-a100"), 1, "fp32")).step_time_s);
}

TEST(Timeline, ContentionOfTheWireFormatsCollective) {
  auto c = find_cluster("dgx-a100");
  auto slowed = c;  // the reference: the same fractions for every collective
  slowed.compute_during_comm = 0.5;
  slowed.comm_during_compute = 0.75;
  c.contention_by_format["fp16"] = {0.5, 0.75};  // only fp16's collective slows compute, and is slowed
  const auto step = [](const ClusterProfile& k, const char* wire) {
    return make_predictor("timeline")->predict(scenario(find_workload("resnet50"), k, 64, wire)).step_time_s;
  };
  EXPECT_EQ(step(c, "fp16"), step(slowed, "fp16"));
  EXPECT_EQ(step(c, "fp32"), step(find_cluster("dgx-a100"), "fp32"));
  EXPECT_EQ(step(c, "bf16"), step(find_cluster("dgx-a100"), "bf16"));
  EXPECT_GT(step(c, "fp16"), step(find_cluster("dgx-a100"), "fp16"));
}

TEST(Timeline, OneGpuIsTheComputeSum) {
  const auto w = find_workload("resnet50");
  const auto c = find_cluster("dgx-a100");
  const auto p = make_predictor("timeline")->predict(scenario(w, c, 1, "fp16"));
  const auto sc = step_compute(w, c, ComputePrecision::fp16, StoragePolicy::amp, Optimizer::momentum, 32);
  EXPECT_NEAR(p.step_time_s, sc.total_s(), 1e-12 * sc.total_s());
  EXPECT_EQ(p.comm_s, 0);
  EXPECT_EQ(p.codec_s, 0);
  EXPECT_NEAR(p.speedup, 1.0, 1e-12);
}

TEST(Timeline, ZeroCommunicationGivesTheComputeSum) {
  const auto w = find_workload("resnet50");
  auto c = find_cluster("dgx-a100");
  c.intra_node_gbps = 1e12;  // effectively free links and no latency
  c.nic_gbps = 1e12;
  c.intra_node_latency_us = 0;
  c.inter_node_latency_us = 0;
  const auto p = make_predictor("timeline")->predict(scenario(w, c, 64, "fp32"));
  EXPECT_NEAR(p.step_time_s, p.compute_s, 1e-6 * p.compute_s);
  EXPECT_NEAR(p.speedup, 64.0, 1e-4);
}

// Ranks out of step (rank_skew): the slowest paces the step, its forward and backward (1 + skew) times the
// typical rank's; one rank alone is not slowed.
TEST(Timeline, RankSkewPacesTheComputeOfDataParallelRanks) {
  const auto w = find_workload("resnet50");
  auto c = find_cluster("dgx-a100");
  c.intra_node_gbps = 1e12;  // free links: the step is the compute
  c.nic_gbps = 1e12;
  c.intra_node_latency_us = 0;
  c.inter_node_latency_us = 0;
  auto skewed = c;
  skewed.rank_skew = 0.25;
  const auto sc = step_compute(w, c, ComputePrecision::fp16, StoragePolicy::amp, Optimizer::momentum, 32);
  const auto p = make_predictor("timeline")->predict(scenario(w, skewed, 64, "fp32"));
  EXPECT_NEAR(p.step_time_s, 1.25 * (sc.forward_s + sc.backward_s) + sc.optimizer_s, 1e-6 * p.step_time_s);
  // what the slowest rank adds is reported apart: 0.25 x the typical rank's passes
  EXPECT_NEAR(p.skew_s, 0.25 * (sc.forward_s + sc.backward_s), 1e-6 * p.skew_s);
  const auto one = make_predictor("timeline")->predict(scenario(w, skewed, 1, "fp32"));
  EXPECT_NEAR(one.step_time_s, sc.total_s(), 1e-12 * sc.total_s());
  EXPECT_EQ(one.skew_s, 0);
}

TEST(Timeline, OneBucketWithoutOverlapIsComputePlusCommunication) {
  const auto w = find_workload("resnet50");
  const auto c = find_cluster("dgx-a100");
  auto s = scenario(w, c, 64, "fp32");
  one_bucket_no_overlap(s);
  const auto p = make_predictor("timeline")->predict(s);
  EXPECT_EQ(p.buckets, 1);
  const double grad = 4.0 * static_cast<double>(w.parameters());
  const double comm = topology_best_allreduce(c, make_fabric(c, 64), grad).seconds;
  EXPECT_NEAR(p.comm_s, comm, 1e-12 * comm);
  EXPECT_NEAR(p.step_time_s, p.compute_s + comm, 1e-12 * p.step_time_s);
}

// A library that sums fp16 slower than fp32 ([reductions]): each rank adds (p-1)/p of the one bucket, at the
// profile's rate, on top of the link's time; fp32 and the gathered int8-block are untouched.
TEST(Timeline, SlowSumsAddTheirShareOfTheBucketAtTheirRate) {
  const auto w = find_workload("resnet50");
  const auto c = find_cluster("dgx-a100");
  auto slow = c;
  slow.reduction_gbyte_per_s["fp16"] = 2.0;
  for (const char* precision : {"fp16", "fp32", "int8-block"}) {
    auto s = scenario(w, c, 64, precision);
    one_bucket_no_overlap(s);
    const auto base = make_predictor("timeline")->predict(s);
    s.cluster = &slow;
    const auto p = make_predictor("timeline")->predict(s);
    ASSERT_EQ(p.buckets, 1);
    // fp16: 25,557,032 values x 2 B on the wire, 63/64 of it summed by each rank at 2 GB/s
    const double extra = std::string(precision) == "fp16" ? 63.0 / 64.0 * 25'557'032.0 * 2.0 / 2e9 : 0.0;
    EXPECT_NEAR(p.comm_s - base.comm_s, extra, 1e-9) << precision;
    EXPECT_NEAR(p.step_time_s - base.step_time_s, extra, 1e-9) << precision;
  }
}

// A codec timed in each direction apart ([codec_encode], [codec_decode]): a gathered bucket is encoded once and
// decoded and accumulated p - 1 times, each direction at its own rate, worked by hand from the wire size.
TEST(Timeline, GatheredBucketsDecodeAtTheDecodeRate) {
  const auto w = find_workload("resnet50");
  auto c = find_cluster("dgx-a100");
  c.codec_gbyte_per_s["dettmers8"] = 2.0;  // both directions together: used by neither once both are listed
  c.codec_encode_gbyte_per_s["dettmers8"] = 1.0;
  c.codec_decode_gbyte_per_s["dettmers8"] = 8.0;
  auto s = scenario(w, c, 64, "dettmers8");
  one_bucket_no_overlap(s);
  const auto p = make_predictor("timeline")->predict(s);
  ASSERT_EQ(p.buckets, 1);
  const double fp32 = 4.0 * 25'557'032.0;
  const double wire = find_wire_format("dettmers8").wire_bytes(25'557'032.0);
  const double encode = (fp32 + wire) / 1e9;
  const double decode_accumulate = (wire + fp32 + fp32) / 8e9;
  EXPECT_NEAR(p.codec_s, encode + 63.0 * decode_accumulate, 1e-9);
}

TEST(Timeline, OverlapNeverBeatsTheLargerOfComputeAndCommunication) {
  std::mt19937 rng(11);
  const char* workloads[] = {"resnet50", "bert-large", "vgg16", "lstm-lm"};
  const char* clusters[] = {"dgx-a100", "dgx1-v100", "commodity-a10"};
  const char* precisions[] = {"fp32", "fp16", "fp8-e5m2", "int8-block", "dettmers8"};
  for (int i = 0; i < 60; ++i) {
    const auto w = find_workload(workloads[rng() % 4]);
    auto c = find_cluster(clusters[rng() % 3]);
    c.set_inter_node_gbps_per_gpu(std::pow(10.0, std::uniform_real_distribution<>(-1, 3)(rng)));
    auto s = scenario(w, c, c.gpus_per_node << (rng() % 6), precisions[rng() % 5]);
    s.compute = c.default_compute;
    s.storage = default_storage(c.default_compute);
    s.codec_stream = rng() % 2 ? CodecStream::own : CodecStream::compute;
    const auto p = make_predictor("timeline")->predict(s);
    const double floor = std::max(p.compute_s, p.comm_s);
    EXPECT_GE(p.step_time_s, floor * (1 - 1e-12)) << w.name << " " << c.name << " " << p.gpus << " " << p.precision;
    EXPECT_LE(p.step_time_s, p.step_time_no_overlap_s * (1 + 1e-12));
    if (s.codec_stream == CodecStream::compute) {
      EXPECT_GE(p.step_time_s, (p.compute_s + p.codec_s) * (1 - 1e-12));
    }
  }
}

TEST(Timeline, NoOverlapIsTheSumOfEverything) {
  const auto w = find_workload("bert-large");
  const auto c = find_cluster("dgx-h100");
  for (const char* precision : {"fp16", "fp8-e4m3", "int8-block"}) {
    auto s = scenario(w, c, 128, precision);
    s.overlap = Overlap::none;
    const auto p = make_predictor("timeline")->predict(s);
    EXPECT_NEAR(p.step_time_s, p.compute_s + p.codec_s + p.comm_s, 1e-9 * p.step_time_s) << precision;
  }
}

TEST(Timeline, MemoryOfResnet50Fp32MomentumByHand) {
  const auto w = find_workload("resnet50");
  const auto c = find_cluster("dgx-a100");
  auto s = scenario(w, c, 1, "fp32");
  s.compute = ComputePrecision::fp32;
  s.storage = StoragePolicy::fp32;
  const auto p = make_predictor("timeline")->predict(s);
  // activations per sample (outputs of every conv, batchnorm, pool and fc), stage by stage with mid width m at
  // side s after a first block at side t: first block 2m t^2 + 2m s^2 + 16m s^2, each other block 12 m s^2
  auto stage = [](double m, double side, double first_side, int blocks) {
    return 2 * m * first_side * first_side + 18 * m * side * side + (blocks - 1) * 12 * m * side * side;
  };
  const double stem = 2 * 64 * 112 * 112 + 64 * 56 * 56;
  const double activations = stem + stage(64, 56, 56, 3) + stage(128, 28, 56, 4) + stage(256, 14, 28, 6) +
                             stage(512, 7, 14, 3) + 2048 + 1000;
  ASSERT_EQ(activations, 22'431'720);
  // 25,557,032 parameters x (4 weights + 4 gradients + 4 momentum) + 32 x activations x 4 B + 1 GiB reserve
  const double expected = 25'557'032.0 * 12 + 32 * activations * 4 + 1073741824.0;
  EXPECT_DOUBLE_EQ(p.memory_per_gpu_bytes, expected);
  // the largest batch: (80 GiB - 1 GiB - 306,684,384 B) / (22,431,720 x 4 B) = 941.96
  EXPECT_EQ(p.max_batch, 941);
}

TEST(Timeline, CodecOnItsOwnStreamNeverSlowsAStep) {
  const auto w = find_workload("resnet50");
  const auto c = find_cluster("dgx1-v100");
  for (const char* precision : {"fp16", "int8-block", "fp8-e4m3"}) {
    auto s = scenario(w, c, 32, precision);
    const auto shared = make_predictor("timeline")->predict(s);
    s.codec_stream = CodecStream::own;
    const auto own = make_predictor("timeline")->predict(s);
    EXPECT_LE(own.step_time_s, shared.step_time_s * (1 + 1e-12)) << precision;
  }
}

TEST(Timeline, BucketsFollowDdp) {
  // resnet50's fc (2,049,000 parameters = 8.2 MB) alone fills the 1 MiB first bucket; then 25 MiB buckets
  const auto w = find_workload("resnet50");
  const auto c = find_cluster("dgx-a100");
  auto s = scenario(w, c, 16, "fp32");
  s.record_timeline = true;
  const auto p = make_predictor("timeline")->predict(s);
  ASSERT_NE(p.timeline, nullptr);
  const auto& b = p.timeline->buckets;
  ASSERT_EQ(static_cast<std::int64_t>(b.size()), p.buckets);
  EXPECT_EQ(b.front().fp32_bytes, 4.0 * 2'049'000);
  double total = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    total += b[i].fp32_bytes;
    if (i > 0 && i + 1 < b.size()) {
      EXPECT_GE(b[i].fp32_bytes, 25.0 * 1048576);
    }
    if (i > 0) {
      EXPECT_GE(b[i].comm_start_s, b[i - 1].comm_end_s);  // one communication stream
    }
    EXPECT_GE(b[i].comm_start_s, b[i].ready_s);
  }
  EXPECT_EQ(total, 4.0 * static_cast<double>(w.parameters()));
}

}  // namespace
}  // namespace bitscale

namespace bitscale {
namespace {

TEST(Timeline, MoreBandwidthNeverSlowsAStep) {
  std::mt19937 rng(3);
  const char* workloads[] = {"resnet50", "bert-large", "gpt2-xl", "alexnet"};
  const char* precisions[] = {"fp32", "fp16", "fp8-e4m3", "int8-block"};
  for (int i = 0; i < 80; ++i) {
    const auto w = find_workload(workloads[rng() % 4]);
    auto c = find_cluster(rng() % 2 ? "dgx-a100" : "commodity-a10");
    const double bw = std::pow(10.0, std::uniform_real_distribution<>(-2, 4)(rng));
    auto s = scenario(w, c, c.gpus_per_node << (rng() % 8), precisions[rng() % 4]);
    s.compute = c.default_compute;
    s.storage = default_storage(c.default_compute);
    s.batch = 1 + static_cast<std::int64_t>(rng() % 64);
    c.set_inter_node_gbps_per_gpu(bw);
    const auto slow = make_predictor("timeline")->predict(s);
    c.set_inter_node_gbps_per_gpu(bw * 1.5);
    const auto fast = make_predictor("timeline")->predict(s);
    EXPECT_LE(fast.step_time_s, slow.step_time_s * (1 + 1e-12))
        << w.name << " " << c.name << " " << s.gpus << " " << s.precision.name << " " << bw << " Gb/s";
  }
}

}  // namespace
}  // namespace bitscale

namespace bitscale {
namespace {

// Guard rails: at extreme but valid inputs (one GPU to a million, 1 kbit/s to 10 Tbit/s per GPU) every prediction
// stays finite and positive, and more bandwidth never slows a step.
TEST(Timeline, ExtremeButValidInputsStayFiniteAndMonotone) {
  const auto c0 = find_cluster("dgx-a100");
  for (const char* workload : {"resnet50", "gpt2-xl"}) {
    const auto w = find_workload(workload);
    for (const char* precision : {"fp32", "fp8-e4m3", "int8-block"}) {
      for (std::int64_t gpus : {1, 8, 1024, 1'000'000}) {
        double previous = std::numeric_limits<double>::infinity();
        for (double gbps : {1e-6, 1e-2, 1.0, 100.0, 1e4}) {
          auto c = c0;
          c.set_inter_node_gbps_per_gpu(gbps);
          const auto p = make_predictor("timeline")->predict(scenario(w, c, gpus, precision));
          const std::string at = std::string(workload) + " " + precision + " " + std::to_string(gpus) + " GPUs " +
                                 std::to_string(gbps) + " Gb/s";
          for (double v : {p.step_time_s, p.compute_s, p.comm_s, p.codec_s, p.exposed_comm_s, p.throughput_samples_per_s,
                           p.speedup, p.memory_per_gpu_bytes}) {
            EXPECT_TRUE(std::isfinite(v) && v >= 0) << at << ": " << v;
          }
          EXPECT_GT(p.step_time_s, 0) << at;
          EXPECT_LE(p.step_time_s, previous * (1 + 1e-12)) << at;
          previous = p.step_time_s;
        }
      }
    }
  }
}

}  // namespace
}  // namespace bitscale
