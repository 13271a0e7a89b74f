// Window-message flow: who receives messages (window classes and their
// procedures, dialog procedures, subclass procedures), which messages each
// procedure handles (the cases of its dispatch on the message parameter,
// nested WM_COMMAND ids and WM_NOTIFY codes), where messages are sent, and
// the edges from each send site to the handlers that can receive it.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/api/ApiTable.h"
#include "switchboard/res/Templates.h"

#include <optional>
#include <string>
#include <vector>

namespace sb::messages {

// A message a procedure handles: a constant id, or a message registered with
// RegisterWindowMessage (by its name).
struct MessageId {
  uint32_t id = 0;
  std::string registeredName;   // non-empty: RegisterWindowMessage("name")
  bool operator==(const MessageId &) const = default;
};

struct Case {
  MessageId message;
  // How the message is named here: messageText(), or a control class's own
  // name for it (BM_SETSTYLE in a procedure of class Button).
  std::string text;
  uint32_t handlerRva = 0;
  std::vector<uint32_t> senders;      // send sites whose message reaches this case
  std::vector<uint32_t> calls;        // functions (and IAT slots) the handler calls
  std::vector<std::pair<uint32_t, uint32_t>> commands;   // WM_COMMAND: (LOWORD(wParam) id, handler)
  std::vector<std::pair<uint32_t, uint32_t>> commandCodes;   // WM_COMMAND: (HIWORD(wParam) notification code, handler)
  std::vector<std::pair<uint32_t, uint32_t>> notifies;   // WM_NOTIFY: (NMHDR.code, handler)
  std::vector<std::pair<uint32_t, uint32_t>> notifyFrom; // WM_NOTIFY: (NMHDR.idFrom, handler)
  // Framework maps: the base (MFC) or chained (ATL CHAIN_MSG_MAP) map that
  // handles it, when not this one (0); and the ATL ALT_MSG_MAP section it
  // lies in (0: the default map, the one the window itself runs).
  uint32_t chainedFrom = 0;
  uint32_t section = 0;
  // An ATL map's case: the member function it runs (MESSAGE_HANDLER's
  // func), when it calls exactly one; a send's edge goes there.
  uint32_t handlerFunction = 0;
};

// Hook: a common-dialog hook (dialog-like: WM_INITDIALOG, WM_NOTIFY CDN_*);
// Callback: a task-dialog callback (TDN_* notifications); Mfc: a class's
// MFC message map (the procedure's rva is the AFX_MSGMAP's); Atl: a
// class's ProcessWindowMessage.
enum class ProcKind : uint8_t { Window, Dialog, Subclass, Hook, Callback, Mfc, Atl };
const char *procKindName(ProcKind k);

struct Procedure {
  uint32_t rva = 0;
  ProcKind kind = ProcKind::Window;
  std::vector<std::string> classes;   // window classes registered with it
  std::vector<Case> cases;
  std::vector<uint32_t> forwardedTo;  // helpers the message parameter is passed to (their cases are merged)
  std::vector<uint32_t> forwardedWindowParam;   // for each: the helper's parameter holding the window (UINT32_MAX: none)
  std::vector<std::string> wrapperClasses;   // C++ classes whose virtual handler receives the message
  std::vector<std::string> defaults;  // DefWindowProcW, CallWindowProcW, DefDlgProcW, ...
  uint32_t previousProcGlobal = 0;    // subclass: the global holding the previous procedure
  std::string cxxClass;               // mfc / atl: the class whose map it is (RTTI), when known
};

struct WindowClass {
  std::string name;
  uint32_t wndprocRva = 0;
  uint32_t siteRva = 0;               // the RegisterClass call
  std::optional<int64_t> wndExtra;
  bool activexHost = false;           // ATL's AtlAxWin* class: its windows host an ActiveX control
};

struct Window {
  uint32_t siteRva = 0;               // CreateWindowEx / CreateDialog* / DialogBox* call, or a helper
                                      // that returns the window it creates (api: the helper's name)
  std::string api, className, title;
  bool viaHelper = false;             // siteRva calls a helper that creates it (its CreateWindowEx is a window too)
  std::string dialogTemplate;         // dialogs: the template's name, or its id in decimal
  uint32_t procRva = 0;               // dialogs: their procedure
  uint32_t handleGlobal = 0;          // where the handle is kept, if in a global
  std::vector<uint32_t> handleFields; // offsets of structure fields the handle is stored to
  std::string parentClass;            // the class of the parent window, when known
  std::string parent, createParam;    // the hWndParent and lpParam/dwInitParam arguments, described
  std::string cxxClass;               // a framework dialog: the class whose object it is (ATL CDialogImpl)
  bool activexHost = false;           // of an AtlAxWin* class: the title names the control (ProgID, CLSID, URL)
};

// A procedure handed over other than by RegisterClass, CreateWindowEx or
// DialogBox: subclassing (SetWindowLongPtr(GWLP_WNDPROC), SetWindowSubclass)
// or a procedure field of a structure an API takes (PROPSHEETPAGE.pfnDlgProc,
// OPENFILENAME.lpfnHook, TASKDIALOGCONFIG.pfCallback, ...).
struct Installation {
  uint32_t siteRva = 0, procRva = 0;
  std::string api;                    // "SetWindowSubclass", "PropertySheetW"
  std::string field;                  // the field path ("lppsph->ppsp->pfnDlgProc"); empty: an argument
  ProcKind kind = ProcKind::Subclass;
};

struct Send {
  uint32_t siteRva = 0, functionRva = 0;
  std::string api;
  std::optional<MessageId> message;
  std::string messageText;
  std::string target;                 // the window argument, described
  std::string targetClass;            // when known
  // How the target's class is known: "global" (a handle CreateWindowEx stored),
  // "field" (a structure field CreateWindowEx stored, in related code),
  // "GetDlgItem", "FindWindow", "dialog item", "parent" (GetParent of a
  // procedure's window, whose windows are all created with one parent class).
  std::string targetOrigin;
  std::vector<uint32_t> targets;      // procedures that can receive it
  bool exact = false;                 // the target's class is known
  std::optional<uint32_t> commandId;  // WM_COMMAND with a constant wParam: LOWORD(wParam)
};

struct MessageFlow {
  std::vector<WindowClass> classes;
  std::vector<Window> windows;
  std::vector<Procedure> procedures;
  std::vector<Installation> installations;
  std::vector<Send> sends;
  res::Resources resources;           // names for command ids, dialog templates
  std::vector<std::string> warnings;
};

MessageFlow analyzeMessages(const Analysis &a, const api::ApiTable &table);
// The case of a procedure that handles message m (in an ATL map, of the
// default section: the one the window itself runs), or nullptr.
const Case *caseFor(const Procedure &p, const MessageId &m);
// Whether the send's window is a framework object's m_hWnd (origin this,
// member or global object): its targets are that class's map and its
// derived classes' maps.
bool isObjectTarget(const Send &s);
// Where a send lands in that case: a WM_COMMAND with a known id at the
// handler of that id, when the case dispatches on ids.
uint32_t handlerFor(const Case &c, const Send &s);
// "WM_COPYDATA (0x004a)" or "registered \"SwitchboardRefresh\"".
std::string messageText(const api::ApiTable &table, const MessageId &m);

} // namespace sb::messages
