// GPT-2 XL (Radford et al. 2019) as Hugging Face transformers GPT2LMHeadModel with the gpt2-xl configuration:
// vocabulary 50257, 1024 positions, 48 layers, width 1600, 25 heads, feed-forward 6400. The language-model head
// shares the token embedding's weights, so it adds FLOPs but no parameters. One sample is 1024 tokens.
// Hugging Face reports 1,557,611,200 parameters for gpt2-xl.
#include <fmt/format.h>

#include "model/workload.hpp"

namespace bitscale {

Workload make_gpt2_xl() {
  constexpr std::int64_t kVocab = 50257, kLayers = 48, kWidth = 1600, kHeads = 25, kPositions = 1024;
  constexpr std::int64_t kTokens = 1024;
  Workload w;
  w.name = "gpt2-xl";
  w.description = "GPT-2 XL (Hugging Face GPT2LMHeadModel, tied head), sequence length 1024";
  w.source = "transformers GPT2LMHeadModel, config gpt2-xl (huggingface/transformers modeling_gpt2.py)";
  w.sample = "sequence of 1024 tokens";
  w.default_batch = 4;
  w.default_optimizer = Optimizer::adam;
  NetBuilder b(w);
  b.embedding("wte", kVocab, kWidth, kTokens);
  b.embedding("wpe", kPositions, kWidth, kTokens);
  for (std::int64_t i = 0; i < kLayers; ++i) {
    const auto p = fmt::format("h.{}.", i);
    b.layernorm(p + "ln_1", kWidth, kTokens);
    b.linear(p + "attn.c_attn", kWidth, 3 * kWidth, true, kTokens);
    b.attention(p + "attn", kWidth, kHeads, kTokens);
    b.linear(p + "attn.c_proj", kWidth, kWidth, true, kTokens);
    b.layernorm(p + "ln_2", kWidth, kTokens);
    b.linear(p + "mlp.c_fc", kWidth, 4 * kWidth, true, kTokens);
    b.linear(p + "mlp.c_proj", 4 * kWidth, kWidth, true, kTokens);
  }
  b.layernorm("ln_f", kWidth, kTokens);
  // lm_head: tied to wte (no parameters of its own), logits over the vocabulary for every token
  b.add({"lm_head", LayerKind::linear, 0,
         2.0 * static_cast<double>(kWidth) * static_cast<double>(kVocab) * static_cast<double>(kTokens),
         kVocab * kTokens, 0});
  return w;
}

}  // namespace bitscale
