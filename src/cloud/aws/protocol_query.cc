// The query protocol (STS, IAM, CloudFormation, ELBv2) and its EC2 variant:
// requests as form-encoded bodies (Action, Version, then members under
// dotted names), answers as XML read with pugixml.
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include <pugixml.hpp>

#include "base/error.h"
#include "base/utf8.h"
#include "cloud/aws/protocol_internal.h"
#include "cloud/aws/sigv4.h"

namespace byoc::aws::detail {

namespace {

using Form = std::vector<std::pair<std::string, std::string>>;

std::string capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

std::string dotted(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// ---- requests ----

class FormWriter {
 public:
  explicit FormWriter(bool ec2) : ec2_(ec2) {}

  void value(const Shape& shape, const json& v, const std::string& prefix) {
    const std::string& type = shape.type();
    if (type == "structure") {
      structure(shape, v, prefix);
    } else if (type == "list") {
      list(shape, v, prefix);
    } else if (type == "map") {
      map(shape, v, prefix);
    } else if (type == "blob") {
      add(prefix, to_base64(v.get_ref<const std::string&>()));
    } else if (type == "timestamp") {
      add(prefix, format_timestamp(timestamp_param(v, prefix), shape.text("timestampFormat", "iso8601")));
    } else {
      add(prefix, scalar_text(v));
    }
  }

  const Form& form() const { return form_; }
  void add(std::string key, std::string value) { form_.emplace_back(std::move(key), std::move(value)); }

 private:
  // EC2 names: queryName, else locationName or the member name, capitalized.
  std::string member_name(const json& ref, const Shape& member, const std::string& name) const {
    if (ec2_) {
      if (const json* q = member.trait("queryName"); q && q->is_string()) return q->get<std::string>();
      return capitalized(member.text("locationName", name));
    }
    // A flattened list named only on its member (SimpleDB's Attribute.1…)
    // takes that name; a name on the reference itself wins.
    if (member.type() == "list" && member.flag("flattened") && !ref.contains("locationName")) {
      Shape item = member.list_member();
      if (const json* n = item.trait("locationName"); n && n->is_string()) return n->get<std::string>();
    }
    return member.text("locationName", name);
  }

  void structure(const Shape& shape, const json& v, const std::string& prefix) {
    const json& members = shape.members();
    for (const auto& [key, member_value] : v.items()) {
      if (member_value.is_null()) continue;
      const json& ref = members.at(key);
      Shape member(shape.model(), ref);
      value(member, member_value, dotted(prefix, member_name(ref, member, key)));
    }
  }

  void list(const Shape& shape, const json& v, const std::string& prefix) {
    Shape item = shape.list_member();
    if (ec2_) {  // EC2 lists are always Name.N, and an empty one is left out
      for (size_t i = 0; i < v.size(); ++i) value(item, v[i], prefix + "." + std::to_string(i + 1));
      return;
    }
    if (v.empty()) {
      add(prefix, "");  // the query protocol sends an empty list as "Name="
      return;
    }
    const std::string base = shape.flag("flattened") ? prefix : prefix + "." + item.text("locationName", "member");
    for (size_t i = 0; i < v.size(); ++i) value(item, v[i], base + "." + std::to_string(i + 1));
  }

  void map(const Shape& shape, const json& v, const std::string& prefix) {
    const std::string base = shape.flag("flattened") ? prefix : prefix + ".entry";
    Shape key_shape = shape.map_key();
    Shape value_shape = shape.map_value();
    const std::string key_name = key_shape.text("locationName", "key");
    const std::string value_name = value_shape.text("locationName", "value");
    size_t i = 0;
    for (const auto& [key, entry] : v.items()) {
      const std::string entry_prefix = base + "." + std::to_string(++i);
      add(entry_prefix + "." + key_name, key);
      value(value_shape, entry, entry_prefix + "." + value_name);
    }
  }

  bool ec2_;
  Form form_;
};

// ---- answers ----

std::string_view local_name(const char* name) {
  std::string_view n(name);
  if (auto colon = n.rfind(':'); colon != std::string_view::npos) n.remove_prefix(colon + 1);
  return n;
}

pugi::xml_node child_named(pugi::xml_node node, std::string_view name) {
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element && local_name(c.name()) == name) return c;
  return {};
}

std::vector<pugi::xml_node> children_named(pugi::xml_node node, std::string_view name) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element && local_name(c.name()) == name) out.push_back(c);
  return out;
}

std::string member_path(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

// Reads XML as the shape says, checking every scalar's text against its type
// (kUnavailable, "answer does not fit the model at <path>", when it doesn't).
class XmlReader {
 public:
  // nullopt: the element says nothing (an empty number, say).
  std::optional<json> value(const Shape& shape, pugi::xml_node node, const std::string& path) {
    // Only a model with recursive shapes can lead this deep; its answer is
    // refused rather than followed one stack frame per level.
    if (depth_ >= kMaxJsonDepth) misfit(path, "at most " + std::to_string(kMaxJsonDepth) + " levels of nesting");
    struct Deeper {
      int& d;
      explicit Deeper(int& depth) : d(++depth) {}
      ~Deeper() { --d; }
    } deeper(depth_);
    const std::string& type = shape.type();
    if (type == "structure") return structure(shape, node, path);
    if (type == "list") {
      Shape item = shape.list_member();
      json out = json::array();
      for (pugi::xml_node c : children_named(node, item.text("locationName", "member")))
        if (auto v = value(item, c, path + "[" + std::to_string(out.size()) + "]")) out.push_back(std::move(*v));
      return out;
    }
    if (type == "map") {
      json out = json::object();
      for (pugi::xml_node entry : children_named(node, "entry")) map_entry(shape, entry, out, path);
      return out;
    }
    return scalar(shape, node.text().get(), path);
  }

  json structure(const Shape& shape, pugi::xml_node node, const std::string& path = "") {
    json out = json::object();
    for (const auto& [name, ref] : shape.members().items()) {
      Shape member(shape.model(), ref);
      const std::string at = member_path(path, name);
      if (member.flag("xmlAttribute")) {
        if (auto v = attribute(member, node, member.text("locationName", name), at)) out[name] = std::move(*v);
        continue;
      }
      if (member.flag("flattened") && (member.type() == "list" || member.type() == "map")) {
        flattened(member, node, ref, name, out, at);
        continue;
      }
      pugi::xml_node child = child_named(node, member.text("locationName", name));
      if (!child) continue;
      if (auto v = value(member, child, at)) out[name] = std::move(*v);
    }
    return out;
  }

 private:
  std::optional<json> scalar(const Shape& shape, std::string_view text, const std::string& path) {
    const std::string& type = shape.type();
    if (text.empty() && type != "string" && type != "blob") return std::nullopt;
    auto v = scalar_from_text(shape, text);
    if (!v) misfit(path, type == "string" ? std::string("UTF-8 text") : "a " + type);
    return v;
  }

  std::optional<json> attribute(const Shape& shape, pugi::xml_node node, const std::string& name,
                                const std::string& path) {
    for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute())
      if (name == a.name() || local_name(name.c_str()) == local_name(a.name())) return scalar(shape, a.value(), path);
    return std::nullopt;
  }

  void map_entry(const Shape& shape, pugi::xml_node entry, json& out, const std::string& path) {
    Shape key_shape = shape.map_key();
    Shape value_shape = shape.map_value();
    pugi::xml_node key = child_named(entry, key_shape.text("locationName", "key"));
    pugi::xml_node val = child_named(entry, value_shape.text("locationName", "value"));
    if (!key) return;
    if (!val) return;
    const std::string k = key.text().get();
    if (!utf8::valid(k)) misfit(path, "UTF-8 map keys");
    if (auto v = value(value_shape, val, member_path(path, k))) out[k] = std::move(*v);
  }

  // Flattened lists and maps repeat their element in the parent. Models
  // name it variously — on the list's member (botocore's reading), on the
  // reference, or not at all — so the first name that occurs wins.
  void flattened(const Shape& member, pugi::xml_node parent, const json& ref, const std::string& name, json& out,
                 const std::string& path) {
    std::vector<std::string> names;
    if (member.type() == "list") {
      if (const json* n = member.list_member().trait("locationName"); n && n->is_string()) names.push_back(*n);
    }
    if (ref.contains("locationName")) names.push_back(ref["locationName"]);
    names.push_back(member.text("locationName", name));
    names.push_back(name);
    for (const std::string& n : names) {
      std::vector<pugi::xml_node> nodes = children_named(parent, n);
      if (nodes.empty()) continue;
      if (member.type() == "list") {
        Shape item = member.list_member();
        json list = json::array();
        for (pugi::xml_node node : nodes)
          if (auto v = value(item, node, path + "[" + std::to_string(list.size()) + "]")) list.push_back(std::move(*v));
        out[name] = std::move(list);
      } else {
        json map = json::object();
        for (pugi::xml_node node : nodes) map_entry(member, node, map, path);
        out[name] = std::move(map);
      }
      return;
    }
  }

  int depth_ = 0;
};

// <ErrorResponse><Error>… (query) or <Response><Errors><Error>… (EC2).
pugi::xml_node error_node(pugi::xml_node root) {
  if (local_name(root.name()) == "Error") return root;
  if (pugi::xml_node e = child_named(root, "Error")) return e;
  if (pugi::xml_node errors = child_named(root, "Errors")) return child_named(errors, "Error");
  return {};
}

std::string request_id(pugi::xml_node root) {
  for (const char* name : {"RequestId", "RequestID", "requestId"})
    if (pugi::xml_node n = child_named(root, name)) return printable_utf8(n.text().get());
  if (pugi::xml_node meta = child_named(root, "ResponseMetadata"))
    if (pugi::xml_node n = child_named(meta, "RequestId")) return printable_utf8(n.text().get());
  return "";
}

ParsedResponse error_response(const ServiceModel& model, const json& operation, const HttpResponse& response,
                              pugi::xml_node root) {
  ParsedResponse out;
  out.error.status = response.status;
  pugi::xml_node error = root ? error_node(root) : pugi::xml_node();
  if (!error) {  // not an AWS error document (a proxy's page, an empty body)
    out.error.code = std::to_string(response.status);
    out.error.message = printable_utf8(response.body, 256);
    return out;
  }
  out.error.code = printable_utf8(child_named(error, "Code").text().get());
  out.error.message = printable_utf8(child_named(error, "Message").text().get());
  out.error.request_id = request_id(root);
  if (auto shape = error_shape(model, operation, out.error.code)) {
    try {
      out.error.fields = XmlReader().structure(*shape, error);
    } catch (const Error&) {
      // The code and message stand without the modelled fields.
    }
  }
  return out;
}

}  // namespace

HttpRequest serialize_query(const ServiceModel& model, const json& operation, const json& params, bool ec2) {
  FormWriter writer(ec2);
  writer.add("Action", operation.value("name", ""));
  writer.add("Version", model.metadata().value("apiVersion", ""));
  if (auto input = input_shape(model, operation)) writer.value(*input, params, "");
  HttpRequest request;
  request.method = operation.contains("http") ? operation["http"].value("method", "POST") : "POST";
  request.path_and_query = "/";
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  for (const auto& [key, value] : writer.form()) {
    if (!request.body.empty()) request.body += '&';
    request.body += uri_encode(key, false) + "=" + uri_encode(value, false);
  }
  return request;
}

ParsedResponse parse_query(const ServiceModel& model, const json& operation, const HttpResponse& response, bool ec2) {
  pugi::xml_document doc;
  pugi::xml_node root;
  if (!trim(response.body).empty()) {
    pugi::xml_parse_result parsed = doc.load_buffer(response.body.data(), response.body.size());
    if (parsed) root = doc.document_element();
    else if (response.status < 300)
      throw Error::Unavailable(std::string("AWS answer is not XML: ") + parsed.description());
  }
  const bool error_document =
      root && (local_name(root.name()) == "ErrorResponse" ||
               (local_name(root.name()) == "Response" && child_named(root, "Errors")));
  if (response.status >= 300 || error_document) return error_response(model, operation, response, root);

  ParsedResponse out;
  out.ok = true;
  out.result = json::object();
  auto output = output_shape(model, operation);
  if (!output || !root) return out;
  pugi::xml_node start = root;
  if (!ec2) {
    // <OpResponse><OpResult>…: the wrapper is named by the model, or by
    // the protocol's convention when the model leaves it out.
    const std::string wrapper = output->text("resultWrapper", operation.value("name", "") + "Result");
    if (pugi::xml_node wrapped = child_named(root, wrapper)) start = wrapped;
  }
  out.result = XmlReader().structure(*output, start);
  return out;
}

}  // namespace byoc::aws::detail
