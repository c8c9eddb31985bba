// The JS-visible TPM context: owns one TSS connection and a FIFO of jobs of which at most
// one runs at a time, so the ESYS context is only ever driven by one thread.
#pragma once

#include <napi.h>

#include <deque>
#include <memory>

#include "tss.h"

namespace tpm2 {

class Job;
using JobFactory = Job* (*)(class Context*, const Napi::CallbackInfo&);

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Context(const Napi::CallbackInfo& info);
  ~Context() override;

  const std::shared_ptr<Tss>& tss() const { return tss_; }
  // JS thread: the running job settled its promise (ok = the environment is still alive).
  void Finished(bool ok);

 private:
  enum class State { Fresh, Open, Closed };

  template <JobFactory Make>
  Napi::Value Call(const Napi::CallbackInfo& info);
  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Enqueue(Job* job);
  void StartNext();

  std::shared_ptr<Tss> tss_;
  std::deque<Job*> queue_;
  bool running_ = false;
  State state_ = State::Fresh;
};

}  // namespace tpm2
