#include "agent/runtimes/local/zk_client.h"

// The synchronous API of the C client exists only in its threaded flavour.
#define THREADED
#include <zookeeper/zookeeper.h>

#include <condition_variable>
#include <mutex>
#include <set>

#include "base/error.h"

namespace byoc::agent::local {
namespace {

// Node operations give up after this long without an answer (the server is local).
constexpr int kRecvTimeoutMs = 10'000;

std::once_flag g_quiet_library;

}  // namespace

struct ZooKeeperClient::Impl {
  zhandle_t* handle = nullptr;
  std::mutex mu;
  std::condition_variable changed;
  int state = 0;

  static void on_event(zhandle_t*, int type, int state, const char*, void* context) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* self = static_cast<Impl*>(context);
    std::lock_guard lock(self->mu);
    self->state = state;
    self->changed.notify_all();
  }

  [[noreturn]] void fail(const std::string& what, const std::string& path, int rc) {
    throw Error::Unavailable("zookeeper: cannot " + what + " " + path + ": " + zerror(rc));
  }
};

ZooKeeperClient::ZooKeeperClient(const std::string& host, int port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  // The library logs to stderr (the agent's log) by itself, down to a closed
  // session's socket at ERROR level; every failure that matters reaches the
  // caller as an exception instead. 0 turns its logging off.
  std::call_once(g_quiet_library, [] { zoo_set_debug_level(static_cast<ZooLogLevel>(0)); });
  const std::string hosts = host + ":" + std::to_string(port);
  impl_->handle = zookeeper_init(hosts.c_str(), &Impl::on_event, kRecvTimeoutMs, nullptr, impl_.get(), 0);
  if (!impl_->handle) throw Error::Unavailable("zookeeper: cannot open a session with " + hosts);
  std::unique_lock lock(impl_->mu);
  bool connected = impl_->changed.wait_for(lock, timeout, [&] {
    return impl_->state == ZOO_CONNECTED_STATE || impl_->state == ZOO_EXPIRED_SESSION_STATE ||
           impl_->state == ZOO_AUTH_FAILED_STATE;
  });
  if (!connected || impl_->state != ZOO_CONNECTED_STATE) {
    lock.unlock();
    zookeeper_close(impl_->handle);
    impl_->handle = nullptr;
    throw Error::Unavailable("zookeeper: no session with " + hosts + " within " +
                             std::to_string(timeout.count()) + " ms");
  }
}

ZooKeeperClient::~ZooKeeperClient() {
  if (impl_ && impl_->handle) zookeeper_close(impl_->handle);
}

void ZooKeeperClient::create_path(const std::string& path) {
  if (path.empty() || path.front() != '/') throw Error::Invalid("invalid_path", "not absolute: " + path);
  for (size_t at = path.find('/', 1);; at = path.find('/', at + 1)) {
    const std::string prefix = path.substr(0, at);
    int rc = zoo_create(impl_->handle, prefix.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
                        nullptr, 0);
    if (rc != ZOK && rc != ZNODEEXISTS) impl_->fail("create", prefix, rc);
    if (at == std::string::npos) break;
  }
}

bool ZooKeeperClient::exists(const std::string& path) {
  int rc = zoo_exists(impl_->handle, path.c_str(), 0, nullptr);
  if (rc == ZNONODE) return false;
  if (rc != ZOK) impl_->fail("stat", path, rc);
  return true;
}

std::vector<std::string> ZooKeeperClient::children(const std::string& path) {
  String_vector names{};
  int rc = zoo_get_children(impl_->handle, path.c_str(), 0, &names);
  if (rc == ZNONODE) return {};
  if (rc != ZOK) impl_->fail("list", path, rc);
  std::vector<std::string> out;
  for (int i = 0; i < names.count; ++i) out.emplace_back(names.data[i]);
  deallocate_String_vector(&names);
  return out;
}

bool ZooKeeperClient::remove(const std::string& path) {
  int rc = zoo_delete(impl_->handle, path.c_str(), -1);
  if (rc == ZNONODE) return false;
  if (rc != ZOK) impl_->fail("delete", path, rc);
  return true;
}

void ZooKeeperClient::remove_recursive(const std::string& path) {
  if (path.empty() || path == "/") throw Error::Invalid("invalid_path", "refusing to delete the root");
  // Depth-first; a node that vanished meanwhile is fine, one that gained a
  // child meanwhile (a replica still running) is retried once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (const auto& child : children(path)) remove_recursive(path + "/" + child);
    int rc = zoo_delete(impl_->handle, path.c_str(), -1);
    if (rc == ZOK || rc == ZNONODE) return;
    if (rc != ZNOTEMPTY) impl_->fail("delete", path, rc);
  }
  throw Error::Unavailable("zookeeper: " + path + " keeps gaining children");
}

namespace {

void check_root(const std::string& root) {
  if (root.empty() || root.front() != '/' || root.back() == '/')
    throw Error::Invalid("invalid_path", "not an absolute node path: " + root);
}

void tables_below(ZooKeeperClient& zk, const std::string& path, const std::set<std::string>& skip, int depth,
                  std::vector<std::string>& out) {
  // Tables sit a few levels down; nothing of ours is deeper than this.
  if (depth > 16 || skip.count(path)) return;
  std::vector<std::string> kids = zk.children(path);
  std::set<std::string> names(kids.begin(), kids.end());
  if (names.count("replicas") && names.count("log")) {
    out.push_back(path);
    return;  // a table's own nodes (parts, queue, blocks) hold no table
  }
  for (const auto& kid : kids) tables_below(zk, path + "/" + kid, skip, depth + 1, out);
}

}  // namespace

std::vector<std::string> replicated_tables(ZooKeeperClient& zk, const std::string& root,
                                           const std::vector<std::string>& skip) {
  check_root(root);
  std::vector<std::string> out;
  tables_below(zk, root, std::set<std::string>(skip.begin(), skip.end()), 0, out);
  return out;
}

int remove_replica_active_marks(ZooKeeperClient& zk, const std::string& root, const std::string& replica,
                                const std::vector<std::string>& skip) {
  int removed = 0;
  for (const auto& table : replicated_tables(zk, root, skip))
    if (zk.remove(table + "/replicas/" + replica + "/is_active")) ++removed;
  return removed;
}

int remove_replica(ZooKeeperClient& zk, const std::string& root, const std::string& replica,
                   const std::vector<std::string>& skip) {
  int removed = 0;
  for (const auto& table : replicated_tables(zk, root, skip)) {
    const std::string node = table + "/replicas/" + replica;
    if (!zk.exists(node)) continue;
    zk.remove_recursive(node);
    ++removed;
  }
  return removed;
}

}  // namespace byoc::agent::local
