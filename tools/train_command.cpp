// bitscale train: a real data-parallel SGD job, one process per rank under mpirun, for the validation loop
// (docs/validation.md). Each rank trains a replica of a workload's network (tools/train_nn.hpp) on its own
// samples of a synthetic task; per step:
//   forward -> backward layer by layer (last first); a DDP bucket closes once it holds its cap (the first 1 MiB,
//   then --bucket), as the timeline predictor buckets; its gradients are then, on the compute thread,
//   [absmax -> scale allreduce(MAX) on the communication thread (APS formats)] -> encoded, and handed to the
//   communication thread, which allreduces the wire values (summable formats: fp32 with MPI_SUM, 16- and 8-bit
//   floats with a sum rounded in the format) or allgathers them (block formats); between two layers' backward
//   the compute thread decodes what has come back -> after the backward pass it waits for the rest -> SGD with
//   momentum on the mean gradient.
// The same step is what the timeline predictor schedules with --codec-stream compute. Rank 0 appends one CSV
// row per step (compute, codec, communication, waiting and total seconds, with the whole configuration) to
// --out, atomically. After the last step the ranks compare a checksum of their weights: replicas must agree.
// Just before the first step and just after the last, every rank times the GEMM calibration times (the host
// probe, host_gflops_before and host_gflops_after): validate sets it beside the profile's.
#include "tools/train_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <mpi.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "calibrate/fit.hpp"
#include "calibrate/host_bench.hpp"
#include "calibrate/mpi_collectives.hpp"
#include "kernels/codec.hpp"
#include "kernels/input_error.hpp"
#include "model/parse.hpp"
#include "predictors/predictor.hpp"
#include "tools/report.hpp"
#include "tools/run_csv.hpp"
#include "tools/train_nn.hpp"

namespace bitscale {

std::string today();

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// --events: what each thread of a rank did and when, in seconds since the barrier before the first step (one
// clock per rank: ranks on one host share it), to set a run beside the timeline predictor's --trace.
enum class EventKind {
  forward, backward, absmax, encode, decode, wait, optimizer, scale_allreduce, allreduce, allgather
};
constexpr std::string_view event_name(EventKind k) {
  constexpr std::string_view names[] = {"forward", "backward", "absmax",          "encode",    "decode",
                                        "wait",    "optimizer", "scale_allreduce", "allreduce", "allgather"};
  return names[static_cast<int>(k)];
}
struct Event {
  std::int64_t step = 0;
  EventKind kind = EventKind::forward;
  std::int64_t index = -1;  // the layer (backward) or the bucket (codec and collectives); -1 for none
  double start_s = 0, end_s = 0;
};
class EventLog {
 public:
  void enable(Clock::time_point origin) {
    on_ = true;
    origin_ = origin;
  }
  bool on() const { return on_; }
  // an event from `start` to now
  void add(std::int64_t step, EventKind k, std::int64_t index, Clock::time_point start) {
    if (!on_) return;
    const auto now = Clock::now();
    events_.push_back({step, k, index, since(start), since(now)});
  }
  std::vector<Event>& events() { return events_; }

 private:
  double since(Clock::time_point t) const { return std::chrono::duration<double>(t - origin_).count(); }
  bool on_ = false;
  Clock::time_point origin_{};
  std::vector<Event> events_;
};

// The format whose codes MPI sums (one format per run): decode both, add in fp32, round to nearest.
MiniFloat g_sum_format;
template <typename Code>
void sum_codes(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto* a = static_cast<const Code*>(in);
  auto* b = static_cast<Code*>(inout);
  for (int i = 0; i < *len; ++i) {
    const float s = minifloat_decode(a[i], g_sum_format) + minifloat_decode(b[i], g_sum_format);
    b[i] = static_cast<Code>(minifloat_encode(s, g_sum_format, false, 0));
  }
}

struct Settings {
  Workload workload;
  WireFormat format;
  std::int64_t batch = 0, steps = 0, warmup = 0;
  double bucket = kDefaultBucketBytes, first_bucket = kDefaultFirstBucketBytes;
  double lr = 0, momentum = 0, rate_mbit = 0;
  std::uint64_t seed = 0;
};

Settings parse_settings(const TrainOptions& o) {
  Settings s;
  if (o.workload.find_first_of(",\"\n") != std::string::npos) {
    throw InputError("", "--workload", o.workload, "must not hold commas, quotes or line breaks (it is a CSV field)");
  }
  s.workload = find_workload(o.workload);
  s.format = find_wire_format(o.precision, "--precision");
  if (s.format.kind == CodecKind::minifloat && s.format.minifloat.code_bytes != 1 &&
      s.format.minifloat.code_bytes != 2 && s.format.name != "fp32") {
    throw InputError("", "--precision", o.precision, "the trainer sums 8-, 16- or 32-bit codes only");
  }
  s.batch = o.batch.empty() ? s.workload.default_batch : parse_int("--batch", o.batch, 1, 1 << 20);
  s.steps = parse_int("--steps", o.steps, 1, 1000000);
  s.warmup = parse_int("--warmup-steps", o.warmup, 0, 1000000);
  if (s.warmup >= s.steps) throw InputError("", "--warmup-steps", o.warmup, "must be less than --steps");
  s.bucket = parse_bytes("--bucket", o.bucket, 1e12);
  s.first_bucket = std::min(s.bucket, parse_bytes("--first-bucket", o.first_bucket, 1e12));
  s.lr = parse_positive("--lr", o.lr, 100);
  s.momentum = parse_positive("--momentum", o.momentum, 0.999999, true);
  s.seed = static_cast<std::uint64_t>(parse_int("--seed", o.seed, 0, std::int64_t{1} << 62));
  std::string rate = o.rate_mbit;
  if (rate.empty()) {
    const char* env = std::getenv("EMULATED_CLUSTER_RATE_MBIT");
    rate = env != nullptr && *env != '\0' ? env : "0";
  }
  s.rate_mbit = parse_positive("--rate-mbit", rate, 1e7, true);
  if (o.cluster_name.find_first_of(",\"\n") != std::string::npos) {
    throw InputError("", "--cluster-name", o.cluster_name, "must not hold commas, quotes or line breaks");
  }
  return s;
}

struct BucketPlan {
  std::int64_t offset = 0, values = 0;  // span of the flat gradient buffer
  std::int64_t last_layer = 0;          // closes after this layer's backward (the lowest index in it)
};

// DDP's bucketing, in backward order, as predictors/timeline.cpp buckets.
std::vector<BucketPlan> plan_buckets(const Network& net, double first_cap, double cap) {
  std::vector<BucketPlan> out;
  BucketPlan b;
  bool open = false;
  double bytes = 0;
  for (auto i = net.layers() - 1; i >= 0; --i) {
    const auto params = net.layer_parameters(i);
    if (params == 0) continue;
    if (!open) {
      b = BucketPlan{net.gradient_offset(i), 0, i};
      open = true;
      bytes = 0;
    }
    b.values += params;
    b.last_layer = i;
    bytes += 4.0 * static_cast<double>(params);
    if (bytes >= (out.empty() ? first_cap : cap)) {
      out.push_back(b);
      open = false;
    }
  }
  if (open) out.push_back(b);
  return out;
}

// The communication thread: runs jobs in the order of their sequence numbers (every rank must start the same
// collectives in the same order: bucket b's scale allreduce, then its reduction, then bucket b + 1's), whatever
// order the compute thread posts them in; reports each when done.
struct Job {
  enum Kind { scale, reduce, gather } kind = reduce;
  std::size_t bucket = 0;
  std::size_t seq = 0;
};

class CommThread {
 public:
  explicit CommThread(std::function<void(const Job&)> run) : run_(std::move(run)), thread_([this] { loop(); }) {}
  ~CommThread() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void post(const Job& j) {
    {
      std::lock_guard lock(m_);
      jobs_.emplace(j.seq, j);
    }
    cv_.notify_all();
  }
  // A new step: sequence numbers start again at 0 (every job of the last step is done).
  void restart() {
    std::lock_guard lock(m_);
    next_ = 0;
  }
  // A finished job, if any (wait: block until one is).
  std::optional<Job> finished(bool wait) {
    std::unique_lock lock(m_);
    if (wait) cv_.wait(lock, [this] { return !done_.empty(); });
    if (done_.empty()) return std::nullopt;
    Job j = done_.front();
    done_.pop_front();
    return j;
  }
  // record every job from now on (before the first post)
  void record(Clock::time_point origin) {
    std::lock_guard lock(m_);
    log_.enable(origin);
  }
  void set_step(std::int64_t step) {
    std::lock_guard lock(m_);
    step_ = step;
  }
  std::vector<Event> take_events() {
    std::lock_guard lock(m_);
    return std::move(log_.events());
  }
  double take_busy_seconds() {
    std::lock_guard lock(m_);
    const double b = busy_s_;
    busy_s_ = 0;
    return b;
  }
  std::string error() {
    std::lock_guard lock(m_);
    return error_;
  }

 private:
  void loop() {
    for (;;) {
      Job j;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [this] { return stop_ || jobs_.contains(next_); });
        if (!jobs_.contains(next_)) return;
        j = jobs_.at(next_);
        jobs_.erase(next_);
        ++next_;
      }
      const auto t = Clock::now();
      try {
        run_(j);
      } catch (const std::exception& e) {
        std::lock_guard lock(m_);
        error_ = e.what();
      }
      const double s = seconds_since(t);
      {
        std::lock_guard lock(m_);
        busy_s_ += s;
        const EventKind k = j.kind == Job::scale    ? EventKind::scale_allreduce
                            : j.kind == Job::reduce ? EventKind::allreduce
                                                    : EventKind::allgather;
        log_.add(step_, k, static_cast<std::int64_t>(j.bucket), t);
        done_.push_back(j);
      }
      cv_.notify_all();
    }
  }

  std::function<void(const Job&)> run_;
  std::mutex m_;
  std::condition_variable cv_;
  std::map<std::size_t, Job> jobs_;
  std::deque<Job> done_;
  std::size_t next_ = 0;
  bool stop_ = false;
  double busy_s_ = 0;
  EventLog log_;
  std::int64_t step_ = 0;
  std::string error_;
  std::thread thread_;  // last: starts after the members it uses
};

#define TRAIN_MPI(call)                                                                                 \
  do {                                                                                                  \
    if ((call) != MPI_SUCCESS) throw std::runtime_error(#call " failed");                              \
  } while (0)

struct StepRow {
  std::int64_t step = 0;
  double loss = 0, compute_s = 0, codec_s = 0, comm_s = 0, wait_s = 0, step_s = 0;
};

std::string csv_header() {
  return "engine,run,workload,nodes,ranks,ranks_per_node,rate_mbit,cluster,precision,batch,bucket_bytes,"
         "first_bucket_bytes,buckets,parameters,steps,warmup_steps,step,loss,compute_s,codec_s,comm_s,wait_s,step_s,"
         "date,host,host_gflops_before,host_gflops_after";
}

// The rows already in --out ("" for a new or empty file); InputError when it is not a run CSV.
std::string existing_runs(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return "";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  if (!text.empty() && text.rfind(csv_header() + "\n", 0) != 0) {
    const std::string without_probe = csv_header().substr(0, csv_header().find(",host_gflops_before"));
    if (text.rfind(without_probe + "\n", 0) == 0) {
      throw InputError("", "--out", path,
                       "holds runs written before the host probe (no host_gflops columns): append to a new file");
    }
    throw InputError("", "--out", path, "exists but is not a bitscale run CSV (its header differs): choose another file");
  }
  return text;
}

// Every rank's events, as CSV on rank 0 ("" elsewhere): step, rank, event, index, start_s, end_s.
std::string gather_events(const std::vector<Event>& compute, const std::vector<Event>& comm, int rank,
                          std::int64_t ranks) {
  std::vector<double> mine;
  mine.reserve(5 * (compute.size() + comm.size()));
  for (const auto* list : {&compute, &comm}) {
    for (const auto& e : *list) {
      mine.insert(mine.end(), {static_cast<double>(e.step), static_cast<double>(static_cast<int>(e.kind)),
                               static_cast<double>(e.index), e.start_s, e.end_s});
    }
  }
  const int count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(ranks)), offsets(static_cast<std::size_t>(ranks));
  TRAIN_MPI(MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD));
  std::size_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    offsets[r] = static_cast<int>(total);
    total += static_cast<std::size_t>(counts[r]);
  }
  std::vector<double> all(rank == 0 ? total : 0);
  TRAIN_MPI(MPI_Gatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts.data(), offsets.data(), MPI_DOUBLE, 0,
                        MPI_COMM_WORLD));
  if (rank != 0) return "";
  std::string csv = "step,rank,event,index,start_s,end_s\n";
  for (std::size_t r = 0; r < counts.size(); ++r) {
    for (auto i = static_cast<std::size_t>(offsets[r]); i < static_cast<std::size_t>(offsets[r] + counts[r]); i += 5) {
      csv += fmt::format("{},{},{},{},{:.6f},{:.6f}\n", static_cast<std::int64_t>(all[i]), r,
                         event_name(static_cast<EventKind>(static_cast<int>(all[i + 1]))),
                         static_cast<std::int64_t>(all[i + 2]), all[i + 3], all[i + 4]);
    }
  }
  return csv;
}

int train(const TrainOptions& o, const Settings& s, std::ostream& out, std::ostream& err) {
  const MpiWorld world = mpi_world();
  const bool root = world.rank == 0;
  const auto D = static_cast<std::int64_t>(world.size);
  Network net(s.workload, s.batch, s.seed);
  const TeacherTask task(net.input_features(), net.classes(), s.seed);
  const auto buckets = plan_buckets(net, s.first_bucket, s.bucket);
  const WireFormat& f = s.format;
  const bool fp32 = f.name == "fp32";
  const bool gathered = !f.summable;
  g_sum_format = f.minifloat;

  MPI_Op sum_op = MPI_OP_NULL;
  MPI_Datatype code_type = MPI_BYTE;
  if (!fp32 && !gathered) {
    const int bytes = f.minifloat.code_bytes;
    TRAIN_MPI(MPI_Op_create(bytes == 1 ? &sum_codes<std::uint8_t> : &sum_codes<std::uint16_t>, 1, &sum_op));
    code_type = bytes == 1 ? MPI_UINT8_T : MPI_UINT16_T;
  }

  // per bucket: wire buffer (and every rank's, gathered), the local and global max |g| (APS)
  struct BucketState {
    std::vector<std::byte> wire, all;
    float local_max = 0, global_max = 0;
  };
  std::vector<BucketState> state(buckets.size());
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    const auto n = wire_size(f, static_cast<std::size_t>(buckets[b].values));
    state[b].wire.resize(fp32 ? 0 : n);
    if (gathered) state[b].all.resize(n * static_cast<std::size_t>(D));
  }
  auto grads = net.gradients();
  auto span_of = [&](std::size_t b) {
    return grads.subspan(static_cast<std::size_t>(buckets[b].offset), static_cast<std::size_t>(buckets[b].values));
  };

  CommThread comm([&](const Job& j) {
    auto& st = state[j.bucket];
    if (D == 1) {
      if (j.kind == Job::scale) st.global_max = st.local_max;
      if (j.kind == Job::gather) st.all = st.wire;
      return;
    }
    switch (j.kind) {
      case Job::scale:
        TRAIN_MPI(MPI_Allreduce(&st.local_max, &st.global_max, 1, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD));
        break;
      case Job::reduce:
        if (fp32) {
          auto g = span_of(j.bucket);
          TRAIN_MPI(MPI_Allreduce(MPI_IN_PLACE, g.data(), static_cast<int>(g.size()), MPI_FLOAT, MPI_SUM,
                                  MPI_COMM_WORLD));
        } else {
          const std::size_t header = static_cast<std::size_t>(f.bucket_scale_bytes);
          const auto codes = static_cast<int>((st.wire.size() - header) / static_cast<std::size_t>(f.minifloat.code_bytes));
          TRAIN_MPI(MPI_Allreduce(MPI_IN_PLACE, st.wire.data() + header, codes, code_type, sum_op, MPI_COMM_WORLD));
        }
        break;
      case Job::gather:
        TRAIN_MPI(MPI_Allgather(st.wire.data(), static_cast<int>(st.wire.size()), MPI_BYTE, st.all.data(),
                                static_cast<int>(st.wire.size()), MPI_BYTE, MPI_COMM_WORLD));
        break;
    }
  });

  std::vector<float> velocity(grads.size(), 0.0f);
  std::int64_t bad_step = -1;
  std::vector<StepRow> rows;
  Matrix x;
  std::vector<std::int32_t> labels;
  // the run: date, microseconds since the epoch and rank 0's pid, on rank 0's node (unique in any CSV)
  const auto now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string run = fmt::format("{}-{}-{}-{}", today(), world.host, now_us, ::getpid());
  if (root) {
    out << fmt::format("# bitscale train: {} ({} parameters, {} buckets), {} rank{} on {} node{}, {}, batch {} per "
                       "rank, {} steps\n",
                       s.workload.name, net.parameters(), buckets.size(), D, D == 1 ? "" : "s", world.nodes,
                       world.nodes == 1 ? "" : "s", f.name, s.batch, s.steps)
        << fmt::format("# {:>5} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "step", "loss", "compute_s", "codec_s",
                       "comm_s", "wait_s", "step_s")
        << std::flush;
  }
  // the host's speed (mpi_host_probe_gflops, the probe calibration takes beside its layers: the median over
  // ranks; the log shows every rank's), just before the first step and just after the last: a host that drifted
  // from its calibration shows
  const auto probes_before = mpi_host_probe_ranks_gflops();
  const double probe_before = median_value(probes_before);
  MPI_Barrier(MPI_COMM_WORLD);
  EventLog log;
  if (!o.events.empty()) {
    const auto origin = Clock::now();
    log.enable(origin);
    comm.record(origin);
  }
  for (std::int64_t step = 0; step < s.steps; ++step) {
    task.draw(s.batch, static_cast<std::uint64_t>(world.rank), static_cast<std::uint64_t>(step % 16), x, labels);
    StepRow row;
    row.step = step;
    std::size_t done = 0;
    auto handle = [&](const Job& j) {
      auto& st = state[j.bucket];
      const auto t = Clock::now();
      if (j.kind == Job::scale) {
        CodecOptions co;
        co.ranks = D;
        co.global_max_abs = st.global_max;
        encode_cpu(f, span_of(j.bucket), st.wire, co);
        row.codec_s += seconds_since(t);
        log.add(step, EventKind::encode, static_cast<std::int64_t>(j.bucket), t);
        comm.post({Job::reduce, j.bucket, 2 * j.bucket + 1});
        return;
      }
      if (j.kind == Job::gather) {
        const std::size_t n = st.wire.size();
        auto g = span_of(j.bucket);
        decode_cpu(f, std::span<const std::byte>(st.all.data(), n), g);
        for (std::int64_t r = 1; r < D; ++r) {
          decode_accumulate_cpu(f, std::span<const std::byte>(st.all.data() + static_cast<std::size_t>(r) * n, n), g);
        }
      } else if (!fp32) {
        decode_cpu(f, st.wire, span_of(j.bucket));
      }
      row.codec_s += seconds_since(t);
      if (gathered || !fp32) log.add(step, EventKind::decode, static_cast<std::int64_t>(j.bucket), t);
      ++done;
    };
    auto drain = [&](bool wait) {
      while (auto j = comm.finished(wait)) {
        if (const auto e = comm.error(); !e.empty()) throw std::runtime_error(e);
        handle(*j);
        wait = false;
      }
    };
    auto start_bucket = [&](std::size_t b) {
      auto& st = state[b];
      const auto t = Clock::now();
      if (f.aps) {
        st.local_max = max_abs_finite(span_of(b));
        row.codec_s += seconds_since(t);
        log.add(step, EventKind::absmax, static_cast<std::int64_t>(b), t);
        comm.post({Job::scale, b, 2 * b});
        return;
      }
      if (!fp32) {
        CodecOptions co;
        co.ranks = D;
        encode_cpu(f, span_of(b), st.wire, co);
        row.codec_s += seconds_since(t);
        log.add(step, EventKind::encode, static_cast<std::int64_t>(b), t);
      }
      comm.post({gathered ? Job::gather : Job::reduce, b, b});
    };

    comm.restart();
    if (log.on()) comm.set_step(step);
    const auto t0 = Clock::now();
    auto t = Clock::now();
    row.loss = net.forward(x, labels);
    row.compute_s += seconds_since(t);
    log.add(step, EventKind::forward, -1, t);
    std::size_t next = 0;
    for (auto i = net.layers() - 1; i >= 0; --i) {
      t = Clock::now();
      net.backward_layer(i);
      row.compute_s += seconds_since(t);
      log.add(step, EventKind::backward, i, t);
      if (next < buckets.size() && buckets[next].last_layer == i) start_bucket(next++);
      drain(false);
    }
    t = Clock::now();
    while (done < buckets.size()) drain(true);
    row.wait_s = seconds_since(t);
    log.add(step, EventKind::wait, -1, t);
    t = Clock::now();
    // SGD with momentum on the mean gradient
    const float inv = 1.0f / static_cast<float>(D), lr = static_cast<float>(s.lr), mu = static_cast<float>(s.momentum);
    auto weights = net.weights();
    for (std::size_t k = 0; k < weights.size(); ++k) {
      velocity[k] = mu * velocity[k] + inv * grads[k];
      weights[k] -= lr * velocity[k];
    }
    row.compute_s += seconds_since(t);
    log.add(step, EventKind::optimizer, -1, t);
    row.step_s = seconds_since(t0);
    row.comm_s = comm.take_busy_seconds();
    // a loss gone non-finite is reported after the last step: a rank that stopped alone would leave the others
    // waiting in a collective
    if (!std::isfinite(row.loss) && bad_step < 0) bad_step = step;
    rows.push_back(row);
    if (root) {
      out << fmt::format("  {:>5} {:>9.4f} {:>10.4f} {:>10.4f} {:>10.4f} {:>10.4f} {:>10.4f}\n", step, row.loss,
                         row.compute_s, row.codec_s, row.comm_s, row.wait_s, row.step_s)
          << std::flush;
    }
  }

  const auto probes_after = mpi_host_probe_ranks_gflops();
  const double probe_after = median_value(probes_after);

  // replicas must hold the same weights: compare a checksum of their bits
  std::uint64_t h = 1469598103934665603ull;
  for (float w : net.weights()) {
    std::uint32_t u;
    std::memcpy(&u, &w, 4);
    h = (h ^ u) * 1099511628211ull;
  }
  std::uint64_t lo = h, hi = h;
  TRAIN_MPI(MPI_Allreduce(&h, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD));
  TRAIN_MPI(MPI_Allreduce(&h, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD));
  if (sum_op != MPI_OP_NULL) MPI_Op_free(&sum_op);
  const std::string events_csv = log.on() ? gather_events(log.events(), comm.take_events(), world.rank, D) : "";
  std::int64_t first_bad = bad_step < 0 ? s.steps : bad_step, all_bad = first_bad;
  TRAIN_MPI(MPI_Allreduce(&first_bad, &all_bad, 1, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD));
  if (all_bad < s.steps) {
    if (root) err << fmt::format("bitscale: train: the loss is not finite from step {} on (lower --lr)\n", all_bad);
    return 1;
  }
  if (lo != hi) {
    if (root) err << "bitscale: train: the replicas' weights differ after the last step (a reduction bug)\n";
    return 1;
  }
  if (!root) return 0;

  std::ostringstream csv;
  const std::string existing = existing_runs(o.out);
  csv << (existing.empty() ? csv_header() + "\n" : existing);
  for (const auto& r : rows) {
    csv << fmt::format("{},{},{},{},{},{},{:g},{},{},{},{:.0f},{:.0f},{},{},{},{},{},{:.6f},{:.6g},{:.6g},"
                       "{:.6g},{:.6g},{:.6g},{},{},{:.5g},{:.5g}\n",
                       kBitscaleTrainEngine, run, o.workload, world.nodes, D, world.ranks_per_node, s.rate_mbit,
                       o.cluster_name, f.name, s.batch, s.bucket, s.first_bucket, buckets.size(), net.parameters(),
                       s.steps, s.warmup, r.step, r.loss, r.compute_s, r.codec_s, r.comm_s, r.wait_s, r.step_s, today(),
                       world.host, probe_before, probe_after);
  }
  write_file_atomically(o.out, csv.str(), "--out");
  if (!o.events.empty()) write_file_atomically(o.events, events_csv, "--events");
  std::vector<double> timed;
  for (const auto& r : rows) {
    if (r.step >= s.warmup) timed.push_back(r.step_s);
  }
  const std::size_t n = timed.size();
  const double median = median_value(timed);
  out << fmt::format("# median step {:.4f} s over {} steps after {} warm-up; loss {:.4f} -> {:.4f}; replicas agree; "
                     "host GEMM {:.2f} GFLOP/s before, {:.2f} after (the median over ranks; every rank: {:.2f} before, "
                     "{:.2f} after); appended to {}\n",
                     median, n, s.warmup, rows.front().loss, rows.back().loss, probe_before, probe_after,
                     fmt::join(probes_before, " "), fmt::join(probes_after, " "), o.out);
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, TrainOptions& o) {
  o.command = app.add_subcommand(
      "train", "a real data-parallel SGD job under mpirun (validation): logs per-step times to a run CSV");
  auto* c = o.command;
  c->add_option("--workload,-w", o.workload, "workload TOML with linear and conv layers (e.g. data/workloads/train-mlp.toml)")
      ->required();
  c->add_option("--precision,-p", o.precision, "gradient wire format (codec list)")->capture_default_str();
  c->add_option("--batch,-b", o.batch, "samples per rank and step (default: the workload's)");
  c->add_option("--steps", o.steps, "training steps")->capture_default_str();
  c->add_option("--warmup-steps", o.warmup, "first steps that validate leaves out")->capture_default_str();
  c->add_option("--bucket", o.bucket, "DDP bucket cap (SIZE)")->capture_default_str();
  c->add_option("--first-bucket", o.first_bucket, "cap of the first bucket (SIZE)")->capture_default_str();
  c->add_option("--lr", o.lr, "learning rate")->capture_default_str();
  c->add_option("--momentum", o.momentum, "SGD momentum")->capture_default_str();
  c->add_option("--seed", o.seed, "weights and data seed")->capture_default_str();
  c->add_option("--rate-mbit", o.rate_mbit,
                "the network's shaped rate, recorded (default: $EMULATED_CLUSTER_RATE_MBIT, else 0: unshaped)");
  c->add_option("--cluster-name", o.cluster_name, "the profile validate predicts this run with (recorded)");
  c->add_option("--out,-o", o.out, "run CSV to append this run's rows to (atomically)")->required();
  c->add_option("--events", o.events,
                "write what every rank's threads did and when (step, rank, event, index, start_s, end_s: seconds "
                "since the barrier before the first step) to this CSV, to set beside `predict --trace`");
}

int run_train(const TrainOptions& o, std::ostream& out, std::ostream& err) {
  const Settings s = parse_settings(o);  // bad flags fail before MPI starts, the same on every rank
  check_output_path(o.out, "--out");
  if (!o.events.empty()) {
    check_output_path(o.events, "--events");
    if (std::filesystem::absolute(o.events).lexically_normal() == std::filesystem::absolute(o.out).lexically_normal()) {
      throw InputError("", "--events", o.events, "must not be the run CSV (--out)");
    }
  }
  existing_runs(o.out);
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  int code = 0;
  std::string message;
  if (provided < MPI_THREAD_SERIALIZED) {
    code = 1;
    message = "train: this MPI does not provide MPI_THREAD_SERIALIZED (a communication thread needs it)";
  } else {
    try {
      code = train(o, s, out, err);
    } catch (const InputError& e) {
      code = 2;
      message = e.what();
    } catch (const std::exception& e) {
      code = 1;
      message = std::string("train: ") + e.what();
    }
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (!message.empty()) err << "bitscale: " << (rank == 0 ? "" : fmt::format("rank {}: ", rank)) << message << '\n';
  MPI_Finalize();
  return code;
}

}  // namespace bitscale
