// Collective microbenchmarks over Gloo (github.com/facebookincubator/gloo, Debian's libgloo-dev: the engine
// PyTorch uses on CPUs), in the conventions of mpi_collectives.hpp: allreduce with Gloo's bandwidth-optimal ring
// (AllreduceRingChunked) and halving-doubling (AllreduceHalvingDoubling), allgather, reduce-scatter
// (halving-doubling), broadcast (one to all) and alltoall, for fp32, fp16 (gloo::float16) and int8 buffers
// (Gloo has no bf16). Ranks meet through a file store in a directory every rank sees, over TCP on `host`.
// Run under mpirun: MPI numbers the ranks, times and agrees; the data moves through Gloo only.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "calibrate/mpi_collectives.hpp"

namespace bitscale {

// Each timing's op is the collective; allreduce rows say which Gloo algorithm in `type` ("fp32/ring",
// "fp32/halving-doubling").
std::vector<MpiTiming> time_gloo_collectives(const std::vector<CollectiveOp>& ops,
                                             const std::vector<std::string>& types, const std::vector<double>& sizes,
                                             int warmup, int iters, const std::string& rendezvous_dir,
                                             const std::string& host, const SeriesHooks& hooks);

}  // namespace bitscale
