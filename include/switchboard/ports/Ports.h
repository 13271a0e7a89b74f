// LPC and ALPC ports in one image: every call of the native port API
// (NtAlpcCreatePort, NtAlpcConnectPort(Ex), NtAlpcAcceptConnectPort,
// NtAlpcSendWaitReceivePort, NtCreatePort, NtConnectPort,
// NtSecureConnectPort, NtRequestWaitReplyPort, NtReplyWaitReceivePort(Ex),
// NtListenPort, ... and their Zw names) with the port's name (from the
// OBJECT_ATTRIBUTES' UNICODE_STRING or the name argument), the server loops
// (functions that receive on a port in a loop) with the message kinds they
// dispatch on (the constants a field of the received message is compared
// with), and client sends linked to the server loop of the port with the
// same name across images. A session model (Analysis::ports).
#pragma once
#include "switchboard/ports/PortApi.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sb { class Analysis; }

namespace sb::ports {


struct PortCall {
  uint32_t siteRva = 0, functionRva = 0;
  std::string api;            // as imported ("NtAlpcCreatePort", "ZwConnectPort")
  Op op = Op::Send;
  bool alpc = false;          // an NtAlpc* call (else LPC)
  std::string portName;       // "\RPC Control\SwitchboardAlpc"; empty when not recovered
};

// The constants one field of the received message is compared with.
struct MessageKinds {
  uint32_t offset = 0;        // from the start of the PORT_MESSAGE (the header is 0x18 / 0x28 bytes)
  std::vector<int64_t> values;
};

struct ServerLoop {
  uint32_t functionRva = 0;
  uint32_t siteRva = 0;       // the receive call inside the loop
  std::string api;
  bool alpc = false;
  std::string portName;
  std::vector<MessageKinds> kinds;   // by offset
};

struct PortModel {
  std::vector<PortCall> calls;     // by site
  std::vector<ServerLoop> loops;   // by function
  // The PORT_MESSAGE header's size for the image's architecture.
  uint32_t headerSize = 0;
};

PortModel findPorts(const Analysis &a);

// A client's connect/send site -> the server loop of the port with its name
// in another (or the same) image.
struct PortLink {
  size_t clientModule = 0;
  uint32_t clientRva = 0;
  size_t serverModule = 0;
  uint32_t serverLoopRva = 0;
  std::string portName;
};
std::vector<PortLink> linkPorts(std::span<const PortModel *const> models);

} // namespace sb::ports
