#include "cli/process_scan.h"

#include <unistd.h>

#include "base/files.h"

namespace byoc::cli {
namespace fs = std::filesystem;

namespace {

bool is_zombie(pid_t pid) {
  std::optional<std::string> stat;
  try {
    stat = files::read_if_exists("/proc/" + std::to_string(pid) + "/stat");
  } catch (const std::exception&) {
    return true;
  }
  if (!stat) return true;
  // "pid (comm) S ...": the state follows the last ')', since comm may hold spaces and parens.
  auto paren = stat->rfind(')');
  return paren == std::string::npos || paren + 2 >= stat->size() || (*stat)[paren + 2] == 'Z' ||
         (*stat)[paren + 2] == 'X';
}

bool mentions(std::string_view arg, const std::string& dir) {
  for (size_t at = arg.find(dir); at != std::string_view::npos; at = arg.find(dir, at + 1)) {
    bool starts = at == 0 || arg[at - 1] == '=' || arg[at - 1] == ':' || arg[at - 1] == ' ';
    size_t end = at + dir.size();
    bool ends = end == arg.size() || arg[end] == '/' || arg[end] == ' ';
    if (starts && ends) return true;
  }
  return false;
}

}  // namespace

bool command_line_mentions(const std::string& argv, const fs::path& dir) {
  std::string needle = dir.lexically_normal().string();
  while (needle.size() > 1 && needle.back() == '/') needle.pop_back();
  size_t start = 0;
  while (start <= argv.size()) {
    size_t end = argv.find('\0', start);
    if (end == std::string::npos) end = argv.size();
    if (mentions(std::string_view(argv).substr(start, end - start), needle)) return true;
    start = end + 1;
  }
  return false;
}

std::vector<ProcessInfo> processes_under(const fs::path& dir) {
  std::vector<ProcessInfo> result;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == ::getpid()) continue;
    std::optional<std::string> argv;
    try {
      argv = files::read_if_exists(entry.path() / "cmdline");
    } catch (const std::exception&) {
      continue;  // gone, or not ours to read
    }
    if (!argv || argv->empty() || !command_line_mentions(*argv, dir) || is_zombie(pid)) continue;
    ProcessInfo info;
    info.pid = pid;
    std::error_code link_error;
    info.executable = fs::read_symlink(entry.path() / "exe", link_error).filename().string();
    info.command = *argv;
    for (char& c : info.command)
      if (c == '\0') c = ' ';
    while (!info.command.empty() && info.command.back() == ' ') info.command.pop_back();
    result.push_back(std::move(info));
  }
  return result;
}

}  // namespace byoc::cli
