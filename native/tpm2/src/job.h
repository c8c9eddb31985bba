// One TPM operation: arguments copied into C++ members on the JS thread, Run() on a libuv
// worker thread with the context's TSS state locked, the Promise settled back on the JS
// thread. Subclasses never touch JS values in Run().
#pragma once

#include <napi.h>

#include <memory>
#include <optional>
#include <string>

#include "tss.h"

namespace tpm2 {

class Context;

// What a rejected promise carries: built on the worker thread (Tss2_RC_Decode uses a
// thread-local buffer) and turned into a JS Error on the JS thread.
struct Failure {
  std::string operation;
  uint32_t rc = 0;
  std::string rcText;
  std::string message;
};

Failure Describe(const TssError& error);
Napi::Error MakeError(Napi::Env env, const Failure& failure);
Napi::Value Rejected(Napi::Env env, const Failure& failure);

class Job : public Napi::AsyncWorker {
 public:
  explicit Job(Context* ctx);
  ~Job() override = default;
  napi_value promise() const { return promise_; }

 protected:
  // Worker thread. Throws TssError; everything it needs is already in members.
  virtual void Run(Tss& tss) = 0;
  // JS thread. Converts the members Run() filled into the resolved value.
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }
  // open() runs before there is an ESYS context; everything else needs one.
  virtual bool NeedsOpen() const { return true; }

 private:
  void Execute() final;
  void OnOK() final;
  void OnError(const Napi::Error& error) final;

  Context* ctx_;
  std::shared_ptr<Tss> tss_;
  // Keeps the Context (and so its TSS state) alive while this job is queued or running.
  Napi::ObjectReference self_;
  napi_deferred deferred_ = nullptr;
  napi_value promise_ = nullptr;
  std::optional<Failure> failure_;
};

}  // namespace tpm2
