// SqlUsageIntervals over the table usage_intervals: each (environment, seq) once.
#include "store/sql/repositories.h"

namespace byoc::store::sql {

bool SqlUsageIntervals::insert(const std::string& environment_id, const model::UsageInterval& u) {
  Statement st(session_, "INSERT INTO usage_intervals (environment_id, seq, service, shard, replica, start_at, end_at, "
                         "cpu_millis_seconds, memory_mib_seconds) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING");
  st.bind(1, environment_id).bind(2, u.seq).bind(3, u.service).bind(4, u.shard).bind(5, u.replica);
  st.bind(6, u.start).bind(7, u.end).bind(8, u.cpu_millis_seconds).bind(9, u.memory_mib_seconds);
  st.run();
  return st.changes() == 1;
}

int64_t SqlUsageIntervals::max_seq(const std::string& environment_id) {
  Statement st(session_, "SELECT COALESCE(MAX(seq), 0) FROM usage_intervals WHERE environment_id = ?");
  st.bind(1, environment_id);
  st.step();
  return st.integer(0);
}

UsageTotals SqlUsageIntervals::totals(const std::string& environment_id) {
  Statement st(session_,
               "SELECT COUNT(*), COALESCE(SUM(cpu_millis_seconds), 0), COALESCE(SUM(memory_mib_seconds), 0) "
               "FROM usage_intervals WHERE environment_id = ?");
  st.bind(1, environment_id);
  st.step();
  return {st.integer(0), st.integer(1), st.integer(2)};
}

}  // namespace byoc::store::sql
