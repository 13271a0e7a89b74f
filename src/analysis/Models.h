// The session's cache of models (private to the analysis layer).
#pragma once
#include "code/Decoder.h"   // Analysis::decoder_
#include "switchboard/analysis/Analysis.h"
#include "switchboard/calls/CallIndex.h"
#include "switchboard/calls/CallSites.h"
#include "switchboard/calls/Callbacks.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/msgmaps/MessageMaps.h"
#include "switchboard/names/Names.h"
#include "switchboard/rpc/Rpc.h"
#include "switchboard/com/Com.h"
#include "switchboard/ports/Ports.h"
#include "switchboard/unwind/ExceptionDirectory.h"
#include "switchboard/unwind/Handlers.h"
#include "switchboard/unwind/Seh.h"
#include "values/Tracker.h"

#include <memory>
#include <mutex>
#include <unordered_map>

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

// Value facts per function, each computed once (a per-function once_flag:
// two threads asking for one function wait for one replay), kept while the
// blocks they cover stay under a bound.
class ValueFactsCache {
public:
  template <typename Make>
  std::shared_ptr<const values::Tracker> get(uint32_t rva, size_t blocks, Make &&make) {
    std::shared_ptr<Entry> e;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = entries_.find(rva);
      if (it != entries_.end()) {
        e = it->second;
      } else if (blocks_ + blocks <= kMaxBlocks) {
        blocks_ += blocks;
        e = entries_.emplace(rva, std::make_shared<Entry>()).first->second;
      }
    }
    if (!e)
      return make();
    std::call_once(e->once, [&] { e->facts = make(); });
    return e->facts;
  }

private:
  // About a kilobyte of state per block: a quarter of a gigabyte at most.
  static constexpr size_t kMaxBlocks = size_t(1) << 18;
  struct Entry {
    std::once_flag once;
    std::shared_ptr<const values::Tracker> facts;
  };
  std::mutex mutex_;
  std::unordered_map<uint32_t, std::shared_ptr<Entry>> entries_;
  size_t blocks_ = 0;
};
} // namespace detail

struct Analysis::Models {
  detail::Lazy<unwind::ExceptionDirectory> exceptionDirectory;
  detail::Lazy<unwind::HandlerCatalog> handlerCatalog;
  detail::Lazy<unwind::SehModel> seh;
  detail::Lazy<eh::EhModel> eh;
  detail::Lazy<cxx::ObjectModel> objectModel;
  detail::Lazy<messages::MessageFlow> messageFlow;
  detail::Lazy<msgmaps::MessageMaps> messageMaps;
  detail::Lazy<rpc::RpcModel> rpc;
  detail::Lazy<com::ComModel> com;
  detail::Lazy<ports::PortModel> ports;
  detail::Lazy<calls::CallIndex> callIndex;
  detail::Lazy<calls::CallConventions> callConventions;
  detail::ValueFactsCache valueFacts;
  detail::Lazy<std::vector<calls::CallbackRegistration>> callbacks;
  detail::Lazy<std::unordered_map<uint32_t, std::string>> procGlobals;
  detail::Lazy<graph::Graph> graph;
  detail::Lazy<names::NameService> names;
};

} // namespace sb
