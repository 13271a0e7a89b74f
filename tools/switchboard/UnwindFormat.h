// Text and JSON renderings of unwind data shared by fnent, frame and unwind.
#pragma once
#include "Common.h"

#include "switchboard/unwind/ExceptionDirectory.h"
#include "switchboard/unwind/Frame.h"
#include "switchboard/unwind/Handlers.h"

namespace sb::cli {

json unwindInfoJson(const Analysis &a, const unwind::HandlerCatalog &handlers, const unwind::ChainLink &link);
void printUnwindInfo(const Analysis &a, const unwind::HandlerCatalog &handlers, const unwind::ChainLink &link);
json frameJson(const unwind::EntryFrame &f);
void printFrame(const Analysis &a, const unwind::EntryFrame &f);
// The function the address belongs to, as "module!function+0xoff".
std::string symbolize(const Analysis &a, uint32_t rva);

} // namespace sb::cli
