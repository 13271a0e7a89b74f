// The RPC runtime calls of an image, with their arguments as the value
// analysis recovered them: client calls (interface and opnum), interface
// registrations, endpoints and binding strings.
#pragma once
#include "switchboard/rpc/Rpc.h"

namespace sb { class Analysis; }

namespace sb::rpc {

struct Sites {
  // The interface each call names is left as its stub descriptor here.
  struct Call {
    ClientCall call;
    uint32_t stubDesc = 0;
    uint32_t formatRva = 0;   // DescriptorAndFormat: the procedure's format string
  };
  std::vector<Call> calls;
  struct Register {
    Registration registration;
    uint32_t interfaceRva = 0;
  };
  std::vector<Register> registrations;
  std::vector<Endpoint> endpoints;
};

Sites findSites(const Analysis &a);

} // namespace sb::rpc
