// The structures MIDL emits around an interface, read from the image
// (rpcdcep.h, rpcndr.h). Every pointer is a VA checked to land in the image;
// nothing is trusted beyond its shape.
#pragma once
#include "switchboard/rpc/Rpc.h"

#include <optional>
#include <vector>

namespace sb::image { class Image; }

namespace sb::rpc {

// Every RPC_SERVER_INTERFACE / RPC_CLIENT_INTERFACE of the image's data,
// found by shape: Length and a transfer syntax at a pointer-aligned address.
std::vector<uint32_t> scanInterfaces(const image::Image &img);

// The interface at rva with its fields, role by its dispatch table; nullopt
// unless it has the shape.
std::optional<Interface> readInterface(const image::Image &img, uint32_t rva);

// MIDL_STUB_DESC { RpcInterfaceInformation, pfnAllocate, pfnFree,
// IMPLICIT_HANDLE_INFO, apfnNdrRundownRoutines, aGenericBindingRoutinePairs,
// apfnExprEval, aXmitQuintuple, pFormatTypes, ... }: the descriptors naming
// each interface (a pointer-aligned slot holding its VA followed by two code
// pointers), interface rva -> descriptor rva.
std::vector<std::pair<uint32_t, uint32_t>> findStubDescriptors(const image::Image &img,
                                                               const std::vector<uint32_t> &interfaces);
// MIDL_STUB_DESC::pFormatTypes.
uint32_t typeFormatOf(const image::Image &img, uint32_t stubDesc);

// The pointer at rva as an RVA of the image (0: null, unreadable or outside).
uint32_t pointerRva(const image::Image &img, uint32_t rva);

// MIDL_SERVER_INFO { pStubDesc, DispatchTable (SERVER_ROUTINE *), ProcString,
// FmtStringOffset, ThunkTable, pTransferSyntax, nCount, pSyntaxInfo } and
// MIDL_STUBLESS_PROXY_INFO { pStubDesc, ProcFormatString,
// FormatStringOffset, pTransferSyntax, nCount, pSyntaxInfo }: where the
// DCE (NDR 2.0) procedure formats are. For an NDR64 interface the DCE ones
// come from the MIDL_SYNTAX_INFO entry of that syntax.
struct Formats {
  uint32_t stubDesc = 0;
  uint32_t routines = 0;        // server: SERVER_ROUTINE[] (0: none)
  uint32_t procString = 0;
  uint32_t offsets = 0;         // unsigned short[] by opnum
  uint32_t typeString = 0;      // from the syntax info, when there is one
};
std::optional<Formats> readServerInfo(const image::Image &img, uint32_t rva, bool ndr64);
std::optional<Formats> readProxyInfo(const image::Image &img, uint32_t rva, bool ndr64);

} // namespace sb::rpc
