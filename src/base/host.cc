#include "base/host.h"

#include <unistd.h>

namespace byoc {

HostCapacity this_host_capacity() {
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  long pages = ::sysconf(_SC_PHYS_PAGES);
  long page_size = ::sysconf(_SC_PAGE_SIZE);
  return {static_cast<int>(cores), static_cast<int64_t>(pages) * page_size / (1024 * 1024)};
}

}  // namespace byoc
