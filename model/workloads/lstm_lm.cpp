// LSTM language model: the "medium" Penn Treebank configuration of Zaremba et al. (arXiv 1409.2329), as the
// RNNModel of pytorch/examples word_language_model: embedding 10000 x 650, two LSTM layers of 650 units, an
// untied 650 -> 10000 decoder; one sample is a BPTT window of 35 tokens.
// torch.nn.LSTM holds per layer weight_ih (4h x in), weight_hh (4h x h), bias_ih and bias_hh (4h each):
//   layer parameters = 4h(in + h) + 8h = 4*650*1300 + 8*650 = 3,385,200.
// Total 6,500,000 + 2 x 3,385,200 + 6,510,000 = 19,780,400.
#include <fmt/format.h>

#include "model/workload.hpp"

namespace bitscale {

Workload make_lstm_lm() {
  constexpr std::int64_t kVocab = 10000, kHidden = 650, kLayers = 2, kTokens = 35;
  Workload w;
  w.name = "lstm-lm";
  w.description = "2-layer LSTM language model, 650 units, vocabulary 10000 (PTB medium), 35-token windows";
  w.source = "pytorch/examples word_language_model RNNModel (LSTM, emsize=nhid=650, nlayers=2, untied)";
  w.sample = "window of 35 tokens";
  w.default_batch = 20;
  w.default_optimizer = Optimizer::sgd;
  NetBuilder b(w);
  b.embedding("encoder", kVocab, kHidden, kTokens);
  for (std::int64_t i = 0; i < kLayers; ++i) {
    const std::int64_t in = kHidden;
    const std::int64_t params = 4 * kHidden * (in + kHidden) + 8 * kHidden;
    // gate matmuls 2 * 4h(in + h) per token, plus about 10 elementwise FLOPs per unit for the cell update
    const double flops = static_cast<double>(kTokens) * (2.0 * 4 * kHidden * (in + kHidden) + 10.0 * kHidden);
    // kept for backward per token: 4 gates, cell state, hidden state
    b.add({fmt::format("rnn.l{}", i), LayerKind::recurrent, params, flops, 6 * kHidden * kTokens, 4});
  }
  b.linear("decoder", kHidden, kVocab, true, kTokens);
  return w;
}

}  // namespace bitscale
