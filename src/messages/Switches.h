// Internal: the message-switch analysis of one procedure.
#pragma once
#include "switchboard/messages/MessageFlow.h"
#include "values/Tracker.h"

#include <functional>
#include <map>
#include <set>

namespace sb::messages {

// DefWindowProc, CallWindowProc, DefDlgProc, DefSubclassProc, ...: where
// unhandled messages go.
bool isDefaultProcedureName(const std::string &name);
// The API a call or jump calls through its IAT slot or an import thunk.
std::optional<std::string> importCalled(const Analysis &a, const code::DecodedInsn &in);

// Which parameters (values::Value Param indices) are the message, wParam
// and lParam: 1, 2, 3 for a window procedure; for a helper, where its
// caller put them.
struct MessageParams {
  static constexpr uint32_t kNone = UINT32_MAX;
  uint32_t msg = 1, wParam = 2, lParam = 3;
  uint32_t hwnd = 0;   // the window, when passed on
};

class SwitchAnalyzer {
public:
  // indirectTargets: the functions an indirect call site can reach (virtual
  // calls of C++ window wrappers), asked only for calls that pass the message.
  SwitchAnalyzer(const Analysis &a, const values::CallEffects &effects,
                 const std::map<uint32_t, std::string> &registeredGlobals,
                 std::function<std::vector<uint32_t>(uint32_t site)> indirectTargets);
  // Adds the cases of f's dispatch on its message parameter to proc,
  // following helpers the message is passed to.
  void analyze(const code::Function &f, const MessageParams &params, Procedure &proc, int depth = 0);

private:
  void addCase(Procedure &proc, const MessageId &m, uint32_t handler);
  uint32_t blockOf(const code::Function &f, uint32_t rva) const;
  bool passesToDefault(const code::Function &f, uint32_t rva) const;
  std::set<uint32_t> paramsRead(const code::Function &g) const;
  const Analysis &a_;
  const values::CallEffects &effects_;
  const std::map<uint32_t, std::string> &registered_;
  std::function<std::vector<uint32_t>(uint32_t)> indirect_;
  code::Decoder dec_;
};

} // namespace sb::messages
