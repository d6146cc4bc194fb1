// Cluster profile: the GPU (memory, HBM bandwidth, peak rate per compute precision, achieved fraction per
// layer kind), the node (GPUs per node, intra-node link per GPU) and the network (NICs per node, NIC
// bandwidth, latency). Shipped profiles live in data/clusters/*.toml (compiled into the binary) with a
// `source` for every number; users pass their own file by path.
//
// Bandwidths are unidirectional and in Gbit/s (`_gbps`), latencies in microseconds (`_us`), HBM in GB/s.
// The inter-node bandwidth per GPU is nics_per_node * nic_bandwidth_gbps / gpus_per_node; `--bandwidth-gbps`
// overrides it (set_inter_node_gbps_per_gpu).
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <map>
#include <vector>

#include "model/precision.hpp"
#include "model/workload.hpp"

namespace bitscale {

// A link's parameters for collectives of up to max_bytes (calibration fits piecewise regimes where a protocol
// switch bends the curve); the last regime covers every larger size.
struct LinkRegime {
  double max_bytes = 0;
  double bandwidth_gbps = 0;  // per GPU
  double latency_us = 0;
};

// How well each group of a profile's numbers is known: the relative standard uncertainty (one standard deviation
// of the number's logarithm: 0.1 = about +-10%) of the compute rates (peak x efficiency and measured layer rates),
// the memory bandwidth, the codec and reduction rates, the links in a node and the network (bandwidth and
// latency apart). Shipped datasheet profiles state it; calibration derives it from its fits' residuals and its
// repeated measurements. 0: not stated (no spread). [uncertainty], optional; predictors/uncertainty.hpp
// propagates it through a predictor.
struct ParameterUncertainty {
  double compute = 0, memory_bandwidth = 0, codecs = 0;
  double node_bandwidth = 0, node_latency = 0, network_bandwidth = 0, network_latency = 0;
  bool stated() const {
    return compute > 0 || memory_bandwidth > 0 || codecs > 0 || node_bandwidth > 0 || node_latency > 0 ||
           network_bandwidth > 0 || network_latency > 0;
  }
};

// A format's sum cost by size (ClusterProfile::reduction_by_size): bytes ascending, ns_per_byte >= 0 at each.
struct ReductionCurve {
  std::vector<double> bytes, ns_per_byte;
};

struct ClusterProfile {
  std::string name;
  std::string description;
  std::string source;  // the file it came from ("shipped:dgx-a100" for an embedded profile)

  // GPU
  std::string gpu_model;
  double gpu_memory_gib = 0;
  double memory_reserved_gib = 0;  // CUDA context and allocator reserve, not available to the model
  double hbm_gbyte_per_s = 0;
  std::array<double, kComputePrecisionCount> peak_tflops{};  // 0: the GPU has no such rate
  ComputePrecision default_compute = ComputePrecision::fp32;
  std::array<double, kLayerKindCount> efficiency{};  // achieved fraction of peak per layer kind
  // the same for one compute precision where it was measured apart ([efficiency.bf16] and so on: a GPU's matrix
  // units reach a different fraction of each precision's peak); 0: efficiency[kind] holds
  std::array<std::array<double, kLayerKindCount>, kComputePrecisionCount> efficiency_by_compute{};
  double codec_hbm_efficiency = 0;                    // fraction of HBM bandwidth codec kernels reach
  // fraction of the compute rate left while a collective runs (communication takes SMs on a GPU, cores on CPU
  // ranks); 1: none lost. Calibration measures it on CPU ranks; [gpu] compute_during_comm, optional
  double compute_during_comm = 1.0;
  // fraction of a collective's speed left while compute runs (CPU ranks: the compute thread takes the cores the
  // collective's copies, sums and TCP stack need); 1: none lost. [gpu] comm_during_compute, optional
  double comm_during_compute = 1.0;
  // the same two fractions for a collective that sums one wire format, where they were measured apart
  // ([contention.fp16] and so on: a CPU library summing fp16 values one by one keeps the cores busier than its
  // fp32 sum, so compute and the collective slow each other more); a format not listed takes the pair above
  struct Contention {
    double compute_during_comm = 1.0, comm_during_compute = 1.0;
  };
  std::map<std::string, Contention> contention_by_format;
  // how much later than the typical rank the slowest of the data-parallel ranks finishes the same compute
  // (E[max / median] - 1 over the ranks): each collective waits for it, so it paces the step. 0: ranks in step
  // (the shipped profiles); CPU ranks sharing cores calibrate it. [gpu] rank_skew, optional
  double rank_skew = 0.0;
  // the compute time a CPU rank loses each time it hands a collective to its communication thread while that
  // thread sleeps (on shared cores the woken thread, which spins in the collective, takes the poster's core for a
  // scheduler slice), in seconds; the timeline charges it on the compute stream once per collective that finds
  // the communication stream idle. 0: none (GPUs, the shipped profiles). [gpu] comm_launch_s, optional
  double comm_launch_s = 0.0;
  // the host probe a CPU calibration took beside its layers' measurement (fp32 GEMM 512^3 sustained over 5 blocks
  // of at least 50 ms, every rank at once, median over ranks; a median of 9 single GEMMs in profiles before
  // commit 9d44696), in GFLOP/s: the runs take the same probe, and their ratio is the host's speed
  // against its calibration (validate). 0: not taken (the shipped profiles, older calibrations). [gpu] probe_gflops
  double probe_gflops = 0.0;

  // node
  std::int64_t gpus_per_node = 0;
  std::string intra_node_kind;
  double intra_node_gbps = 0;  // per GPU, one direction
  double intra_node_latency_us = 0;

  // network
  std::string inter_node_kind;
  std::int64_t nics_per_node = 0;
  double nic_gbps = 0;
  double inter_node_latency_us = 0;
  // fabric shape (model/topology.hpp): "fat-tree" (a node's NICs on one leaf switch) or "rail-optimized" (NIC i of
  // every node on rail switch i); nodes_per_leaf nodes per leaf; leaf uplinks carry 1/oversubscription of what
  // their ports bring in
  std::string network_topology = "fat-tree";
  std::int64_t nodes_per_leaf = 32;
  double oversubscription = 1.0;

  // measured codec throughput (bytes read + written per second, in GB/s) by codec name; codecs not listed run at
  // codec_hbm_efficiency x hbm_gbyte_per_s
  std::map<std::string, double> codec_gbyte_per_s;
  // the same for one direction alone, where calibration timed them apart ([codec_encode], [codec_decode]): a codec
  // whose decode is much faster than its encode (a table look-up against a table search) is charged each at its
  // own rate; a codec listed in neither runs both at codec_gbyte_per_s
  std::map<std::string, double> codec_encode_gbyte_per_s, codec_decode_gbyte_per_s;

  // measured forward + backward rates (FLOP/s of 3x the forward FLOPs) of layers by shape, precision and batch
  // (layer_shape_key in model/compute.hpp), in GFLOP/s: a layer found here runs at its measured rate instead of
  // the roofline (calibrate --layers-of measures a workload's layers)
  std::map<std::string, double> layer_gflops;

  // the collective library's sums of wire formats it cannot add as fast as fp32 (a CPU summing fp16 codes one
  // by one), in GB/s of wire bytes: an allreduce of n wire bytes over p ranks spends (p-1)/p x n / rate in them
  // beyond what the fp32 link fit holds (model/compute.hpp reduction_seconds; calibration measures it by
  // timing the format's allreduce beside fp32's). Formats not listed add nothing.
  std::map<std::string, double> reduction_gbyte_per_s;
  // the same sums' cost at each calibrated size ([reduction_sizes.FORMAT] bytes, ns_per_byte): nanoseconds per
  // byte of the (p-1)/p x n each rank adds, at sizes in ascending order; between two sizes the cost per byte is
  // interpolated in log(bytes), beyond the ends it is the end's. A format listed here is charged by it, not by
  // reduction_gbyte_per_s (which then only summarises it): a sum's cost per byte depends on the size
  std::map<std::string, ReductionCurve> reduction_by_size;

  // optional piecewise link parameters by collective size (empty: the single values above hold for all sizes)
  std::vector<LinkRegime> intra_node_regimes, inter_node_regimes;  // inter: bandwidth per GPU

  ParameterUncertainty uncertainty;

  // where each number came from: dotted field ("gpu.memory_gib") or table ("gpu.peak_tflops") -> source
  std::map<std::string, std::string> sources;

  // collectives: the allreduce algorithms the cluster's library runs (bit i: Algorithm i of collectives.hpp,
  // ring, tree, halving-doubling, hierarchical); NCCL runs ring and tree
  std::string collective_library = "any";
  std::uint32_t allreduce_algorithm_mask = 0xF;

  double inter_node_gbps_per_gpu() const {
    return static_cast<double>(nics_per_node) * nic_gbps / static_cast<double>(gpus_per_node);
  }
  // Replaces the network by one of x Gbit/s per GPU (one NIC per GPU).
  void set_inter_node_gbps_per_gpu(double gbps);
  double peak_flops(ComputePrecision p) const { return peak_tflops[static_cast<std::size_t>(p)] * 1e12; }
  // The achieved fraction of peak of a layer kind in a compute precision: [efficiency.<compute>] where it lists
  // the kind, else [efficiency].
  double efficiency_for(ComputePrecision p, LayerKind k) const {
    const double e = efficiency_by_compute[static_cast<std::size_t>(p)][static_cast<std::size_t>(k)];
    return e > 0 ? e : efficiency[static_cast<std::size_t>(k)];
  }
  // The contention fractions of a collective in wire format `format`: [contention.<format>] where measured, else
  // the [gpu] pair.
  Contention contention_for(const std::string& format) const {
    const auto it = contention_by_format.find(format);
    return it != contention_by_format.end() ? it->second : Contention{compute_during_comm, comm_during_compute};
  }
  bool supports(ComputePrecision p) const { return peak_tflops[static_cast<std::size_t>(p)] > 0; }
  void validate() const;
};

ClusterProfile parse_cluster_toml(std::string_view text, const std::string& source);
// The profile as TOML in the shipped layout, with its sources: parse_cluster_toml(to_toml(c)) == c.
std::string to_toml(const ClusterProfile& c);
// A shipped name or a path to a TOML profile. Throws InputError listing the shipped names.
ClusterProfile find_cluster(std::string_view name_or_path, std::string_view field = "--cluster");
std::span<const std::string_view> shipped_cluster_names();
std::string_view shipped_cluster_text(std::string_view name);  // "" if unknown

}  // namespace bitscale
