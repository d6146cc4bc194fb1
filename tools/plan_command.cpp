#include "tools/plan_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

#include "kernels/input_error.hpp"
#include "kernels/wire_format.hpp"
#include "model/cluster.hpp"
#include "model/collectives.hpp"
#include "model/compute.hpp"
#include "model/memory.hpp"
#include "model/parse.hpp"
#include "model/precision.hpp"
#include "model/workload.hpp"
#include "predictors/predictor.hpp"
#include "predictors/uncertainty.hpp"
#include "tools/report.hpp"

namespace bitscale {

void add_plan_command(CLI::App& app, PlanOptions& o) {
  o.command = app.add_subcommand(
      "plan", "the cheapest configurations that reach a throughput or finish S samples within a deadline, and the "
              "Pareto frontier of time against cost, with 90% intervals");
  auto* c = o.command;
  c->add_option("--workload,-w", o.workload, "shipped name, mlp:W0,W1,..., or a TOML file")->required();
  c->add_option("--cluster,-c", o.clusters, "shipped name(s) or TOML profile(s), LIST to compare clusters")->required();
  c->add_option("--target-throughput", o.target_throughput, "samples per second the job must reach");
  c->add_option("--deadline-hours", o.deadline_hours, "hours within which --samples must be done");
  c->add_option("--samples", o.samples,
                "samples the job trains on (e.g. 1e9); with --deadline-hours, or with --target-throughput for the "
                "job's time and cost (default: costs per million samples)");
  c->add_option("--gpu-hour-cost", o.gpu_hour_cost,
                "price of one GPU-hour in USD, one for every cluster or a LIST in --cluster's order (default: costs "
                "in GPU-hours)");
  c->add_option("--max-gpus", o.max_gpus, "the most GPUs to consider")->capture_default_str();
  c->add_option("--gpus,-g", o.gpus, "GPU counts to search, LIST (default: 1, 2, 4 .. --max-gpus)");
  c->add_option("--precision,-p", o.precision, "gradient wire formats to search, LIST")->capture_default_str();
  c->add_option("--compute", o.compute, "compute precisions to search, LIST (default: every one the GPU has)");
  c->add_option("--bucket", o.bucket, "gradient bucket sizes to search (fp32 bytes), LIST")->capture_default_str();
  c->add_option("--algorithm", o.algorithm,
                "allreduce algorithms to search, LIST of auto (the fastest the library runs), ring, tree, "
                "halving-doubling, hierarchical")
      ->capture_default_str();
  c->add_option("--bandwidth-gbps", o.bandwidth, "network options in Gbit/s per GPU, LIST (default: the profile's)");
  c->add_option("--batch,-b", o.batch, "per-GPU batches to search, LIST (default: the workload's)");
  c->add_option("--predictor", o.predictor, "predictor (see `bitscale predictors`)")->capture_default_str();
  c->add_option("--top", o.top, "how many of the cheapest configurations to print")->capture_default_str();
  c->add_option("--format,-f", o.format, "table, json or csv")->capture_default_str();
  c->add_option("--out,-o", o.out, "write the answer to this file (atomically) instead of stdout");
}

namespace {

// One (cluster, bandwidth, compute precision, batch): the configurations that share a lower bound on the step.
struct Group {
  std::size_t cluster = 0;
  ClusterProfile profile;  // with the bandwidth option applied
  std::optional<double> bandwidth;
  ComputePrecision compute = ComputePrecision::fp32;
  std::int64_t batch = 1;
  double min_step_s = 0;  // the one-GPU compute time: no step of this group is shorter
  // the first (precision, bucket, algorithm) that applies here: on one GPU, where no gradient is sent, the only one
  // searched (the others give the same step)
  std::size_t first_applicable = SIZE_MAX;
};

struct Found {
  std::size_t index = 0;  // in the search
  double step_s = 0, hours = 0, cost = 0;
};

// Points of the time-cost plane none of which dominates another: by increasing hours, strictly decreasing cost.
class Frontier {
 public:
  // true when a point at (hours, cost) would be dominated (some point is no slower and no dearer)
  bool dominates(double hours, double cost) const {
    auto it = points_.upper_bound(hours);
    if (it == points_.begin()) return false;
    return std::prev(it)->second.cost <= cost;
  }
  void add(const Found& f) {
    if (auto same = points_.find(f.hours); same != points_.end() && same->second.cost == f.cost) {
      // a tie: the configuration listed first stays, whichever thread found which first
      if (f.index < same->second.index) same->second = f;
      return;
    }
    if (dominates(f.hours, f.cost)) return;
    // remove the points the new one dominates: no faster and no cheaper
    auto it = points_.lower_bound(f.hours);
    while (it != points_.end() && it->second.cost >= f.cost) it = points_.erase(it);
    points_[f.hours] = f;
  }
  std::vector<Found> points() const {
    std::vector<Found> out;
    for (const auto& [h, f] : points_) out.push_back(f);
    return out;
  }

 private:
  std::map<double, Found> points_;
};

bool cheaper(const Found& a, const Found& b) {
  if (a.cost != b.cost) return a.cost < b.cost;
  if (a.hours != b.hours) return a.hours < b.hours;
  return a.index < b.index;
}

// The K cheapest, as a max-heap on cost: the worst kept on top.
class Cheapest {
 public:
  explicit Cheapest(std::size_t k) : k_(k) {}
  double threshold() const { return heap_.size() < k_ ? INFINITY : heap_.front().cost; }
  void add(const Found& f) {
    if (heap_.size() < k_) {
      heap_.push_back(f);
      std::push_heap(heap_.begin(), heap_.end(), cheaper);
    } else if (cheaper(f, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), cheaper);
      heap_.back() = f;
      std::push_heap(heap_.begin(), heap_.end(), cheaper);
    }
  }
  std::vector<Found> sorted() const {
    auto out = heap_;
    std::sort(out.begin(), out.end(), cheaper);
    return out;
  }

 private:
  std::size_t k_;
  std::vector<Found> heap_;
};

struct Search {
  Workload workload;
  std::vector<ClusterProfile> clusters;
  std::vector<double> prices;  // per GPU-hour, by cluster (1: GPU-hours)
  bool priced = false;
  std::vector<Group> groups;
  std::vector<WireFormat> precisions;
  std::vector<double> buckets;
  std::vector<std::optional<Algorithm>> algorithms;
  std::vector<std::int64_t> gpus;
  double target_throughput = 0;  // samples/s
  double samples = 1e6;          // the job's samples (per million when not given)
  bool samples_given = false;
  std::optional<double> deadline_hours;
  std::unique_ptr<Predictor> predictor;
  std::size_t top = 10;

  std::size_t per_group() const { return precisions.size() * buckets.size() * algorithms.size() * gpus.size(); }
  std::size_t size() const { return groups.size() * per_group(); }

  // configuration i: group-major, then precision, bucket, algorithm, GPUs (innermost)
  Scenario scenario(std::size_t i) const {
    const std::size_t g = i % gpus.size();
    i /= gpus.size();
    const std::size_t a = i % algorithms.size();
    i /= algorithms.size();
    const std::size_t b = i % buckets.size();
    i /= buckets.size();
    const std::size_t p = i % precisions.size();
    const auto& grp = groups[i / precisions.size()];
    Scenario s;
    s.workload = &workload;
    s.cluster = &grp.profile;
    s.gpus = gpus[g];
    s.precision = precisions[p];
    s.compute = grp.compute;
    s.storage = default_storage(grp.compute);
    s.optimizer = workload.default_optimizer;
    s.batch = grp.batch;
    s.bucket_bytes = buckets[b];
    s.algorithm = algorithms[a];
    return s;
  }
  const Group& group_of(std::size_t i) const { return groups[i / per_group()]; }
  double hours(double step_s, std::int64_t gpus_n, std::int64_t batch) const {
    return samples * step_s / (static_cast<double>(gpus_n) * static_cast<double>(batch)) / 3600.0;
  }
};

// A forced allreduce algorithm applies to a codec summed on the wire and one the cluster's library runs; gather
// applies to every codec.
bool applies(const Scenario& sc) {
  if (!sc.algorithm || *sc.algorithm == Algorithm::gather) return true;
  return sc.precision.summable && (sc.cluster->allreduce_algorithm_mask & (1u << static_cast<unsigned>(*sc.algorithm))) != 0;
}

struct Outcome {
  std::vector<Found> cheapest, frontier;
  std::size_t simulated = 0, ruled_out = 0, fit = 0, meet = 0, inapplicable = 0, same = 0;
  std::optional<Found> fastest;  // the highest throughput that fits, when nothing meets the target
  double seconds = 0;
};

Outcome run_search(const Search& s, std::ostream& err, bool progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t total = s.size();
  struct Local {
    Cheapest cheapest;
    Frontier frontier;
    std::size_t simulated = 0, ruled_out = 0, fit = 0, meet = 0, inapplicable = 0, same = 0;
    std::optional<Found> fastest;
    double fastest_throughput = 0;
  };
  const std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 64);
  std::vector<Local> locals;
  for (std::size_t t = 0; t < threads; ++t) locals.push_back({Cheapest(s.top), Frontier(), 0, 0, 0, 0, 0, 0, {}, 0});
  std::atomic<std::size_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  const double target = s.target_throughput;
  auto worker = [&](Local& l) {
    constexpr std::size_t kChunk = 512;
    while (!failed) {
      const std::size_t begin = next.fetch_add(kChunk);
      if (begin >= total) return;
      const std::size_t end = std::min(total, begin + kChunk);
      try {
        for (std::size_t i = begin; i < end; ++i) {
          const auto& grp = s.group_of(i);
          const Scenario sc = s.scenario(i);
          if (!applies(sc)) {
            ++l.inapplicable;
            continue;
          }
          if (sc.gpus == 1 && (i / s.gpus.size()) % (s.per_group() / s.gpus.size()) != grp.first_applicable) {
            ++l.same;  // one GPU sends no gradients: precision, bucket and algorithm change nothing
            continue;
          }
          const double price = s.prices[grp.cluster] * static_cast<double>(sc.gpus);
          // at perfect scaling (the bound), the most this configuration could do
          const double best_throughput = static_cast<double>(sc.gpus) * static_cast<double>(sc.batch) / grp.min_step_s;
          const double best_hours = s.hours(grp.min_step_s, sc.gpus, sc.batch);
          const double best_cost = price * best_hours;
          if (best_throughput < target * (1 - 1e-12) ||
              (best_cost > l.cheapest.threshold() && l.frontier.dominates(best_hours, best_cost))) {
            ++l.ruled_out;
            continue;
          }
          ++l.simulated;
          const auto p = s.predictor->predict(sc);
          if (!p.fits_in_memory) continue;
          ++l.fit;
          const double hours = s.hours(p.step_time_s, sc.gpus, sc.batch);
          const Found f{i, p.step_time_s, hours, price * hours};
          if (p.throughput_samples_per_s > l.fastest_throughput) {
            l.fastest_throughput = p.throughput_samples_per_s;
            l.fastest = f;
          }
          if (p.throughput_samples_per_s < target) continue;
          ++l.meet;
          l.cheapest.add(f);
          l.frontier.add(f);
        }
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
        return;
      }
      done += end - begin;
    }
  };
  std::vector<std::thread> pool;
  try {
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker, std::ref(locals[t]));
  } catch (const std::system_error&) {
    // no more threads: the ones started and this one search it all
  }
  std::thread reporter;
  std::atomic<bool> finished{false};
  if (progress) {
    reporter = std::thread([&] {
      while (!finished) {
        err << fmt::format("\rbitscale plan: {}/{} configurations ({:.0f}%)", done.load(), total,
                           100.0 * static_cast<double>(done.load()) / static_cast<double>(std::max<std::size_t>(total, 1)))
            << std::flush;
        for (int i = 0; i < 10 && !finished; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
      err << "\r" << std::string(70, ' ') << "\r" << std::flush;
    });
  }
  worker(locals[0]);
  for (auto& t : pool) t.join();
  finished = true;
  if (reporter.joinable()) reporter.join();
  if (error) std::rethrow_exception(error);

  Outcome o;
  Cheapest cheapest(s.top);
  Frontier frontier;
  double fastest = 0;
  for (const auto& l : locals) {
    for (const auto& f : l.cheapest.sorted()) cheapest.add(f);
    for (const auto& f : l.frontier.points()) frontier.add(f);
    o.simulated += l.simulated;
    o.ruled_out += l.ruled_out;
    o.fit += l.fit;
    o.meet += l.meet;
    o.inapplicable += l.inapplicable;
    o.same += l.same;
    if (l.fastest && l.fastest_throughput > fastest) {
      fastest = l.fastest_throughput;
      o.fastest = l.fastest;
    }
  }
  o.cheapest = cheapest.sorted();
  o.frontier = frontier.points();
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return o;
}

// A found configuration with its prediction and 90% interval, for the answer.
struct Answer {
  Found found;
  Scenario scenario;
  Prediction prediction;
  double hours_low = 0, hours_high = 0, cost_low = 0, cost_high = 0;
};

Answer answer(const Search& s, const Found& f) {
  Answer a{f, s.scenario(f.index), {}, 0, 0, 0, 0};
  a.prediction = s.predictor->predict(a.scenario);
  add_interval(a.prediction, *s.predictor, a.scenario);
  const auto& grp = s.group_of(f.index);
  const double price = s.prices[grp.cluster] * static_cast<double>(a.scenario.gpus);
  a.hours_low = s.hours(a.prediction.step_time_low_s, a.scenario.gpus, a.scenario.batch);
  a.hours_high = s.hours(a.prediction.step_time_high_s, a.scenario.gpus, a.scenario.batch);
  a.cost_low = price * a.hours_low;
  a.cost_high = price * a.hours_high;
  return a;
}

std::string money(double v, bool priced) {
  if (!priced) return v < 100 ? fmt::format("{:.2f}", v) : group_digits(v);
  return v < 100 ? fmt::format("${:.2f}", v) : "$" + group_digits(v);
}

std::string bucket_label(double bytes) {
  const double mib = bytes / (1024.0 * 1024);
  return std::abs(mib - std::round(mib)) < 1e-9 ? fmt::format("{:.0f}MiB", mib) : fmt::format("{:.3g}MiB", mib);
}

std::vector<Field> answer_fields(const Search& s, const Answer& a, std::string_view list, std::size_t rank) {
  const auto& p = a.prediction;
  const auto& grp = s.group_of(a.found.index);
  return {
      {"list", std::string(list)},
      {"rank", static_cast<std::int64_t>(rank)},
      {"cluster", p.cluster},
      {"gpus", p.gpus},
      {"nodes", p.nodes},
      {"precision", p.precision},
      {"compute", p.compute},
      {"storage", p.storage},
      {"batch", p.batch},
      {"bucket_bytes", p.bucket_bytes},
      {"algorithm", p.algorithm},
      {"algorithm_forced", a.scenario.algorithm.has_value()},
      {"bandwidth_gbps", p.bandwidth_gbps},
      {"step_time_s", p.step_time_s},
      {"step_time_low_s", p.step_time_low_s},
      {"step_time_high_s", p.step_time_high_s},
      {"throughput_samples_per_s", p.throughput_samples_per_s},
      {"efficiency", p.efficiency},
      {"memory_per_gpu_bytes", p.memory_per_gpu_bytes},
      {"samples", s.samples},
      {"hours", a.found.hours},
      {"hours_low", a.hours_low},
      {"hours_high", a.hours_high},
      {"gpu_hour_cost", s.priced ? s.prices[grp.cluster] : 0.0},
      {"cost", a.found.cost},
      {"cost_low", a.cost_low},
      {"cost_high", a.cost_high},
      {"cost_unit", std::string(s.priced ? "USD" : "GPU-hours")},
  };
}

void write_answer_table(std::ostream& o, const Search& s, const std::vector<Answer>& rows, bool mark_cheapest,
                        const std::vector<std::size_t>& cheapest_ids) {
  const std::string unit = s.priced ? "cost USD" : "GPU-hours";
  o << fmt::format("{:>4} {:<14} {:>6} {:<11} {:<8} {:>8} {:<18} {:>8} {:>6} {:>24} {:>12} {:>6} {:>22} {:>26}\n", "#",
                   "cluster", "gpus", "precision", "compute", "bucket", "algorithm", "Gb/s", "batch",
                   "step ms [90%]", "samples/s", "eff", "hours [90%]", unit + " [90%]");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& a = rows[i];
    const auto& p = a.prediction;
    std::string mark;
    if (mark_cheapest) {
      const auto it = std::find(cheapest_ids.begin(), cheapest_ids.end(), a.found.index);
      if (it != cheapest_ids.end()) mark = fmt::format(" (#{})", it - cheapest_ids.begin() + 1);
    }
    o << fmt::format("{:>4} {:<14} {:>6} {:<11} {:<8} {:>8} {:<18} {:>8g} {:>6} {:>24} {:>12} {:>5.1f}% {:>22} {:>26}{}\n",
                     i + 1, p.cluster, p.gpus, p.precision, p.compute, bucket_label(p.bucket_bytes),
                     (a.scenario.algorithm ? "" : "auto: ") + p.algorithm, p.bandwidth_gbps, p.batch,
                     fmt::format("{:.2f} [{:.2f}, {:.2f}]", p.step_time_s * 1e3, p.step_time_low_s * 1e3,
                                 p.step_time_high_s * 1e3),
                     group_digits(p.throughput_samples_per_s), 100 * p.efficiency,
                     fmt::format("{:.3g} [{:.3g}, {:.3g}]", a.found.hours, a.hours_low, a.hours_high),
                     fmt::format("{} [{}, {}]", money(a.found.cost, s.priced), money(a.cost_low, s.priced),
                                 money(a.cost_high, s.priced)),
                     mark);
  }
}

// The answer as CSV rows or one JSON object (list = cheapest, frontier or fastest; rank within the list).
void write_answer_rows(std::ostringstream& text, Format format, const Search& s, const Outcome& outcome,
                       const std::vector<Answer>& cheapest, const std::vector<Answer>& frontier,
                       const std::optional<Answer>& fastest) {
  const std::string unit = s.priced ? "USD" : "GPU-hours";
  std::vector<std::vector<Field>> rows;
  for (std::size_t i = 0; i < cheapest.size(); ++i) rows.push_back(answer_fields(s, cheapest[i], "cheapest", i + 1));
  for (std::size_t i = 0; i < frontier.size(); ++i) rows.push_back(answer_fields(s, frontier[i], "frontier", i + 1));
  if (fastest) rows.push_back(answer_fields(s, *fastest, "fastest", 1));  // nothing meets the target
  if (format == Format::csv) {
    if (rows.empty()) {
      // nothing fits at all: the header alone, so that a script reading the file sees its columns
      std::string header;
      for (const auto& f : answer_fields(s, Answer{}, "", 0)) header += (header.empty() ? "" : ",") + std::string(f.name);
      text << header << "\n";
    }
    write_csv(text, rows);
  } else {
    nlohmann::ordered_json j;
    j["workload"] = s.workload.name;
    auto names = nlohmann::ordered_json::array();
    for (const auto& c : s.clusters) names.push_back(c.name);
    j["clusters"] = names;
    j["target_throughput_samples_per_s"] = s.target_throughput;
    if (s.deadline_hours) j["deadline_hours"] = *s.deadline_hours;
    j["samples"] = s.samples;
    j["cost_unit"] = unit;
    j["configurations"] = s.size();
    j["simulated"] = outcome.simulated;
    j["ruled_out_by_bound"] = outcome.ruled_out;
    j["not_applicable"] = outcome.inapplicable;
    j["same_on_one_gpu"] = outcome.same;
    j["fit_in_memory"] = outcome.fit;
    j["meet_target"] = outcome.meet;
    j["search_seconds"] = outcome.seconds;
    std::ostringstream cj, fj;
    write_json(cj, std::span(rows.data(), cheapest.size()));
    write_json(fj, std::span(rows.data() + cheapest.size(), frontier.size()));
    auto as_array = [](const std::string& t) {
      auto v = nlohmann::ordered_json::parse(t.empty() ? "[]" : t);
      return v.is_array() ? v : nlohmann::ordered_json::array({v});
    };
    j["cheapest"] = as_array(cj.str());
    j["frontier"] = as_array(fj.str());
    if (fastest) {
      std::ostringstream fast;
      write_json(fast, std::span(rows.data() + cheapest.size() + frontier.size(), 1));
      j["fastest"] = nlohmann::ordered_json::parse(fast.str());
    }
    text << j.dump(2) << "\n";
  }
}

}  // namespace

int run_plan(const PlanOptions& o, std::ostream& out, std::ostream& err) {
  const auto format = parse_format(o.format);
  if (!o.out.empty()) check_output_path(o.out, "--out");
  Search s;
  s.predictor = make_predictor(o.predictor);
  s.workload = find_workload(o.workload);
  for (const auto& name : parse_name_list("--cluster", o.clusters)) s.clusters.push_back(find_cluster(name));

  // the target
  const bool by_throughput = !o.target_throughput.empty(), by_deadline = !o.deadline_hours.empty();
  if (by_throughput == by_deadline) {
    throw InputError("", "--target-throughput", o.target_throughput,
                     "give either --target-throughput or --deadline-hours with --samples");
  }
  if (!o.samples.empty()) {
    s.samples = parse_positive("--samples", o.samples, 1e18);
    s.samples_given = true;
  }
  if (by_deadline) {
    if (!s.samples_given) throw InputError("", "--samples", "", "is needed with --deadline-hours");
    s.deadline_hours = parse_positive("--deadline-hours", o.deadline_hours, 1e6);
    s.target_throughput = s.samples / (*s.deadline_hours * 3600.0);
  } else {
    s.target_throughput = parse_positive("--target-throughput", o.target_throughput, 1e15);
  }

  // prices
  s.prices.assign(s.clusters.size(), 1.0);
  if (!o.gpu_hour_cost.empty()) {
    const auto prices = parse_positive_list("--gpu-hour-cost", o.gpu_hour_cost, 1e6);
    if (prices.size() != 1 && prices.size() != s.clusters.size()) {
      throw InputError("", "--gpu-hour-cost", o.gpu_hour_cost,
                       fmt::format("needs one price, or one per cluster ({})", s.clusters.size()));
    }
    for (std::size_t i = 0; i < s.clusters.size(); ++i) s.prices[i] = prices.size() == 1 ? prices[0] : prices[i];
    s.priced = true;
  }

  // the space
  const auto max_gpus = parse_int("--max-gpus", o.max_gpus, 1, kMaxGpus);
  s.gpus = parse_int_list("--gpus", o.gpus.empty() ? fmt::format("1..{}", max_gpus) : o.gpus, 1, kMaxGpus);
  for (auto g : s.gpus) {
    if (g > max_gpus) throw InputError("", "--gpus", std::to_string(g), fmt::format("is over --max-gpus {}", max_gpus));
  }
  for (const auto& p : parse_name_list("--precision", o.precision)) {
    auto f = find_wire_format(p);
    const bool seen = std::any_of(s.precisions.begin(), s.precisions.end(), [&](const WireFormat& x) { return x.name == f.name; });
    if (!seen) s.precisions.push_back(std::move(f));
  }
  for (const auto& b : parse_name_list("--bucket", o.bucket)) {
    const double bytes = parse_bytes("--bucket", b, 1e12);
    if (bytes < 4096) throw InputError("", "--bucket", b, "must be at least 4 KiB");
    if (std::find(s.buckets.begin(), s.buckets.end(), bytes) == s.buckets.end()) s.buckets.push_back(bytes);
  }
  for (const auto& a : parse_name_list("--algorithm", o.algorithm)) {
    const auto algorithm = a == "auto" ? std::optional<Algorithm>() : std::optional<Algorithm>(parse_algorithm(a));
    if (std::find(s.algorithms.begin(), s.algorithms.end(), algorithm) == s.algorithms.end()) {
      s.algorithms.push_back(algorithm);
    }
  }
  // a value listed twice is searched once
  auto unique = [](auto v) {
    std::vector<typename decltype(v)::value_type> kept;
    for (const auto& x : v) {
      if (std::find(kept.begin(), kept.end(), x) == kept.end()) kept.push_back(x);
    }
    return kept;
  };
  s.gpus = unique(s.gpus);
  std::vector<std::optional<double>> bandwidths;
  if (o.bandwidth.empty()) {
    bandwidths.push_back(std::nullopt);
  } else {
    for (double b : unique(parse_positive_list("--bandwidth-gbps", o.bandwidth, 1e6))) bandwidths.push_back(b);
  }
  const auto batches = o.batch.empty() ? std::vector<std::int64_t>{s.workload.default_batch}
                                       : unique(parse_int_list("--batch", o.batch, 1, 1'000'000'000));
  std::vector<ComputePrecision> requested;
  if (!o.compute.empty()) {
    for (const auto& c : parse_name_list("--compute", o.compute)) requested.push_back(parse_compute_precision(c));
  }
  s.top = static_cast<std::size_t>(parse_int("--top", o.top, 1, 1000));
  for (std::size_t c = 0; c < s.clusters.size(); ++c) {
    const auto& cluster = s.clusters[c];
    std::vector<ComputePrecision> computes;
    for (int k = 0; k < kComputePrecisionCount; ++k) {
      const auto cp = static_cast<ComputePrecision>(k);
      const bool asked = requested.empty() || std::find(requested.begin(), requested.end(), cp) != requested.end();
      if (asked && cluster.supports(cp)) computes.push_back(cp);
    }
    if (computes.empty()) {
      throw InputError("", "--compute", o.compute, fmt::format("the {} of {} has none of them", cluster.gpu_model, cluster.name));
    }
    for (const auto& bw : bandwidths) {
      ClusterProfile profile = cluster;
      if (bw) profile.set_inter_node_gbps_per_gpu(*bw);
      for (auto cp : computes) {
        for (auto batch : batches) {
          const double t = step_compute(s.workload, profile, cp, default_storage(cp), s.workload.default_optimizer, batch)
                               .total_s();
          s.groups.push_back({c, profile, bw, cp, batch, t, SIZE_MAX});
        }
      }
    }
  }
  // the groups that compute a sample fastest first: their configurations rule the others out soonest
  std::stable_sort(s.groups.begin(), s.groups.end(), [](const Group& a, const Group& b) {
    return a.min_step_s / static_cast<double>(a.batch) < b.min_step_s / static_cast<double>(b.batch);
  });
  constexpr std::size_t kMaxConfigurations = 100'000'000;
  if (s.size() > kMaxConfigurations) {
    throw InputError("", "configurations", std::to_string(s.size()),
                     fmt::format("more than {} to search: narrow a list", kMaxConfigurations));
  }
  // each group's first (precision, bucket, algorithm) whose algorithm suits its codec and its cluster's library
  const std::size_t combos = s.per_group() / s.gpus.size();
  bool any_applicable = false;
  for (std::size_t g = 0; g < s.groups.size(); ++g) {
    for (std::size_t c = 0; c < combos; ++c) {
      if (applies(s.scenario(g * s.per_group() + c * s.gpus.size()))) {
        s.groups[g].first_applicable = c;
        any_applicable = true;
        break;
      }
    }
  }
  if (!any_applicable) {
    throw InputError("", "--algorithm", o.algorithm,
                     "no listed algorithm applies to a listed precision on any cluster (codecs that cannot be summed "
                     "are gathered; a forced algorithm must be one the cluster's library runs): add auto");
  }
  // bad combinations fail now, on each group's first applicable configuration, before any search
  for (std::size_t g = 0; g < s.groups.size(); ++g) {
    const auto c = s.groups[g].first_applicable;
    if (c < combos) (void)s.predictor->predict(s.scenario(g * s.per_group() + c * s.gpus.size()));
  }

  auto outcome = run_search(s, err, ::isatty(STDERR_FILENO) == 1 && s.size() >= 20'000);
  if (outcome.meet == 0) {
    // nothing meets the target: the fastest configuration that fits, among the largest GPU count's (the bound may
    // have ruled every configuration out unsimulated)
    double best = outcome.fastest ? s.predictor->predict(s.scenario(outcome.fastest->index)).throughput_samples_per_s : 0;
    const auto most = static_cast<std::size_t>(std::max_element(s.gpus.begin(), s.gpus.end()) - s.gpus.begin());
    for (std::size_t i = most; i < s.size(); i += s.gpus.size()) {
      const auto sc = s.scenario(i);
      if (!applies(sc)) continue;
      const auto p = s.predictor->predict(sc);
      if (!p.fits_in_memory || p.throughput_samples_per_s <= best) continue;
      best = p.throughput_samples_per_s;
      const double h = s.hours(p.step_time_s, sc.gpus, sc.batch);
      outcome.fastest = Found{i, p.step_time_s, h, s.prices[s.group_of(i).cluster] * static_cast<double>(sc.gpus) * h};
    }
  }
  // the answers' intervals (64 predictions each) on every core
  std::vector<Found> wanted = outcome.cheapest;
  wanted.insert(wanted.end(), outcome.frontier.begin(), outcome.frontier.end());
  std::vector<Answer> answers(wanted.size());
  {
    std::atomic<std::size_t> next_answer{0};
    std::exception_ptr answer_error;
    std::mutex answer_mutex;
    auto work = [&] {
      for (std::size_t i = next_answer++; i < wanted.size(); i = next_answer++) {
        try {
          answers[i] = answer(s, wanted[i]);
        } catch (...) {
          std::lock_guard lock(answer_mutex);
          if (!answer_error) answer_error = std::current_exception();
        }
      }
    };
    std::vector<std::thread> pool;
    try {
      for (unsigned t = 1; t < std::min(64u, std::max(1u, std::thread::hardware_concurrency())); ++t) pool.emplace_back(work);
    } catch (const std::system_error&) {
      // no more threads: the ones started and this one finish
    }
    work();
    for (auto& t : pool) t.join();
    if (answer_error) std::rethrow_exception(answer_error);
  }
  const std::vector<Answer> cheapest(answers.begin(), answers.begin() + static_cast<std::ptrdiff_t>(outcome.cheapest.size()));
  // the frontier cheapest (slowest) first, fastest last, in every format
  const std::vector<Answer> frontier(answers.rbegin(), answers.rend() - static_cast<std::ptrdiff_t>(outcome.cheapest.size()));
  std::optional<Answer> fastest;
  if (cheapest.empty() && outcome.fastest) fastest = answer(s, *outcome.fastest);
  std::vector<std::size_t> cheapest_ids;
  for (const auto& f : outcome.cheapest) cheapest_ids.push_back(f.index);

  std::ostringstream text;
  const std::string unit = s.priced ? "USD" : "GPU-hours";
  std::string clusters;
  for (std::size_t c = 0; c < s.clusters.size(); ++c) {
    clusters += fmt::format("{}{}{}", c ? ", " : "", s.clusters[c].name,
                            s.priced ? fmt::format(" at ${:g} per GPU-hour", s.prices[c]) : "");
  }
  if (format == Format::table) {
    if (s.deadline_hours) {
      text << fmt::format("bitscale plan: {} for {:g} samples within {:g} h (at least {} samples/s) on {}\n",
                          s.workload.name, s.samples, *s.deadline_hours, group_digits(s.target_throughput), clusters);
    } else {
      text << fmt::format("bitscale plan: {} at {} samples/s or more on {}; hours and cost are for {}\n",
                          s.workload.name, group_digits(s.target_throughput), clusters,
                          s.samples_given ? fmt::format("{:g} samples", s.samples) : "one million samples");
    }
    text << fmt::format(
        "searched {} configurations ({} GPU counts x {} gradient precisions x {} bucket sizes x {} algorithms x {} "
        "(cluster, network, compute, batch)) in {:.2f} s: {} simulated, {} ruled out by the compute bound{}{}; {} of "
        "those simulated fit in memory, {} meet the target\n",
        group_digits(static_cast<double>(s.size())), s.gpus.size(), s.precisions.size(), s.buckets.size(),
        s.algorithms.size(), s.groups.size(), outcome.seconds, group_digits(static_cast<double>(outcome.simulated)),
        group_digits(static_cast<double>(outcome.ruled_out)),
        outcome.inapplicable > 0
            ? fmt::format(", {} not applicable (an allreduce algorithm for a gathered codec, or one the library "
                          "does not run)",
                          group_digits(static_cast<double>(outcome.inapplicable)))
            : "",
        outcome.same > 0 ? fmt::format(", {} on one GPU left out (no gradient is sent: the same step as the first "
                                       "precision, bucket and algorithm)",
                                       group_digits(static_cast<double>(outcome.same)))
                         : "",
        group_digits(static_cast<double>(outcome.fit)), group_digits(static_cast<double>(outcome.meet)));
    if (cheapest.empty()) {
      text << "\nNo configuration meets the target.";
      if (fastest) {
        const auto& a = *fastest;
        text << fmt::format(" The fastest that fits: {} x {} GPUs, {} gradients, {} compute, batch {}: {} samples/s "
                            "(90%: {} .. {}).",
                            a.prediction.cluster, a.prediction.gpus, a.prediction.precision, a.prediction.compute,
                            a.prediction.batch, group_digits(a.prediction.throughput_samples_per_s),
                            group_digits(a.prediction.throughput_samples_per_s * a.prediction.step_time_s /
                                      a.prediction.step_time_high_s),
                            group_digits(a.prediction.throughput_samples_per_s * a.prediction.step_time_s /
                                      a.prediction.step_time_low_s));
      }
      text << " Raise --max-gpus, add faster networks (--bandwidth-gbps) or relax the target.\n";
    } else {
      text << fmt::format("\nThe {} cheapest meeting the target, by cost ({}); [90% interval] from the profiles' stated "
                          "uncertainty:\n",
                          cheapest.size(), unit);
      write_answer_table(text, s, cheapest, false, cheapest_ids);
      text << fmt::format("\nPareto frontier of time against cost among those meeting the target ({} point{}, fastest "
                          "last; (#k): k-th cheapest above):\n",
                          frontier.size(), frontier.size() == 1 ? "" : "s");
      write_answer_table(text, s, frontier, true, cheapest_ids);
    }
  } else {
    write_answer_rows(text, format, s, outcome, cheapest, frontier, fastest);
  }
  if (!o.out.empty()) {
    write_file_atomically(o.out, text.str(), "--out");
    err << fmt::format("bitscale: wrote the plan to {}\n", o.out);
  } else {
    out << text.str();
  }
  return 0;
}

}  // namespace bitscale
