// SessionTicketKeys: the keys TLS session tickets are sealed with — one per
// UTC day, the same on every server of a plane, and gone a day later.
//
// DIR/session-ticket.key (0600) holds a day and that day's secret. Each day's
// secret is derived from the day before's (HKDF, a one-way ratchet) and the
// file moves on with the days, so a copy stolen today opens no ticket sealed
// before yesterday. Servers given the same file (byoc server --keys-from)
// derive the same keys on the same day whenever each of them last ran, so
// an agent's ticket resumes its session on any of them. New tickets are
// sealed with today's key; today's and yesterday's are accepted (yesterday's
// ones are renewed), so the daily turn costs no full handshake.
//
// Thread-safe: the TLS layer asks from every I/O thread.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.h"

namespace byoc::server {

class SessionTicketKeys {
 public:
  struct Key {
    std::array<unsigned char, 16> name{};
    std::array<unsigned char, 32> aes{};
    std::array<unsigned char, 32> hmac{};
    bool operator==(const Key&) const = default;
  };

  // Reads the file (making it on first use), moved on to today.
  SessionTicketKeys(std::filesystem::path file, const Clock& clock);

  // The key new tickets are sealed with now (the file moves on at midnight UTC).
  Key current();
  // The key with this name, if it is today's or yesterday's; `renew` says
  // a ticket sealed with it should be replaced by one of today's.
  std::optional<Key> find(const unsigned char* name, bool* renew);

 private:
  void move_on_locked();
  const std::filesystem::path file_;
  const Clock& clock_;
  std::mutex mutex_;
  int64_t day_ = 0;
  std::string secret_;  // day_'s
  Key today_;
  std::optional<Key> yesterday_;
};

}  // namespace byoc::server
