// Collective microbenchmarks through NCCL, one process per GPU under mpirun (MPI hands out the NCCL unique id
// and agrees on times), in the conventions of mpi_collectives.hpp: allreduce, allgather, reduce-scatter,
// broadcast and alltoall (grouped send/receive) for fp32, fp16, bf16, int8 and fp8 (e4m3, e5m2; NCCL >= 2.24),
// each iteration timed with CUDA events on the communicator's stream, the slowest rank's time, the median.
// Also cuBLAS GEMM rates per precision and the CUDA codecs against a device-to-device copy. Compiled whenever
// nvcc is found; without it every function throws std::runtime_error.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "calibrate/mpi_collectives.hpp"
#include "model/precision.hpp"

namespace bitscale {

bool nccl_compiled();

// Selects this rank's GPU (the local rank modulo the devices) and returns its name.
std::string nccl_select_device();

std::vector<MpiTiming> time_nccl_collectives(const std::vector<CollectiveOp>& ops,
                                             const std::vector<std::string>& types, const std::vector<double>& sizes,
                                             int warmup, int iters, const SeriesHooks& hooks);

// cuBLAS n x n x n product in the precision on random operands (gemm_cuda.hpp): FLOP/s, median of `runs`.
double cublas_gemm_flops(ComputePrecision p, int n, int runs);
// The device's memory bandwidth as a device-to-device copy (bytes read + written per second).
double device_copy_bytes_per_s(std::size_t bytes, int runs);
double device_memory_gib();

}  // namespace bitscale
