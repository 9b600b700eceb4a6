// TlsSocket (for https_server.cc only: it pulls in Asio and OpenSSL).
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <algorithm>
#include <cerrno>
#include <string>

#include "base/error.h"

namespace byoc::server {

// TlsSocket: a server-side TLS connection run directly on the socket's
// descriptor (OpenSSL on a non-blocking fd, Asio only for readiness), as an
// Asio AsyncStream for Beast. Asio's ssl::stream keeps two 17 KB staging
// vectors and a 34 KB BIO pair per connection whatever it is doing; here an
// idle connection (an agent between long-polls) holds only OpenSSL's state,
// whose record buffers SSL_MODE_RELEASE_BUFFERS frees between messages.
// All operations run on the socket's strand, one read and one write at most.
class TlsSocket {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;

  TlsSocket(tcp::socket socket, SSL_CTX* ctx) : socket_(std::move(socket)), ssl_(SSL_new(ctx)) {
    if (!ssl_) throw Error::Internal("SSL_new failed");
    boost::beast::error_code ec;
    socket_.non_blocking(true, ec);
    SSL_set_fd(ssl_, static_cast<int>(socket_.native_handle()));
    SSL_set_accept_state(ssl_);
  }
  ~TlsSocket() { SSL_free(ssl_); }
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  tcp::socket& socket() { return socket_; }
  SSL* native_handle() { return ssl_; }

  template <typename Handler>
  auto async_handshake(Handler&& handler) {
    return run(std::forward<Handler>(handler), [this](size_t&) { return SSL_do_handshake(ssl_) == 1; });
  }

  template <typename MutableBuffers, typename Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
      if (it->size() > 0) {
        first = *it;
        break;
      }
    return run(std::forward<Handler>(handler), [this, first](size_t& n) {
      return first.size() == 0 || SSL_read_ex(ssl_, first.data(), first.size(), &n) == 1;
    });
  }

  // Coalesces the sequence (an HTTP header and body) into one record when
  // it fits, so a response is one TLS record and one send.
  template <typename ConstBuffers, typename Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    pending_.clear();
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::const_buffer b = *it;
      size_t take = std::min(b.size(), kMaxWrite - pending_.size());
      pending_.append(static_cast<const char*>(b.data()), take);
      if (pending_.size() == kMaxWrite) break;
    }
    return run(std::forward<Handler>(handler), [this](size_t& n) {
      if (pending_.empty()) return true;
      if (SSL_write_ex(ssl_, pending_.data(), pending_.size(), &n) != 1) return false;
      std::string().swap(pending_);  // written: don't keep the copy
      return true;
    });
  }

  // Sends close_notify if it can at once, then closes the socket.
  void shutdown_and_close() {
    ERR_clear_error();
    SSL_shutdown(ssl_);
    boost::beast::error_code ec;
    socket_.close(ec);
  }

 private:
  static constexpr size_t kMaxWrite = 16 * 1024;

  // Runs `attempt` until it succeeds, waiting for the readiness OpenSSL asks
  // for in between; completes with the bytes it moved.
  template <typename Handler, typename Attempt>
  auto run(Handler&& handler, Attempt attempt) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, size_t)>(
        [this, attempt, started = false](auto& self, boost::beast::error_code ec = {}) mutable {
          if (started && ec) return self.complete(ec, 0);
          started = true;
          size_t n = 0;
          ERR_clear_error();
          errno = 0;
          if (attempt(n)) return self.complete({}, n);
          int rc = SSL_get_error(ssl_, 0);
          switch (rc) {
            case SSL_ERROR_WANT_READ:
              return socket_.async_wait(tcp::socket::wait_read, std::move(self));
            case SSL_ERROR_WANT_WRITE:
              return socket_.async_wait(tcp::socket::wait_write, std::move(self));
            case SSL_ERROR_ZERO_RETURN:
              return self.complete(boost::asio::error::eof, 0);
            case SSL_ERROR_SYSCALL:
              return self.complete(errno == 0 ? boost::beast::error_code(boost::asio::error::eof)
                                              : boost::beast::error_code(boost::asio::error::connection_reset),
                                   0);
            default:
              return self.complete(boost::asio::error::connection_aborted, 0);
          }
        },
        handler, socket_);
  }

  tcp::socket socket_;
  SSL* ssl_;
  std::string pending_;
};

}  // namespace byoc::server
