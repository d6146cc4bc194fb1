// Variants of the timeline simulation that the seed-paper predictors (dettmers2015, aps) are built from.
// Internal to bitscale::predictors.
#pragma once
#include <string_view>

#include "predictors/predictor.hpp"

namespace bitscale {

struct TimelineVariant {
  std::string_view name = "timeline";  // the predictor name reported
  bool per_layer_messages = false;     // one message per layer's gradient instead of DDP buckets
  bool force_gather = false;           // every rank sends its (compressed) gradient to every other rank
  bool scale_per_step = false;         // APS: one allreduce(MAX) of one exponent per tensor per step
  bool after_backward = false;         // no overlap: communication after the backward pass
};

Prediction predict_timeline(const Scenario& s, const TimelineVariant& v);

}  // namespace bitscale
