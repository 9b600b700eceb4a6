#include "cloud/aws/model.h"

#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace byoc::aws {

using nlohmann::json;

struct ServiceModel::Data {
  json model;
  std::string protocol;
};

namespace {

const json& required_object(const json& model, const char* key) {
  auto it = model.find(key);
  if (it == model.end() || !it->is_object())
    throw Error::Invalid("invalid_model", std::string("service model has no '") + key + "' object", key);
  return *it;
}

// Every {"shape": name} reference must name a shape: the serializers follow
// them blindly, so a dangling one is caught here, once.
void check_reference(const json& shapes, const json& ref, const std::string& where) {
  auto it = ref.find("shape");
  if (!ref.is_object() || it == ref.end() || !it->is_string())
    throw Error::Invalid("invalid_model", where + " is not a shape reference", where);
  if (!shapes.contains(it->get<std::string>()))
    throw Error::Invalid("invalid_model", where + " refers to unknown shape '" + it->get<std::string>() + "'", where);
}

void check_shapes(const json& shapes) {
  for (const auto& [name, shape] : shapes.items()) {
    const std::string where = "shapes." + name;
    if (!shape.is_object() || !shape.contains("type") || !shape["type"].is_string())
      throw Error::Invalid("invalid_model", where + " has no type", where);
    const std::string type = shape["type"];
    if (type == "structure") {
      if (auto members = shape.find("members"); members != shape.end()) {
        if (!members->is_object()) throw Error::Invalid("invalid_model", where + ".members is not an object", where);
        for (const auto& [member, ref] : members->items()) check_reference(shapes, ref, where + "." + member);
      }
    } else if (type == "list") {
      check_reference(shapes, shape.value("member", json()), where + ".member");
    } else if (type == "map") {
      check_reference(shapes, shape.value("key", json()), where + ".key");
      check_reference(shapes, shape.value("value", json()), where + ".value");
    }
  }
}

void check_operations(const json& operations, const json& shapes) {
  for (const auto& [name, op] : operations.items()) {
    const std::string where = "operations." + name;
    if (!op.is_object()) throw Error::Invalid("invalid_model", where + " is not an object", where);
    if (op.contains("input")) check_reference(shapes, op["input"], where + ".input");
    if (op.contains("output")) check_reference(shapes, op["output"], where + ".output");
    if (auto errors = op.find("errors"); errors != op.end()) {
      if (!errors->is_array()) throw Error::Invalid("invalid_model", where + ".errors is not a list", where);
      for (size_t i = 0; i < errors->size(); ++i)
        check_reference(shapes, (*errors)[i], where + ".errors[" + std::to_string(i) + "]");
    }
  }
}

// Newer models list several protocols in preference order; `protocol` stays
// the classic one, and is what we speak when present.
std::string protocol_of(const json& metadata) {
  if (auto p = metadata.find("protocol"); p != metadata.end() && p->is_string()) return *p;
  if (auto ps = metadata.find("protocols"); ps != metadata.end() && ps->is_array() && !ps->empty() &&
                                             ps->front().is_string())
    return ps->front();
  throw Error::Invalid("invalid_model", "service model metadata names no protocol", "metadata.protocol");
}

}  // namespace

ServiceModel::ServiceModel() = default;
ServiceModel::ServiceModel(const ServiceModel&) = default;
ServiceModel& ServiceModel::operator=(const ServiceModel&) = default;
ServiceModel::ServiceModel(ServiceModel&&) noexcept = default;
ServiceModel& ServiceModel::operator=(ServiceModel&&) noexcept = default;
ServiceModel::~ServiceModel() = default;

ServiceModel ServiceModel::parse(const json& model) {
  if (!model.is_object()) throw Error::Invalid("invalid_model", "service model is not a JSON object");
  required_object(model, "shapes");
  required_object(model, "operations");
  auto data = std::make_shared<Data>();
  data->protocol = protocol_of(required_object(model, "metadata"));
  data->model = model;
  check_shapes(data->model["shapes"]);
  check_operations(data->model["operations"], data->model["shapes"]);
  ServiceModel out;
  out.data_ = std::move(data);
  return out;
}

ServiceModel ServiceModel::parse_text(std::string_view json_text) {
  json model = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (model.is_discarded()) throw Error::Invalid("invalid_model", "service model is not valid JSON");
  return parse(model);
}

const std::string& ServiceModel::protocol() const { return data_->protocol; }

const json& ServiceModel::metadata() const { return data_->model["metadata"]; }

const json& ServiceModel::operation(std::string_view name) const {
  const json& operations = data_->model["operations"];
  auto it = operations.find(std::string(name));
  if (it == operations.end()) throw Error::NotFound("no operation '" + std::string(name) + "' in the service model");
  return *it;
}

const json& ServiceModel::shape(std::string_view name) const {
  const json& shapes = data_->model["shapes"];
  auto it = shapes.find(std::string(name));
  if (it == shapes.end()) throw Error::NotFound("no shape '" + std::string(name) + "' in the service model");
  return *it;
}

}  // namespace byoc::aws
