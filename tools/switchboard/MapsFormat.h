// The framework message maps (MFC AFX_MSGMAP tables, ATL ProcessWindowMessage
// functions) as `messages` shows them: JSON, and a listing.
#pragma once
#include "Common.h"

#include "switchboard/msgmaps/MessageMaps.h"

namespace sb::cli {

json messageMapsJson(const msgmaps::MessageMaps &m);
void printMessageMaps(const Analysis &a, const msgmaps::MessageMaps &m);

} // namespace sb::cli
