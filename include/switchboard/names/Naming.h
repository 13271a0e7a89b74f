// Fills the naming service from every source, in precedence order: symbols
// (PDB, exports, COFF), imports, then the names each recognizer recovers.
#pragma once
#include "switchboard/names/Names.h"

namespace sb { class Analysis; }

namespace sb::names {

// Symbols, import thunks and IAT slots, and the discovery's own names.
void addSymbolNames(const Analysis &a, NameService &n);
// Structors, vftables, RTTI data, virtual methods (the object model).
void addObjectModelNames(const Analysis &a, NameService &n);
// Window/dialog/subclass procedures and their message-handler labels.
void addMessageNames(const Analysis &a, NameService &n);
// MFC message maps, their entries, GetMessageMap and handlers; ATL
// ProcessWindowMessage and the window procedures ATL's thunks use.
void addMessageMapNames(const Analysis &a, NameService &n);
// RPC interfaces, their descriptors and format strings; server routines
// (`<name>_Opnum<N>`, `rpc_<uuid>_Opnum<N>` without a name) and client stubs
// (`<name>::Opnum<N>`).
void addRpcNames(const Analysis &a, NameService &n);
// COM: the knowledge base's GUIDs where the data holds them, class factories'
// CreateInstance.
void addComNames(const Analysis &a, NameService &n);
// LPC/ALPC server loops: PortServerLoop_<port name>.
void addPortNames(const Analysis &a, NameService &n);
// EH funclets (parent$catch$N, parent$dtor$N) and callback targets.
void addFuncletNames(const Analysis &a, NameService &n);
void addCallbackNames(const Analysis &a, NameService &n);

NameService buildNames(const Analysis &a);

} // namespace sb::names
