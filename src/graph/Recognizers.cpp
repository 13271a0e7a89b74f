#include "switchboard/graph/Recognizers.h"

#include "switchboard/analysis/Analysis.h"

namespace sb::graph {

Graph buildGraph(const Analysis &a) {
  Graph g;
  if (!a.image().codeAnalysisSupported())
    return g;
  addCallEdges(a, g);
  addCallbackEdges(a, g);
  addVirtualCallEdges(a, g);
  addIndirectCallEdges(a, g);
  addExceptionEdges(a, g);
  addInitializerEdges(a, g);
  addMessageEdges(a, g);
  addRpcEdges(a, g);
  addComEdges(a, g);
  addPortEdges(a, g);
  g.finish();
  return g;
}

} // namespace sb::graph
