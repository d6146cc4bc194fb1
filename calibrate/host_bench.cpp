#include "calibrate/host_bench.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "kernels/codec.hpp"
#include "kernels/error_stats.hpp"
#include "kernels/input_error.hpp"

namespace bitscale {

double median_seconds(int runs, const std::function<void()>& work) {
  work();
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    work();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double sustained_seconds(int blocks, double block_s, const std::function<void()>& work) {
  work();
  std::vector<double> means;
  for (int b = 0; b < blocks; ++b) {
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    int calls = 0;
    do {
      work();
      ++calls;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < block_s);
    means.push_back(elapsed / calls);
  }
  std::sort(means.begin(), means.end());
  return means[means.size() / 2];
}

double memcpy_bytes_per_s(std::size_t bytes, int runs) {
  std::vector<char> a(bytes, 1), b(bytes, 0);
  const double s = median_seconds(runs, [&] { std::memcpy(b.data(), a.data(), bytes); });
  return 2.0 * static_cast<double>(bytes) / s;
}

namespace {
// C = A * B, n x n, in T: FLOP/s with the GEMM timed by `seconds_of` (median_seconds or sustained_seconds).
template <typename T>
double gemm_rate(int n, const std::function<double(const std::function<void()>&)>& seconds_of) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  const Matrix a = Matrix::Constant(n, n, T(0.5f)), b = Matrix::Constant(n, n, T(0.25f));
  Matrix c(n, n);
  const double s = seconds_of([&] { c.noalias() = a * b; });
  return 2.0 * n * static_cast<double>(n) * n / s;
}
}  // namespace

double sustained_gemm_flops(int n, int blocks, double block_s) {
  Eigen::setNbThreads(1);
  return gemm_rate<float>(n, [&](const std::function<void()>& work) {
    return sustained_seconds(blocks, block_s, work);
  });
}

double gemm_flops(ComputePrecision p, int n, int runs) {
  Eigen::setNbThreads(1);
  const auto median = [runs](const std::function<void()>& work) { return median_seconds(runs, work); };
  switch (p) {
    case ComputePrecision::fp32: return gemm_rate<float>(n, median);
    case ComputePrecision::fp16: return gemm_rate<Eigen::half>(n, median);
    case ComputePrecision::bf16: return gemm_rate<Eigen::bfloat16>(n, median);
    default: break;
  }
  BITSCALE_CHECK(false) << "no CPU GEMM for " << name(p);
  return 0;
}

CodecRate codec_rate_cpu(const WireFormat& f, std::span<const float> x, int runs) {
  const std::size_t n = x.size();
  std::vector<std::byte> wire(wire_size(f, n));
  std::vector<float> y(n);
  const double bytes = 4.0 * static_cast<double>(n) + static_cast<double>(wire.size());
  CodecRate r;
  r.encode_bytes_per_s = bytes / median_seconds(runs, [&] { encode_cpu(f, x, wire); });
  r.decode_bytes_per_s = bytes / median_seconds(runs, [&] { decode_cpu(f, wire, y); });
  return r;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "";
}

double host_memory_gib() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MemTotal:", 0) == 0) {
      std::istringstream s(line.substr(9));
      double kib = 0;
      s >> kib;
      return kib / (1024.0 * 1024.0);
    }
  }
  return 0;
}

}  // namespace bitscale
