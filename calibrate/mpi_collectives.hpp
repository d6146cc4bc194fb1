// Collective microbenchmarks over MPI (OpenMPI): allreduce, allgather, reduce-scatter, broadcast and alltoall
// for fp32, fp16, bf16 and int8 buffers, in nccl-tests' conventions (the size is the whole buffer: the
// allreduce/broadcast buffer, the gathered output, the scattered input, the alltoall send buffer). Each size:
// warm-up, then >= 20 timed iterations, each started after a barrier; an iteration's time is the slowest rank's;
// the median is reported with the spread. fp16 and bf16 sums use the project's rounding (round to nearest even).
// Call between MPI_Init and MPI_Finalize, on every rank.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "model/collectives.hpp"

namespace bitscale {

// MPI_Init on construction (thread support "serialized": one thread at a time calls MPI), MPI_Finalize on
// destruction.
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

// Whether a second thread may call MPI (one thread at a time): the contention measurements need it.
bool mpi_threads_serialized();

// The same exit code on every rank: the largest.
int mpi_agree(int code);

struct MpiWorld {
  int rank = 0, size = 1;
  int nodes = 1, ranks_per_node = 1;  // hosts by processor name, or by $BITSCALE_NODE where set
  std::string host;
};
MpiWorld mpi_world();

struct MpiTiming {
  CollectiveOp op = CollectiveOp::allreduce;
  std::string type;
  double bytes = 0;
  double median_s = 0, min_s = 0, max_s = 0;
  double size = 0;  // the size asked for (--sizes), before rounding to whole elements
};

// What a series loop is told from outside: `on_row` runs on rank 0 after each row (progress, the partial file);
// `done` says, on every rank, that a size was measured before (a resumed run skips it); `stop` runs on every
// rank after each size and says true on every rank at once to stop there (an interrupt).
struct SeriesHooks {
  std::function<void(const MpiTiming&)> on_row;
  std::function<bool(CollectiveOp op, const std::string& type, double size)> done;
  std::function<bool()> stop;
};

// Returns the timings on every rank (those measured, not those `done` skipped).
std::vector<MpiTiming> time_mpi_collectives(const std::vector<CollectiveOp>& ops, const std::vector<std::string>& types,
                                            const std::vector<double>& sizes, int warmup, int iters,
                                            const SeriesHooks& hooks);

// True on every rank when it is true on any. On every rank.
bool mpi_any(bool value);
// Rank 0's text, on every rank.
std::string mpi_broadcast_text(const std::string& text);

// A fresh directory made by rank 0 under `parent` (every rank on the host sees it), its path on every rank.
std::string mpi_shared_temp_dir(const std::string& parent);
void mpi_remove_dir(const std::string& dir);  // rank 0 removes it, after a barrier

// The size of the contention rounds' allreduce (fp32): `bytes`, doubled while the allreduce alone takes under
// `min_seconds` (the slowest rank's median of 3 after a warm-up), up to `max_bytes` (not timed there); the same
// on every rank. A collective's start and end load the cores less than its middle: on fast links a short one
// reads a compute fraction too high (2 ranks at 5 Gbit/s: 0.50-0.67 with 2 MiB, 8 ms alone; 0.45-0.46 with
// 8 MiB, 32 ms alone; bitscale train's fc1 beside a 4.2 MB bucket, 33-48 ms of overlap: 0.39-0.45;
// docs/validation.md item 23).
double mpi_contention_bytes(double bytes, double min_seconds, double max_bytes);

// Contention as the timeline applies it (TaskGraph::contend): compute and one collective started together on
// every rank, as a bucket is handed to the communication thread while the backward pass goes on. Each round
// times `compute` (units of work, enough to outlast the collective) alone (t_c), the allreduce of `bytes` alone
// (t_m), then both at once: the compute thread posts the allreduce to a communication thread asleep on a condition
// variable (as the trainer's) and computes (t_c', t_m' from the post). The post costs the compute thread the
// launch l (the post to its next instruction: on shared cores the woken thread takes the poster's core for a
// scheduler slice), during which the collective runs alone. For the rest of the overlap (o = min(t_c', t_m') - l)
// the compute progresses at f_c of its speed and the collective at f_m of its own, so t_c = f_c o + (t_c' - l -
// o) and t_m = l + f_m o + (t_m' - l - o). The fractions: the medians over rounds (>= 1), then over ranks, each
// in [0.01, 1]; the launch: the mean over rounds (a slice lost in some rounds only), then the median over ranks.
// On every rank. `type`: fp32 (MPI_SUM on
// ones, in place), or a summed wire format (fp16, bf16, fp8-e4m3, fp8-e5m2: the trainer's sum of its codes, on
// the codes of APS-scaled gradients, out of place).
struct Contention {
  double compute_during_comm = 1, comm_during_compute = 1;
  double launch_s = 0;
};
Contention mpi_joint_contention(const std::function<void()>& compute_unit, double bytes, int rounds,
                                const std::string& type = "fp32");
// Whether MPI sums `type` with the project's operation on a wire format's codes (fp16, bf16, fp8-e4m3, fp8-e5m2).
bool mpi_summed_format(const std::string& type);

// The median over ranks of a value every rank measured (each rank passes its own), on every rank: median_value,
// so at 2 ranks their mean (not the faster rank's rate: the slower rank paces every collective).
double mpi_median(double value);

// The host probe, in GFLOP/s: every rank times the fp32 GEMM 512^3 (Eigen, one thread) sustained, in 5 blocks of
// at least 50 ms (host_bench's sustained_gemm_flops: ranks that share a core get their fair share of it, not one
// slice or several by chance), all at once after a barrier; the median over ranks, on every rank. Calibration
// takes it beside its compute measurements and bitscale train around every run, so that validate can tell a host
// that drifted from its calibration.
double mpi_host_probe_gflops();

// The same probe, every rank's value (in rank order), on every rank: bitscale train logs them. (The slowest rank's
// was tried as the probe, since the slowest rank paces every collective: on 2026-12-01 neither it nor the median
// went with the run's step, docs/validation.md item 18.)
std::vector<double> mpi_host_probe_ranks_gflops();

// How much later than the mean rank the slowest finishes `work` started on every rank after a barrier:
// max / mean - 1 of the ranks' times, one value a round (`rounds` rounds, back to back). On every rank.
std::vector<double> mpi_rank_skews(const std::function<void()>& work, int rounds);

}  // namespace bitscale
