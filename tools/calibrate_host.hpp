// From measurements of CPU ranks to a cluster profile: what `calibrate --backend mpi|gloo` measures with
// bitscale's own kernels and what `calibrate --from-engine` reads from another engine's microbenchmarks
// (tools/ddp_train.py calibrate) become a profile the same way.
//  - host: memory copy -> hbm_gbyte_per_s; GEMM -> peak_tflops; a reference linear and conv layer over the fp32
//    GEMM rate -> efficiency; the workloads' own layers -> [layer_rates]; codecs -> [codecs]; how compute and a
//    collective slow each other -> [gpu] compute_during_comm, comm_during_compute, and with a wire format's
//    collective -> [contention.<format>]
//  - collectives: every (op, type) series is fitted piecewise (calibrate/fit.hpp); the fp32 allreduce sets the
//    links (calibrate/link_fit.hpp); a wire format's allreduce that takes longer than fp32's at the same bytes
//    gives its sum rate, [reductions]: extra(n) = T_format(n) - T_fp32(n) = (p-1)/p x n / rate, fitted through
//    the origin by least squares over the sizes both series share, and its cost at each of those sizes,
//    [reduction_sizes.<format>] (per byte of (p-1)/p x n, the median of the three nearest sizes)
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "calibrate/fit.hpp"
#include "calibrate/mpi_collectives.hpp"
#include "model/cluster.hpp"

namespace bitscale {

// One layer's three measurements (rates or times) and the spread they show, as the standard deviation sigma of one
// measurement's logarithm: the sample deviation s of the three logarithms; 2 s^2 / sigma^2 is chi-square with 2
// degrees of freedom (median 2 ln 2), so s's median is sigma sqrt(ln 2), and s / sqrt(ln 2) is what the median over
// layers is taken of.
inline double three_measurement_spread(double a, double b, double c) {
  const double la = std::log(a), lb = std::log(b), lc = std::log(c), mean = (la + lb + lc) / 3;
  const double s = std::sqrt(((la - mean) * (la - mean) + (lb - mean) * (lb - mean) + (lc - mean) * (lc - mean)) / 2);
  return s / std::sqrt(std::log(2.0));
}
// The median of three values (calibrate/fit.hpp median_value).
inline double median_of_three(double a, double b, double c) { return median_value({a, b, c}); }

struct HostRates {
  double memcpy_bytes_per_s = 0;  // read + written
  std::array<double, kComputePrecisionCount> gemm_flops_per_s{};  // 0: not measured
  double linear_flops_per_s = 0, conv_flops_per_s = 0;           // the reference layers, forward + backward
  bool contention = false;                                       // the two fractions below were measured
  double compute_during_comm = 1, comm_during_compute = 1;
  double contention_bytes = 2 << 20;  // the allreduce beside the linear layer, fp32 bytes (or bytes of codes)
  double rank_skew = 0;  // measured with the contention (ranks > 1)
  // the compute thread's time lost handing a collective to a sleeping communication thread (mpi_joint_contention's
  // launch), measured with the contention; 0: not measured
  double comm_launch_s = 0;
  // the same two fractions with a wire format's allreduce instead of fp32's, where measured -> [contention.<format>]
  std::map<std::string, ClusterProfile::Contention> contention_by_format;
  std::map<std::string, double> codec_bytes_per_s;   // by wire format, read + written, both directions together
  // each direction alone (bytes read + written over its own time), where the engine timed them apart
  std::map<std::string, double> codec_encode_bytes_per_s, codec_decode_bytes_per_s;
  std::map<std::string, double> layer_flops_per_s;   // by layer_shape_key, forward + backward
  // each layer's three measurements in the order taken, where known (the log shows them: scripts/validation-what-if
  // predicts a grid again from them with another rule than their median)
  std::map<std::string, std::array<double, 3>> layer_flops_measured;
  std::string layer_workloads;                       // whose layers, for the source
  // the workloads' layer rates measured three times (before the collectives, after them and at the end; twice,
  // before and after, in files written before 2026-12-02): the standard deviation of one measurement's logarithm
  // (the median over layers of three_measurement_spread; with two, of |ln(first / second)| / (0.6745 sqrt 2)); 0: not
  // measured
  double layer_spread = 0;
  // the host probe (mpi_host_probe_gflops, or the engine's own GEMM timed the same way) just before each layer
  // measurement; 0: not taken (middle: only two measurements, as before 2026-12-02)
  double probe_gflops_early = 0, probe_gflops_middle = 0, probe_gflops_late = 0;
  // the host state the layers' rates were kept from: with three measurements the median probe (as each layer's
  // median rate is kept), with two the faster (as the faster measurement of each layer was)
  double probe_gflops() const {
    if (probe_gflops_middle > 0) {
      return median_of_three(probe_gflops_early, probe_gflops_middle, probe_gflops_late);
    }
    return std::max(probe_gflops_early, probe_gflops_late);
  }
};

// The words a profile's sources use for who measured.
struct HostEngine {
  std::string kernels;        // "bitscale train's": whose reference linear layer and convolution
  std::string layer_kernels;  // what ran the workloads' layers
  std::string conv;           // the reference convolution, "3x3 convolution (im2col + GEMM)"
  std::string gemm;           // the GEMMs behind peak_tflops
  std::string codecs;         // the codec measurement
  std::string comm_load;      // the collective the second thread runs while the linear layer is timed
  std::string format_comm_load;  // the same for contention_by_format, "{}" where the format's name goes
  std::string layer_timing;   // how the workloads' layers were timed ("median of 5 after a warm-up" if empty)
  std::string gemm_probe;     // whose GEMM the host probe times ("Eigen's, one thread")
  int contention_rounds = 5;  // rounds of the fp32 contention pair (each format's: 5)
  int contention_samples = 256;  // the batch of the linear layer the contention rounds time
  std::string rank_skew_rounds = "";  // when the rank skew's rounds ran, if not back to back (" in three blocks ...")
  // what the rank skew timed, in full, when not three passes of the reference linear layer (the engine's words)
  std::string rank_skew_timing = "";
};

struct HostScope {
  int ranks = 1, nodes = 1, ranks_per_node = 1;
  std::string host;
  std::string cpu;         // the processor's model name
  double memory_gib = 1;   // one rank's share of the host's memory
};

// A profile of the host part, every number with its source (`command` says how it was measured); the links
// are left for fit_series.
ClusterProfile host_profile(const HostRates& r, const HostEngine& e, const HostScope& scope,
                            const std::string& command);
void print_host_rates(const HostRates& r, std::ostream& out);
// One rank measured no link, and never uses one: the links get the memory copy rate so that predictions at one
// rank stay defined, and their sources say so.
void set_links_of_one_rank(ClusterProfile& c);

struct SeriesFits {
  bool ok = true;             // every fit within max_error
  bool links_failed = false;  // the series that sets the links could not be fitted: write no profile
  std::string csv;            // every point: op,type,ranks,nodes,bytes,median_s,...,fitted_s,relative_error,...
};

// Where a calibration's measured points go beside its profile: PROFILE.csv for PROFILE.toml.
std::string measurements_csv_path(const std::string& profile);

// Fits every (op, type) series of `timings`, prints each fit, writes the links from the series of type
// `links_type` (allreduce) and [reductions] from the other allreduce types whose name before a '/' is a wire
// format ("fp16", "bf16/ring" beside "fp32/ring").
SeriesFits fit_series(const std::vector<MpiTiming>& timings, const std::string& links_type, int ranks, int nodes,
                      double max_error, const std::string& command, ClusterProfile& c, std::ostream& out,
                      std::ostream& err);

}  // namespace bitscale
