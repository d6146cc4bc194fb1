// time series of host probes of different working sets, to see which tracks the host's slow state
#include <Eigen/Dense>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>
#include <cstdint>
#include <algorithm>
using clk = std::chrono::steady_clock;
static double secs(clk::time_point a) { return std::chrono::duration<double>(clk::now() - a).count(); }
int main(int argc, char** argv) {
  const double total = argc > 1 ? atof(argv[1]) : 300;
  Eigen::setNbThreads(1);
  Eigen::MatrixXf A = Eigen::MatrixXf::Random(512, 512), B = Eigen::MatrixXf::Random(512, 512), C(512, 512);
  // MLP forward 784-1024-1024-10 at batch 256
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(784, 256), w1 = Eigen::MatrixXf::Random(1024, 784),
                  w2 = Eigen::MatrixXf::Random(1024, 1024), w3 = Eigen::MatrixXf::Random(10, 1024), h1, h2, y;
  std::vector<float> small_src(1 << 20), small_dst(1 << 20);          // 4 MiB
  std::vector<float> big_src(16 << 20), big_dst(16 << 20);            // 64 MiB
  std::vector<float> grad(1863690); std::vector<std::uint16_t> half(1863690);  // codec-like, 7.45 MB
  for (size_t i = 0; i < grad.size(); ++i) grad[i] = 1e-3f * float((i * 2654435761u) % 1000) - 0.5f;
  std::fill(small_src.begin(), small_src.end(), 1.f); std::fill(big_src.begin(), big_src.end(), 2.f);
  auto start = clk::now();
  volatile float sink = 0;
  while (secs(start) < total) {
    auto t = clk::now(); for (int k = 0; k < 8; ++k) C.noalias() = A * B; double gemm = secs(t) / 8; sink += C(0, 0);
    t = clk::now(); for (int k = 0; k < 16; ++k) { std::memcpy(small_dst.data(), small_src.data(), 4 << 20); small_src[k] += 1; } double cs = secs(t) / 16;
    t = clk::now(); for (int k = 0; k < 2; ++k) { std::memcpy(big_dst.data(), big_src.data(), 64 << 20); big_src[k] += 1; } double cb = secs(t) / 2;
    t = clk::now(); for (int k = 0; k < 3; ++k) { h1.noalias() = w1 * x; h1 = h1.cwiseMax(0.f); h2.noalias() = w2 * h1; h2 = h2.cwiseMax(0.f); y.noalias() = w3 * h2; } double fwd = secs(t) / 3; sink += y(0, 0);
    t = clk::now();
    for (int k = 0; k < 3; ++k) for (size_t i = 0; i < grad.size(); ++i) { float f = grad[i] * 0.5f; std::uint32_t u; std::memcpy(&u, &f, 4); half[i] = std::uint16_t(u >> 16); }
    double enc = secs(t) / 3; sink += half[7];
    std::printf("%.3f %.6f %.6f %.6f %.6f %.6f\n", secs(start), gemm, cs, cb, fwd, enc);
    std::fflush(stdout);
  }
  return 0;
}
