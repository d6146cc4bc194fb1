// NCCL backend (see nccl_collectives.hpp). Host code over the CUDA runtime, NCCL and cuBLAS: compiled as C++
// against the toolkit's headers whenever nvcc is found.
#include "calibrate/nccl_collectives.hpp"

#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "calibrate/cuda_timing.hpp"
#include "calibrate/gemm_cuda.hpp"
#include "kernels/input_error.hpp"

#define BITSCALE_NCCL_CHECK(call)                                                                  \
  do {                                                                                             \
    const ncclResult_t err_ = (call);                                                              \
    if (err_ != ncclSuccess) throw std::runtime_error(std::string(#call ": ") + ncclGetErrorString(err_)); \
  } while (0)

namespace bitscale {

namespace {

struct NcclType {
  ncclDataType_t type;
  int bytes;
};

NcclType nccl_type(const std::string& t) {
  if (t == "fp32") return {ncclFloat32, 4};
  if (t == "fp16") return {ncclFloat16, 2};
  if (t == "bf16") return {ncclBfloat16, 2};
  if (t == "int8") return {ncclInt8, 1};
  if (t == "fp8-e4m3") return {ncclFloat8e4m3, 1};
  if (t == "fp8-e5m2") return {ncclFloat8e5m2, 1};
  throw InputError("", "--types", t, "valid for the nccl backend: fp32, fp16, bf16, int8, fp8-e4m3, fp8-e5m2");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int local_rank() {
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
  int r = 0;
  MPI_Comm_rank(local, &r);
  MPI_Comm_free(&local);
  return r;
}

}  // namespace

bool nccl_compiled() { return true; }

std::string nccl_select_device() {
  int count = 0;
  BITSCALE_CUDA_CHECK(cudaGetDeviceCount(&count));
  if (count < 1) throw std::runtime_error("no CUDA device");
  BITSCALE_CUDA_CHECK(cudaSetDevice(local_rank() % count));
  cudaDeviceProp prop{};
  int device = 0;
  BITSCALE_CUDA_CHECK(cudaGetDevice(&device));
  BITSCALE_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return prop.name;
}

std::vector<MpiTiming> time_nccl_collectives(const std::vector<CollectiveOp>& ops,
                                             const std::vector<std::string>& types, const std::vector<double>& sizes,
                                             int warmup, int iters, const SeriesHooks& hooks) {
  int rank = 0, p = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  ncclUniqueId id;
  if (rank == 0) BITSCALE_NCCL_CHECK(ncclGetUniqueId(&id));
  MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
  ncclComm_t comm;
  BITSCALE_NCCL_CHECK(ncclCommInitRank(&comm, p, id, rank));
  cudaStream_t stream;
  BITSCALE_CUDA_CHECK(cudaStreamCreate(&stream));
  cudaEvent_t start, stop;
  BITSCALE_CUDA_CHECK(cudaEventCreate(&start));
  BITSCALE_CUDA_CHECK(cudaEventCreate(&stop));
  const double largest = *std::max_element(sizes.begin(), sizes.end());
  void* send = nullptr;
  void* recv = nullptr;
  BITSCALE_CUDA_CHECK(cudaMalloc(&send, static_cast<std::size_t>(largest)));
  BITSCALE_CUDA_CHECK(cudaMalloc(&recv, static_cast<std::size_t>(largest)));
  BITSCALE_CUDA_CHECK(cudaMemset(send, 0, static_cast<std::size_t>(largest)));
  std::vector<MpiTiming> out;
  bool stopped = false;  // the buffers and the communicator are freed below either way
  for (auto op : ops) {
    for (const auto& type : types) {
      const auto t = nccl_type(type);
      for (double size : sizes) {
        if (hooks.done && hooks.done(op, type, size)) continue;
        auto count = static_cast<std::size_t>(size) / static_cast<std::size_t>(t.bytes);
        const bool per_rank = op != CollectiveOp::allreduce && op != CollectiveOp::broadcast;
        if (per_rank) count -= count % static_cast<std::size_t>(p);
        if (count < (per_rank ? static_cast<std::size_t>(p) : 1u)) continue;
        const std::size_t share = count / static_cast<std::size_t>(p);
        const std::size_t share_bytes = share * static_cast<std::size_t>(t.bytes);
        auto run = [&] {
          switch (op) {
            case CollectiveOp::allreduce:
              BITSCALE_NCCL_CHECK(ncclAllReduce(send, recv, count, t.type, ncclSum, comm, stream));
              break;
            case CollectiveOp::allgather:
              BITSCALE_NCCL_CHECK(ncclAllGather(send, recv, share, t.type, comm, stream));
              break;
            case CollectiveOp::reduce_scatter:
              BITSCALE_NCCL_CHECK(ncclReduceScatter(send, recv, share, t.type, ncclSum, comm, stream));
              break;
            case CollectiveOp::broadcast:
              BITSCALE_NCCL_CHECK(ncclBroadcast(send, recv, count, t.type, 0, comm, stream));
              break;
            case CollectiveOp::alltoall:
              BITSCALE_NCCL_CHECK(ncclGroupStart());
              for (int peer = 0; peer < p; ++peer) {
                BITSCALE_NCCL_CHECK(ncclSend(static_cast<char*>(send) + static_cast<std::size_t>(peer) * share_bytes,
                                             share, t.type, peer, comm, stream));
                BITSCALE_NCCL_CHECK(ncclRecv(static_cast<char*>(recv) + static_cast<std::size_t>(peer) * share_bytes,
                                             share, t.type, peer, comm, stream));
              }
              BITSCALE_NCCL_CHECK(ncclGroupEnd());
              break;
          }
        };
        for (int i = 0; i < warmup; ++i) run();
        BITSCALE_CUDA_CHECK(cudaStreamSynchronize(stream));
        std::vector<double> mine(static_cast<std::size_t>(iters)), slowest(static_cast<std::size_t>(iters));
        for (int i = 0; i < iters; ++i) {
          MPI_Barrier(MPI_COMM_WORLD);
          BITSCALE_CUDA_CHECK(cudaEventRecord(start, stream));
          run();
          BITSCALE_CUDA_CHECK(cudaEventRecord(stop, stream));
          BITSCALE_CUDA_CHECK(cudaEventSynchronize(stop));
          float ms = 0;
          BITSCALE_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
          mine[static_cast<std::size_t>(i)] = ms * 1e-3;
        }
        MPI_Allreduce(mine.data(), slowest.data(), iters, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        MpiTiming row{op, type, static_cast<double>(count * static_cast<std::size_t>(t.bytes)), median(slowest),
                      *std::min_element(slowest.begin(), slowest.end()),
                      *std::max_element(slowest.begin(), slowest.end()), size};
        out.push_back(row);
        if (rank == 0 && hooks.on_row) hooks.on_row(row);
        stopped = hooks.stop && hooks.stop();
        if (stopped) break;
      }
      if (stopped) break;
    }
    if (stopped) break;
  }
  cudaFree(send);
  cudaFree(recv);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cudaStreamDestroy(stream);
  ncclCommDestroy(comm);
  return out;
}

double cublas_gemm_flops(ComputePrecision p, int n, int runs) {
  GemmTimer timer(p);
  const GemmShape s{n, n, n};
  return s.flops() / timer.seconds(s, runs);
}

double device_copy_bytes_per_s(std::size_t bytes, int runs) {
  void *a = nullptr, *b = nullptr;
  BITSCALE_CUDA_CHECK(cudaMalloc(&a, bytes));
  BITSCALE_CUDA_CHECK(cudaMalloc(&b, bytes));
  const double seconds = median_event_seconds(
      runs, [&] { BITSCALE_CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice)); });
  cudaFree(a);
  cudaFree(b);
  return 2.0 * static_cast<double>(bytes) / seconds;
}

double device_memory_gib() {
  std::size_t free_bytes = 0, total = 0;
  BITSCALE_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  return static_cast<double>(total) / (1024.0 * 1024.0 * 1024.0);
}

}  // namespace bitscale
