#include "cloud/aws/transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

#include "base/error.h"
#include "base/files.h"

namespace byoc::aws {
namespace {

// base/http_client.cc keeps its own once-guarded curl_global_init and
// exports none; curl_global_init is reference-counted, so both calling it is
// harmless. The transport stays separate from base's client on purpose: it
// must send exactly the (signed) headers given, cap answers and never follow
// redirects, and it trusts the system store or AWS_CA_BUNDLE, not a pinned CA.
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Received {
  HttpResponse response;
  bool too_large = false;
  size_t header_bytes = 0;
  bool headers_too_large = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* received = static_cast<Received*>(user);
  size_t bytes = size * n;
  if (received->response.body.size() + bytes > kMaxResponseBytes) {
    received->too_large = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  received->response.body.append(data, bytes);
  return bytes;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* received = static_cast<Received*>(user);
  received->header_bytes += size * n;
  if (received->header_bytes > kMaxResponseHeaderBytes) {
    received->headers_too_large = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  auto* headers = &received->response.headers;
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new answer (after a 100 Continue) starts over
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string_view value = line.substr(colon + 1);
  auto first = value.find_first_not_of(" \t");
  auto last = value.find_last_not_of(" \t\r\n");
  value = first == std::string_view::npos ? std::string_view() : value.substr(first, last - first + 1);
  headers->emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return size * n;
}

bool has_header(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return true;
  return false;
}

// A CR, LF or NUL in a header would end it early and let what follows be
// read as more headers (or a body): refused before anything is sent. The
// message names the header but never shows its value (it may be a token).
void check_headers(const Headers& headers) {
  for (const auto& [name, value] : headers) {
    bool bad_name = name.empty() || name.find_first_of(std::string_view(":\r\n\0 \t", 6)) != std::string::npos;
    if (bad_name)
      throw Error::Invalid("aws_header_invalid", "a request header name is empty or holds ':', a blank, CR, LF or NUL");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      throw Error::Invalid("aws_header_invalid", "the value of request header " + name + " holds CR, LF or NUL");
  }
}

// Strips the query from a URL for messages: a presigned URL carries its
// signature (and a session token) there.
std::string without_query(const std::string& url) { return url.substr(0, url.find('?')); }

// Safe to share between threads: each send() takes an easy handle of its own
// from a small pool of idle ones (a new one when none is idle) and puts it
// back afterwards, so handles, and the connections they keep alive, are
// reused but never used by two calls at once.
class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(std::string ca_bundle_pem) : ca_pem_(std::move(ca_bundle_pem)) {
    global_init();
    idle_.push_back(new_handle());
  }
  ~CurlTransport() override {
    for (CURL* curl : idle_) curl_easy_cleanup(curl);
  }

  HttpResponse send(const TransportRequest& request) override {
    check_headers(request.headers);
    Lease lease(*this);
    return perform(lease.curl, request);
  }

 private:
  // Idle handles kept beyond this are closed: enough for the few threads that
  // call AWS at once without hoarding connections.
  static constexpr size_t kMaxIdleHandles = 4;

  struct Lease {
    explicit Lease(CurlTransport& t) : transport(t), curl(t.acquire()) {}
    ~Lease() { transport.release(curl); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    CurlTransport& transport;
    CURL* curl;
  };

  static CURL* new_handle() {
    CURL* curl = curl_easy_init();
    if (!curl) throw Error::Internal("curl_easy_init failed");
    return curl;
  }
  CURL* acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        CURL* curl = idle_.back();
        idle_.pop_back();
        return curl;
      }
    }
    return new_handle();
  }
  void release(CURL* curl) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (idle_.size() < kMaxIdleHandles) {
        idle_.push_back(curl);
        return;
      }
    }
    curl_easy_cleanup(curl);
  }

  HttpResponse perform(CURL* curl, const TransportRequest& request) {
    curl_easy_reset(curl);  // keeps the connection cache: the next call reuses the connection
    Received received;
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    long timeout = static_cast<long>(std::max<int64_t>(request.timeout.count(), 1));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout, 10'000L));
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!ca_pem_.empty()) {
      // AWS_CA_BUNDLE replaces the system store, as in the AWS CLI.
      curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
      curl_easy_setopt(curl, CURLOPT_CAINFO, nullptr);
      curl_blob blob{ca_pem_.data(), ca_pem_.size(), CURL_BLOB_COPY};
      curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
    }
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    // Exactly the headers given (they may be signed): curl's own Expect,
    // Accept and form Content-Type are removed unless the request sets them.
    curl_slist* headers = nullptr;
    for (const char* name : {"Expect", "Accept", "Content-Type"})
      if (!has_header(request.headers, name)) headers = curl_slist_append(headers, (std::string(name) + ":").c_str());
    for (const auto& [name, value] : request.headers)
      headers = curl_slist_append(headers, (value.empty() ? name + ";" : name + ": " + value).c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &received);
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    CURLcode rc = curl_easy_perform(curl);
    // The handle goes back to the pool: nothing may point at this frame.
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    curl_slist_free_all(headers);
    if (received.headers_too_large)
      throw Error(ErrorKind::kUnavailable, "aws_response_too_large",
                  "the answer from " + without_query(request.url) + " has more than " +
                      std::to_string(kMaxResponseHeaderBytes >> 10) + " KiB of headers");
    if (received.too_large)
      throw Error(ErrorKind::kUnavailable, "aws_response_too_large",
                  "the answer from " + without_query(request.url) + " is larger than " +
                      std::to_string(kMaxResponseBytes >> 20) + " MiB");
    if (rc != CURLE_OK) {
      std::string detail = error[0] ? error : curl_easy_strerror(rc);
      throw Error(ErrorKind::kUnavailable, "aws_unreachable", "no answer from " + without_query(request.url) + ": " + detail);
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    received.response.status = static_cast<int>(status);
    return std::move(received.response);
  }

  std::string ca_pem_;
  std::mutex mutex_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::unique_ptr<Transport> make_curl_transport(std::string ca_bundle_pem) {
  return std::make_unique<CurlTransport>(std::move(ca_bundle_pem));
}

std::string read_ca_bundle(const std::optional<std::string>& aws_ca_bundle) {
  if (!aws_ca_bundle || aws_ca_bundle->empty()) return "";
  std::optional<std::string> text;
  std::string why;
  try {
    text = files::read_if_exists(*aws_ca_bundle);
  } catch (const Error& e) {
    why = std::string(" (") + e.what() + ")";
  }
  if (!text)
    throw Error::Invalid("aws_ca_bundle_invalid",
                         "AWS_CA_BUNDLE names " + *aws_ca_bundle + ", which cannot be read" + why, "AWS_CA_BUNDLE");
  std::string pem = std::move(*text);
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    throw Error::Invalid("aws_ca_bundle_invalid",
                         "AWS_CA_BUNDLE names " + *aws_ca_bundle + ", which holds no PEM certificate", "AWS_CA_BUNDLE");
  return pem;
}

}  // namespace byoc::aws
