#include "model/cluster.hpp"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <filesystem>
#include <fstream>

#include "kernels/input_error.hpp"

namespace bitscale {
namespace {

// Every number in a shipped profile carries a source: `source.<key>` beside it, or a `source` for its table.
void expect_sourced(const toml::table& t, const std::string& where, bool covered) {
  const bool table_source = t.contains("source") && t.get("source")->is_string();
  const auto* per_key = t.get_as<toml::table>("source");
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "source") continue;
    if (v.is_table()) {
      expect_sourced(*v.as_table(), where + key + ".", covered || table_source);
    } else if (v.is_number() || (v.is_string() && key == "default_compute")) {
      const bool has = covered || table_source || (per_key != nullptr && per_key->contains(key));
      EXPECT_TRUE(has) << where << key << " has no source";
    }
  }
}

TEST(Clusters, ShippedProfilesLoadAndEveryNumberHasASource) {
  const auto names = shipped_cluster_names();
  ASSERT_GE(names.size(), 4u);
  for (auto n : names) {
    const auto c = find_cluster(n);
    EXPECT_EQ(c.name, n);
    expect_sourced(toml::parse(shipped_cluster_text(n)), std::string(n) + ": ", false);
  }
}

TEST(Clusters, DerivedPerGpuNetworkBandwidth) {
  // dgx-a100: 8 NICs x 200 Gb/s over 8 GPUs; dgx1-v100: 4 x 100 over 8; commodity: 1 x 25 over 8
  EXPECT_DOUBLE_EQ(find_cluster("dgx-a100").inter_node_gbps_per_gpu(), 200);
  EXPECT_DOUBLE_EQ(find_cluster("dgx-h100").inter_node_gbps_per_gpu(), 400);
  EXPECT_DOUBLE_EQ(find_cluster("dgx1-v100").inter_node_gbps_per_gpu(), 50);
  EXPECT_DOUBLE_EQ(find_cluster("commodity-a10").inter_node_gbps_per_gpu(), 3.125);
  auto c = find_cluster("commodity-a10");
  c.set_inter_node_gbps_per_gpu(100);
  EXPECT_DOUBLE_EQ(c.inter_node_gbps_per_gpu(), 100);
  EXPECT_FALSE(find_cluster("dgx-a100").supports(ComputePrecision::fp8));
  EXPECT_TRUE(find_cluster("dgx-h100").supports(ComputePrecision::fp8));
}

std::string error_of(const std::string& text) {
  try {
    parse_cluster_toml(text, "bad.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(Clusters, BadProfilesNameTheField) {
  const std::string good(shipped_cluster_text("dgx-a100"));
  EXPECT_EQ(error_of(good), "");
  struct Case {
    std::string from, to, expect;
  };
  const Case cases[] = {
      {"nic_bandwidth_gbps = 200", "nic_bandwidth_gbps = -200", "inter_node.nic_bandwidth_gbps = '-200': must be > 0"},
      {"nic_bandwidth_gbps = 200", "nic_bandwidth_gbps = 0", "inter_node.nic_bandwidth_gbps = '0': must be > 0"},
      {"nic_bandwidth_gbps = 200", "nic_bandwidth_gbps = nan", "must be a number, not NaN"},
      {"nic_bandwidth_gbps = 200", "nic_bandwidth_gbps = inf", "must be finite"},
      {"nic_bandwidth_gbps = 200", "nic_bandwidth_gbps = 1e308", "must be <="},
      {"nic_bandwidth_gbps = 200", "nic_bandwidth_gbps = \"fast\"", "must be a number"},
      {"nic_bandwidth_gbps = 200", "", "inter_node.nic_bandwidth_gbps: missing"},
      {"gpus_per_node = 8", "gpus_per_node = 0", "node.gpus_per_node = '0'"},
      {"gpus_per_node = 8", "gpus_per_node = 8.5", "node.gpus_per_node = '8.5': must be an integer"},
      {"default_compute = \"tf32\"", "default_compute = \"fp8\"", "default_compute = 'fp8'"},
      {"default_compute = \"tf32\"", "default_compute = \"fp64\"", "default_compute = 'fp64': unknown name"},
      {"latency_us = 9.6", "latency_us = 9.6\nbandwith_gbps = 3", "unknown key"},
      {"conv = 0.5", "conv = 1.5", "efficiency.conv = '1.5': must be <= 1"},
      {"[collectives]", "[efficiency.bf16]\nconv = 1.5\n[collectives]", "efficiency.bf16.conv = '1.5': must be <= 1"},
      {"[collectives]", "[efficiency.bf16]\nconv = 0\n[collectives]", "efficiency.bf16.conv = '0': must be > 0"},
      {"[collectives]", "[efficiency.bf16]\nconvolution = 0.5\n[collectives]", "convolution"},
      {"[collectives]", "[efficiency.fp64]\nconv = 0.5\n[collectives]", "fp64"},
      {"memory_gib = 80", "memory_gib = 80\nmemory_gib = 81", "malformed TOML"},
      {"[node]", "[node", "malformed TOML"},
      {"[node]", "[reductions]\nfp16 = 0\n[node]", "reductions.fp16 = '0': must be > 0"},
      {"memory_gib = 80", "memory_gib = 80\nrank_skew = -0.5", "gpu.rank_skew = '-0.5'"},
      {"memory_gib = 80", "memory_gib = 80\nrank_skew = 11", "gpu.rank_skew = '11'"},
      {"memory_gib = 80", "memory_gib = 80\ncomm_launch_s = -0.001", "gpu.comm_launch_s = '-0.001'"},
      {"memory_gib = 80", "memory_gib = 80\ncomm_launch_s = 2", "gpu.comm_launch_s = '2'"},
      {"memory_gib = 80", "memory_gib = 80\ncomm_launch_s = nan", "gpu.comm_launch_s"},
      {"[node]", "[reductions]\nfp17 = 0.5\n[node]", "reductions.fp17"},
      {"[node]", "[reductions]\nfp32 = 0.5\n[node]", "reductions.fp32"},
      {"[node]", "[codec_decode]\ndettmers8 = 0\n[node]", "codec_decode.dettmers8 = '0': must be > 0"},
      {"[node]", "[reduction_sizes.fp16]\nbytes = [1e6, 1e6]\nns_per_byte = [2, 1]\n[node]",
       "reduction_sizes.fp16.bytes[1] = '1000000': sizes must grow"},
      {"[node]", "[reduction_sizes.fp16]\nbytes = [1e6, 2e6]\nns_per_byte = [2]\n[node]",
       "reduction_sizes.fp16.ns_per_byte: has 1 values for 2 sizes"},
      {"[node]", "[reduction_sizes.fp16]\nbytes = [1e6, 2e6]\nns_per_byte = [2, -1]\n[node]",
       "reduction_sizes.fp16.ns_per_byte[1] = '-1': must be a finite number in [0, 1e+06]"},
      {"[node]", "[reduction_sizes.fp16]\nbytes = [0, 2e6]\nns_per_byte = [2, 1]\n[node]",
       "reduction_sizes.fp16.bytes[0] = '0'"},
      {"[node]", "[reduction_sizes.fp16]\nbytes = [1e6, \"2e6\"]\nns_per_byte = [2, 1]\n[node]",
       "reduction_sizes.fp16.bytes[1]: must be a number"},
      {"[node]", "[reduction_sizes.fp16]\nbytes = []\nns_per_byte = []\n[node]",
       "reduction_sizes.fp16.bytes: must be a non-empty list"},
      {"[node]", "[reduction_sizes.fp16]\nns_per_byte = [2]\n[node]", "reduction_sizes.fp16.bytes"},
      {"[node]", "[reduction_sizes.fp17]\nbytes = [1e6]\nns_per_byte = [2]\n[node]", "reduction_sizes.fp17"},
      {"[node]", "[reduction_sizes.fp32]\nbytes = [1e6]\nns_per_byte = [2]\n[node]", "reduction_sizes.fp32"},
      {"[node]", "[reduction_sizes.fp16]\nbytes = [1e6]\nns_per_byte = [2]\nns = [1]\n[node]", "unknown key"},
      {"[node]", "[codec_encode]\ndettmers9 = 2\n[node]", "codec_encode.dettmers9"},
      {"[node]", "[contention.fp16]\ncompute_during_comm = 1.5\ncomm_during_compute = 0.5\n[node]",
       "contention.fp16.compute_during_comm = '1.5': must be <= 1"},
      {"[node]", "[contention.fp16]\ncompute_during_comm = 0.5\ncomm_during_compute = 0.001\n[node]",
       "contention.fp16.comm_during_compute = '0.001': must be in [0.01, 1]"},
      {"[node]", "[contention.fp16]\ncompute_during_comm = 0.5\n[node]", "contention.fp16.comm_during_compute: missing"},
      {"[node]", "[contention.fp17]\ncompute_during_comm = 0.5\ncomm_during_compute = 0.5\n[node]", "contention.fp17"},
      {"compute = 0.3", "compute = 1.5", "uncertainty.compute = '1.5': must be <= 1"},
      {"compute = 0.3", "compute = -0.1", "uncertainty.compute = '-0.1"},
      {"compute = 0.3", "computing = 0.3", "unknown key"},
  };
  for (const auto& c : cases) {
    const auto message = error_of(replace(good, c.from, c.to));
    EXPECT_NE(message.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  }
}

// A profile built in code (as calibration builds one) is checked as a file is: a sum-cost table that would not load
// again is refused before it is written.
TEST(Clusters, ValidateRefusesASumCostTableTheReaderWouldRefuse) {
  struct Case {
    ReductionCurve curve;
    std::string expect;
  };
  const Case cases[] = {
      {{{2e6, 1e6}, {1, 1}}, "reduction_sizes.fp16.bytes[1] = '1000000': sizes must be in (0, 1e+15] and grow"},
      {{{1e6, 2e6}, {1, 2e6}}, "reduction_sizes.fp16.ns_per_byte[1] = '2000000'"},
      {{{1e6, 2e6}, {1, -1}}, "reduction_sizes.fp16.ns_per_byte[1] = '-1'"},
      {{{1e6, 2e6}, {1}}, "reduction_sizes.fp16.ns_per_byte: has 1 values for 2 sizes"},
      {{{}, {}}, "reduction_sizes.fp16.ns_per_byte: has 0 values for 0 sizes"},
  };
  for (const auto& c : cases) {
    auto profile = find_cluster("dgx-a100");
    profile.reduction_by_size["fp16"] = c.curve;
    try {
      profile.validate();
      ADD_FAILURE() << "accepted: " << c.expect;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
    }
  }
  auto good = find_cluster("dgx-a100");
  good.reduction_by_size["fp16"] = {{1e6, 2e6}, {0, 3}};
  EXPECT_NO_THROW(good.validate());
}

TEST(Clusters, NamesFilesAndDirectories) {
  try {
    find_cluster("dgx-a200");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(e.rule().find("dgx-a100"), std::string::npos);
    EXPECT_NE(e.rule().find("commodity-a10"), std::string::npos);
  }
  EXPECT_THROW(find_cluster("/nonexistent/profile.toml"), InputError);
  EXPECT_THROW(find_cluster(std::filesystem::temp_directory_path().string()), InputError);
  const auto path = std::filesystem::temp_directory_path() / "bitscale-user-profile.toml";
  {
    std::ofstream out(path);
    out << replace(std::string(shipped_cluster_text("dgx-a100")), "name = \"dgx-a100\"", "name = \"mine\"");
  }
  EXPECT_EQ(find_cluster(path.string()).name, "mine");
  std::filesystem::remove(path);
}

TEST(Clusters, WrittenProfilesReadBackWithTheirSources) {
  for (auto n : shipped_cluster_names()) {
    auto c = find_cluster(n);
    c.intra_node_regimes = {{65536, 100, 2}, {1e18, 2000, 8}};
    c.sources["intra_node.regime"] = "test: two regimes";
    c.layer_gflops["fp32 conv 3x32 k3 s1 p1 32x32 b32"] = 12.5;
    c.layer_gflops["fp32 linear 784x1024 b256"] = 30.25;
    c.sources["layer_rates"] = "test: two measured layers";
    c.reduction_gbyte_per_s["fp16"] = 0.125;
    c.rank_skew = 0.0625;
    c.sources["gpu.rank_skew"] = "test: ranks out of step";
    c.comm_launch_s = 0.00375;
    c.sources["gpu.comm_launch_s"] = "test: a scheduler slice per wake-up";
    c.sources["reductions"] = "test: a slow fp16 sum";
    c.reduction_by_size["bf16"] = {{65536, 1048576, 8388608}, {0, 12.5, 7.25}};
    c.sources["reduction_sizes"] = "test: a sum's cost by size";
    c.codec_encode_gbyte_per_s["dettmers8"] = 1.25;
    c.codec_decode_gbyte_per_s["dettmers8"] = 10.5;
    c.sources["codec_encode"] = "test: a slow encode";
    c.sources["codec_decode"] = "test: a fast decode";
    c.efficiency_by_compute[static_cast<int>(ComputePrecision::bf16)][static_cast<int>(LayerKind::conv)] = 0.3125;
    c.efficiency_by_compute[static_cast<int>(ComputePrecision::fp32)][static_cast<int>(LayerKind::linear)] = 0.75;
    c.sources["efficiency.bf16"] = "test: bf16 convolutions measured apart";
    c.sources["efficiency.fp32"] = "test: fp32 products measured apart";
    c.contention_by_format["fp16"] = {0.25, 0.375};
    c.contention_by_format["fp8-e4m3"] = {0.5, 0.625};
    c.sources["contention.fp16"] = "test: a busier fp16 sum";
    c.sources["contention.fp8-e4m3"] = "test: a busier fp8 sum";
    const auto text = to_toml(c);
    const auto back = parse_cluster_toml(text, "written.toml");
    EXPECT_EQ(back.name, c.name);
    EXPECT_EQ(back.gpu_model, c.gpu_model);
    EXPECT_EQ(back.peak_tflops, c.peak_tflops);
    EXPECT_EQ(back.efficiency, c.efficiency);
    EXPECT_EQ(back.efficiency_by_compute, c.efficiency_by_compute);
    EXPECT_EQ(back.efficiency_for(ComputePrecision::bf16, LayerKind::conv), 0.3125);
    EXPECT_EQ(back.efficiency_for(ComputePrecision::bf16, LayerKind::linear), c.efficiency[1]);
    EXPECT_EQ(back.intra_node_gbps, c.intra_node_gbps);
    EXPECT_EQ(back.inter_node_gbps_per_gpu(), c.inter_node_gbps_per_gpu());
    EXPECT_EQ(back.allreduce_algorithm_mask, c.allreduce_algorithm_mask);
    ASSERT_EQ(back.intra_node_regimes.size(), 2u);
    EXPECT_EQ(back.intra_node_regimes[1].bandwidth_gbps, 2000);
    EXPECT_EQ(back.layer_gflops, c.layer_gflops);
    EXPECT_EQ(back.reduction_gbyte_per_s, c.reduction_gbyte_per_s);
    ASSERT_EQ(back.reduction_by_size.count("bf16"), 1u);
    EXPECT_EQ(back.reduction_by_size.at("bf16").bytes, c.reduction_by_size.at("bf16").bytes);
    EXPECT_EQ(back.reduction_by_size.at("bf16").ns_per_byte, c.reduction_by_size.at("bf16").ns_per_byte);
    EXPECT_EQ(back.sources.at("reduction_sizes"), "test: a sum's cost by size");
    EXPECT_EQ(back.codec_encode_gbyte_per_s, c.codec_encode_gbyte_per_s);
    EXPECT_EQ(back.codec_decode_gbyte_per_s, c.codec_decode_gbyte_per_s);
    EXPECT_EQ(back.rank_skew, c.rank_skew);
    EXPECT_EQ(back.comm_launch_s, 0.00375);
    ASSERT_EQ(back.contention_by_format.size(), 2u);
    EXPECT_EQ(back.contention_for("fp16").compute_during_comm, 0.25);
    EXPECT_EQ(back.contention_for("fp16").comm_during_compute, 0.375);
    EXPECT_EQ(back.contention_for("fp8-e4m3").comm_during_compute, 0.625);
    EXPECT_EQ(back.contention_for("bf16").compute_during_comm, c.compute_during_comm);
    c.uncertainty.memory_bandwidth = 0.125;  // each field apart, so a swap of two shows
    const auto& u = parse_cluster_toml(to_toml(c), "written.toml").uncertainty;
    EXPECT_EQ(u.compute, c.uncertainty.compute);
    EXPECT_EQ(u.memory_bandwidth, 0.125);
    EXPECT_EQ(u.codecs, c.uncertainty.codecs);
    EXPECT_EQ(u.node_bandwidth, c.uncertainty.node_bandwidth);
    EXPECT_EQ(u.node_latency, c.uncertainty.node_latency);
    EXPECT_EQ(u.network_bandwidth, c.uncertainty.network_bandwidth);
    EXPECT_EQ(u.network_latency, c.uncertainty.network_latency);
    EXPECT_EQ(back.sources, c.sources);
    expect_sourced(toml::parse(text), std::string(n) + " written: ", false);
  }
}

}  // namespace
}  // namespace bitscale
