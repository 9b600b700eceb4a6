#include "model/clouds.h"

namespace byoc::model {

const std::map<std::string, CloudOffer>& cloud_offers() {
  static const std::map<std::string, CloudOffer> offers = [] {
    const std::vector<std::string> letters_af = {"a", "b", "c", "d", "e", "f"};
    CloudOffer on_host{{{"local", letters_af}}, {"18.16.1"}, "local"};
    // AWS regions with their availability-zone suffixes (public AWS documentation).
    CloudOffer aws{{{"us-east-1", letters_af},
                    {"us-east-2", {"a", "b", "c"}},
                    {"us-west-2", {"a", "b", "c", "d"}},
                    {"eu-west-1", {"a", "b", "c"}},
                    {"eu-central-1", {"a", "b", "c"}},
                    {"ap-southeast-1", {"a", "b", "c"}}},
                   {"18.16.1"},
                   ""};
    return std::map<std::string, CloudOffer>{{"local", on_host}, {"external", on_host}, {"aws", aws}};
  }();
  return offers;
}

}  // namespace byoc::model
