#include "store/sql/statement.h"

#include "base/error.h"

namespace byoc::store::sql {

void check_publishable(std::string_view topic, std::string_view message) {
  if (topic.empty() || topic.find_first_of(" \n") != std::string_view::npos || message.size() > kMaxPublished)
    throw Error::Internal("store: a published topic is one word and a message at most " +
                          std::to_string(kMaxPublished) + " bytes");
}

}  // namespace byoc::store::sql
