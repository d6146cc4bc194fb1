// The alpha-beta predictor: limits that must hold exactly, consistency of the contract fields, and the
// crossover where gathering 8-bit gradients loses to a 16-bit allreduce, computed here independently.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/input_error.hpp"
#include "model/compute.hpp"
#include "predictors/predictor.hpp"

namespace bitscale {
namespace {

struct Bench {
  Workload workload = find_workload("resnet50");
  ClusterProfile cluster = find_cluster("dgx-a100");
  std::unique_ptr<Predictor> predictor = make_predictor("alpha-beta");

  Prediction run(std::int64_t gpus, const std::string& precision, Overlap overlap = Overlap::perfect,
                 std::optional<Algorithm> algorithm = std::nullopt) const {
    Scenario s;
    s.workload = &workload;
    s.cluster = &cluster;
    s.gpus = gpus;
    s.precision = find_wire_format(precision);
    s.compute = ComputePrecision::fp16;
    s.storage = StoragePolicy::amp;
    s.optimizer = Optimizer::momentum;
    s.batch = 64;
    s.overlap = overlap;
    s.algorithm = algorithm;
    return predictor->predict(s);
  }
};

TEST(AlphaBeta, OneGpuHasSpeedupOneAndNoCommunication) {
  const Bench s;
  for (const char* p : {"fp32", "fp16", "fp8-e4m3", "int8-block", "dettmers8", "e4m10"}) {
    const auto r = s.run(1, p);
    EXPECT_DOUBLE_EQ(r.speedup, 1.0) << p;
    EXPECT_DOUBLE_EQ(r.efficiency, 1.0) << p;
    EXPECT_EQ(r.comm_s, 0) << p;
    EXPECT_EQ(r.codec_s, 0) << p;
    EXPECT_EQ(r.exposed_comm_s, 0) << p;
    EXPECT_EQ(r.step_time_s, r.compute_s) << p;
    EXPECT_EQ(r.algorithm, "none");
  }
}

TEST(AlphaBeta, UnboundedBandwidthAndZeroLatencyGiveLinearSpeedup) {
  Bench s;
  s.cluster.intra_node_gbps = 1e15;
  s.cluster.nic_gbps = 1e15;
  s.cluster.intra_node_latency_us = 0;
  s.cluster.inter_node_latency_us = 0;
  for (std::int64_t gpus = 1; gpus <= 4096; gpus *= 2) {
    const auto r = s.run(gpus, "fp32", Overlap::none);
    EXPECT_NEAR(r.speedup, static_cast<double>(gpus), 1e-6 * static_cast<double>(gpus)) << gpus;
  }
}

TEST(AlphaBeta, Fp16MovesHalfTheBytesOfFp32) {
  const Bench s;
  for (std::int64_t gpus : {2, 8, 64, 1024}) {
    const auto fp32 = s.run(gpus, "fp32");
    const auto fp16 = s.run(gpus, "fp16");
    // 25,557,032 parameters: 4 bytes each in fp32, 2 in fp16
    EXPECT_DOUBLE_EQ(fp32.wire_bytes_per_step, 4.0 * 25'557'032);
    EXPECT_DOUBLE_EQ(fp16.wire_bytes_per_step * 2, fp32.wire_bytes_per_step);
    EXPECT_LE(fp16.comm_s, fp32.comm_s);
  }
}

TEST(AlphaBeta, ContractFieldsAreConsistent) {
  const Bench s;
  const auto one = s.run(1, "fp16");
  for (std::int64_t gpus : {8, 64, 512}) {
    for (const char* p : {"fp32", "fp16", "fp8-e5m2", "int8-block"}) {
      for (auto overlap : {Overlap::none, Overlap::perfect}) {
        const auto r = s.run(gpus, p, overlap);
        EXPECT_NEAR(r.throughput_samples_per_s, static_cast<double>(gpus * r.batch) / r.step_time_s, 1e-9 * r.throughput_samples_per_s);
        EXPECT_NEAR(r.speedup, r.throughput_samples_per_s / one.throughput_samples_per_s, 1e-12 * r.speedup);
        EXPECT_NEAR(r.efficiency, r.speedup / static_cast<double>(gpus), 1e-15);
        EXPECT_NEAR(r.exposed_comm_s, r.step_time_s - r.compute_s, 1e-15);
        EXPECT_GE(r.exposed_comm_s, 0);
        EXPECT_NEAR(r.step_time_no_overlap_s, r.compute_s + r.codec_s + r.comm_s, 1e-15);
        EXPECT_NEAR(r.step_time_perfect_overlap_s,
                    r.forward_s + r.optimizer_s + std::max(r.backward_s + r.codec_s, r.comm_s), 1e-15);
        EXPECT_LE(r.step_time_perfect_overlap_s, r.step_time_no_overlap_s);
        EXPECT_EQ(r.fits_in_memory, r.memory_per_gpu_bytes <= r.gpu_memory_bytes);
        EXPECT_EQ(r.nodes, gpus / 8);
        // 25,557,032 * 4 B = 102,228,128 B in 25 MiB buckets: 3 full + 1 partial
        EXPECT_EQ(r.buckets, 4);
      }
    }
  }
}

TEST(AlphaBeta, MoreBandwidthNeverSlowsAStep) {
  Bench s;
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> log_bw(-3, 5);
  const char* precisions[] = {"fp32", "fp16", "fp8-e4m3", "int8-block", "dettmers8"};
  for (int i = 0; i < 200; ++i) {
    const double lo = std::pow(10.0, log_bw(rng));
    const double hi = lo * (1 + std::uniform_real_distribution<double>(0, 10)(rng));
    const auto gpus = std::int64_t{8} << (rng() % 10);
    const char* p = precisions[rng() % 5];
    s.cluster.set_inter_node_gbps_per_gpu(lo);
    const auto slow = s.run(gpus, p);
    s.cluster.set_inter_node_gbps_per_gpu(hi);
    const auto fast = s.run(gpus, p);
    EXPECT_LE(fast.step_time_s, slow.step_time_s) << p << " " << gpus << " " << lo << " " << hi;
    EXPECT_TRUE(std::isfinite(slow.step_time_s));
  }
}

// The gather-based 8-bit path against a 16-bit ring allreduce, on one flat level (a 4096-GPU "node" so no
// level changes), one bucket holding the whole gradient. Independently of the predictor, with e values,
// B bytes/s, alpha, H = codec rate (bytes/s):
//   int8-block: (p-1)(alpha + w/B) + (4e + w)/H + (p-1)(w + 8e)/H,   w = e + 4 ceil(e/256)
//   fp16 ring:  2(p-1) alpha + 2(p-1)/p * 2e/B + 2 (4e + 2e)/H
TEST(AlphaBeta, GatheredInt8LosesToFp16AllreducePastACrossover) {
  Bench s;
  s.workload = find_workload("mlp:4096,4096,4096");  // 33,562,624 parameters
  s.cluster.gpus_per_node = 4096;
  s.cluster.intra_node_gbps = 800;  // 1e11 B/s
  s.cluster.intra_node_latency_us = 5;
  const double e = static_cast<double>(s.workload.parameters());
  const double bucket = 4 * e;  // one bucket
  const double b = 1e11, alpha = 5e-6;
  const double h = s.cluster.hbm_gbyte_per_s * 1e9 * s.cluster.codec_hbm_efficiency;
  const double w = e + 4 * std::ceil(e / 256);
  auto gather = [&](double p) { return (p - 1) * (alpha + w / b) + (4 * e + w) / h + (p - 1) * (w + 8 * e) / h; };
  auto ring16 = [&](double p) { return 2 * (p - 1) * alpha + 2 * (p - 1) / p * 2 * e / b + 2 * (6 * e) / h; };
  std::int64_t crossover = 0;
  for (std::int64_t p = 2; p <= 4096 && crossover == 0; p *= 2) {
    if (gather(static_cast<double>(p)) > ring16(static_cast<double>(p))) crossover = p;
  }
  ASSERT_GT(crossover, 2) << "the test setup should let 8 bits win at 2 GPUs";
  ASSERT_NE(crossover, 0);

  auto predict = [&](std::int64_t gpus, const char* precision) {
    Scenario sc;
    sc.workload = &s.workload;
    sc.cluster = &s.cluster;
    sc.gpus = gpus;
    sc.precision = find_wire_format(precision);
    sc.compute = ComputePrecision::fp16;
    sc.storage = StoragePolicy::amp;
    sc.batch = 1;
    sc.bucket_bytes = bucket;
    sc.overlap = Overlap::none;
    if (sc.precision.summable) sc.algorithm = Algorithm::ring;
    return s.predictor->predict(sc);
  };
  for (std::int64_t p = 2; p <= 4096; p *= 2) {
    const auto int8 = predict(p, "int8-block");
    const auto fp16 = predict(p, "fp16");
    EXPECT_NEAR(int8.comm_s + int8.codec_s, gather(static_cast<double>(p)), 1e-12) << p;
    EXPECT_NEAR(fp16.comm_s + fp16.codec_s, ring16(static_cast<double>(p)), 1e-12) << p;
    if (p < crossover) {
      EXPECT_LT(int8.step_time_s, fp16.step_time_s) << p;
    } else {
      EXPECT_GT(int8.step_time_s, fp16.step_time_s) << p;
    }
  }
}

// Every term by hand on a small fabric: one Linear(1000, 1000) (1,001,000 parameters), 4 GPUs in one node
// (1e11 B/s, 1 us per step), memory 1e12 B/s, codec kernels at half of it, fp16 compute at 100 TFLOP/s with
// efficiency 0.5, batch 100, 1 MiB buckets = 262,144 values: 3 full buckets and one of 214,568 values.
struct Small {
  Workload workload;
  ClusterProfile cluster;
  Small() {
    workload.name = "one-linear";
    NetBuilder(workload).linear("fc", 1000, 1000);
    cluster.name = "small";
    cluster.gpu_model = "test";
    cluster.gpu_memory_gib = 16;
    cluster.memory_reserved_gib = 0.5;
    cluster.hbm_gbyte_per_s = 1000;
    cluster.codec_hbm_efficiency = 0.5;
    cluster.peak_tflops[static_cast<int>(ComputePrecision::fp32)] = 10;
    cluster.peak_tflops[static_cast<int>(ComputePrecision::fp16)] = 100;
    cluster.efficiency.fill(0.5);
    cluster.gpus_per_node = 4;
    cluster.intra_node_gbps = 800;
    cluster.intra_node_latency_us = 1;
    cluster.nics_per_node = 1;
    cluster.nic_gbps = 100;
    cluster.inter_node_latency_us = 10;
  }
  Prediction run(const char* precision) const {
    Scenario s;
    s.workload = &workload;
    s.cluster = &cluster;
    s.gpus = 4;
    s.precision = find_wire_format(precision);
    s.compute = ComputePrecision::fp16;
    s.storage = StoragePolicy::amp;
    s.optimizer = Optimizer::momentum;
    s.batch = 100;
    s.bucket_bytes = 1048576;
    s.overlap = Overlap::none;
    if (s.precision.summable) s.algorithm = Algorithm::ring;
    return make_predictor("alpha-beta")->predict(s);
  }
};

TEST(AlphaBeta, Fp8WithApsAndAPartialBucketByHand) {
  const Small small;
  const auto p = small.run("fp8-e4m3");
  EXPECT_EQ(p.buckets, 4);
  // ring allreduce of the 1-byte codes (the 4-byte scale goes in its own allreduce):
  //   full: 2*3*1 us + 2*3/4 * 262,144 / 1e11; partial: 6 us + 1.5 * 214,568 / 1e11
  // APS scalar, fastest (halving-doubling): 2*2*1 us + 1.5 * 4 / 1e11 per bucket
  const double aps = 4e-6 + 1.5 * 4 / 1e11;
  const double comm = 3 * (6e-6 + 1.5 * 262144 / 1e11 + aps) + (6e-6 + 1.5 * 214568 / 1e11 + aps);
  EXPECT_NEAR(p.comm_s, comm, 1e-15);
  // codec at 5e11 B/s: encode + decode 2 * (4e + w) with w = e + 4, plus the APS max pass 4e
  const double codec = 3 * (2.0 * (1048576 + 262148) + 1048576) / 5e11 + (2.0 * (858272 + 214572) + 858272) / 5e11;
  EXPECT_NEAR(p.codec_s, codec, 1e-15);
  EXPECT_DOUBLE_EQ(p.wire_bytes_per_step, 3 * 262148 + 214572);
  // compute: forward max(2e6*100 / 50e12 = 4 us, (1,001,000*2 + 2*1000*100*2) / 1e12 = 2.402 us) = 4 us,
  // backward 8 us, optimizer (amp, momentum) 1,001,000 * (2*(2+4+4) + 2) / 1e12 = 22.022 us
  EXPECT_NEAR(p.compute_s, 34.022e-6, 1e-15);
  EXPECT_NEAR(p.step_time_s, 34.022e-6 + codec + comm, 1e-15);
  // the fp32 1-GPU baseline: forward 2e6*100 / 5e12 = 40 us, backward 80 us, optimizer (fp32, momentum)
  // 1,001,000 * (2*(4+0+4) + 4) / 1e12 = 20.02 us
  EXPECT_NEAR(p.speedup_vs_fp32_1gpu, 4 * 140.02e-6 / p.step_time_s, 1e-9);
  // memory: 1,001,000 * 12 B (amp, momentum) + 1000*100*2 B activations + 1 MiB bucket + its 262,148-byte wire copy
  EXPECT_DOUBLE_EQ(p.memory_per_gpu_bytes, 12'012'000 + 200'000 + 1048576 + 262148 + 0.5 * 1073741824.0);
}

TEST(AlphaBeta, GatheredBuffersByHand) {
  const Small small;
  const auto p = small.run("int8-block");
  EXPECT_EQ(p.algorithm, "gather");
  // full bucket on the wire: 262,144 codes + 1024 scales of 4 bytes = 266,240; every rank holds all 4 copies
  EXPECT_DOUBLE_EQ(p.memory_per_gpu_bytes, 12'012'000 + 200'000 + 1048576 + 4 * 266240 + 0.5 * 1073741824.0);
  // gather: ring allgather of 4 x w: 3 * 1 us + 3 * w / 1e11; the partial bucket has 214,568 + 4*839 bytes
  const double comm = 3 * (3e-6 + 3.0 * 266240 / 1e11) + (3e-6 + 3.0 * (214568 + 4 * 839) / 1e11);
  EXPECT_NEAR(p.comm_s, comm, 1e-15);
}

// Each direction at its own rate ([codec_encode], [codec_decode]): every gathered bucket is encoded once and
// decoded and accumulated 3 times (4 GPUs). Over the four buckets: 4,004,000 fp32 bytes and 3 x 266,240 +
// 214,568 + 4 x 839 = 1,016,644 wire bytes (GatheredBuffersByHand).
TEST(AlphaBeta, GatheredCodecDirectionsAtTheirOwnRates) {
  Small small;
  small.cluster.codec_encode_gbyte_per_s["int8-block"] = 2;
  small.cluster.codec_decode_gbyte_per_s["int8-block"] = 8;
  const auto p = small.run("int8-block");
  const double fp32 = 4'004'000, wire = 1'016'644;
  EXPECT_NEAR(p.codec_s, (fp32 + wire) / 2e9 + 3 * (wire + 2 * fp32) / 8e9, 1e-12);
}

TEST(AlphaBeta, BadScenarios) {
  const Bench s;
  EXPECT_THROW(s.run(12, "fp16"), InputError);  // not a whole number of 8-GPU nodes
  EXPECT_THROW(s.run(0, "fp16"), InputError);
  EXPECT_THROW(s.run(8, "int8-block", Overlap::perfect, Algorithm::ring), InputError);
  Scenario sc;
  sc.workload = &s.workload;
  sc.cluster = &s.cluster;
  sc.precision = find_wire_format("fp16");
  sc.compute = ComputePrecision::fp8;  // A100 has no fp8 rate
  try {
    s.predictor->predict(sc);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "--compute");
    EXPECT_NE(e.rule().find("tf32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_predictor("timeline-2"), InputError);
}

TEST(AlphaBeta, ExtremeButValidInputsStayFinite) {
  Bench s;
  for (double gbps : {1e-6, 1e4}) {
    s.cluster.set_inter_node_gbps_per_gpu(gbps);
    for (std::int64_t gpus : {1, 8, 1 << 20}) {
      for (const char* p : {"fp32", "dettmers8"}) {
        const auto r = s.run(gpus, p);
        EXPECT_TRUE(std::isfinite(r.step_time_s) && r.step_time_s > 0) << gbps << " " << gpus << " " << p;
        EXPECT_TRUE(std::isfinite(r.memory_per_gpu_bytes));
      }
    }
  }
}

}  // namespace
}  // namespace bitscale
