// Message maps of the C++ window frameworks: MFC's static AFX_MSGMAP tables
// (walked by CWnd::OnWndMsg up the class chain) and ATL/WTL's
// ProcessWindowMessage functions (what BEGIN_MSG_MAP compiles to, reached
// through a per-window thunk), each tied to its class. The message flow
// turns them into procedures of kind mfc / atl.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sb { class Analysis; }

namespace sb::msgmaps {

// What an AFX_MSGMAP_ENTRY does, from its nMessage and nCode.
enum class MfcEntryKind : uint8_t {
  Message,          // ON_WM_*, ON_MESSAGE, ON_THREAD_MESSAGE
  Registered,       // ON_REGISTERED_MESSAGE: nSig points at the UINT holding the id
  Command,          // ON_COMMAND(_EX/_RANGE): WM_COMMAND, CN_COMMAND
  UpdateCommandUi,  // ON_UPDATE_COMMAND_UI(_RANGE): CN_UPDATE_COMMAND_UI
  Control,          // ON_CONTROL, ON_BN_CLICKED, ...: WM_COMMAND with a notification code
  Notify,           // ON_NOTIFY(_RANGE/_EX)
  ControlReflect,   // ON_CONTROL_REFLECT: WM_COMMAND + WM_REFLECT_BASE
  NotifyReflect,    // ON_NOTIFY_REFLECT
  Reflect,          // another message + WM_REFLECT_BASE (ON_WM_CTLCOLOR_REFLECT, ...)
};
const char *mfcEntryKindName(MfcEntryKind k);

struct MfcEntry {
  uint32_t rva = 0;   // of the entry
  uint32_t message = 0, code = 0, id = 0, lastId = 0;
  uint64_t sig = 0;
  uint32_t handlerRva = 0;
  MfcEntryKind kind = MfcEntryKind::Message;
  uint32_t registeredGlobal = 0;   // Registered: the UINT nSig points at
  std::string registeredName;      // its RegisterWindowMessage string, when found
  std::string signature;           // "AfxSig_vv" when nSig is a known AfxSig (MFC 14 numbering)
  std::string memberName;          // "OnPaint": the member an ON_WM_* macro binds
};

struct MfcMap {
  uint32_t rva = 0;                // the AFX_MSGMAP
  uint32_t entriesRva = 0;
  // The base: another map (pBaseMap, or what pfnGetBaseMap returns), a
  // function (pfnGetBaseMap: _AFXDLL builds), or an import of the MFC DLL.
  uint32_t baseMapRva = 0;
  uint32_t baseFunctionRva = 0;
  std::string baseImport;          // "mfc140u.dll#1234": the base map lies in the MFC DLL
  bool dllLayout = false;          // the base field is a function (pfnGetBaseMap)
  uint32_t getMessageMapRva = 0;   // the virtual GetMessageMap returning it
  uint32_t getThisMessageMapRva = 0;   // the static GetThisMessageMap (_AFXDLL)
  int vftableSlot = -1;
  std::string className;           // from the vftable that returns it (RTTI), or empty
  int classIndex = -1;             // into the object model's classes
  std::vector<MfcEntry> entries;
  bool truncated = false;          // no end entry within the bound
};

// A dialog class and its template: the IDD a constructor passes to its
// base (CDialog::CDialog(IDD, pParent)), or an ATL CDialogImpl's IDD.
struct FrameworkDialog {
  std::string className;
  uint32_t templateId = 0;
  uint32_t siteRva = 0;            // the base-constructor call or DialogBox site
  bool templateFound = false;      // a dialog resource with this id exists
};

enum class AtlForwardKind : uint8_t {
  Chain,              // CHAIN_MSG_MAP / CHAIN_MSG_MAP_MEMBER / _ALT: another ProcessWindowMessage
  Reflect,            // REFLECT_NOTIFICATIONS: sends OCM__BASE + uMsg to the control
  DefaultReflection,  // DEFAULT_REFLECTION_HANDLER: DefWindowProc(uMsg - OCM__BASE)
};
const char *atlForwardKindName(AtlForwardKind k);

struct AtlForward {
  uint32_t siteRva = 0, targetRva = 0;
  uint32_t section = 0;
  uint32_t messageParam = 0;       // the callee's parameter given uMsg
  AtlForwardKind kind = AtlForwardKind::Chain;
  std::string targetClass;         // the chained map's class, when known
};

struct AtlSection {
  uint32_t id = 0;                 // ALT_MSG_MAP(id); 0 the default map
  uint32_t entryRva = 0;
};

struct AtlMap {
  uint32_t rva = 0;                // ProcessWindowMessage
  std::string className;
  int classIndex = -1;
  uint32_t vftableRva = 0;
  std::vector<AtlSection> sections;   // more than one: ALT_MSG_MAP sections on dwMsgMapID
  std::vector<AtlForward> forwards;
};

// A window class an ATL CWndClassInfo registers: its WNDCLASSEX is static
// data; a NULL lpszClassName is replaced at run time by "ATL:%p" of it.
struct AtlWindowClass {
  uint32_t wndClassRva = 0;        // the WNDCLASSEX inside CWndClassInfo
  std::string name;                // the literal, or "ATL:<address>" as %p prints it at the preferred base
  bool autoName = false;
  uint32_t startWindowProcRva = 0; // lpfnWndProc: StartWindowProc
};

struct MessageMaps {
  std::vector<MfcMap> mfc;               // sorted by rva
  std::vector<AtlMap> atl;               // sorted by rva
  std::vector<AtlWindowClass> atlClasses;
  std::vector<uint32_t> atlWindowProcs;  // where the thunks land: CWindowImplBaseT::WindowProc
  std::vector<FrameworkDialog> dialogs;
  // Where a window object keeps its handle: CWnd::m_hWnd (MFC 7-14:
  // after CCmdTarget's members) and CWindow::m_hWnd (after CMessageMap's
  // vfptr, which MSVC lays out first).
  int mfcHwndOffset = -1, atlHwndOffset = -1;
  std::vector<std::string> warnings;

  const MfcMap *mfcAt(uint32_t rva) const;
  const AtlMap *atlAt(uint32_t rva) const;
};

MessageMaps findMessageMaps(const Analysis &a);

} // namespace sb::msgmaps
