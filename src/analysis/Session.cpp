// The session's models: each computed once, on first use, under its own
// once_flag (two threads asking for one model wait for one computation), or
// taken from the model store a project database provides.
#include "analysis/Models.h"

#include "switchboard/api/ApiTable.h"
#include "switchboard/calls/CallIndex.h"
#include "switchboard/calls/CallSites.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/graph/Recognizers.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/msgmaps/MessageMaps.h"
#include "switchboard/names/Names.h"
#include "switchboard/names/Naming.h"
#include "switchboard/unwind/ExceptionDirectory.h"
#include "switchboard/unwind/Handlers.h"

namespace sb {

std::unique_ptr<std::vector<code::Function>> ModelStore::functions() { return nullptr; }
std::unique_ptr<eh::EhModel> ModelStore::ehModel() { return nullptr; }
std::unique_ptr<cxx::ObjectModel> ModelStore::objectModel() { return nullptr; }
std::unique_ptr<messages::MessageFlow> ModelStore::messageFlow() { return nullptr; }
std::unique_ptr<graph::Graph> ModelStore::graph() { return nullptr; }
std::unique_ptr<names::NameService> ModelStore::names() { return nullptr; }

namespace {
// The stored model if the store has one, else the computed one.
template <typename T, typename Stored, typename Compute>
std::unique_ptr<T> storedOr(ModelStore *store, Stored stored, Compute compute) {
  if (store)
    if (std::unique_ptr<T> v = (store->*stored)())
      return v;
  return std::make_unique<T>(compute());
}
} // namespace

Analysis::~Analysis() = default;

const api::ApiTable &Analysis::apiTable() const {
  return options_.api ? *options_.api : api::ApiTable::builtin();
}

const unwind::ExceptionDirectory &Analysis::exceptionDirectory() const {
  return models_->exceptionDirectory.get([&] { return std::make_unique<unwind::ExceptionDirectory>(image_); });
}

const unwind::HandlerCatalog &Analysis::handlerCatalog() const {
  return models_->handlerCatalog.get([&] { return std::make_unique<unwind::HandlerCatalog>(*this); });
}

const unwind::SehModel &Analysis::sehModel() const {
  return models_->seh.get([&] { return std::make_unique<unwind::SehModel>(unwind::analyzeSeh(*this)); });
}

const eh::EhModel &Analysis::ehModel() const {
  return models_->eh.get(
      [&] { return storedOr<eh::EhModel>(store_.get(), &ModelStore::ehModel, [&] { return eh::analyzeEh(*this); }); });
}

const cxx::ObjectModel &Analysis::objectModel() const {
  return models_->objectModel.get([&] {
    return storedOr<cxx::ObjectModel>(store_.get(), &ModelStore::objectModel,
                                      [&] { return cxx::analyzeObjectModel(*this); });
  });
}

const messages::MessageFlow &Analysis::messageFlow() const {
  return models_->messageFlow.get([&] {
    return storedOr<messages::MessageFlow>(store_.get(), &ModelStore::messageFlow,
                                           [&] { return messages::analyzeMessages(*this, apiTable()); });
  });
}

const msgmaps::MessageMaps &Analysis::messageMaps() const {
  return models_->messageMaps.get([&] { return std::make_unique<msgmaps::MessageMaps>(msgmaps::findMessageMaps(*this)); });
}

const rpc::RpcModel &Analysis::rpc() const {
  return models_->rpc.get([&] { return std::make_unique<rpc::RpcModel>(rpc::findRpc(*this)); });
}

const com::ComModel &Analysis::com() const {
  return models_->com.get([&] { return std::make_unique<com::ComModel>(com::findCom(*this)); });
}

const ports::PortModel &Analysis::ports() const {
  return models_->ports.get([&] { return std::make_unique<ports::PortModel>(ports::findPorts(*this)); });
}

const calls::CallIndex &Analysis::callIndex() const {
  return models_->callIndex.get([&] { return std::make_unique<calls::CallIndex>(calls::CallIndex::build(*this)); });
}

const calls::CallConventions &Analysis::callConventions() const {
  return models_->callConventions.get([&] { return std::make_unique<calls::CallConventions>(*this, apiTable()); });
}

std::shared_ptr<const values::Tracker> Analysis::valueFacts(const code::Function &f) const {
  return models_->valueFacts.get(f.rva, f.blocks.size(), [&] {
    return std::make_shared<const values::Tracker>(image_, decoder(), f, 8, &callConventions());
  });
}

const std::unordered_map<uint32_t, std::string> &Analysis::procAddressGlobals() const {
  return models_->procGlobals.get([&] {
    return std::make_unique<std::unordered_map<uint32_t, std::string>>(
        calls::procAddressGlobals(*this, apiTable(), threads()));
  });
}

const std::vector<calls::CallbackRegistration> &Analysis::callbacks() const {
  return models_->callbacks.get([&] {
    return std::make_unique<std::vector<calls::CallbackRegistration>>(calls::findCallbackRegistrations(*this));
  });
}

const graph::Graph &Analysis::graph() const {
  return models_->graph.get([&] {
    return storedOr<graph::Graph>(store_.get(), &ModelStore::graph, [&] { return graph::buildGraph(*this); });
  });
}

const names::NameService &Analysis::names() const {
  return models_->names.get([&] {
    return storedOr<names::NameService>(store_.get(), &ModelStore::names,
                                        [&] { return names::buildNames(*this); });
  });
}

} // namespace sb
