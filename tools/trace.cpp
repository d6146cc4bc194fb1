#include "tools/trace.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "kernels/input_error.hpp"

namespace bitscale {

namespace {
std::string task_name(const Task& t, const Workload& w, std::int32_t offset) {
  if (t.layer >= 0) return fmt::format("{} {}", name(t.kind), w.layers[static_cast<std::size_t>(t.layer + offset)].name);
  if (t.bucket >= 0) return fmt::format("{} bucket {}", name(t.kind), t.bucket);
  return std::string(name(t.kind));
}
}  // namespace

std::string chrome_trace_json(const Prediction& p, const Workload& w) {
  BITSCALE_CHECK(p.timeline != nullptr) << "no timeline recorded";
  auto events = nlohmann::ordered_json::array();
  for (int s = 0; s < kStreamCount; ++s) {
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", 0},
                      {"tid", s},
                      {"args", {{"name", std::string(name(static_cast<Stream>(s))) + " stream"}}}});
  }
  for (const auto& t : p.timeline->graph.tasks()) {
    nlohmann::ordered_json args = {{"kind", std::string(name(t.kind))}, {"duration_s", t.duration_s}};
    if (t.bucket >= 0) {
      const auto& b = p.timeline->buckets[static_cast<std::size_t>(t.bucket)];
      args["bucket"] = t.bucket;
      args["fp32_bytes"] = b.fp32_bytes;
      args["wire_bytes"] = b.wire_bytes;
      if (t.kind == TaskKind::allreduce || t.kind == TaskKind::gather) args["algorithm"] = b.algorithm;
    }
    events.push_back({{"name", task_name(t, w, p.timeline->layer_offset)},
                      {"cat", std::string(name(t.kind))},
                      {"ph", "X"},
                      {"ts", t.start_s * 1e6},
                      {"dur", t.duration_s * 1e6},
                      {"pid", 0},
                      {"tid", static_cast<int>(t.stream)},
                      {"args", args}});
  }
  nlohmann::ordered_json doc = {
      {"traceEvents", events},
      {"displayTimeUnit", "ms"},
      {"otherData",
       {{"workload", p.workload}, {"cluster", p.cluster}, {"gpus", p.gpus}, {"precision", p.precision},
        {"compute", p.compute}, {"batch", p.batch}, {"step_time_s", p.step_time_s}, {"predictor", p.predictor}}}};
  return doc.dump(1) + "\n";
}

std::string timeline_text(const Prediction& p, const Workload& w) {
  BITSCALE_CHECK(p.timeline != nullptr) << "no timeline recorded";
  const auto& tl = *p.timeline;
  std::ostringstream o;
  const auto tasks = tl.graph.tasks();
  const auto& fwd = tasks.front();
  double backward_end = 0;
  for (const auto& t : tasks) {
    if (t.kind == TaskKind::backward) backward_end = std::max(backward_end, t.end_s);
  }
  o << fmt::format("\nTimeline of one step ({} tasks; times in ms from the start of the step)\n", tasks.size());
  if (p.microbatches > 1 || p.pipeline_parallel > 1) {
    o << fmt::format("  {:>9.3f} .. {:>9.3f}  compute  forward and backward of {} microbatches but the last one's "
                     "backward, pipeline fill and drain included\n",
                     fwd.start_s * 1e3, fwd.end_s * 1e3, p.microbatches);
  } else {
    o << fmt::format("  {:>9.3f} .. {:>9.3f}  compute  forward ({} layers)\n", fwd.start_s * 1e3, fwd.end_s * 1e3,
                     w.layers.size());
  }
  o << fmt::format("  {:>9.3f} .. {:>9.3f}  compute  backward{}, last layer first (codec work on the compute "
                   "stream lengthens it)\n",
                   fwd.end_s * 1e3, backward_end * 1e3, p.microbatches > 1 ? " of the last microbatch" : "");
  if (!tl.buckets.empty()) {
    o << fmt::format("  {:>6} {:>22} {:>10} {:>10} {:>9} {:>19} {:>9}  {}\n", "bucket", "layers (backward order)",
                     "fp32 MB", "wire MB", "ready", "communication", "done", "algorithm");
    for (std::size_t b = 0; b < tl.buckets.size(); ++b) {
      const auto& k = tl.buckets[b];
      o << fmt::format("  {:>6} {:>22} {:>10.3f} {:>10.3f} {:>9.3f} {:>8.3f} .. {:>8.3f} {:>9.3f}  {}\n", b,
                       fmt::format("{}..{}", k.first_layer + tl.layer_offset, k.last_layer + tl.layer_offset), k.fp32_bytes / 1e6, k.wire_bytes / 1e6,
                       k.ready_s * 1e3, k.comm_start_s * 1e3, k.comm_end_s * 1e3, k.done_s * 1e3, k.algorithm);
    }
  }
  const auto& opt = tasks.back();
  o << fmt::format("  {:>9.3f} .. {:>9.3f}  compute  optimizer step\n", opt.start_s * 1e3, opt.end_s * 1e3);
  o << fmt::format("  step {:.3f} ms = compute {:.3f} + exposed {:.3f} (communication {:.3f} ms, codec {:.3f} ms in "
                   "total; bounds: no overlap {:.3f}, perfect overlap {:.3f})\n",
                   p.step_time_s * 1e3, p.compute_s * 1e3, p.exposed_comm_s * 1e3, p.comm_s * 1e3, p.codec_s * 1e3,
                   p.step_time_no_overlap_s * 1e3, p.step_time_perfect_overlap_s * 1e3);
  return o.str();
}

}  // namespace bitscale
