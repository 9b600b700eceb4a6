// One way to open a listening TCP socket with Boost.Asio: included only by
// the .cc files that already use Asio (the plane's HTTPS server, the
// agent's gateway check and Kubernetes support proxy).
#pragma once

#include <fcntl.h>

#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "base/error.h"

namespace byoc {

// Opens `acceptor` on `endpoint` and listens: close-on-exec (the processes
// this one spawns must not hold the port), address reuse (a restart finds
// it free at once). Throws byoc::Error kUnavailable "<what>cannot listen on
// HOST:PORT: why" (`what` ends in ": " when given).
inline void listen_on(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::ip::tcp::endpoint& endpoint,
                      const std::string& what = "") {
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string host = endpoint.address().to_string();
    if (endpoint.address().is_v6()) host = "[" + host + "]";
    throw Error::Unavailable(what + "cannot listen on " + host + ":" + std::to_string(endpoint.port()) + ": " +
                             ec.message());
  }
}

}  // namespace byoc
