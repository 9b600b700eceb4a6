// Resizing and scaling a service (PATCH …/services/{svc}): the size and
// replica count a patch asks for, and applying them. Pure.
//
// - A profile sets cpu_millis/memory_mib from the environment's offer;
//   cpu_millis and/or memory_mib alone make a custom size (the profile goes).
// - replicas change within 1–16, but not to or from a single replica in
//   all (1 shard × 1 replica): that one runs without ZooKeeper, so its
//   tables have no replication to grow from (nor would several keep any
//   once they shrink to one). Shards are fixed.
// - On a catalogue cloud (`aws`) a custom size is placed afresh: the
//   placement planner's scale-in (plan_scale_in, dedicated replicas, its
//   replicas free to move) picks the node type of the cheapest nodes that
//   hold it, so a smaller replica lands on a smaller node group.
#pragma once

#include <vector>

#include "model/objects.h"
#include "model/requests.h"
#include "plan/profiles.h"

namespace byoc::model {

// Throws byoc::Error naming the field: unknown_profile, replication_change.
ServiceResize resize_of(const ServicePatch& patch, const Service& service, const std::vector<plan::Profile>& profiles);

// The same profile, size and replicas (whenever asked for)?
bool same_size(const ServiceResize& a, const ServiceResize& b);

// Does `r` ask for anything `service` does not have?
bool resize_changes(const ServiceResize& r, const Service& service);

// A custom size (no profile) on a catalogue cloud: the node type the planner
// places it on (from `current_type`'s nodes, "" for none); otherwise none.
// Throws as apply_resize.
void place_custom_size(Service& service, const Environment& environment, const std::string& current_type = "");

// Sets the service's size, replicas and profile from `r`, and its node type
// on a catalogue cloud when the size changes. Throws byoc::Error (invalid) "replica_too_large"
// (field "cpu_millis") when no allowed instance type holds a replica.
void apply_resize(Service& service, const ServiceResize& r, const Environment& environment);

}  // namespace byoc::model
