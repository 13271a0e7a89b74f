// Internal: the message-switch analysis of one procedure.
#pragma once
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/values/Tracker.h"

#include <functional>
#include <map>

namespace sb::messages {

class SwitchAnalyzer {
public:
  // indirectTargets: the functions an indirect call site can reach (virtual
  // calls of C++ window wrappers), asked only for calls that pass the message.
  SwitchAnalyzer(const Analysis &a, const values::CallEffects &effects,
                 const std::map<uint32_t, std::string> &registeredGlobals,
                 std::function<std::vector<uint32_t>(uint32_t site)> indirectTargets);
  // Adds the cases of f's dispatch on parameter `msgParam` (1 for window
  // procedures) to proc, following helpers the message is passed to.
  void analyze(const code::Function &f, unsigned msgParam, Procedure &proc, int depth = 0);

private:
  void addCase(Procedure &proc, const MessageId &m, uint32_t handler);
  uint32_t blockOf(const code::Function &f, uint32_t rva) const;
  const Analysis &a_;
  const values::CallEffects &effects_;
  const std::map<uint32_t, std::string> &registered_;
  std::function<std::vector<uint32_t>(uint32_t)> indirect_;
  code::Decoder dec_;
};

} // namespace sb::messages
