// What a thread of a dump is doing, in terms of the hidden edges: the
// window messages its frames are handling (a frame inside a window, dialog
// or subclass procedure the module's message flow knows), and the message
// it is blocked sending (a frame in SendMessage*/SendMessageTimeout*/
// NtUserMessageCall), with the procedures of the analyzed modules that
// receive that message; the port message of an LPC/ALPC call it waits in;
// the interface and procedure of an RPC client call it waits in.
#pragma once
#include "switchboard/dump/Params.h"
#include "switchboard/dump/PortMessage.h"
#include "switchboard/dump/RpcWait.h"

#include <optional>
#include <string>
#include <vector>

namespace sb::dump {

struct HandledMessage {
  unsigned frame = 0;
  std::string procedure;              // "dump_app!sender_wndproc"
  std::string kind;                   // "window", "dialog", "subclass", ...
  std::optional<uint64_t> message;    // the recovered Msg parameter
  std::string messageText;            // "WM_USER+5", or the case the pc is in
};

struct MessageWait {
  unsigned frame = 0;                 // the frame of the sending API
  std::string api;                    // "SendMessageW"
  std::optional<uint64_t> window, message, wParam, lParam;   // as recovered
  std::string messageText;
  std::string sender;                 // the caller's call site ("dump_app!sender_wndproc+0x3b")
  // Procedures in the analyzed modules that can receive it: the static send
  // site's targets, else every procedure with a case for the message id.
  std::vector<std::string> receivers;
  std::string exactness;              // "by send site", "by message id", ""
};

struct ThreadActivity {
  std::vector<HandledMessage> handling;
  std::optional<MessageWait> waiting;
  std::optional<PortWait> portWait;   // blocked in an LPC/ALPC port call
  std::optional<RpcWait> rpcWait;     // blocked in an RPC client call (over the port call, on Windows)
};

// A C++ exception's (0xE06D7363) most-derived thrown type, from the ThrowInfo
// its parameters name ([2]; on x64 [3] is the base of its RVAs), through the
// EH model's reader; nullopt for other exceptions or an unreadable ThrowInfo.
std::optional<std::string> thrownType(const ExceptionRecord &e, const ModuleSet &modules);

// params: recoverParams' result for the stack (may be empty: no values then).
ThreadActivity describeActivity(const ThreadStack &stack, const ModuleSet &modules,
                                const std::vector<std::vector<RecoveredParam>> &params, const api::ApiTable &api,
                                const MemoryReader &memory);

} // namespace sb::dump
