// The seed papers' performance models, rebuilt from the mechanisms their code shows (what is known of them is in
// docs/model.md, "Seed-paper predictors"; the papers' own equations were not available, so these are
// reconstructions, and say so).
//
// dettmers2015  8-Bit Approximations for Parallelism in Deep Learning (Dettmers, arXiv 1511.04561, ICLR 2016).
//               Data parallelism as the 2015 code does it (clusterNet Layer::MPI_synchronization_async): each GPU
//               compresses a layer's whole weight gradient as soon as its backward pass ends and sends it to every
//               other GPU; each GPU then decompresses the p-1 buffers and adds them. One message per layer,
//               gather-style exchange (no reduce-scatter), overlapped with the backward pass of the layers below.
//               32-bit sends the raw values the same way. Built on the timeline simulation with those rules.
// aps           Auto-Precision Scaling (Han, Demmel, You, arXiv 1911.08907, ISC 2021), as its code runs it
//               (drcut/CPD dist_util.py sum_gradients, after loss.backward()): per layer, a max pass; one
//               allreduce(MAX) of one exponent per parameter tensor for the whole step; then per layer scale,
//               quantize (fp8 or eXmY), reduce, dequantize and unscale. No overlap with the backward pass.
//               The per-layer reduction is an allreduce of the low-precision values (the artifact emulates it
//               with an allgather and sequential sums in fp32; the paper's point is the low-precision sum).
#include "predictors/predictor.hpp"
#include "predictors/timeline.hpp"

namespace bitscale {

namespace {

class Dettmers2015Predictor final : public Predictor {
 public:
  std::string_view name() const override { return "dettmers2015"; }
  Prediction predict(const Scenario& s) const override {
    TimelineVariant v;
    v.name = name();
    v.per_layer_messages = true;
    v.force_gather = true;
    return predict_timeline(s, v);
  }
};

class ApsPredictor final : public Predictor {
 public:
  std::string_view name() const override { return "aps"; }
  Prediction predict(const Scenario& s) const override {
    TimelineVariant v;
    v.name = name();
    v.per_layer_messages = true;
    v.scale_per_step = true;
    v.after_backward = true;
    return predict_timeline(s, v);
  }
};

}  // namespace

std::unique_ptr<Predictor> make_dettmers2015_predictor() { return std::make_unique<Dettmers2015Predictor>(); }
std::unique_ptr<Predictor> make_aps_predictor() { return std::make_unique<ApsPredictor>(); }

}  // namespace bitscale
