// The schema as an ordered list of migrations. Migration N (1-based) moves the
// schema from version N-1 to N; a migration, once released, never changes —
// new needs get a new entry at the end.
#pragma once

#include <vector>

namespace byoc::store::sqlite {

const std::vector<const char*>& migrations();

}  // namespace byoc::store::sqlite
