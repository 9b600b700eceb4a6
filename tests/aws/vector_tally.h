// How a test over an official vector suite counts: passed, failed, and each
// skipped case with its reason, printed so the run shows the figures.
#pragma once

#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace byoc::aws {

struct Tally {
  int passed = 0;
  int failed = 0;
  std::vector<std::pair<std::string, std::string>> skipped;  // case, reason

  void print(const std::string& suite) const {
    std::cout << "  " << suite << ": passed " << passed << " / failed " << failed << " / skipped "
              << skipped.size() << std::endl;
    for (const auto& [name, reason] : skipped) std::cout << "    skipped " << name << ": " << reason << "\n";
  }
};

}  // namespace byoc::aws
