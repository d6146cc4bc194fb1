// BERT-large, uncased (Devlin et al., arXiv 1810.04805) as Hugging Face transformers BertModel with the
// bert-large-uncased configuration: vocabulary 30522, 24 layers, hidden 1024, 16 heads, feed-forward 4096,
// 512 positions, 2 token types; encoder and pooler, no task head. One sample is a sequence of 512 tokens.
// Hugging Face reports 335,141,888 parameters for BertModel.from_pretrained("bert-large-uncased").
#include <fmt/format.h>

#include "model/workload.hpp"

namespace bitscale {

Workload make_bert_large() {
  constexpr std::int64_t kVocab = 30522, kLayers = 24, kWidth = 1024, kHeads = 16, kFfn = 4096, kPositions = 512;
  constexpr std::int64_t kTokens = 512;
  Workload w;
  w.name = "bert-large";
  w.description = "BERT-large uncased (Hugging Face BertModel: encoder + pooler), sequence length 512";
  w.source = "transformers BertModel, config bert-large-uncased (huggingface/transformers modeling_bert.py)";
  w.sample = "sequence of 512 tokens";
  w.default_batch = 8;
  w.default_optimizer = Optimizer::adam;
  NetBuilder b(w);
  b.embedding("embeddings.word_embeddings", kVocab, kWidth, kTokens);
  b.embedding("embeddings.position_embeddings", kPositions, kWidth, kTokens);
  b.embedding("embeddings.token_type_embeddings", 2, kWidth, kTokens);
  b.layernorm("embeddings.LayerNorm", kWidth, kTokens);
  for (std::int64_t i = 0; i < kLayers; ++i) {
    const auto p = fmt::format("encoder.layer.{}.", i);
    b.linear(p + "attention.self.query", kWidth, kWidth, true, kTokens);
    b.linear(p + "attention.self.key", kWidth, kWidth, true, kTokens);
    b.linear(p + "attention.self.value", kWidth, kWidth, true, kTokens);
    b.attention(p + "attention.self", kWidth, kHeads, kTokens);
    b.linear(p + "attention.output.dense", kWidth, kWidth, true, kTokens);
    b.layernorm(p + "attention.output.LayerNorm", kWidth, kTokens);
    b.linear(p + "intermediate.dense", kWidth, kFfn, true, kTokens);
    b.linear(p + "output.dense", kFfn, kWidth, true, kTokens);
    b.layernorm(p + "output.LayerNorm", kWidth, kTokens);
  }
  b.linear("pooler.dense", kWidth, kWidth, true, 1);  // on the first token only
  return w;
}

}  // namespace bitscale
