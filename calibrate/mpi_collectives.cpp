#include "calibrate/mpi_collectives.hpp"

#include <mpi.h>

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <thread>
#include <filesystem>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>

#include "calibrate/fit.hpp"
#include "calibrate/host_bench.hpp"
#include "kernels/input_error.hpp"
#include "kernels/wire_format.hpp"

#define BITSCALE_MPI_CHECK(call)                                                                         \
  do {                                                                                                   \
    const int err_ = (call);                                                                             \
    if (err_ != MPI_SUCCESS) throw std::runtime_error(std::string(__FILE__) + ": " #call " failed");    \
  } while (0)

namespace bitscale {

namespace {

// the formats MPI sums with an operation of the project's (bitscale train sums its wire codes the same way)
constexpr const char* kSummedFormats[] = {"fp16", "bf16", "fp8-e4m3", "fp8-e5m2"};

// elementwise sums of the format's codes, rounded to nearest even in the format (the codec's definition)
template <typename Code, int kFormat>
void sum_codes(void* in, void* inout, int* len, MPI_Datatype*) {
  static const MiniFloat f = find_wire_format(kSummedFormats[kFormat]).minifloat;
  const auto* a = static_cast<const Code*>(in);
  auto* b = static_cast<Code*>(inout);
  for (int i = 0; i < *len; ++i) {
    const float s = minifloat_decode(a[i], f) + minifloat_decode(b[i], f);
    b[i] = static_cast<Code>(minifloat_encode(s, f, false, 0));
  }
}

struct TypeInfo {
  MPI_Datatype datatype;
  MPI_Op sum;
  int bytes;
  const char* format = nullptr;  // the wire format whose codes these are, for realistic buffer contents
};

TypeInfo type_info(const std::string& type) {
  static MPI_Op ops[4] = {MPI_OP_NULL, MPI_OP_NULL, MPI_OP_NULL, MPI_OP_NULL};
  if (ops[0] == MPI_OP_NULL) {
    BITSCALE_MPI_CHECK(MPI_Op_create(&sum_codes<std::uint16_t, 0>, 1, &ops[0]));
    BITSCALE_MPI_CHECK(MPI_Op_create(&sum_codes<std::uint16_t, 1>, 1, &ops[1]));
    BITSCALE_MPI_CHECK(MPI_Op_create(&sum_codes<std::uint8_t, 2>, 1, &ops[2]));
    BITSCALE_MPI_CHECK(MPI_Op_create(&sum_codes<std::uint8_t, 3>, 1, &ops[3]));
  }
  if (type == "fp32") return {MPI_FLOAT, MPI_SUM, 4};
  for (int i = 0; i < 4; ++i) {
    if (type == kSummedFormats[i]) return {i < 2 ? MPI_UINT16_T : MPI_UINT8_T, ops[i], i < 2 ? 2 : 1, kSummedFormats[i]};
  }
  if (type == "int8") return {MPI_INT8_T, MPI_SUM, 1};
  throw InputError("", "--types", type, "valid for the mpi backend: fp32, fp16, bf16, fp8-e4m3, fp8-e5m2, int8");
}

// A buffer of `bytes`: for a format's type, the codes of values as the trainer sums them, APS-scaled gradients:
// normal numbers of mixed sign within 2^-4..2^4, where every format is normal (the sum's speed depends on it:
// subnormal codes take the slow path, and unscaled gradients in fp8 would be mostly subnormal); else a byte
// pattern.
std::vector<std::uint8_t> buffer_of(const TypeInfo& t, std::size_t bytes) {
  std::vector<std::uint8_t> out(bytes, 1);
  if (t.format == nullptr) return out;
  const MiniFloat f = find_wire_format(t.format).minifloat;
  for (std::size_t i = 0; i + static_cast<std::size_t>(t.bytes) <= bytes; i += static_cast<std::size_t>(t.bytes)) {
    const float v = (i % 3 == 0 ? -1.0f : 1.0f) * std::ldexp(1.0f + static_cast<float>((i * 7919) % 97) / 97.0f,
                                                              static_cast<int>((i * 104729) % 8) - 4);
    const auto code = minifloat_encode(v, f, false, 0);
    std::memcpy(out.data() + i, &code, static_cast<std::size_t>(t.bytes));  // little-endian: the low bytes
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

MpiSession::MpiSession() {
  // serialized: calibration runs a collective on a second thread while the first computes (contention)
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
}

bool mpi_threads_serialized() {
  int level = MPI_THREAD_SINGLE;
  MPI_Query_thread(&level);
  return level >= MPI_THREAD_SERIALIZED;
}
MpiSession::~MpiSession() { MPI_Finalize(); }

int mpi_agree(int code) {
  int all = code;
  MPI_Allreduce(&code, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return all;
}

MpiWorld mpi_world() {
  MpiWorld w;
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size);
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  // ranks in network namespaces of one machine (tools/emulated-cluster) share a hostname: the node is named
  if (const char* node = std::getenv("BITSCALE_NODE"); node != nullptr && *node != '\0') {
    len = static_cast<int>(std::min<std::size_t>(std::strlen(node), MPI_MAX_PROCESSOR_NAME - 1));
    std::memcpy(name, node, static_cast<std::size_t>(len));
  }
  w.host.assign(name, static_cast<std::size_t>(len));
  std::vector<char> all(static_cast<std::size_t>(w.size) * MPI_MAX_PROCESSOR_NAME, '\0');
  std::vector<char> mine(MPI_MAX_PROCESSOR_NAME, '\0');
  std::memcpy(mine.data(), name, static_cast<std::size_t>(len));
  MPI_Allgather(mine.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR,
                MPI_COMM_WORLD);
  std::set<std::string> hosts;
  for (int r = 0; r < w.size; ++r) hosts.insert(std::string(all.data() + static_cast<std::size_t>(r) * MPI_MAX_PROCESSOR_NAME));
  w.nodes = static_cast<int>(hosts.size());
  w.ranks_per_node = w.size / w.nodes;
  return w;
}

bool mpi_summed_format(const std::string& type) {
  return std::find(std::begin(kSummedFormats), std::end(kSummedFormats), type) != std::end(kSummedFormats);
}

double mpi_contention_bytes(double bytes, double min_seconds, double max_bytes) {
  BITSCALE_CHECK(bytes >= 4 && max_bytes >= bytes && max_bytes / 4 <= 1 << 30 && min_seconds >= 0);
  for (; 2 * bytes <= max_bytes; bytes *= 2) {
    std::vector<float> data(static_cast<std::size_t>(bytes / 4), 1.0f);
    const auto allreduce = [&] {
      BITSCALE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), MPI_FLOAT, MPI_SUM,
                                       MPI_COMM_WORLD));
    };
    allreduce();  // warm-up
    std::vector<double> times;
    for (int i = 0; i < 3; ++i) {
      BITSCALE_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
      const auto t = std::chrono::steady_clock::now();
      allreduce();
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
    }
    double slowest_rank = median(times);  // this rank's median, then the slowest rank's: one answer on every rank
    BITSCALE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &slowest_rank, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
    if (slowest_rank >= min_seconds) return bytes;
  }
  return bytes;
}

Contention mpi_joint_contention(const std::function<void()>& compute_unit, double bytes, int rounds,
                                const std::string& type) {
  using clock = std::chrono::steady_clock;
  const auto seconds_since = [](clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); };
  const TypeInfo info = type_info(type);
  const bool fp32 = info.format == nullptr;
  std::vector<float> data(fp32 ? static_cast<std::size_t>(bytes / 4) : 0, 1.0f);
  // a summed format: the trainer's codes of APS-scaled gradients, summed out of place (the same values every time)
  const auto send = fp32 ? std::vector<std::uint8_t>{} : buffer_of(info, static_cast<std::size_t>(bytes));
  std::vector<std::uint8_t> recv(send.size());
  const int count = static_cast<int>(send.size() / static_cast<std::size_t>(info.bytes));
  const auto allreduce = [&] {
    if (fp32) {
      MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    } else {
      MPI_Allreduce(send.data(), recv.data(), count, info.datatype, info.sum, MPI_COMM_WORLD);
    }
  };
  // how many units outlast the collective two and a half times over, the same on every rank
  MPI_Barrier(MPI_COMM_WORLD);
  auto t = clock::now();
  compute_unit();
  const double unit = seconds_since(t);
  MPI_Barrier(MPI_COMM_WORLD);
  allreduce();  // warm-up
  t = clock::now();
  allreduce();
  const double comm = seconds_since(t);
  int units = static_cast<int>(std::ceil(2.5 * comm / std::max(unit, 1e-6)));
  units = std::clamp(units, 2, 1000);
  MPI_Allreduce(MPI_IN_PLACE, &units, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  const auto compute = [&] {
    for (int u = 0; u < units; ++u) compute_unit();
  };
  // the collective runs on a communication thread that sleeps between rounds and is woken by a post, as the
  // trainer's is: the compute thread's time from the post to its next instruction is the launch (on shared cores
  // the woken thread, which then spins in MPI, takes the poster's core for a scheduler slice first)
  std::mutex m;
  std::condition_variable cv;
  bool posted = false, stop = false, done = false;
  clock::time_point start;
  double tm_both = 0;
  std::thread comm_thread([&] {
    for (;;) {
      {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return posted || stop; });
        if (!posted) return;  // a post made before the stop still runs: every rank's collective must happen
        posted = false;
      }
      allreduce();
      const double s = seconds_since(start);
      {
        std::lock_guard lock(m);
        tm_both = s;
        done = true;
      }
      cv.notify_all();
    }
  });
  const auto stop_thread = [&] {
    {
      std::lock_guard lock(m);
      stop = true;
    }
    cv.notify_all();
    comm_thread.join();
  };
  std::vector<double> fc, fm, launch;
  std::exception_ptr failed;
  try {
    for (int r = 0; r < rounds; ++r) {
      MPI_Barrier(MPI_COMM_WORLD);
      t = clock::now();
      compute();
      const double tc = seconds_since(t);
      MPI_Barrier(MPI_COMM_WORLD);
      t = clock::now();
      allreduce();
      const double tm = seconds_since(t);
      MPI_Barrier(MPI_COMM_WORLD);
      {
        std::lock_guard lock(m);
        start = clock::now();
        posted = true;
        done = false;
      }
      cv.notify_all();
      const double l = seconds_since(start);
      compute();
      const double tc_both = seconds_since(start);
      double tm_b = 0;
      {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return done; });
        tm_b = tm_both;
      }
      // during the launch the collective ran alone; the fractions hold for the rest of the overlap
      const double o = std::min(tc_both, tm_b);
      const double rest = std::max(o - l, 0.0);
      launch.push_back(l);  // lost whole, even where the collective ended inside it
      fc.push_back(fraction_while_overlapped(tc, tc_both - l, rest));
      fm.push_back(fraction_while_overlapped(std::max(tm - l, 0.0), tm_b - l, rest));
    }
  } catch (...) {
    failed = std::current_exception();
  }
  stop_thread();
  if (failed) std::rethrow_exception(failed);
  Contention c;
  c.compute_during_comm = mpi_median(median(fc));  // each fraction is in [0.01, 1]: so are their medians
  c.comm_during_compute = mpi_median(median(fm));
  // the launch is a slice lost in some rounds and none in others (0.01 ms or 0.3-6 ms on two shared cores): the
  // timeline charges the expected loss of a wake-up, the mean over rounds
  c.launch_s = mpi_median(std::accumulate(launch.begin(), launch.end(), 0.0) / static_cast<double>(launch.size()));
  return c;
}

std::string mpi_shared_temp_dir(const std::string& parent) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::vector<char> path(4096, '\0');
  if (rank == 0) {
    std::string pattern = parent + "/bitscale-rendezvous-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed under " + parent);
    std::copy(buf.begin(), buf.end(), path.begin());
  }
  MPI_Bcast(path.data(), static_cast<int>(path.size()), MPI_CHAR, 0, MPI_COMM_WORLD);
  return std::string(path.data());
}

void mpi_remove_dir(const std::string& dir) {
  MPI_Barrier(MPI_COMM_WORLD);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

bool mpi_any(bool value) {
  int mine = value ? 1 : 0, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return all != 0;
}

std::string mpi_broadcast_text(const std::string& text) {
  long long length = static_cast<long long>(text.size());
  MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  std::string out = text;
  out.resize(static_cast<std::size_t>(length));
  if (length > 0) MPI_Bcast(out.data(), static_cast<int>(length), MPI_CHAR, 0, MPI_COMM_WORLD);
  return out;
}

namespace {
// Every rank's `mine`, in rank order, on every rank.
std::vector<double> every_rank(double mine) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<double> all(static_cast<std::size_t>(size));
  MPI_Allgather(&mine, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, MPI_COMM_WORLD);
  return all;
}
}  // namespace

std::vector<double> mpi_rank_skews(const std::function<void()>& work, int rounds) {
  std::vector<double> skews;
  for (int r = 0; r < rounds; ++r) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double start = MPI_Wtime();
    work();
    const auto all = every_rank(MPI_Wtime() - start);
    double sum = 0, top = 0;
    for (double t : all) {
      sum += t;
      top = std::max(top, t);
    }
    skews.push_back(top / (sum / static_cast<double>(all.size())) - 1.0);
  }
  return skews;
}

double mpi_median(double value) { return median_value(every_rank(value)); }

std::vector<double> mpi_host_probe_ranks_gflops() {
  MPI_Barrier(MPI_COMM_WORLD);
  return every_rank(sustained_gemm_flops(512, 5, 0.05) / 1e9);
}

double mpi_host_probe_gflops() { return median_value(mpi_host_probe_ranks_gflops()); }

std::vector<MpiTiming> time_mpi_collectives(const std::vector<CollectiveOp>& ops, const std::vector<std::string>& types,
                                            const std::vector<double>& sizes, int warmup, int iters,
                                            const SeriesHooks& hooks) {
  int rank = 0, p = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  std::vector<MpiTiming> out;
  for (auto op : ops) {
    for (const auto& type : types) {
      const auto t = type_info(type);
      for (double size : sizes) {
        if (hooks.done && hooks.done(op, type, size)) continue;
        // whole elements; the scattered and exchanged ops need a whole number per rank
        auto count = static_cast<std::int64_t>(size) / t.bytes;
        const bool per_rank = op == CollectiveOp::allgather || op == CollectiveOp::reduce_scatter ||
                              op == CollectiveOp::alltoall;
        if (per_rank) count -= count % p;
        if (count < (per_rank ? p : 1)) continue;
        const auto bytes = static_cast<std::size_t>(count) * static_cast<std::size_t>(t.bytes);
        std::vector<std::uint8_t> send = buffer_of(t, bytes), recv(bytes, 0);
        const int c = static_cast<int>(count);
        const int share = static_cast<int>(count / p);
        auto run = [&] {
          switch (op) {
            case CollectiveOp::allreduce:
              return MPI_Allreduce(send.data(), recv.data(), c, t.datatype, t.sum, MPI_COMM_WORLD);
            case CollectiveOp::allgather:
              return MPI_Allgather(send.data(), share, t.datatype, recv.data(), share, t.datatype, MPI_COMM_WORLD);
            case CollectiveOp::reduce_scatter:
              return MPI_Reduce_scatter_block(send.data(), recv.data(), share, t.datatype, t.sum, MPI_COMM_WORLD);
            case CollectiveOp::broadcast:
              return MPI_Bcast(send.data(), c, t.datatype, 0, MPI_COMM_WORLD);
            case CollectiveOp::alltoall:
              return MPI_Alltoall(send.data(), share, t.datatype, recv.data(), share, t.datatype, MPI_COMM_WORLD);
          }
          return MPI_ERR_OTHER;
        };
        for (int i = 0; i < warmup; ++i) BITSCALE_MPI_CHECK(run());
        std::vector<double> mine(static_cast<std::size_t>(iters)), slowest(static_cast<std::size_t>(iters));
        for (int i = 0; i < iters; ++i) {
          MPI_Barrier(MPI_COMM_WORLD);
          const double start = MPI_Wtime();
          BITSCALE_MPI_CHECK(run());
          mine[static_cast<std::size_t>(i)] = MPI_Wtime() - start;
        }
        MPI_Allreduce(mine.data(), slowest.data(), iters, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        MpiTiming row{op, type, static_cast<double>(bytes), median(slowest),
                      *std::min_element(slowest.begin(), slowest.end()),
                      *std::max_element(slowest.begin(), slowest.end()), size};
        out.push_back(row);
        if (rank == 0 && hooks.on_row) hooks.on_row(row);
        if (hooks.stop && hooks.stop()) return out;
      }
    }
  }
  return out;
}

}  // namespace bitscale
