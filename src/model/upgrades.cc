#include "model/upgrades.h"

#include <regex>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/error.h"
#include "model/validate.h"

namespace byoc::model {

using nlohmann::json;

PublishedVersion parse_version_publish(const json& body, int64_t now) {
  check_object_fields(body, {"kind", "name", "published_at"}, {"published_by", "created_at"});
  PublishedVersion v;
  v.kind = get_string(body, "kind", "", true);
  if (v.kind != kVersionClickHouse && v.kind != kVersionEks)
    throw Error::Invalid("invalid_kind", "kind must be clickhouse or eks, not '" + v.kind + "'", "kind");
  v.name = get_string(body, "name", "", true);
  static const std::regex name("[A-Za-z0-9._+-]{1,64}");
  if (!std::regex_match(v.name, name))
    throw Error::Invalid("invalid_name", "a version name is 1-64 of A-Z a-z 0-9 . _ + -", "name");
  static const std::regex minor("1\\.(0|[1-9][0-9]{0,2})");
  if (v.kind == kVersionEks && !std::regex_match(v.name, minor))
    throw Error::Invalid("invalid_name", "an eks version is a Kubernetes minor such as 1.32", "name");
  v.published_at = now;
  if (body.contains("published_at")) {
    std::string text = get_string(body, "published_at", "");
    auto t = parse_iso8601(text);
    if (!t) throw Error::Invalid("invalid_time", "published_at must be an RFC 3339 time", "published_at");
    if (t->seconds > now) throw Error::Invalid("in_the_future", "published_at can't lie ahead", "published_at");
    v.published_at = t->seconds;
  }
  v.created_at = now;
  return v;
}

json to_json(const PublishedVersion& v) {
  return {{"kind", v.kind},
          {"name", v.name},
          {"published_at", format_rfc3339(v.published_at)},
          {"published_by", v.published_by},
          {"created_at", format_rfc3339(v.created_at)}};
}

json to_json(const Upgrade& u, const std::string& environment_name) {
  auto time_or_null = [](int64_t t) { return t ? json(format_rfc3339(t)) : json(nullptr); };
  json out = {{"id", u.id},
              {"environment", environment_name},
              {"service", u.service_name},
              {"kind", u.kind},
              {"from_version", u.from_version},
              {"to_version", u.to_version},
              {"state", u.state},
              {"waiting_for", u.waiting_for},
              {"available_at", time_or_null(u.available_at)},
              {"deferred_until", time_or_null(u.deferred_until)},
              {"started", u.started},
              {"running_until", time_or_null(u.running_until)},
              {"replicas_done", u.replicas_done},
              {"replicas_total", u.replicas_total},
              {"failed_step", nullptr},
              {"created_at", format_rfc3339(u.created_at)},
              {"updated_at", format_rfc3339(u.updated_at)},
              {"finished_at", time_or_null(u.finished_at)}};
  if (u.state == kUpgradeFailed && u.kind == kVersionClickHouse)
    out["failed_step"] = {{"shard", u.failed_shard}, {"replica", u.failed_replica}, {"check", u.failed_check}};
  out["cluster"] = nullptr;
  if (u.kind == kVersionEks) {
    const ClusterUpgradeProgress& c = u.cluster;
    json quarantined = json::array();
    for (const auto& [node, reason] : c.quarantined) quarantined.push_back({{"node", node}, {"reason", reason}});
    out["cluster"] = {{"phase", c.phase},
                      {"events", c.events},
                      {"last_event", c.last_event},
                      {"last_event_at", time_or_null(c.last_event_at)},
                      {"resume_at", time_or_null(c.resume_at)},
                      {"deadline", time_or_null(c.deadline)},
                      {"failed_node_groups", c.failed_node_groups},
                      {"quarantined", quarantined}};
  }
  return out;
}

}  // namespace byoc::model
