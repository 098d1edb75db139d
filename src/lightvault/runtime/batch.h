#pragma once
// A ragged batch: the new tokens of several sequences stacked row after row, without padding.
// Row i is token `tokens[i]` of sequence `seq[i]` at position `pos[i]` in that sequence.
#include <vector>

namespace lv {

struct Batch {
  std::vector<int> tokens;
  std::vector<int> pos;
  std::vector<int> seq;

  int size() const { return static_cast<int>(tokens.size()); }
  // Appends `n` tokens of sequence `seq_index`, starting at position `first_pos`.
  void add(int seq_index, const int* toks, int n, int first_pos) {
    for (int i = 0; i < n; ++i) {
      tokens.push_back(toks[i]);
      pos.push_back(first_pos + i);
      seq.push_back(seq_index);
    }
  }
};

}  // namespace lv
