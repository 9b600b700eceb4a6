// SqliteUsageIntervals over the table usage_intervals: each (environment, seq) once.
#include <sqlite3.h>

#include "store/sqlite/repositories.h"

namespace byoc::store::sqlite {

bool SqliteUsageIntervals::insert(const std::string& environment_id, const model::UsageInterval& u) {
  Statement st(cache_, "INSERT OR IGNORE INTO usage_intervals VALUES (?,?,?,?,?,?,?,?,?)");
  st.bind(1, environment_id).bind(2, u.seq).bind(3, u.service).bind(4, u.shard).bind(5, u.replica);
  st.bind(6, u.start).bind(7, u.end).bind(8, u.cpu_millis_seconds).bind(9, u.memory_mib_seconds);
  st.run();
  return sqlite3_changes(cache_.db()) == 1;
}

int64_t SqliteUsageIntervals::max_seq(const std::string& environment_id) {
  Statement st(cache_, "SELECT COALESCE(MAX(seq), 0) FROM usage_intervals WHERE environment_id = ?");
  st.bind(1, environment_id);
  st.step();
  return st.integer(0);
}

UsageTotals SqliteUsageIntervals::totals(const std::string& environment_id) {
  Statement st(cache_,
               "SELECT COUNT(*), COALESCE(SUM(cpu_millis_seconds), 0), COALESCE(SUM(memory_mib_seconds), 0) "
               "FROM usage_intervals WHERE environment_id = ?");
  st.bind(1, environment_id);
  st.step();
  return {st.integer(0), st.integer(1), st.integer(2)};
}

}  // namespace byoc::store::sqlite
