#include "plan/packing/knapsack.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace byoc::plan::packing {

namespace {

constexpr int64_t kEnoughOnceImproving = 20000;

class Solver {
 public:
  Solver(const std::vector<KnapsackItem>& items, const Resources& room, double target, int64_t budget)
      : room_(room), budget_(budget), target_(target) {
    for (size_t i = 0; i < items.size(); ++i) {
      const auto& it = items[i];
      if (it.value <= 0 || it.max_count <= 0 || !it.size.fits_in(room)) continue;
      if (it.size.cpu_millis < 0 || it.size.memory_mib < 0) continue;
      Item x;
      x.index = static_cast<int>(i);
      x.cpu = it.size.cpu_millis;
      x.mem = it.size.memory_mib;
      int64_t by_cpu = x.cpu > 0 ? room.cpu_millis / x.cpu : it.max_count;
      int64_t by_mem = x.mem > 0 ? room.memory_mib / x.mem : it.max_count;
      x.max = static_cast<int>(std::min<int64_t>({it.max_count, by_cpu, by_mem}));
      x.value = it.value;
      if (x.max > 0) items_.push_back(x);
    }
    counts_.assign(items.size(), 0);
  }

  KnapsackResult run() {
    KnapsackResult r;
    r.counts.assign(counts_.size(), 0);
    if (items_.empty()) {
      r.proven = true;
      r.upper_bound = std::max(0.0, target_);
      return r;
    }
    lambda_ = best_lambda();
    std::sort(items_.begin(), items_.end(),
              [&](const Item& a, const Item& b) { return a.value / weight(a) > b.value / weight(b); });
    for (size_t i = 0; i < items_.size(); ++i) items_[i].pos = static_cast<int>(i);
    by_cpu_ = by_mem_ = std::vector<int>(items_.size());
    std::iota(by_cpu_.begin(), by_cpu_.end(), 0);
    std::iota(by_mem_.begin(), by_mem_.end(), 0);
    std::sort(by_cpu_.begin(), by_cpu_.end(), [&](int a, int b) { return ratio(items_[a], true) > ratio(items_[b], true); });
    std::sort(by_mem_.begin(), by_mem_.end(), [&](int a, int b) { return ratio(items_[a], false) > ratio(items_[b], false); });
    root_bound_ = bound(0, room_.cpu_millis, room_.memory_mib);
    greedy();
    current_.assign(items_.size(), 0);
    dfs(0, room_.cpu_millis, room_.memory_mib, 0);
    r.value = best_value_;
    for (size_t i = 0; i < items_.size(); ++i) r.counts[items_[i].index] = best_[i];
    r.proven = nodes_ <= budget_;
    r.upper_bound = r.proven ? std::max(best_value_, target_) : std::max(best_value_, root_bound_);
    return r;
  }

 private:
  struct Item {
    int index = 0;
    int pos = 0;
    int64_t cpu = 0;
    int64_t mem = 0;
    int max = 0;
    double value = 0;
  };

  double share(const Item& x, double lambda) const {
    return lambda * static_cast<double>(x.cpu) / room_.cpu_millis +
           (1 - lambda) * static_cast<double>(x.mem) / room_.memory_mib;
  }
  double weight(const Item& x) const { return std::max(share(x, lambda_), 1e-15); }
  double ratio(const Item& x, bool cpu) const {
    double w = cpu ? static_cast<double>(x.cpu) : static_cast<double>(x.mem);
    return w > 0 ? x.value / w : 1e300;
  }

  // Fractional surrogate bound on all items for a given multiplier (capacity 1 in share units).
  double surrogate_root(double lambda) const {
    std::vector<int>& order = scratch_;
    order.resize(items_.size());
    std::iota(order.begin(), order.end(), 0);
    auto w = [&](int i) { return std::max(share(items_[i], lambda), 1e-15); };
    std::sort(order.begin(), order.end(), [&](int a, int b) { return items_[a].value / w(a) > items_[b].value / w(b); });
    double left = 1, total = 0;
    for (int i : order) {
      double need = w(i) * items_[i].max;
      if (need <= left) {
        left -= need;
        total += items_[i].value * items_[i].max;
      } else {
        total += items_[i].value * left / w(i);
        break;
      }
    }
    return total;
  }

  // The surrogate bound is quasi-convex in lambda: golden-section search for its minimum.
  double best_lambda() const {
    double lo = 0, hi = 1;
    for (int i = 0; i < 12; ++i) {
      double a = lo + (hi - lo) * 0.382, b = lo + (hi - lo) * 0.618;
      if (surrogate_root(a) <= surrogate_root(b)) {
        hi = b;
      } else {
        lo = a;
      }
    }
    return (lo + hi) / 2;
  }

  // Fractional surrogate bound over items at positions >= d (items are in surrogate order).
  double surrogate_bound(int d, int64_t cpu_left, int64_t mem_left) const {
    double cap = lambda_ * static_cast<double>(cpu_left) / room_.cpu_millis +
                 (1 - lambda_) * static_cast<double>(mem_left) / room_.memory_mib;
    double surrogate = 0;
    for (size_t i = d; i < items_.size(); ++i) {
      double need = weight(items_[i]) * items_[i].max;
      if (need <= cap) {
        cap -= need;
        surrogate += items_[i].value * items_[i].max;
      } else {
        surrogate += items_[i].value * cap / weight(items_[i]);
        break;
      }
    }
    return surrogate;
  }

  // Fractional bound on one resource alone, over items at positions >= d.
  double single_bound(int d, int64_t cpu_left, int64_t mem_left, bool cpu) const {
    const std::vector<int>& order = cpu ? by_cpu_ : by_mem_;
    double left = static_cast<double>(cpu ? cpu_left : mem_left);
    double total = 0;
    for (int i : order) {
      const Item& x = items_[i];
      if (x.pos < d) continue;
      double w = static_cast<double>(cpu ? x.cpu : x.mem);
      if (w <= 0) {
        total += x.value * x.max;
        continue;
      }
      double need = w * x.max;
      if (need <= left) {
        left -= need;
        total += x.value * x.max;
      } else {
        total += x.value * left / w;
        break;
      }
    }
    return total;
  }

  double bound(int d, int64_t cpu_left, int64_t mem_left) const {
    return std::min({surrogate_bound(d, cpu_left, mem_left), single_bound(d, cpu_left, mem_left, true),
                     single_bound(d, cpu_left, mem_left, false)});
  }

  // Whether the subtree can't beat `floor`: the cheap surrogate bound first, the single-resource ones only when
  // it doesn't settle it.
  bool pruned(int d, int64_t cpu_left, int64_t mem_left, double value, double floor) const {
    if (value + surrogate_bound(d, cpu_left, mem_left) <= floor) return true;
    if (value + single_bound(d, cpu_left, mem_left, true) <= floor) return true;
    return value + single_bound(d, cpu_left, mem_left, false) <= floor;
  }

  void greedy() {
    std::vector<int> take(items_.size(), 0);
    int64_t cpu = room_.cpu_millis, mem = room_.memory_mib;
    double value = 0;
    for (size_t i = 0; i < items_.size(); ++i) {
      const Item& x = items_[i];
      int64_t n = x.max;
      if (x.cpu > 0) n = std::min<int64_t>(n, cpu / x.cpu);
      if (x.mem > 0) n = std::min<int64_t>(n, mem / x.mem);
      take[i] = static_cast<int>(n);
      cpu -= x.cpu * n;
      mem -= x.mem * n;
      value += x.value * n;
    }
    best_value_ = value;
    best_ = take;
  }

  void dfs(int d, int64_t cpu_left, int64_t mem_left, double value) {
    if (++nodes_ > budget_) return;
    // An improving choice is all the caller needs once the search has had a fair go at finding the best one.
    if (best_value_ > target_ && nodes_ > kEnoughOnceImproving) {
      nodes_ = budget_ + 1;
      return;
    }
    if (d == static_cast<int>(items_.size())) {
      if (value > best_value_ + 1e-12) {
        best_value_ = value;
        best_ = current_;
      }
      return;
    }
    if (pruned(d, cpu_left, mem_left, value, std::max(best_value_, target_) + 1e-12)) return;
    const Item& x = items_[d];
    int64_t n = x.max;
    if (x.cpu > 0) n = std::min<int64_t>(n, cpu_left / x.cpu);
    if (x.mem > 0) n = std::min<int64_t>(n, mem_left / x.mem);
    for (int64_t c = n; c >= 0; --c) {
      current_[d] = static_cast<int>(c);
      dfs(d + 1, cpu_left - x.cpu * c, mem_left - x.mem * c, value + x.value * c);
      if (nodes_ > budget_) break;
    }
    current_[d] = 0;
  }

  Resources room_;
  int64_t budget_;
  std::vector<Item> items_;
  std::vector<int> counts_;
  std::vector<int> by_cpu_, by_mem_;
  double target_ = 0;
  double lambda_ = 0.5;
  double root_bound_ = 0;
  std::vector<int> best_, current_;
  mutable std::vector<int> scratch_;
  double best_value_ = 0;
  int64_t nodes_ = 0;
};

}  // namespace

KnapsackResult solve_knapsack_2d(const std::vector<KnapsackItem>& items, const Resources& room, double target,
                                 int64_t node_budget) {
  return Solver(items, room, target, node_budget).run();
}

std::optional<KnapsackResult> solve_knapsack_2d_dp(const std::vector<KnapsackItem>& items, const Resources& room,
                                                  int64_t work_budget) {
  // 0/1 pieces by binary splitting of each bounded count.
  struct Piece {
    int item;
    int copies;
    int64_t cpu;  // grid steps
    int64_t mem;
    double value;
  };
  int64_t grid = 0;
  for (const auto& it : items) {
    if (it.value > 0 && it.max_count > 0 && it.size.fits_in(room)) grid = std::gcd(grid, it.size.cpu_millis);
  }
  KnapsackResult result;
  result.counts.assign(items.size(), 0);
  if (grid == 0) {
    result.proven = true;
    return result;
  }
  const int64_t steps = room.cpu_millis / grid;
  if (steps > 4000) return std::nullopt;
  std::vector<Piece> pieces;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& it = items[i];
    if (it.value <= 0 || it.max_count <= 0 || !it.size.fits_in(room)) continue;
    int64_t cap = std::min<int64_t>({it.max_count, room.cpu_millis / std::max<int64_t>(1, it.size.cpu_millis),
                                     room.memory_mib / std::max<int64_t>(1, it.size.memory_mib)});
    for (int64_t k = 1; cap > 0; k *= 2) {
      int64_t take = std::min(k, cap);
      cap -= take;
      pieces.push_back(Piece{static_cast<int>(i), static_cast<int>(take), it.size.cpu_millis / grid * take,
                             it.size.memory_mib * take, it.value * static_cast<double>(take)});
    }
  }
  // The front at c: states using exactly c steps of CPU, memory ascending and value strictly ascending. Each
  // state remembers how it was built (piece, previous state) for the reconstruction.
  struct State {
    int64_t mem;
    double value;
    int piece;
    int prev_c;
    int prev_index;
  };
  // Every state ever created, addressed by (c, id), so the best one can be traced back.
  std::vector<std::vector<State>> all(steps + 1);
  std::vector<std::vector<int>> ids(steps + 1);  // ids into all[c] of the current front
  all[0].push_back(State{0, 0, -1, -1, -1});
  ids[0].push_back(0);
  int64_t work = 0;
  for (size_t p = 0; p < pieces.size(); ++p) {
    const Piece& pc = pieces[p];
    for (int64_t c = steps; c >= pc.cpu; --c) {
      const int64_t from = c - pc.cpu;
      if (ids[from].empty()) continue;
      // Merge front[c] with front[from] shifted by the piece.
      const auto& a_ids = ids[c];
      const auto& b_ids = ids[from];
      size_t i = 0, j = 0;
      std::vector<int> next_ids;
      double best_value = -1;
      auto offer = [&](State st, int existing) {
        if (st.value <= best_value + 1e-12) return;
        best_value = st.value;
        if (existing < 0) {
          all[c].push_back(st);
          existing = static_cast<int>(all[c].size()) - 1;
        }
        next_ids.push_back(existing);
      };
      while (i < a_ids.size() || j < b_ids.size()) {
        bool take_a;
        State shifted{};
        if (j < b_ids.size()) {
          const State& b = all[from][b_ids[j]];
          shifted = State{b.mem + pc.mem, b.value + pc.value, static_cast<int>(p), static_cast<int>(from), b_ids[j]};
        }
        if (j >= b_ids.size() || shifted.mem > room.memory_mib) {
          if (i >= a_ids.size()) break;
          take_a = true;
        } else if (i >= a_ids.size()) {
          take_a = false;
        } else {
          take_a = all[c][a_ids[i]].mem <= shifted.mem;
        }
        if (take_a) {
          offer(all[c][a_ids[i]], a_ids[i]);
          ++i;
        } else {
          offer(shifted, -1);
          ++j;
        }
        if (++work > work_budget) return std::nullopt;
      }
      ids[c] = std::move(next_ids);
    }
  }
  // Best state over all CPU levels.
  int best_c = 0, best_id = ids[0][0];
  double best = 0;
  for (int64_t c = 0; c <= steps; ++c) {
    for (int id : ids[c]) {
      if (all[c][id].value > best) {
        best = all[c][id].value;
        best_c = static_cast<int>(c);
        best_id = id;
      }
    }
  }
  result.value = best;
  result.upper_bound = best;
  result.proven = true;
  for (int c = best_c, id = best_id; c >= 0 && id >= 0;) {
    const State& st = all[c][id];
    if (st.piece < 0) break;
    result.counts[pieces[st.piece].item] += pieces[st.piece].copies;
    int pc = st.prev_c, pid = st.prev_index;
    c = pc;
    id = pid;
  }
  return result;
}

}  // namespace byoc::plan::packing
