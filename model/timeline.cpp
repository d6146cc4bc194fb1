#include "model/timeline.hpp"

#include <algorithm>
#include <array>
#include <queue>

#include "kernels/input_error.hpp"

namespace bitscale {

std::string_view name(Stream s) {
  constexpr std::string_view kNames[] = {"compute", "codec", "comm"};
  return kNames[static_cast<int>(s)];
}

std::string_view name(TaskKind k) {
  constexpr std::string_view kNames[] = {"forward", "backward",  "absmax", "scale allreduce", "encode",
                                         "allreduce", "gather", "decode", "optimizer", "launch"};
  return kNames[static_cast<int>(k)];
}

void TaskGraph::reserve(std::size_t n) {
  tasks_.reserve(n);
  dep_offsets_.reserve(n + 1);
  deps_.reserve(2 * n);
}

std::int32_t TaskGraph::add(const Task& t, std::initializer_list<std::int32_t> deps) {
  return add(t, std::span<const std::int32_t>(deps.begin(), deps.size()));
}

std::int32_t TaskGraph::add(const Task& t, std::span<const std::int32_t> deps) {
  const auto id = static_cast<std::int32_t>(tasks_.size());
  for (auto d : deps) {
    BITSCALE_CHECK(d >= 0 && d < id) << "dependency " << d << " of task " << id;
    deps_.push_back(d);
  }
  BITSCALE_CHECK(t.duration_s >= 0) << "negative duration " << t.duration_s;
  tasks_.push_back(t);
  dep_offsets_.push_back(static_cast<std::int32_t>(deps_.size()));
  return id;
}

void TaskGraph::set_duration(std::int32_t id, double seconds) {
  BITSCALE_CHECK(id >= 0 && static_cast<std::size_t>(id) < tasks_.size()) << "task " << id;
  BITSCALE_CHECK(seconds >= 0) << "negative duration " << seconds;
  tasks_[static_cast<std::size_t>(id)].duration_s = seconds;
}

void TaskGraph::schedule() {
  const std::size_t n = tasks_.size();
  // dependents of each task, flat
  std::vector<std::int32_t> waiting(n), out_offsets(n + 1, 0), out(deps_.size());
  for (std::size_t t = 0; t < n; ++t) {
    waiting[t] = dep_offsets_[t + 1] - dep_offsets_[t];
    for (auto i = dep_offsets_[t]; i < dep_offsets_[t + 1]; ++i) ++out_offsets[static_cast<std::size_t>(deps_[static_cast<std::size_t>(i)]) + 1];
  }
  for (std::size_t t = 0; t < n; ++t) out_offsets[t + 1] += out_offsets[t];
  {
    std::vector<std::int32_t> fill(out_offsets.begin(), out_offsets.end() - 1);
    for (std::size_t t = 0; t < n; ++t) {
      for (auto i = dep_offsets_[t]; i < dep_offsets_[t + 1]; ++i) {
        out[static_cast<std::size_t>(fill[static_cast<std::size_t>(deps_[static_cast<std::size_t>(i)])]++)] = static_cast<std::int32_t>(t);
      }
    }
  }
  struct Ready {
    double at;
    int priority;
    std::int32_t id;
    bool operator>(const Ready& o) const {
      if (at != o.at) return at > o.at;
      if (priority != o.priority) return priority > o.priority;
      return id > o.id;
    }
  };
  using Heap = std::priority_queue<Ready, std::vector<Ready>, std::greater<>>;
  std::array<Heap, kStreamCount> ready;
  std::array<double, kStreamCount> free_at{};
  std::vector<double> ready_at(n, 0.0);
  for (std::size_t t = 0; t < n; ++t) {
    if (waiting[t] == 0) ready[static_cast<int>(tasks_[t].stream)].push({0.0, tasks_[t].priority, static_cast<std::int32_t>(t)});
  }
  for (std::size_t placed = 0; placed < n; ++placed) {
    int best = -1;
    double best_start = 0;
    Ready best_task{};
    for (int s = 0; s < kStreamCount; ++s) {
      if (ready[s].empty()) continue;
      const auto& top = ready[s].top();
      const double start = std::max(free_at[s], top.at);
      if (best < 0 || start < best_start ||
          (start == best_start && (top.priority < best_task.priority ||
                                   (top.priority == best_task.priority && top.id < best_task.id)))) {
        best = s;
        best_start = start;
        best_task = top;
      }
    }
    BITSCALE_CHECK(best >= 0) << "task graph has a cycle";
    ready[best].pop();
    auto& task = tasks_[static_cast<std::size_t>(best_task.id)];
    task.start_s = best_start;
    task.end_s = best_start + task.duration_s;
    free_at[best] = task.end_s;
    const auto id = static_cast<std::size_t>(best_task.id);
    for (auto i = out_offsets[id]; i < out_offsets[id + 1]; ++i) {
      const auto d = static_cast<std::size_t>(out[static_cast<std::size_t>(i)]);
      ready_at[d] = std::max(ready_at[d], task.end_s);
      if (--waiting[d] == 0) ready[static_cast<int>(tasks_[d].stream)].push({ready_at[d], tasks_[d].priority, static_cast<std::int32_t>(d)});
    }
  }
}

namespace {

// The time `work` seconds of full-speed work take from `start`, at `fraction` of the speed inside the intervals
// (sorted, disjoint) and at full speed outside them.
double stretched(double start, double work, const std::vector<std::pair<double, double>>& intervals, double fraction) {
  if (fraction >= 1) return work;
  double now = start, left = work;
  auto it = std::upper_bound(intervals.begin(), intervals.end(), std::make_pair(now, now),
                             [](const auto& a, const auto& b) { return a.second < b.second; });
  while (left > 0) {
    if (it == intervals.end()) {
      now += left;
      left = 0;
    } else if (now < it->first) {
      const double step = std::min(left, it->first - now);
      now += step;
      left -= step;
    } else {
      const double step = std::min(left, (it->second - now) * fraction);
      now += step / fraction;
      left -= step;
      if (left > 0) {
        now = it->second;
        ++it;
      }
    }
  }
  return now - start;
}

}  // namespace

std::pair<double, double> TaskGraph::contend(double compute_fraction, double comm_fraction, int rounds) {
  BITSCALE_CHECK(compute_fraction > 0 && compute_fraction <= 1 && comm_fraction > 0 && comm_fraction <= 1)
      << "fractions " << compute_fraction << ", " << comm_fraction;
  if (compute_fraction >= 1 && comm_fraction >= 1) return {0, 0};
  std::vector<double> work(tasks_.size());
  for (std::size_t t = 0; t < tasks_.size(); ++t) work[t] = tasks_[t].duration_s;
  std::pair<double, double> added{0, 0};
  for (int round = 0; round < rounds; ++round) {
    // each stream runs one task at a time: its tasks' intervals are disjoint and, sorted by start, by end too
    std::vector<std::pair<double, double>> compute, comm;
    for (const auto& t : tasks_) {
      if (t.end_s <= t.start_s) continue;
      if (t.stream == Stream::compute && t.kind != TaskKind::launch) compute.emplace_back(t.start_s, t.end_s);
      if (t.stream == Stream::comm) comm.emplace_back(t.start_s, t.end_s);
    }
    std::sort(compute.begin(), compute.end());
    std::sort(comm.begin(), comm.end());
    added = {0, 0};
    for (std::size_t id = 0; id < tasks_.size(); ++id) {
      auto& t = tasks_[id];
      if (t.stream == Stream::compute && t.kind != TaskKind::launch) {
        t.duration_s = stretched(t.start_s, work[id], comm, compute_fraction);
        added.first += t.duration_s - work[id];
      } else if (t.stream == Stream::comm) {
        t.duration_s = stretched(t.start_s, work[id], compute, comm_fraction);
        added.second += t.duration_s - work[id];
      }
    }
    schedule();
  }
  return added;
}

double TaskGraph::end_s() const {
  double e = 0;
  for (const auto& t : tasks_) e = std::max(e, t.end_s);
  return e;
}

}  // namespace bitscale
