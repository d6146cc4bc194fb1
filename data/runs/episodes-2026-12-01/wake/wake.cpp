// Does waking a spinning communication thread cost the compute thread a scheduler slice? One process: a compute
// thread doing back-to-back work units (GEMM 256^3), posting a job every K units to a communication thread that
// then spins (busy-polls, as MPI does when it does not yield) for SPIN_MS or sleeps for it. Run one process per
// core. Prints the median and p90 of the compute thread's post gap (post + check, as the trainer's) and of the
// units' times after the post vs. before.
#include <Eigen/Dense>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>
using clk = std::chrono::steady_clock;
static double since(clk::time_point t) { return std::chrono::duration<double>(clk::now() - t).count(); }
int main(int argc, char** argv) {
  const double spin_ms = argc > 1 ? atof(argv[1]) : 10;
  const bool sleep_instead = argc > 2 && std::string(argv[2]) == "sleep";
  const int posts = argc > 3 ? atoi(argv[3]) : 200;
  Eigen::setNbThreads(1);
  Eigen::MatrixXf A = Eigen::MatrixXf::Random(256, 256), B = Eigen::MatrixXf::Random(256, 256), C(256, 256);
  std::mutex m; std::condition_variable cv; bool job = false, done = true, stop = false;
  std::thread comm([&] {
    for (;;) {
      std::unique_lock l(m);
      cv.wait(l, [&] { return job || stop; });
      if (stop) return;
      job = false;
      l.unlock();
      auto t = clk::now();
      if (sleep_instead) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(spin_ms));
      else { volatile double x = 0; while (since(t) < spin_ms / 1e3) x += 1; }
      l.lock(); done = true; l.unlock(); cv.notify_all();
    }
  });
  std::vector<double> gaps, unit_before, unit_after;
  for (int i = 0; i < 5; ++i) C.noalias() = A * B;
  for (int p = 0; p < posts; ++p) {
    // wait until the last job is done, then 4 units alone
    { std::unique_lock l(m); cv.wait(l, [&] { return done; }); }
    for (int k = 0; k < 4; ++k) { auto t = clk::now(); C.noalias() = A * B; unit_before.push_back(since(t)); }
    auto t = clk::now();
    { std::lock_guard l(m); job = true; done = false; }
    cv.notify_all();
    { std::lock_guard l(m); volatile bool d = done; (void)d; }  // the trainer's drain(false)
    gaps.push_back(since(t));
    for (int k = 0; k < 4; ++k) { auto t2 = clk::now(); C.noalias() = A * B; unit_after.push_back(since(t2)); }
  }
  { std::lock_guard l(m); stop = true; } cv.notify_all(); comm.join();
  auto q = [](std::vector<double> v, double f) { std::sort(v.begin(), v.end()); return v[static_cast<size_t>(f * (v.size() - 1))] * 1e3; };
  std::printf("%s %.0f ms: post gap median %.3f ms p90 %.3f max %.3f | unit before %.3f after %.3f ms (medians)\n",
              sleep_instead ? "sleep" : "spin", spin_ms, q(gaps, 0.5), q(gaps, 0.9), q(gaps, 1.0), q(unit_before, 0.5), q(unit_after, 0.5));
  return 0;
}
