#include "server/session_tickets.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"

namespace byoc::server {
namespace {

constexpr const char* kHeader = "byoc session-ticket secret v1";
constexpr int64_t kSecondsPerDay = 86400;

std::string next_secret(const std::string& secret) {
  return crypto::hkdf_sha256(secret, "", "byoc session ticket ratchet", 32);
}

SessionTicketKeys::Key key_of(const std::string& secret) {
  std::string bytes = crypto::hkdf_sha256(secret, "", "byoc session ticket key", 80);
  SessionTicketKeys::Key k;
  std::memcpy(k.name.data(), bytes.data(), 16);
  std::memcpy(k.aes.data(), bytes.data() + 16, 32);
  std::memcpy(k.hmac.data(), bytes.data() + 48, 32);
  return k;
}

std::string hex_decode(const std::string& hex) {
  if (hex.size() != 64) return "";
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto nibble = [](char c) { return c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1); };
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return "";
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace

SessionTicketKeys::SessionTicketKeys(std::filesystem::path file, const Clock& clock)
    : file_(std::move(file)), clock_(clock) {
  int64_t today = clock_.unix_seconds() / kSecondsPerDay;
  auto text = files::read_if_exists(file_);
  std::istringstream in(text.value_or(""));
  std::string header, day, secret_hex;
  std::getline(in, header);
  std::getline(in, day);
  std::getline(in, secret_hex);
  if (text && header == kHeader && !hex_decode(secret_hex).empty()) {
    day_ = std::stoll(day);
    secret_ = hex_decode(secret_hex);
  } else if (text && text->size() >= 32) {
    // A random key an earlier version kept: the secret of day 0, moved on
    // to today below — the same on every server holding a copy, whenever
    // each of them meets it.
    secret_ = crypto::hkdf_sha256(*text, "", "byoc session ticket upgrade", 32);
    day_ = 0;
  } else {
    secret_ = crypto::random_bytes(32);
    day_ = today;
    files::write_atomic(file_, std::string(kHeader) + "\n" + std::to_string(day_) + "\n" + crypto::hex(secret_) + "\n",
                        0600);
  }
  if (day_ > today) {
    // A file from a clock ahead of ours: its days are not ours to undo.
    throw Error::Internal(file_.string() + " is for a later day than this server's clock says");
  }
  std::lock_guard lock(mutex_);
  today_ = key_of(secret_);
  move_on_locked();
}

void SessionTicketKeys::move_on_locked() {
  int64_t today = clock_.unix_seconds() / kSecondsPerDay;
  if (today <= day_) return;
  std::string previous;
  while (day_ < today) {
    previous = secret_;
    secret_ = next_secret(secret_);
    ++day_;
  }
  yesterday_ = key_of(previous);
  today_ = key_of(secret_);
  try {
    files::write_atomic(file_, std::string(kHeader) + "\n" + std::to_string(day_) + "\n" + crypto::hex(secret_) + "\n",
                        0600);
  } catch (const std::exception& e) {
    spdlog::error("cannot move the session-ticket secret on: {}", e.what());
  }
}

SessionTicketKeys::Key SessionTicketKeys::current() {
  std::lock_guard lock(mutex_);
  move_on_locked();
  return today_;
}

std::optional<SessionTicketKeys::Key> SessionTicketKeys::find(const unsigned char* name, bool* renew) {
  std::lock_guard lock(mutex_);
  move_on_locked();
  *renew = false;
  if (std::equal(today_.name.begin(), today_.name.end(), name)) return today_;
  if (yesterday_ && std::equal(yesterday_->name.begin(), yesterday_->name.end(), name)) {
    *renew = true;
    return yesterday_;
  }
  return std::nullopt;
}

}  // namespace byoc::server
