// Small file-system helpers shared by the server, the agent and the CLI. All
// writes that matter for crash safety go through write_file_atomic: the new
// content is written to a temporary file in the same directory, fsynced and
// renamed over the old one, so a kill -9 leaves either the old or the new file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace byoc::files {

// Throws byoc::Error (internal) when the file can't be read.
std::string read(const std::filesystem::path& path);
std::optional<std::string> read_if_exists(const std::filesystem::path& path);

// A file a user named for `what` ("window file", "--input file"): its text,
// or byoc::Error invalid `unreadable_file` naming `field`.
std::string read_user_file(const std::filesystem::path& path, const std::string& what, const std::string& field = "");
// The same file as JSON; byoc::Error bad_request `invalid_json` when it isn't.
nlohmann::json read_user_json(const std::filesystem::path& path, const std::string& what,
                              const std::string& field = "");

// mode applies to the final file (e.g. 0600 for keys and tokens).
void write_atomic(const std::filesystem::path& path, std::string_view content, unsigned mode = 0644);

// rename(2), then an fsync of the directory so the rename survives a crash.
void rename_durable(const std::filesystem::path& from, const std::filesystem::path& to);

// Creates the directory (and parents) and sets its mode.
void ensure_dir(const std::filesystem::path& path, unsigned mode = 0755);

// A fresh unique temporary directory (0700) under $TMPDIR or /tmp.
std::filesystem::path make_temp_dir(std::string_view prefix);

}  // namespace byoc::files
