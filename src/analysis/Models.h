// The session's cache of models (private to the analysis layer).
#pragma once
#include "code/Decoder.h"   // Analysis::decoder_
#include "switchboard/analysis/Analysis.h"
#include "switchboard/calls/CallIndex.h"
#include "switchboard/calls/Callbacks.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/names/Names.h"
#include "switchboard/unwind/ExceptionDirectory.h"
#include "switchboard/unwind/Handlers.h"
#include "switchboard/unwind/Seh.h"

#include <memory>
#include <mutex>

namespace sb {

namespace detail {
// One lazily computed model: `make` runs once; later callers get its result.
template <typename T>
class Lazy {
public:
  template <typename Make>
  const T &get(Make &&make) {
    std::call_once(once_, [&] { value_ = make(); });
    return *value_;
  }

private:
  std::once_flag once_;
  std::unique_ptr<T> value_;
};
} // namespace detail

struct Analysis::Models {
  detail::Lazy<unwind::ExceptionDirectory> exceptionDirectory;
  detail::Lazy<unwind::HandlerCatalog> handlerCatalog;
  detail::Lazy<unwind::SehModel> seh;
  detail::Lazy<eh::EhModel> eh;
  detail::Lazy<cxx::ObjectModel> objectModel;
  detail::Lazy<messages::MessageFlow> messageFlow;
  detail::Lazy<calls::CallIndex> callIndex;
  detail::Lazy<std::vector<calls::CallbackRegistration>> callbacks;
  detail::Lazy<std::unordered_map<uint32_t, std::string>> procGlobals;
  detail::Lazy<graph::Graph> graph;
  detail::Lazy<names::NameService> names;
};

} // namespace sb
