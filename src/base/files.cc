#include "base/files.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/error.h"

namespace byoc::files {
namespace fs = std::filesystem;

namespace {
[[noreturn]] void fail(const std::string& what, const fs::path& path) {
  throw Error::Internal(what + " " + path.string() + ": " + std::strerror(errno));
}
}  // namespace

std::string read(const fs::path& path) {
  auto content = read_if_exists(path);
  if (!content) {
    errno = ENOENT;
    fail("cannot read", path);
  }
  return *content;
}

std::optional<std::string> read_if_exists(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    fail("cannot read", path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string read_user_file(const fs::path& path, const std::string& what, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::Invalid("unreadable_file", "can't read " + what + " '" + path.string() + "'", field);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json read_user_json(const fs::path& path, const std::string& what, const std::string& field) {
  try {
    return nlohmann::json::parse(read_user_file(path, what, field));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error::BadRequest("invalid_json", what + " '" + path.string() + "' is not valid JSON: " + e.what(), field);
  }
}

void write_atomic(const fs::path& path, std::string_view content, unsigned mode) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) fail("cannot create", tmp);
  ::fchmod(fd, mode);  // umask must not widen or narrow what the caller asked for
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      fail("cannot write", tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) fail("cannot sync", tmp);
  rename_durable(tmp, path);
}

void rename_durable(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) fail("cannot rename into", to);
  int dir = ::open(to.parent_path().empty() ? "." : to.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void ensure_dir(const fs::path& path, unsigned mode) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw Error::Internal("cannot create directory " + path.string() + ": " + ec.message());
  if (::chmod(path.c_str(), mode) != 0) fail("cannot chmod", path);
}

fs::path make_temp_dir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/" + std::string(prefix) + "-XXXXXX";
  if (!::mkdtemp(templ.data())) fail("cannot create temporary directory", templ);
  return templ;
}

}  // namespace byoc::files
