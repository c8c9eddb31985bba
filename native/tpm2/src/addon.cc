// Module entry: registers the Context class once per environment (instance data),
// so the addon loads side by side in the main thread and in worker threads.
#include "addon.h"

#include <algorithm>

#include "context.h"

namespace tpm2 {

Addon::Addon(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Context::Define(env);
  context_ = Napi::Persistent(ctor);
  DefineAddon(exports, {
                           InstanceValue("Context", ctor, napi_enumerable),
                       });
}

Addon::~Addon() {
  // Environment teardown: no JS can run any more, so close whatever is still open.
  for (auto& weak : contexts_) {
    if (auto tss = weak.lock()) {
      std::lock_guard<std::mutex> lock(tss->mu);
      tss->Close();
    }
  }
}

void Addon::Track(const std::shared_ptr<Tss>& tss) {
  // Prune dead entries so a long-lived process opening many contexts stays bounded.
  contexts_.erase(std::remove_if(contexts_.begin(), contexts_.end(),
                                 [](const std::weak_ptr<Tss>& w) { return w.expired(); }),
                  contexts_.end());
  contexts_.push_back(tss);
}

}  // namespace tpm2

// NODE_API_ADDON pastes the class name into an identifier, so it needs an unqualified one.
using Tpm2Addon = tpm2::Addon;
NODE_API_ADDON(Tpm2Addon)
