#include "base/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <mutex>

#include "base/error.h"

namespace byoc::http {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// One transfer's answer as curl hands it over: the head (header lines, and
// its end), then the body, collected (bounded) or streamed to the request's
// callbacks. A callback's exception is kept here and rethrown after curl
// returns: it must not unwind through curl's C frames.
struct Transfer {
  const Request* request;
  CURL* curl;
  Response* response;
  size_t limit = 0;  // of a collected body; 0: none
  bool exceeded = false;
  bool head_told = false;
  bool stopped = false;  // a callback ended the transfer (false, or an exception)
  std::exception_ptr failure;

  bool streaming() const { return static_cast<bool>(request->on_body); }

  // The head, once: the status as curl read it, the headers as collected.
  bool tell_head() {
    if (head_told || !request->on_head) return true;
    head_told = true;
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return request->on_head(static_cast<int>(status), response->headers);
  }

  void stop_with(std::exception_ptr e) {
    stopped = true;
    if (!failure) failure = std::move(e);
  }
};

size_t on_transfer_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  try {
    if (!t->streaming()) {
      if (t->limit && t->response->body.size() + bytes > t->limit) {
        t->exceeded = true;
        return 0;  // curl ends the transfer with a write error
      }
      t->response->body.append(data, bytes);
      return bytes;
    }
    // An empty piece says nothing; a reader writing it as an HTTP chunk would end its answer.
    if (bytes == 0) return 0;
    if (!t->tell_head() || !t->request->on_body(std::string_view(data, bytes))) {
      t->stopped = true;
      return 0;  // curl ends the transfer with a write error
    }
    return bytes;
  } catch (...) {
    t->stop_with(std::current_exception());
    return 0;
  }
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  auto& headers = t->response->headers;
  const size_t bytes = size * n;
  try {
    std::string line(data, bytes);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      auto first = value.find_first_not_of(" \t");
      auto last = value.find_last_not_of(" \t\r\n");
      value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
      headers.emplace_back(std::move(name), std::move(value));
    } else if (line.rfind("HTTP/", 0) == 0) {
      headers.clear();  // a new response (e.g. after 100-continue) starts over
    } else if (t->streaming() && (line == "\r\n" || line == "\n")) {
      // The end of a head. A reader of a stream (a quiet watch, logs -f) is
      // told now, not with the first byte of a body that may be long in
      // coming or never come; an interim (1xx) head is not the answer's.
      long status = 0;
      curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
      if (status >= 200 && !t->tell_head()) {
        t->stopped = true;
        return 0;  // curl ends the transfer with a write error
      }
    }
    return bytes;
  } catch (...) {
    t->stop_with(std::current_exception());
    return 0;
  }
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return cancel && cancel->load() ? 1 : 0;
}

void set_blob(CURL* curl, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(curl, option, &blob);
}

}  // namespace

std::string Response::header(const std::string& lowercase_name) const {
  for (const auto& [name, value] : headers)
    if (name == lowercase_name) return value;
  return "";
}

namespace {

// curl_easy_perform() looks at a cancel flag (through the progress
// callback) only about once a second while an answer is awaited, so a held
// long-poll cancelled for news ended up to a second late. A multi loop looks
// every 20 ms. The easy handle stays in one multi for the client's life, so
// its connection cache — the kept-alive connection — is the multi's and lasts.
CURLcode perform_cancellable(CURLM* multi, CURL* curl, const std::atomic<bool>& cancel) {
  constexpr int kCancelPollMillis = 20;
  if (curl_multi_add_handle(multi, curl) != CURLM_OK) return CURLE_FAILED_INIT;
  // Out of the multi again whatever happens here: a handle left in it
  // can't be added again, and every later send would fail.
  struct Membership {
    CURLM* multi;
    CURL* curl;
    ~Membership() { curl_multi_remove_handle(multi, curl); }
  } membership{multi, curl};
  while (true) {
    int running = 0;
    if (curl_multi_perform(multi, &running) != CURLM_OK) return CURLE_RECV_ERROR;
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued))
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == curl) return msg->data.result;
    if (cancel.load()) return CURLE_ABORTED_BY_CALLBACK;
    // Bounded by the handle's own CURLOPT_TIMEOUT_MS as well: curl ends it with a timeout result.
    curl_multi_poll(multi, nullptr, 0, kCancelPollMillis, nullptr);
  }
}

}  // namespace

struct Client::Impl {
  TlsOptions tls;
  CURL* curl = nullptr;
  CURLM* multi = nullptr;  // only for cancellable requests

  void apply_tls() {
    if (tls.insecure_skip_verify) {
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
      // Trust only the pinned CA: no system store.
      curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
      curl_easy_setopt(curl, CURLOPT_CAINFO, nullptr);
      if (!tls.ca_pem.empty()) set_blob(curl, CURLOPT_CAINFO_BLOB, tls.ca_pem);
    }
    if (!tls.client_cert_pem.empty()) {
      set_blob(curl, CURLOPT_SSLCERT_BLOB, tls.client_cert_pem);
      curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
      set_blob(curl, CURLOPT_SSLKEY_BLOB, tls.client_key_pem);
      curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
    }
  }
};

Client::Client(TlsOptions tls) : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->tls = std::move(tls);
  impl_->curl = curl_easy_init();
  if (!impl_->curl) throw Error::Internal("curl_easy_init failed");
}

Client::~Client() {
  if (impl_->multi) curl_multi_cleanup(impl_->multi);
  curl_easy_cleanup(impl_->curl);
}

Response Client::send(const Request& request) {
  CURL* curl = impl_->curl;
  curl_easy_reset(curl);  // keeps the connection cache: the next call reuses the connection
  impl_->apply_tls();
  Response response;
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  if (!request.source_address.empty())
    curl_easy_setopt(curl, CURLOPT_INTERFACE, ("host!" + request.source_address).c_str());
  curl_slist* header_list = nullptr;
  header_list = curl_slist_append(header_list, "Expect:");
  for (const auto& [name, value] : request.headers)
    header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(header_list, curl_slist_free_all);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  Transfer transfer{&request, curl, &response, request.on_body ? 0 : request.max_response_bytes};
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_transfer_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  // A proxy's CONNECT answer (curl reads https_proxy) is no head of ours.
  curl_easy_setopt(curl, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  if (request.cancel) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, request.cancel);
  }
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  CURLcode rc;
  if (request.cancel) {
    if (!impl_->multi) impl_->multi = curl_multi_init();
    rc = impl_->multi ? perform_cancellable(impl_->multi, curl, *request.cancel) : CURLE_OUT_OF_MEMORY;
  } else {
    rc = curl_easy_perform(curl);
  }
  headers.reset();
  if (transfer.failure) std::rethrow_exception(transfer.failure);
  if (transfer.exceeded)
    throw Error(ErrorKind::kUnavailable, "http_answer_too_large",
                "the answer of " + request.url + " is larger than " + std::to_string(request.max_response_bytes) +
                    " bytes");
  // An answer without a body (nor a head end seen, as for HTTP/0.9) is told now.
  if (request.on_body && rc == CURLE_OK && !transfer.stopped && !transfer.tell_head()) transfer.stopped = true;
  if (transfer.stopped)
    throw Error(ErrorKind::kUnavailable, "http_answer_refused", "the answer of " + request.url + " was cut off by its reader");
  if (rc != CURLE_OK) {
    std::string detail = error[0] ? error : curl_easy_strerror(rc);
    throw Error::Unavailable("cannot reach " + request.url + ": " + detail);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

std::vector<std::string> Client::peer_certificates(const std::string& url) {
  // A separate handle: certificate info needs a fresh handshake, and this
  // handle must never carry credentials.
  CURL* curl = curl_easy_init();
  if (!curl) throw Error::Internal("curl_easy_init failed");
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(curl, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(curl);
  std::vector<std::string> chain;
  if (rc == CURLE_OK) {
    curl_certinfo* info = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CERTINFO, &info);
    for (int i = 0; info && i < info->num_of_certs; ++i) {
      for (curl_slist* s = info->certinfo[i]; s; s = s->next) {
        std::string_view field(s->data);
        if (field.rfind("Cert:", 0) == 0) chain.emplace_back(field.substr(5));
      }
    }
  }
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) throw Error::Unavailable("cannot reach " + url + ": " + curl_easy_strerror(rc));
  return chain;
}


}  // namespace byoc::http
