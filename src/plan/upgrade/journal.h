// UpgradeJournal: where the upgrader persists its record (one JSON
// document) before each step acts, so a fresh upgrader resumes a run that
// crashed. save() replaces the record whole; load() returns the last one
// saved, or nullopt before the first. MemoryJournal keeps it in memory (the
// simulator, the CLI and tests); a deployment would keep it in the Store.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

namespace byoc::plan::upgrade {

class UpgradeJournal {
 public:
  virtual ~UpgradeJournal() = default;
  virtual std::optional<nlohmann::json> load() const = 0;
  virtual void save(const nlohmann::json& record) = 0;
};

class MemoryJournal final : public UpgradeJournal {
 public:
  std::optional<nlohmann::json> load() const override { return record_; }
  void save(const nlohmann::json& record) override { record_ = record; }

 private:
  std::optional<nlohmann::json> record_;
};

}  // namespace byoc::plan::upgrade
