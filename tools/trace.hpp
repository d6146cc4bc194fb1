// Chrome trace format (the JSON "traceEvents" array that chrome://tracing and Perfetto open) of one step of the
// timeline predictor: one complete event ("ph": "X", microseconds) per task, one track per stream.
#pragma once
#include <string>

#include "model/workload.hpp"
#include "predictors/predictor.hpp"

namespace bitscale {

std::string chrome_trace_json(const Prediction& p, const Workload& w);

// The timeline as text: the buckets with their readiness, communication and completion times, and the step.
std::string timeline_text(const Prediction& p, const Workload& w);

}  // namespace bitscale
