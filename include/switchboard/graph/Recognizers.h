// The edges each recognizer contributes to the session's graph. buildGraph
// asks the session for every model and adds each one's edges.
#pragma once
#include "switchboard/graph/Graph.h"

#include <string>

namespace sb { class Analysis; }
namespace sb::rpc { struct RpcModel; struct Link; }
namespace sb::ports { struct PortLink; }

namespace sb::graph {

// Calls and tail calls from the call index; callback registrations.
void addCallEdges(const Analysis &a, Graph &g);
void addCallbackEdges(const Analysis &a, Graph &g);
// Virtual calls (to shared candidate sets), throw -> catch, parent ->
// funclet, static initializer -> constructor / atexit destructor.
void addVirtualCallEdges(const Analysis &a, Graph &g);
// Indirect calls the value analysis resolved (the object-model pass).
void addIndirectCallEdges(const Analysis &a, Graph &g);
void addExceptionEdges(const Analysis &a, Graph &g);
void addInitializerEdges(const Analysis &a, Graph &g);
// Window-procedure registrations, subclassing, and send site -> case.
void addMessageEdges(const Analysis &a, Graph &g);

// RPC: interface -> manager routines, registration site -> interface, and
// client calls of an interface the image also serves.
void addRpcEdges(const Analysis &a, Graph &g);
// COM: interface method calls (to CLSID!Interface::Method) and
// DllGetClassObject -> CreateInstance.
void addComEdges(const Analysis &a, Graph &g);
// LPC/ALPC: a connect or send site -> the server loop of its port (same image).
void addPortEdges(const Analysis &a, Graph &g);

Graph buildGraph(const Analysis &a);

} // namespace sb::graph

namespace sb::graph {

// The edges a query selects (indices into g.edges(), sorted): with `from`,
// the edges leaving it (a function: every site in its chunks) and, to
// `depth` levels, those leaving what they reach; with `to`, the edges
// reaching it (a function: any address in it, such as a message case) and,
// to `depth` levels, those reaching the functions that hold their sites;
// with both, the `from` walk's edges that end in `to`; with neither, all.
std::vector<size_t> select(const Analysis &a, const Graph &g, const Query &q);

// A client call -> a server routine in another module (linkRpc's link; the
// edge leaves the client's image: toModule is the server's file name).
Edge rpcLinkEdge(const rpc::RpcModel &server, const std::string &serverModule, const std::string &serverName,
                 const rpc::Link &l);
// A port client's connect/send site -> the server loop of the port with the
// same name in another module (linkPorts' link).
Edge portLinkEdge(const std::string &serverModule, const std::string &serverName, const ports::PortLink &l);

} // namespace sb::graph
