// Per-environment instance data: each Node environment (main thread or worker thread)
// that loads the addon gets its own class constructor and its own registry of contexts.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "tss.h"

namespace tpm2 {

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();
  // Remembered weakly so teardown can close connections a finalizer might miss.
  void Track(const std::shared_ptr<Tss>& tss);

 private:
  Napi::FunctionReference context_;
  std::vector<std::weak_ptr<Tss>> contexts_;
};

}  // namespace tpm2
