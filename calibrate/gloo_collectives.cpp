#include "calibrate/gloo_collectives.hpp"

#include <gloo/allgather.h>
#include <gloo/allreduce_halving_doubling.h>
#include <gloo/allreduce_ring_chunked.h>
#include <gloo/alltoall.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/reduce_scatter.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/transport/tcp/device.h>
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "kernels/input_error.hpp"

namespace bitscale {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Times `run` as the MPI backend does: barrier, run, slowest rank per iteration, median. The barrier is Gloo's:
// an MPI barrier spins, and on shared cores it would starve Gloo's transport thread.
MpiTiming time_it(const std::shared_ptr<gloo::Context>& ctx, CollectiveOp op, const std::string& type, double bytes,
                  int warmup, int iters, const std::function<void()>& run) {
  for (int i = 0; i < warmup; ++i) run();
  std::vector<double> mine(static_cast<std::size_t>(iters)), slowest(static_cast<std::size_t>(iters));
  for (int i = 0; i < iters; ++i) {
    gloo::BarrierOptions barrier(ctx);
    gloo::barrier(barrier);
    const double start = MPI_Wtime();
    run();
    mine[static_cast<std::size_t>(i)] = MPI_Wtime() - start;
  }
  MPI_Allreduce(mine.data(), slowest.data(), iters, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return {op, type, bytes, median(slowest), *std::min_element(slowest.begin(), slowest.end()),
          *std::max_element(slowest.begin(), slowest.end())};
}

// Returns true when hooks.stop() asked to stop.
template <typename T>
bool time_type(const std::shared_ptr<gloo::Context>& ctx, const std::vector<CollectiveOp>& ops, const std::string& type,
               const std::vector<double>& sizes, int warmup, int iters, std::vector<MpiTiming>& out,
               const SeriesHooks& hooks) {
  const int p = ctx->size;
  for (auto op : ops) {
    for (double size : sizes) {
      if (hooks.done && hooks.done(op, type, size)) continue;
      auto count = static_cast<std::int64_t>(size) / static_cast<std::int64_t>(sizeof(T));
      const bool per_rank = op != CollectiveOp::allreduce && op != CollectiveOp::broadcast;
      if (per_rank) count -= count % p;
      if (count < (per_rank ? p : 1) || count > (std::int64_t{1} << 30)) continue;
      const auto n = static_cast<std::size_t>(count);
      const double bytes = static_cast<double>(n * sizeof(T));
      std::vector<T> send(n, T(1)), recv(n, T(0));
      const auto share = n / static_cast<std::size_t>(p);
      std::vector<MpiTiming> rows;
      switch (op) {
        case CollectiveOp::allreduce: {
          std::vector<T*> ptrs{send.data()};
          gloo::AllreduceRingChunked<T> ring(ctx, ptrs, static_cast<int>(n));
          rows.push_back(time_it(ctx, op, type + "/ring", bytes, warmup, iters, [&] { ring.run(); }));
          gloo::AllreduceHalvingDoubling<T> hd(ctx, ptrs, static_cast<int>(n));
          rows.push_back(time_it(ctx, op, type + "/halving-doubling", bytes, warmup, iters, [&] { hd.run(); }));
          break;
        }
        case CollectiveOp::allgather:
          rows.push_back(time_it(ctx, op, type, bytes, warmup, iters, [&] {
            gloo::AllgatherOptions o(ctx);
            o.setInput(send.data(), share);
            o.setOutput(recv.data(), n);
            gloo::allgather(o);
          }));
          break;
        case CollectiveOp::reduce_scatter: {
          std::vector<T*> ptrs{send.data()};
          gloo::ReduceScatterHalvingDoubling<T> rs(ctx, ptrs, static_cast<int>(n),
                                                   std::vector<int>(static_cast<std::size_t>(p), static_cast<int>(share)));
          rows.push_back(time_it(ctx, op, type, bytes, warmup, iters, [&] { rs.run(); }));
          break;
        }
        case CollectiveOp::broadcast:
          rows.push_back(time_it(ctx, op, type, bytes, warmup, iters, [&] {
            gloo::BroadcastOptions o(ctx);
            o.setRoot(0);
            o.setOutput(send.data(), n);
            gloo::broadcast(o);
          }));
          break;
        case CollectiveOp::alltoall:
          rows.push_back(time_it(ctx, op, type, bytes, warmup, iters, [&] {
            gloo::AlltoallOptions o(ctx);
            o.setInput(send.data(), n);
            o.setOutput(recv.data(), n);
            gloo::alltoall(o);
          }));
          break;
      }
      for (auto& r : rows) {
        r.size = size;
        out.push_back(r);
        if (ctx->rank == 0 && hooks.on_row) hooks.on_row(r);
      }
      if (hooks.stop && hooks.stop()) return true;
    }
  }
  return false;
}

}  // namespace

std::vector<MpiTiming> time_gloo_collectives(const std::vector<CollectiveOp>& ops,
                                             const std::vector<std::string>& types, const std::vector<double>& sizes,
                                             int warmup, int iters, const std::string& rendezvous_dir,
                                             const std::string& host, const SeriesHooks& hooks) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  gloo::transport::tcp::attr attr;
  attr.hostname = host;
  auto device = gloo::transport::tcp::CreateDevice(attr);
  gloo::rendezvous::FileStore store(rendezvous_dir);
  auto ctx = std::make_shared<gloo::rendezvous::Context>(rank, size);
  ctx->connectFullMesh(store, device);
  std::vector<MpiTiming> out;
  for (const auto& type : types) {
    bool stopped = false;
    if (type == "fp32") {
      stopped = time_type<float>(ctx, ops, type, sizes, warmup, iters, out, hooks);
    } else if (type == "fp16") {
      stopped = time_type<gloo::float16>(ctx, ops, type, sizes, warmup, iters, out, hooks);
    } else if (type == "int8") {
      stopped = time_type<std::int8_t>(ctx, ops, type, sizes, warmup, iters, out, hooks);
    } else {
      throw InputError("", "--types", type, "valid for the gloo backend: fp32, fp16, int8 (Gloo has no bf16)");
    }
    if (stopped) break;
  }
  return out;
}

}  // namespace bitscale
