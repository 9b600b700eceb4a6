#include "plan/packing/resolve.h"

#include <algorithm>

#include "plan/packing/packed.h"

namespace byoc::plan::packing {

double resolve_neighbourhoods(Layout& layout, const std::vector<double>& replica_value,
                              const PlannerOptions& options) {
  const Problem& p = layout.problem();
  const int window = std::max(1, options.resolve_nodes);
  PlannerOptions inner = options;
  inner.resolve_rounds = 0;  // no neighbourhoods inside a neighbourhood
  inner.prove_bound = false;
  // The chains inside search the whole layout for a few replicas: a smaller allowance keeps a round cheap.
  inner.ejection_max_visits = std::min(options.ejection_max_visits, options.resolve_ejection_visits);
  const double start = layout.cost();

  auto ranking = [&] {
    std::vector<std::pair<double, int>> waste;  // (−waste, node): most wasteful first
    for (int n = 0; n < layout.node_count(); ++n) {
      if (layout.empty(n)) continue;
      double value = 0;
      bool pinned = false;
      for (int r : layout.node(n).replicas) {
        value += r < static_cast<int>(replica_value.size()) ? replica_value[r] : 0;
        pinned = pinned || layout.pinned(r);
      }
      if (!pinned) waste.emplace_back(value - p.types[layout.node(n).type].price, n);
    }
    std::stable_sort(waste.begin(), waste.end());
    std::vector<int> nodes;
    for (auto [w, n] : waste) nodes.push_back(n);
    return nodes;
  };

  std::vector<int> ranked = ranking();
  // Each round's re-packing walks the whole layout (repair, improvement): fewer rounds on big layouts.
  const int rounds = std::min<int64_t>(options.resolve_rounds,
                                       options.resolve_max_work / std::max<int64_t>(1, static_cast<int64_t>(ranked.size())));
  for (int round = 0, offset = 0; round < rounds; ++round, offset += std::max(1, window / 2)) {
    if (offset >= static_cast<int>(ranked.size())) break;
    Layout base = layout;
    std::vector<int> freed;
    for (int i = offset; i < offset + window && i < static_cast<int>(ranked.size()); ++i) {
      std::vector<int> on_node = base.node(ranked[i]).replicas;
      for (int r : on_node) {
        base.remove(r);
        freed.push_back(r);
      }
      // Emptied, the node is free to change: it no longer continues a current node.
      base.set_origin(ranked[i], -1);
    }
    if (freed.empty()) continue;
    Layout candidate = pack_into(base, freed, inner);
    if (candidate.cost() < layout.cost() - 1e-9) {
      layout = std::move(candidate);
      ranked = ranking();
      offset = -std::max(1, window / 2);  // start again from the top of the new ranking
    }
  }
  return start - layout.cost();
}

}  // namespace byoc::plan::packing
