// The builder behind analyzeMessages: one object that reads the call sites
// once and fills a MessageFlow. Recipients.cpp finds who receives messages
// (classes, windows, dialogs, subclasses), Switches.cpp what each procedure
// handles, Targets.cpp where messages are sent and to which procedures.
#pragma once
#include "Switches.h"
#include "switchboard/calls/CallSites.h"
#include "switchboard/messages/Knowledge.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/msgmaps/MessageMaps.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sb::cxx { struct ObjectModel; }

namespace sb::messages {
using values::Kind;
using values::Value;

class FlowBuilder {
public:
  FlowBuilder(const Analysis &a, const api::ApiTable &table) : a_(a), table_(table), conv_(a, table) {}

  MessageFlow build();

private:
  // Every API the recognizers read, resolved and searched in one pass.
  void prefetch();
  const std::vector<calls::CallSite> &sitesOf(const std::string &api) const;
  // A call as each path into it sees it (several when they differ: a
  // WNDCLASS filled on two paths, a message chosen by a conditional).
  static std::vector<calls::CallSite> perPath(const calls::CallSite &cs);
  // Where the results of the API's calls are stored (globals, fields).
  std::vector<calls::ResultStore> resultStores(const std::string &api) const;
  std::unordered_map<uint32_t, uint32_t> resultGlobals(const std::string &api) const;
  static const calls::Argument *arg(const calls::CallSite &cs, std::string_view name);
  Procedure &procedure(uint32_t rva, ProcKind kind);
  void nameCasesAndLinkSenders();
  static std::optional<uint32_t> codeAddress(const calls::Argument *x);
  void registeredMessages();
  void windowClasses();
  void windows();

  // Where the window's handle is kept: a global, or structure fields.
  void keepHandle(Window &w, const std::vector<calls::ResultStore> &stores);

  // Helpers that return the window they create (COMCTL32_CreateToolTip): a
  // function whose every return value is the result of its CreateWindowEx
  // calls of one class (or 0). Each call of it creates a window of that class.
  void factories();
  void subclasses();
  void structureProcedures();
  void procedureInArgument(const calls::CallSite &cs, const std::string &api, const calls::Argument &x,
                           const std::string &path, const std::string &field, ProcKind kind);
  void installed(uint32_t site, uint32_t proc, std::string api, std::string field, ProcKind kind);
  void registerClassAt(const calls::CallSite &cs);
  void defaults(const code::Function &f, Procedure &p);
  void sends();
  std::optional<uint32_t> classifyTarget(const calls::CallSite &cs, const std::string &api, Send &s);
  size_t addSend(Send s, bool mergePaths);
  // The classes of the windows whose handles are kept in globals or come
  // back from calls (CreateWindowEx, helpers, GetDlgItem, FindWindow,
  // GetParent), and how each was known.
  void handleClasses();
  // The id's class in the dialog templates; empty when templates give the
  // same id to controls of different classes.
  std::string controlClass(uint32_t id) const;
  std::string globalClass(const Value &handle) const;   // a load of a global
  std::string siteClass(const Value &handle) const;     // a call's result
  // A control's own messages are named by its class.
  static void nameByClass(Send &s);
  Send sendAt(const calls::CallSite &cs, const std::string &api) const;

  using Recipient = std::pair<std::string, uint32_t>;
  struct PendingSend {
    size_t send = 0;
    uint32_t param = 0;
  };
  static constexpr uint32_t kMaxParam = 16;
  // DefWindowProc and CallWindowProc run a procedure on the message; they
  // do not send it to a window.
  static bool isDefaultCall(const std::string &api);
  static bool isParamIndex(uint32_t p) { return p < kMaxParam || values::registerParamName(p); }
  // Where a callee's parameter sits in a call site's arguments.
  static std::optional<size_t> argumentIndex(uint32_t param, const calls::CallSite &cs);
  bool registerThroughCallers(const calls::CallSite &cs, const WindowClass &proto, std::optional<uint32_t> procParam,
                              std::optional<uint32_t> nameParam);
  static constexpr int kCallerDepth = 3;
  static constexpr size_t kMaxCallers = 32;
  bool isProcedure(uint32_t rva) const;
  // A function as a call target, and the call sites of several targets found
  // in one pass over the code (arguments read up to kMaxParam).
  calls::Target functionTarget(uint32_t rva) const;
  std::vector<std::vector<calls::CallSite>> callSitesOf(const std::vector<calls::Target> &targets) const;
  // The call sites of these functions, kept in callers_.
  void prefetchCallers(const std::set<uint32_t> &functions);
  const std::vector<calls::CallSite> &callersOf(uint32_t function);
  uint32_t procedureOfClass(const std::string &cls) const;
  // A window handle that is a parameter of the sending function: the
  // procedure's own window (its hwnd parameter), or what every direct caller
  // passes there (followed up to kCallerDepth callers). A recipient is a
  // class and its procedure in this image, when there is one.
  // False when some path gives no recipient (then nothing is claimed).
  bool recipientsOfParam(uint32_t function, uint32_t param, int depth, std::set<Recipient> &out);
  void parameterTargets(const std::vector<PendingSend> &pending);

  struct FieldStore {
    uint32_t offset = 0, function = 0;
    std::string className;
    Value base;   // the structure's address in the store's function
  };
  // Functions reachable from `root` by direct calls and tail jumps, breadth
  // first and bounded: the code that works on the same window's data.
  const std::unordered_set<uint32_t> &reach(uint32_t root);
  // The store in f and the send in g use the same structure: the same
  // function and the same base, or g is reached from f (the creator hands a
  // structure it was given or obtained down), or f is reached from g and
  // obtained the structure by a call of its own
  // (GetWindowLongPtr, GetProp, an allocation): the window's instance data.
  // Not when f got it as a parameter (a caller may point into another
  // structure: &child->left) or loaded it from memory (an array element),
  // and not for siblings under one window procedure, which often hold
  // different structures whose fields share an offset (winefile's
  // Pane.hwndHeader and ChildWnd.left.hwnd).
  bool related(const FieldStore &st, uint32_t g, const Value &sendBase);
  // The class of the window whose handle related code stored at this field
  // offset with CreateWindowEx; empty when none or when they disagree.
  std::string fieldClass(uint32_t offset, uint32_t function, const Value &base);
  // The window procedures (their classes) whose code reaches function f.
  // The classes of the windows f's parameter `param` can be: those of the
  // window procedures that reach f passing their hwnd (param 0), or that
  // forward their hwnd to f as `param` (a C++ handler: this, hwnd, ...).
  std::set<std::string> ownerClasses(uint32_t f, uint32_t param);
  // GetParent sites whose window has several parent classes, all known.
  std::map<uint32_t, std::set<std::string>> parentsOfSite_;
  std::map<uint32_t, std::set<std::string>> sendClasses_;   // send site -> the classes its window may have
  // Window.parentClass: the parent handle is a global of a known class, or
  // the window of the procedure whose code creates the child.
  void parentClasses();
  // GetParent(hwnd) where hwnd is a window or subclass procedure's own
  // window: the parent class every window of that procedure's classes (or
  // every window it subclasses) is created with.
  // The parent classes of the window a GetParent call asks about (empty
  // when one is not known).
  std::set<std::string> parentsOfProcedureWindow(const calls::CallSite &cs);

  // Which procedures can receive the message sent at s.
  void link(Send &s);

  // Framework message maps (Frameworks.cpp): MFC maps and ATL
  // ProcessWindowMessage functions as procedures, the classes whose
  // methods send to their own, member or global objects' windows.
  void frameworkProcedures();
  void addMfcEntry(Procedure &p, const msgmaps::MfcEntry &e, uint32_t chainedFrom);
  void frameworkMethods();
  void memberWindows(const cxx::ObjectModel &model);
  MessageParams paramsOf(const Procedure &p) const;
  void frameworkCases(const code::Function &f, Procedure &p);
  bool objectTarget(const calls::CallSite &cs, const Value &hwnd, Send &s);
  bool linkToObject(Send &s);
  void frameworkDialogs();
  const msgmaps::MessageMaps *maps_ = nullptr;
  std::map<std::string, uint32_t> frameworkProcOfClass_;    // C++ class -> its map's procedure
  std::unordered_map<uint32_t, std::string> methodClass_;   // function -> the framework class it is a method of
  std::map<uint32_t, std::string> objectClassAt_;           // global object -> its framework class
  // Framework class -> its member window objects: (offset, class).
  std::map<std::string, std::set<std::pair<int64_t, std::string>>> members_;

  const Analysis &a_;
  const api::ApiTable &table_;
  calls::CallConventions conv_;
  std::map<uint32_t, std::string> registered_;
  std::unordered_map<uint32_t, std::string> procGlobals_;
  std::map<std::string, std::vector<calls::CallSite>> sites_;
  std::map<std::string, calls::Target> targets_;
  std::vector<FieldStore> fieldStores_;
  std::map<uint32_t, std::string> classOfGlobal_, classOfSite_, originOfSite_;
  std::set<uint32_t> helperSites_;   // calls of helpers that return the window they create
  std::map<uint32_t, std::pair<uint32_t, std::string>> literalClassSites_;   // CreateWindowEx site -> (function, class)
  struct ParentArg {
    size_t window = 0;
    uint32_t function = 0;
    Value value;
  };
  std::vector<ParentArg> parents_;
  std::map<uint32_t, std::vector<Value>> subclassed_;   // subclass procedure -> the windows' handles
  // Every subclassing call: (procedure, the function calling, the window's handle).
  std::vector<std::tuple<uint32_t, uint32_t, Value>> subclassSites_;
  std::map<uint32_t, std::set<std::string>> subclassedClasses_;   // memo of subclassedClasses
  // The classes of the windows a subclass procedure is installed on, where known.
  const std::set<std::string> &subclassedClasses(uint32_t proc);
  static constexpr size_t kReachLimit = 4096;
  static constexpr int kReachDepth = 6;
  std::unordered_map<uint32_t, std::unordered_set<uint32_t>> reach_;
  std::map<uint32_t, std::vector<calls::CallSite>> callers_;
  MessageFlow flow_;
};

} // namespace sb::messages
