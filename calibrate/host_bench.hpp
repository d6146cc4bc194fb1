// Microbenchmarks of one rank's host: memory copy bandwidth, GEMM rate per precision through Eigen (one thread),
// and codec throughput. Ranks that share a machine run them at the same time, so the figures include the
// sharing (two ranks on two cores measure what each gets, not what one alone would).
#pragma once
#include <cstddef>
#include <functional>
#include <span>
#include <string>

#include "kernels/wire_format.hpp"
#include "model/precision.hpp"

namespace bitscale {

// Median seconds of `runs` calls of work() after one warm-up call.
double median_seconds(int runs, const std::function<void()>& work);

// Seconds per call of work() as a rank gets it over many scheduler slices: after one warm-up call, work() repeated
// for at least `block_s` per block, the block's mean per call, the median of `blocks` blocks. Ranks that share a core
// are time-sliced every few milliseconds; a single call shorter than that lands in one slice or several by chance,
// so a median of single calls swings between the core's whole speed and a fair share of it.
double sustained_seconds(int blocks, double block_s, const std::function<void()>& work);

// memcpy of `bytes`: bytes read + written per second.
double memcpy_bytes_per_s(std::size_t bytes, int runs);

// C = A * B, n x n, in the precision (fp32, fp16, bf16 as Eigen computes them on this CPU): FLOP/s, 2 n^3 per GEMM.
double gemm_flops(ComputePrecision p, int n, int runs);
// The fp32 GEMM n x n as sustained_seconds times it (`blocks` blocks of at least `block_s`): FLOP/s.
double sustained_gemm_flops(int n, int blocks, double block_s);

struct CodecRate {
  double encode_bytes_per_s = 0, decode_bytes_per_s = 0;  // fp32 bytes + wire bytes per second
};
// Encode and decode of `values` on the CPU (their speed depends on them: subnormals take slow paths).
CodecRate codec_rate_cpu(const WireFormat& f, std::span<const float> values, int runs);

std::string cpu_model_name();      // from /proc/cpuinfo, "" if unknown
double host_memory_gib();          // MemTotal from /proc/meminfo, 0 if unknown

}  // namespace bitscale
