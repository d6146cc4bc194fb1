// Iteration timeline: a task graph over streams, scheduled as a GPU runs it. Each stream (the compute stream, a
// codec stream, the communication stream) runs one task at a time, in the order its tasks become ready (all
// their dependencies finished); among tasks ready at the same moment the lower priority value goes first
// (a DDP communication hook launches its codec kernel as soon as a bucket is ready, before the next backward
// kernel). Greedy list scheduling: the task that can start earliest is placed next, so every start time is the
// later of its stream becoming free and its dependencies finishing.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <span>
#include <utility>
#include <string_view>
#include <vector>

namespace bitscale {

enum class Stream { compute, codec, comm };
inline constexpr int kStreamCount = 3;
std::string_view name(Stream s);

// launch: the compute stream's time lost handing a collective to a communication thread that sleeps (CPU ranks on
// shared cores, [gpu] comm_launch_s); it is itself the loss, so contention neither stretches it nor slows a
// collective during it
enum class TaskKind {
  forward, backward, absmax, scale_allreduce, encode, allreduce, gather, decode, optimizer, launch
};
std::string_view name(TaskKind k);

struct Task {
  TaskKind kind = TaskKind::forward;
  Stream stream = Stream::compute;
  double duration_s = 0;
  std::int32_t layer = -1, bucket = -1;
  int priority = 1;
  double start_s = 0, end_s = 0;
};

class TaskGraph {
 public:
  void reserve(std::size_t tasks);
  // Adds a task after `deps` (ids of tasks already added); returns its id.
  std::int32_t add(const Task& t, std::initializer_list<std::int32_t> deps);
  std::int32_t add(const Task& t, std::span<const std::int32_t> deps);
  // Places every task: fills start_s and end_s.
  void schedule();
  // Sets a task's duration (>= 0), for a schedule() to follow: a cost that depends on the schedule itself.
  void set_duration(std::int32_t id, double seconds);
  // Contention between compute and communication (communication takes SMs on a GPU, cores on CPU ranks; compute
  // takes the cores a CPU rank's collective needs): compute-stream tasks run at `compute_fraction` of their speed
  // while a communication task runs, communication tasks at `comm_fraction` while a compute-stream task (other than a
  // launch) runs.
  // Each task's duration becomes the time its work takes through the other stream's busy intervals of the last
  // schedule, and the graph is rescheduled; `rounds` times, as the intervals move with it. Returns the seconds
  // added to the compute stream and to the communication stream. Call after schedule().
  std::pair<double, double> contend(double compute_fraction, double comm_fraction, int rounds = 3);
  std::span<const Task> tasks() const { return tasks_; }
  const Task& operator[](std::int32_t id) const { return tasks_[static_cast<std::size_t>(id)]; }
  double end_s() const;  // the last end

 private:
  std::vector<Task> tasks_;
  std::vector<std::int32_t> dep_offsets_{0}, deps_;
};

}  // namespace bitscale
