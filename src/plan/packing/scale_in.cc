#include "plan/packing/scale_in.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>
#include <tuple>

#include "base/error.h"
#include "plan/packing/dedicated.h"
#include "plan/packing/feasibility.h"
#include "plan/packing/improve.h"
#include "plan/packing/layout.h"
#include "plan/packing/packed.h"

namespace byoc::plan::packing {

namespace {

double weight(const Resources& r) { return static_cast<double>(r.cpu_millis) + r.memory_mib / 4.0; }

struct Kept {
  Layout layout;
  std::vector<int> forced;  // replicas that must leave their current node
  std::vector<int> fresh;   // replicas not in the current plan
  std::vector<int> node_of_current;  // layout node continuing current node i, or -1
};

Kept keep_what_stays(const Problem& problem, const std::vector<CurrentNode>& current, PlacementMode mode,
                     const std::vector<int>& current_node_of) {
  Kept k{Layout(problem), {}, {}, std::vector<int>(current.size(), -1)};
  for (size_t r = 0; r < problem.replicas.size(); ++r) {
    if (current_node_of[r] < 0) k.fresh.push_back(static_cast<int>(r));
  }
  for (size_t ci = 0; ci < current.size(); ++ci) {
    const CurrentNode& c = current[ci];
    if (c.replicas.empty()) continue;
    if (c.type < 0 || c.zone < 0) {
      k.forced.insert(k.forced.end(), c.replicas.begin(), c.replicas.end());
      continue;
    }
    int n = k.layout.add_node(c.type, c.zone, static_cast<int>(ci));
    k.node_of_current[ci] = n;
    // Smallest first keeps the most replicas in place; the rest must move.
    std::vector<int> order = c.replicas;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return weight(problem.replicas[a].size) < weight(problem.replicas[b].size);
    });
    for (int r : order) {
      bool room = problem.replicas[r].size.fits_in(k.layout.free_room(n));
      bool alone = !k.layout.node_has_group(n, problem.replicas[r].group);
      bool dedicated_ok = mode != PlacementMode::kDedicated || k.layout.empty(n);
      if (room && alone && dedicated_ok) {
        k.layout.place(r, n);
      } else {
        k.forced.push_back(r);
      }
    }
  }
  // Zone spread with the new replica counts: too many in a zone, or too few left unplaced to reach every zone's
  // minimum.
  for (size_t g = 0; g < problem.groups.size(); ++g) {
    const Group& grp = problem.groups[g];
    auto evict_from_zone = [&](int z) {
      for (int r : grp.replicas) {
        int n = k.layout.node_of(r);
        if (n >= 0 && k.layout.node(n).zone == z) {
          k.layout.remove(r);
          k.forced.push_back(r);
          return;
        }
      }
    };
    for (int z = 0; z < problem.zone_count(); ++z) {
      while (k.layout.zone_count(static_cast<int>(g), z) > grp.zone_max) evict_from_zone(z);
    }
    while (true) {
      int deficit = 0;
      int fullest = -1;
      for (int z = 0; z < problem.zone_count(); ++z) {
        int count = k.layout.zone_count(static_cast<int>(g), z);
        deficit += std::max(0, grp.zone_min - count);
        if (count > grp.zone_min && (fullest < 0 || count > k.layout.zone_count(static_cast<int>(g), fullest))) {
          fullest = z;
        }
      }
      if (deficit <= k.layout.unplaced(static_cast<int>(g)) || fullest < 0) break;
      evict_from_zone(fullest);
    }
  }
  for (size_t r = 0; r < problem.replicas.size(); ++r) {
    if (k.layout.node_of(static_cast<int>(r)) >= 0) k.layout.pin(static_cast<int>(r));
  }
  return k;
}

struct Candidate {
  Layout layout;
  std::vector<int> migrated;
  double cost = 0;
};

// Gives new nodes the identity of a released current node of the same type and zone, largest overlap first.
void match_released(Layout& layout, const std::vector<CurrentNode>& current, const std::vector<int>& current_node_of) {
  std::vector<char> taken(current.size(), 0);
  for (int n = 0; n < layout.node_count(); ++n) {
    if (!layout.empty(n) && layout.node(n).origin >= 0) taken[layout.node(n).origin] = 1;
  }
  std::vector<std::tuple<int, int, int>> pairs;  // (overlap, node, current)
  for (int n = 0; n < layout.node_count(); ++n) {
    if (layout.empty(n) || layout.node(n).origin >= 0) continue;
    std::vector<int> overlap(current.size(), 0);
    for (int r : layout.node(n).replicas) {
      int ci = current_node_of[r];
      if (ci >= 0 && !taken[ci] && current[ci].type == layout.node(n).type && current[ci].zone == layout.node(n).zone) {
        ++overlap[ci];
      }
    }
    for (size_t ci = 0; ci < current.size(); ++ci) {
      if (overlap[ci] > 0) pairs.emplace_back(overlap[ci], n, static_cast<int>(ci));
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::vector<char> node_done(layout.node_count(), 0);
  for (auto [overlap, n, ci] : pairs) {
    if (node_done[n] || taken[ci]) continue;
    node_done[n] = 1;
    taken[ci] = 1;
    layout.set_origin(n, ci);
  }
}

Candidate evaluate(const Problem& problem, const Kept& kept, const std::vector<CurrentNode>& current,
                   const std::vector<int>& current_node_of, const std::vector<int>& released, PlacementMode mode,
                   const PlannerOptions& options) {
  Layout base = kept.layout;
  std::vector<int> todo = kept.forced;
  todo.insert(todo.end(), kept.fresh.begin(), kept.fresh.end());
  for (int ci : released) {
    int n = kept.node_of_current[ci];
    std::vector<int> moving = base.node(n).replicas;
    for (int r : moving) {
      base.unpin(r);
      base.remove(r);
      todo.push_back(r);
    }
    base.set_origin(n, -1);
  }
  Layout out = base;
  if (mode == PlacementMode::kDedicated) {
    InsertOptions opt;
    opt.allow_existing_nodes = false;
    opt.allow_upgrades = false;
    if (insert_replicas(out, todo, opt) < 0) throw Error::Internal("scale-in: a replica found no node");
  } else {
    out = pack_into(base, todo, options);
  }
  match_released(out, current, current_node_of);
  Candidate c{std::move(out), {}, 0};
  for (size_t r = 0; r < problem.replicas.size(); ++r) {
    int was = current_node_of[r];
    if (was < 0) continue;
    if (c.layout.node(c.layout.node_of(static_cast<int>(r))).origin != was) c.migrated.push_back(static_cast<int>(r));
  }
  c.cost = c.layout.cost();
  return c;
}

}  // namespace

ScaleInResult solve_scale_in(const Problem& problem, const std::vector<CurrentNode>& current, int max_migrations,
                             PlacementMode mode, const PlannerOptions& options) {
  const int R = static_cast<int>(problem.replicas.size());
  std::vector<int> current_node_of(R, -1);
  for (size_t ci = 0; ci < current.size(); ++ci) {
    for (int r : current[ci].replicas) current_node_of[r] = static_cast<int>(ci);
  }

  // The fresh problem: the bound, and what each replica is worth.
  ScaleInResult result;
  std::vector<double> value(R, 0);
  Solution fresh_solution;
  if (mode == PlacementMode::kDedicated) {
    Solution fresh = solve_dedicated(problem);
    result.lower_bound = fresh.cost(problem);
    result.bound_exact = true;
    for (int r = 0; r < R; ++r) value[r] = problem.types[problem.cheapest_fit(problem.replicas[r].size)].price;
  } else {
    PackedResult fresh = solve_packed(problem, options);
    result.lower_bound = fresh.lower_bound;
    result.bound_exact = fresh.optimal;
    value = fresh.replica_value;
    fresh_solution = fresh.solution;
  }

  Kept kept = keep_what_stays(problem, current, mode, current_node_of);
  const int forced = static_cast<int>(kept.forced.size());
  if (max_migrations >= 0 && forced > max_migrations) {
    throw Error::Invalid("max_migrations_too_small",
                         "the current plan needs at least " + std::to_string(forced) +
                             " migrations to stay valid with the new replicas, more than --max-migrations " +
                             std::to_string(max_migrations),
                         "max_migrations");
  }
  const int budget = max_migrations < 0 ? std::numeric_limits<int>::max() : max_migrations - forced;

  // Kept nodes by how much they overpay per replica, worst first.
  struct Release {
    int current;
    int replicas;
    double overpay;
  };
  std::vector<Release> order;
  int kept_replicas = 0;
  for (size_t ci = 0; ci < current.size(); ++ci) {
    int n = kept.node_of_current[ci];
    if (n < 0 || kept.layout.empty(n)) continue;
    double worth = 0;
    for (int r : kept.layout.node(n).replicas) worth += value[r];
    int count = static_cast<int>(kept.layout.node(n).replicas.size());
    order.push_back(Release{static_cast<int>(ci), count, problem.types[kept.layout.node(n).type].price - worth});
    kept_replicas += count;
  }
  std::stable_sort(order.begin(), order.end(), [](const Release& a, const Release& b) {
    return a.overpay / a.replicas > b.overpay / b.replicas;
  });
  auto prefix = [&](long long limit) {
    std::vector<int> chosen;
    long long used = 0;
    for (const auto& r : order) {
      if (r.overpay <= 1e-9) break;
      if (used + r.replicas > limit) continue;
      used += r.replicas;
      chosen.push_back(r.current);
    }
    return chosen;
  };

  std::vector<std::vector<int>> release_sets{{}};
  long long cap = budget;
  if (mode == PlacementMode::kDedicated) {
    // Unit weights, independent savings: releasing the biggest savings first is optimal.
    release_sets.push_back(prefix(cap));
  } else {
    for (long long b : {cap, cap / 2, cap / 4}) {
      auto s = prefix(b);
      if (!s.empty() && std::find(release_sets.begin(), release_sets.end(), s) == release_sets.end()) {
        release_sets.push_back(std::move(s));
      }
    }
  }

  // Re-placements in the release candidates get a third of the rounding budget: there are several of them.
  PlannerOptions quick = options;
  quick.integer_master_max_nodes = std::max<int64_t>(1, options.integer_master_max_nodes / 3);
  quick.dive_max_rounds = std::max(1, options.dive_max_rounds / 3);
  quick.prove_bound = false;  // the bound comes from the fresh plan
  std::optional<Candidate> best;
  auto consider = [&](Candidate c) {
    if (max_migrations >= 0 && static_cast<int>(c.migrated.size()) > max_migrations) return;
    if (!best || c.cost < best->cost - 1e-9 ||
        (c.cost < best->cost + 1e-9 && c.migrated.size() < best->migrated.size())) {
      best = std::move(c);
    }
  };
  if (mode == PlacementMode::kPacked) {
    // Releasing everything is the fresh plan, already solved: only the matching to current nodes is left.
    Layout layout(problem, fresh_solution);
    match_released(layout, current, current_node_of);
    Candidate c{std::move(layout), {}, 0};
    for (int r = 0; r < R; ++r) {
      int was = current_node_of[r];
      if (was >= 0 && c.layout.node(c.layout.node_of(r)).origin != was) c.migrated.push_back(r);
    }
    c.cost = c.layout.cost();
    consider(std::move(c));
  }
  for (const auto& set : release_sets) {
    Candidate c = evaluate(problem, kept, current, current_node_of, set, mode, quick);
    consider(std::move(c));
  }
  if (!best) throw Error::Internal("scale-in found no re-placement within the migration limit");
  result.solution = best->layout.solution();
  check_or_throw(problem, result.solution, "scale-in");
  result.migrated = best->migrated;
  return result;
}

}  // namespace byoc::plan::packing
