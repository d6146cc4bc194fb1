// Codec throughput on the CPU, one thread: encode and decode of gradient-like fp32 data from 4 KiB to 256 MiB.
// bytes_per_second counts bytes read + written; vs_memcpy divides it by a memcpy of the same fp32 buffer measured
// in the same run (also read + written), so figures from different machines compare.
// Targets (issue 3): fp16 and bf16 encode >= 0.70 of memcpy; int8-block and dettmers8 >= 0.30.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <map>

#include "kernels/codec.hpp"
#include "kernels/error_stats.hpp"

namespace {

std::map<std::int64_t, double> g_memcpy_rate;  // bytes/s by fp32 input size

const std::vector<float>& input(std::int64_t bytes) {
  static std::map<std::int64_t, std::vector<float>> cache;
  auto& v = cache[bytes];
  if (v.empty()) v = bitscale::gradient_like(static_cast<std::size_t>(bytes / 4), 7);
  return v;
}

template <typename Work>
void run(benchmark::State& state, double bytes_per_iteration, Work&& work, bool is_memcpy) {
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    work();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  const double rate = bytes_per_iteration * static_cast<double>(state.iterations()) / seconds;
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes_per_iteration * static_cast<double>(state.iterations())));
  if (is_memcpy) g_memcpy_rate[state.range(0)] = rate;
  const auto m = g_memcpy_rate.find(state.range(0));
  if (m != g_memcpy_rate.end()) state.counters["vs_memcpy"] = rate / m->second;
}

void BM_Memcpy(benchmark::State& state) {
  const auto& x = input(state.range(0));
  std::vector<float> y(x.size());
  run(state, 8.0 * static_cast<double>(x.size()), [&] { std::memcpy(y.data(), x.data(), 4 * x.size()); }, true);
}

void BM_Encode(benchmark::State& state, const char* codec) {
  const auto f = bitscale::find_wire_format(codec);
  const auto& x = input(state.range(0));
  std::vector<std::byte> wire(bitscale::wire_size(f, x.size()));
  run(state, 4.0 * static_cast<double>(x.size()) + static_cast<double>(wire.size()),
      [&] { bitscale::encode_cpu(f, x, wire); }, false);
}

void BM_Decode(benchmark::State& state, const char* codec) {
  const auto f = bitscale::find_wire_format(codec);
  const auto& x = input(state.range(0));
  const auto wire = bitscale::encode_cpu(f, x);
  std::vector<float> y(x.size());
  run(state, 4.0 * static_cast<double>(x.size()) + static_cast<double>(wire.size()),
      [&] { bitscale::decode_cpu(f, wire, y); }, false);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t s = 4096; s <= (std::int64_t{256} << 20); s *= 16) b->Arg(s);
}

BENCHMARK(BM_Memcpy)->Apply(sizes);
#define BITSCALE_CODEC_BENCH(name, codec)                  \
  BENCHMARK_CAPTURE(BM_Encode, name, codec)->Apply(sizes); \
  BENCHMARK_CAPTURE(BM_Decode, name, codec)->Apply(sizes)
BITSCALE_CODEC_BENCH(fp16, "fp16");
BITSCALE_CODEC_BENCH(bf16, "bf16");
BITSCALE_CODEC_BENCH(fp8_e4m3, "fp8-e4m3");
BITSCALE_CODEC_BENCH(fp8_e5m2, "fp8-e5m2");
BITSCALE_CODEC_BENCH(int8_block, "int8-block");
BITSCALE_CODEC_BENCH(dettmers8, "dettmers8");

}  // namespace

BENCHMARK_MAIN();
