#include "switchboard/ports/PortApi.h"

#include <iterator>
#include <string>

namespace sb::ports {

const char *opName(Op o) {
  switch (o) {
  case Op::Create: return "create";
  case Op::Connect: return "connect";
  case Op::Accept: return "accept";
  case Op::Send: return "send";
  case Op::Receive: return "receive";
  case Op::Reply: return "reply";
  case Op::Listen: return "listen";
  }
  return "?";
}

namespace {

constexpr std::pair<int, const char *> kNone{-1, ""};

constexpr PortApi kPortApis[] = {
    {"NtAlpcCreatePort", Op::Create, true, NameFrom::ObjectAttributes, 1, {kNone, kNone}, false},
    {"NtAlpcConnectPort", Op::Connect, true, NameFrom::UnicodeString, 1, {{{6, "connect"}, kNone}}, true},
    {"NtAlpcConnectPortEx", Op::Connect, true, NameFrom::ObjectAttributes, 1, {{{7, "connect"}, kNone}}, true},
    {"NtAlpcAcceptConnectPort", Op::Accept, true, NameFrom::None, -1, {{{6, "connect"}, kNone}}, false},
    {"NtAlpcSendWaitReceivePort", Op::Send, true, NameFrom::None, -1, {{{2, "send"}, {4, "receive"}}}, true},
    {"NtCreatePort", Op::Create, false, NameFrom::ObjectAttributes, 1, {kNone, kNone}, false},
    {"NtCreateWaitablePort", Op::Create, false, NameFrom::ObjectAttributes, 1, {kNone, kNone}, false},
    {"NtConnectPort", Op::Connect, false, NameFrom::UnicodeString, 1, {kNone, kNone}, true},
    {"NtSecureConnectPort", Op::Connect, false, NameFrom::UnicodeString, 1, {kNone, kNone}, true},
    {"NtAcceptConnectPort", Op::Accept, false, NameFrom::None, -1, {{{2, "connect"}, kNone}}, false},
    {"NtListenPort", Op::Listen, false, NameFrom::None, -1, {{{1, "receive"}, kNone}}, true},
    {"NtRequestWaitReplyPort", Op::Send, false, NameFrom::None, -1, {{{1, "request"}, {2, "reply"}}}, true},
    {"NtRequestPort", Op::Send, false, NameFrom::None, -1, {{{1, "request"}, kNone}}, false},
    {"NtReplyWaitReceivePort", Op::Receive, false, NameFrom::None, -1, {{{2, "reply"}, {3, "receive"}}}, true},
    {"NtReplyWaitReceivePortEx", Op::Receive, false, NameFrom::None, -1, {{{2, "reply"}, {3, "receive"}}}, true},
    {"NtReplyPort", Op::Reply, false, NameFrom::None, -1, {{{1, "reply"}, kNone}}, false},
    {"NtReplyWaitReplyPort", Op::Reply, false, NameFrom::None, -1, {{{1, "reply"}, kNone}}, true},
};

} // namespace

int PortApi::receiveArg() const {
  for (const auto &[index, role] : buffers)
    if (index >= 0 && std::string_view(role) == "receive")
      return index;
  return -1;
}

const PortApi *findPortApi(std::string_view name) {
  std::string n(name);
  if (n.rfind("Zw", 0) == 0)
    n = "Nt" + n.substr(2);
  for (const PortApi &p : kPortApis)
    if (n == p.name)
      return &p;
  return nullptr;
}

const char *portMessageTypeName(unsigned type) {
  static const char *const kNames[] = {"UNUSED_MSG_TYPE", "LPC_REQUEST", "LPC_REPLY", "LPC_DATAGRAM",
                                       "LPC_LOST_REPLY", "LPC_PORT_CLOSED", "LPC_CLIENT_DIED", "LPC_EXCEPTION",
                                       "LPC_DEBUG_EVENT", "LPC_ERROR_EVENT", "LPC_CONNECTION_REQUEST"};
  const unsigned t = type & 0xFF;
  return t < std::size(kNames) ? kNames[t] : "unknown";
}

} // namespace sb::ports
