#include "switchboard/dump/Activity.h"

#include "switchboard/eh/EhModel.h"
#include "switchboard/messages/MessageFlow.h"

#include <fmt/format.h>

namespace sb::dump {
namespace {

// The sends that wait for the receiver (not SendNotifyMessage or
// SendMessageCallback, which return at once), and the system call under them.
bool isSendApi(const std::string &name) {
  for (const char *base : {"SendMessage", "SendMessageTimeout", "SendDlgItemMessage"})
    for (const char *suffix : {"", "W", "A"})
      if (name == std::string(base) + suffix)
        return true;
  return name == "NtUserMessageCall";
}

std::string messageName(const api::ApiTable &api, uint64_t id) {
  return messages::messageText(api, messages::MessageId{uint32_t(id), {}});
}

const messages::Procedure *procedureAt(const messages::MessageFlow &flow, uint32_t rva) {
  for (const messages::Procedure &p : flow.procedures)
    if (p.rva == rva)
      return &p;
  return nullptr;
}

// The module's message flow, for the application's modules (whose names
// are recovered); the system's are not analyzed that deep.
const messages::MessageFlow *flowOf(const LoadedModule *m) {
  if (!m || !m->analysis() || !m->recoveredNames() || !m->analysis()->image().codeAnalysisSupported())
    return nullptr;
  return &m->analysis()->messageFlow();
}

std::string procedureName(const LoadedModule &m, uint32_t rva) {
  auto n = m.analysis()->names().textAt(rva);
  return fmt::format("{}!{}", m.name(), n ? *n : fmt::format("{:#x}", rva));
}

void findReceivers(const ModuleSet &modules, const StackFrame &caller, std::optional<uint64_t> message,
                   MessageWait &w) {
  // The send site's own targets, when the static analysis knows the call.
  if (const messages::MessageFlow *flow = flowOf(caller.module)) {
    const uint32_t ret = uint32_t(caller.pc - caller.module->record().base);
    for (const messages::Send &s : flow->sends)
      if (s.siteRva < ret && ret - s.siteRva <= 7 && !s.targets.empty()) {
        for (uint32_t t : s.targets)
          w.receivers.push_back(procedureName(*caller.module, t));
        w.exactness = "by send site";
        return;
      }
  }
  if (!message)
    return;
  for (const auto &m : modules.modules())
    if (const messages::MessageFlow *flow = flowOf(m.get()))
      for (const messages::Procedure &p : flow->procedures)
        for (const messages::Case &c : p.cases)
          if (c.message.registeredName.empty() && c.message.id == *message) {
            w.receivers.push_back(procedureName(*m, p.rva));
            break;
          }
  if (!w.receivers.empty())
    w.exactness = "by message id";
}

} // namespace

std::optional<std::string> thrownType(const ExceptionRecord &e, const ModuleSet &modules) {
  constexpr uint32_t kCxxException = 0xE06D7363;
  if (e.code != kCxxException || e.parameters.size() < 3)
    return std::nullopt;
  const uint64_t va = e.parameters[2];
  const LoadedModule *m = modules.containing(va);
  if (!m || !m->analysis())
    return std::nullopt;
  eh::ThrowSite t = eh::throwInfoAt(m->analysis()->image(), uint32_t(va - m->record().base));
  if (t.unresolved)
    return std::nullopt;
  return t.type;
}

ThreadActivity describeActivity(const ThreadStack &stack, const ModuleSet &modules,
                                const std::vector<std::vector<RecoveredParam>> &params, const api::ApiTable &api,
                                const MemoryReader &memory) {
  ThreadActivity out;
  out.portWait = findPortWait(stack, params, memory);
  out.rpcWait = findRpcWait(stack, params, memory);
  for (const StackFrame &f : stack.frames) {
    if (!f.symbol)
      continue;
    if (!out.waiting && isSendApi(f.symbol->function) && f.index + 1 < stack.frames.size()) {
      // The outermost frame of the send (SendMessageW above NtUserMessageCall).
      size_t top = f.index;
      while (top + 1 < stack.frames.size() && stack.frames[top + 1].symbol &&
             isSendApi(stack.frames[top + 1].symbol->function))
        ++top;
      const StackFrame &send = stack.frames[top], &caller = stack.frames[top + 1];
      MessageWait w;
      w.frame = unsigned(top);
      w.api = send.symbol->function;
      w.window = paramValue(params, w.frame, 0);
      w.message = paramValue(params, w.frame, 1);
      w.wParam = paramValue(params, w.frame, 2);
      w.lParam = paramValue(params, w.frame, 3);
      if (w.message)
        w.messageText = messageName(api, *w.message);
      w.sender = callSiteName(caller);
      findReceivers(modules, caller, w.message, w);
      out.waiting = std::move(w);
    }
    const messages::MessageFlow *flow = flowOf(f.module);
    if (!flow)
      continue;
    const uint32_t begin = uint32_t(f.pc - f.module->record().base - f.symbol->offset);
    if (const messages::Procedure *p = procedureAt(*flow, begin)) {
      HandledMessage h;
      h.frame = f.index;
      h.procedure = procedureName(*f.module, p->rva);
      h.kind = messages::procKindName(p->kind);
      h.message = paramValue(params, f.index, 1);
      h.messageText = h.message ? messageName(api, *h.message) : f.symbol->label;
      out.handling.push_back(std::move(h));
    }
  }
  return out;
}

} // namespace sb::dump
