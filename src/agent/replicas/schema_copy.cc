#include "agent/replicas/schema_copy.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

namespace byoc::agent::replicas {
namespace {

// Lines of a TabSeparated answer, each split on tabs. Database and table
// names are unescaped (\t, \n, \\ and the rest as TabSeparated writes them).
std::vector<std::vector<std::string>> rows(const std::string& body) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields(1);
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (c == '\t') {
        fields.emplace_back();
      } else if (c == '\\' && i + 1 < line.size()) {
        char e = line[++i];
        switch (e) {
          case 't': fields.back() += '\t'; break;
          case 'n': fields.back() += '\n'; break;
          case 'r': fields.back() += '\r'; break;
          case 'b': fields.back() += '\b'; break;
          case 'f': fields.back() += '\f'; break;
          case '0': fields.back() += '\0'; break;
          default: fields.back() += e;  // \\, \', and the rest stand for themselves
        }
      } else {
        fields.back() += c;
      }
    }
    out.push_back(std::move(fields));
  }
  return out;
}

int rank(const std::string& engine) {
  if (engine == "MaterializedView") return 3;
  if (engine == "View") return 2;
  if (engine == "Distributed" || engine == "Merge") return 1;
  return 0;
}

// Databases by name → engine (Ordinary, Memory, Dictionary…).
std::optional<std::map<std::string, std::string>> databases(const ReplicaAccess& replica) {
  auto body = query_replica(replica,
                            "SELECT name, engine FROM system.databases WHERE name != 'system' FORMAT TabSeparated");
  if (!body) return std::nullopt;
  std::map<std::string, std::string> out;
  for (auto& r : rows(*body))
    if (r.size() == 2) out[r[0]] = r[1];
  return out;
}

// Rows of each replicated table, by "database.table".
std::optional<std::map<std::string, int64_t>> replicated_rows(const ReplicaAccess& replica) {
  auto body = query_replica(replica,
                            "SELECT database, table, sum(rows) FROM system.parts WHERE active AND (database, table) IN "
                            "(SELECT database, name FROM system.tables WHERE engine LIKE 'Replicated%') "
                            "GROUP BY database, table FORMAT TabSeparated");
  if (!body) return std::nullopt;
  std::map<std::string, int64_t> out;
  for (auto& r : rows(*body))
    if (r.size() == 3) out[quote_identifier(r[0]) + "." + quote_identifier(r[1])] = std::stoll(r[2]);
  return out;
}

// Inner tables of materialized views come with their view.
std::optional<std::vector<TableRef>> tables(const ReplicaAccess& replica) {
  auto body = query_replica(replica,
                            "SELECT database, name, engine FROM system.tables WHERE database != 'system' "
                            "AND name NOT LIKE '.inner.%' FORMAT TabSeparated");
  if (!body) return std::nullopt;
  std::vector<TableRef> out;
  for (auto& r : rows(*body))
    if (r.size() == 3) out.push_back({r[0], r[1], r[2]});
  return out;
}

// The first line of an answer is "0" (a count of what must be none).
bool is_zero(const std::optional<std::string>& body) { return body && body->substr(0, body->find('\n')) == "0"; }

// `text` between `mark`s, with backslash escapes: an identifier (`) or a
// string literal (').
std::string quoted(const std::string& text, char mark) {
  std::string out(1, mark);
  for (char c : text) {
    if (c == mark || c == '\\') out += '\\';
    out += c;
  }
  return out + mark;
}

}  // namespace

std::vector<TableRef> creation_order(std::vector<TableRef> tables) {
  std::stable_sort(tables.begin(), tables.end(), [](const TableRef& a, const TableRef& b) {
    if (rank(a.engine) != rank(b.engine)) return rank(a.engine) < rank(b.engine);
    return std::tie(a.database, a.name) < std::tie(b.database, b.name);
  });
  return tables;
}

std::string quote_identifier(const std::string& name) { return quoted(name, '`'); }

bool copy_schema(const ReplicaAccess& source, const ReplicaAccess& target, std::string* error) {
  auto wanted_databases = databases(source);
  auto had_databases = databases(target);
  if (!wanted_databases || !had_databases) return false;
  for (const auto& [db, engine] : *wanted_databases) {
    if (had_databases->count(db)) continue;
    // Engines without arguments only (18.16 has no SHOW CREATE DATABASE).
    std::string create = "CREATE DATABASE IF NOT EXISTS " + quote_identifier(db);
    if (engine != "Ordinary") create += " ENGINE = " + engine;
    if (!query_replica(target, create, error)) return false;
  }
  auto wanted = tables(source);
  auto had = tables(target);
  if (!wanted || !had) return false;
  std::set<std::pair<std::string, std::string>> present;
  for (const auto& t : *had) present.insert({t.database, t.name});
  std::vector<TableRef> missing;
  for (const auto& t : creation_order(*wanted))
    if (!present.count({t.database, t.name})) missing.push_back(t);
  // Pass after pass while something is made: what reads a table not made yet fails until it is.
  while (!missing.empty()) {
    std::vector<TableRef> failed;
    for (const auto& t : missing) {
      auto create = query_replica(source,
                                  "SHOW CREATE TABLE " + quote_identifier(t.database) + "." + quote_identifier(t.name) +
                                      " FORMAT TabSeparatedRaw",
                                  error);
      if (!create || !query_replica(target, *create, error)) failed.push_back(t);
    }
    if (failed.size() == missing.size()) return false;
    missing = std::move(failed);
  }
  return true;
}

bool has_caught_up(const ReplicaAccess& source, const ReplicaAccess& target) {
  auto wanted = replicated_rows(source);
  if (!wanted) return false;
  auto behind = query_replica(target,
                              "SELECT count() FROM system.replicas WHERE inserts_in_queue > 0 "
                              "OR log_pointer < log_max_index OR is_readonly OR is_session_expired");
  if (!is_zero(behind)) return false;
  // Anything but a merge may need a part from elsewhere (a fetch, a
  // replaced range, a mutation): none may be queued.
  if (!is_zero(query_replica(target, "SELECT count() FROM system.replication_queue WHERE type != 'MERGE_PARTS'")))
    return false;
  auto had = replicated_rows(target);
  if (!had) return false;
  for (const auto& [table, rows] : *wanted) {
    auto it = had->find(table);
    if (rows > 0 && (it == had->end() || it->second < rows)) return false;
  }
  return true;
}

std::optional<bool> has_unreplicated_rows(const ReplicaAccess& replica) {
  auto body = query_replica(replica,
                            "SELECT count() FROM system.parts WHERE active AND rows > 0 AND (database, table) IN "
                            "(SELECT database, name FROM system.tables WHERE engine LIKE '%MergeTree' "
                            "AND engine NOT LIKE 'Replicated%')");
  if (!body) return std::nullopt;
  return !is_zero(body);
}

bool cluster_excludes(const ReplicaAccess& replica, const std::string& cluster, const std::string& host) {
  return is_zero(query_replica(replica, "SELECT count() FROM system.clusters WHERE cluster = " + quoted(cluster, '\'') +
                                            " AND host_name = " + quoted(host, '\'')));
}

bool distributed_sends_done(const ReplicaAccess& replica) {
  // Newer ClickHouse counts the files its Distributed tables have yet to
  // send; 18.16 has no such metric, and then only a replica without
  // Distributed tables is surely done (fail closed: it waits).
  auto body = query_replica(replica,
                            "SELECT count(), sum(value) FROM system.metrics WHERE metric = 'DistributedFilesToInsert'");
  if (!body) return false;
  const std::string counted = body->substr(0, body->find('\n'));
  if (counted == "1\t0") return true;
  if (counted.rfind("0\t", 0) != 0) return false;
  return is_zero(query_replica(replica, "SELECT count() FROM system.tables WHERE engine = 'Distributed'"));
}

bool drop_tables(const ReplicaAccess& replica, std::string* error) {
  auto had = tables(replica);
  if (!had) return false;
  std::vector<TableRef> order = creation_order(*had);
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    if (!query_replica(replica, "DROP TABLE IF EXISTS " + quote_identifier(it->database) + "." + quote_identifier(it->name),
                       error))
      return false;
  auto left = tables(replica);
  return left && left->empty();
}

}  // namespace byoc::agent::replicas
