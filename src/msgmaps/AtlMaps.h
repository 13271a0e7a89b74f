// Internal: ATL/WTL message maps. BEGIN_MSG_MAP compiles into the virtual
// ProcessWindowMessage(hWnd, uMsg, wParam, lParam, lResult, dwMsgMapID) of
// a class (CMessageMap's only virtual, so slot 0 of the vftable serving
// that base): a switch on dwMsgMapID (ALT_MSG_MAP sections) around compare
// chains on uMsg, with CHAIN_MSG_MAP calls to other maps.
#pragma once
#include "switchboard/msgmaps/MessageMaps.h"

#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

namespace sb::code { struct Function; }

namespace sb::msgmaps {

// Where ProcessWindowMessage finds its parameters (values::Value Param
// indices): this, hWnd, uMsg, wParam, lParam, lResult, dwMsgMapID. x86
// passes `this` in ECX (thiscall) and the rest on the stack.
struct AtlParams {
  uint32_t self, hwnd, msg, wParam, lParam, result, mapId;
  static AtlParams of(bool is64);
};

// The ALT_MSG_MAP section of each block of f that a section other than 0
// reaches from its entry without passing another section's entry (blocks
// absent: section 0).
std::unordered_map<uint32_t, uint32_t> sectionOfBlocks(const code::Function &f, const std::vector<AtlSection> &sections);

class AtlMapReader {
public:
  explicit AtlMapReader(const Analysis &a);
  // f has ProcessWindowMessage's shape: it tests dwMsgMapID and uses uMsg
  // (compares it, or hands it on with wParam or lParam). The map's
  // sections and forwards (their kinds and classes filled in later).
  std::optional<AtlMap> read(const code::Function &f) const;
  // Kinds of the forwards: chains to the maps in `maps` and reflection;
  // the other callees given uMsg (the handlers) are dropped.
  void classifyForwards(AtlMap &m, const std::vector<AtlMap> &maps) const;
  // CWndClassInfo's WNDCLASSEX in the image's data.
  std::vector<AtlWindowClass> windowClasses() const;

private:
  // What g does with its parameter `msgParam`: calls something with
  // OCM__BASE + it (ReflectNotifications' SendMessage to the control) or
  // it - OCM__BASE (DefaultReflectionHandler's DefWindowProc).
  struct Use {
    bool reflects = false, unreflects = false;
  };
  Use messageUse(uint32_t g, uint32_t msgParam) const;
  const Analysis &a_;
  AtlParams p_;
};

} // namespace sb::msgmaps
