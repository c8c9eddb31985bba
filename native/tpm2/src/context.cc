// Context: the per-connection job queue. Jobs are chained on the JS thread (the next one
// is queued to libuv when the previous settles), so no libuv thread ever waits on a lock
// and callers may issue thousands of operations at once.
#include "context.h"

#include "addon.h"
#include "job.h"
#include "jobs.h"

namespace tpm2 {

Napi::Function Context::Define(Napi::Env env) {
  return DefineClass(
      env, "Context",
      {
          InstanceMethod<&Context::Open>("open"),
          InstanceMethod<&Context::Close>("close"),
          InstanceMethod<&Context::Call<MakeGetRandom>>("getRandom"),
          InstanceMethod<&Context::Call<MakeListHandles>>("listHandles"),
          InstanceMethod<&Context::Call<MakeEnsureKeys>>("ensureKeys"),
          InstanceMethod<&Context::Call<MakeReadPublic>>("readPublic"),
          InstanceMethod<&Context::Call<MakeEvict>>("evictPersistent"),
          InstanceMethod<&Context::Call<MakeSign>>("sign"),
          InstanceMethod<&Context::Call<MakePcrRead>>("pcrRead"),
          InstanceMethod<&Context::Call<MakeQuote>>("quote"),
          InstanceMethod<&Context::Call<MakeCertify>>("certify"),
          InstanceMethod<&Context::Call<MakeImportHmacKey>>("importHmacKey"),
          InstanceMethod<&Context::Call<MakeHmac>>("hmac"),
      });
}

Context::Context(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Context>(info), tss_(std::make_shared<Tss>()) {
  Addon* addon = info.Env().GetInstanceData<Addon>();
  if (addon != nullptr) addon->Track(tss_);
}

Context::~Context() {
  // Reached by GC (no job can be pending then: each holds a reference to us) or by
  // environment teardown, where queued jobs are abandoned with their environment.
  std::lock_guard<std::mutex> lock(tss_->mu);
  tss_->Close();
}

Napi::Value Context::Open(const Napi::CallbackInfo& info) {
  if (state_ != State::Fresh) {
    return Rejected(info.Env(), {"open", 0, "", "open failed: a context can be opened once"});
  }
  Napi::Value promise = Enqueue(MakeOpen(this, info));
  state_ = State::Open;
  return promise;
}

Napi::Value Context::Close(const Napi::CallbackInfo& info) {
  if (state_ == State::Closed) {
    Napi::Promise::Deferred done = Napi::Promise::Deferred::New(info.Env());
    done.Resolve(info.Env().Undefined());
    return done.Promise();
  }
  state_ = State::Closed;
  // Queued behind every earlier call, so those finish before the connection goes.
  return Enqueue(MakeClose(this, info));
}

template <JobFactory Make>
Napi::Value Context::Call(const Napi::CallbackInfo& info) {
  if (state_ != State::Open) {
    const char* why = state_ == State::Fresh ? "the TPM context is not open"
                                             : "the TPM context is closed";
    return Rejected(info.Env(), {"tpm2", 0, "", why});
  }
  return Enqueue(Make(this, info));
}

Napi::Value Context::Enqueue(Job* job) {
  napi_value promise = job->promise();
  queue_.push_back(job);
  if (!running_) StartNext();
  return Napi::Value(Env(), promise);
}

void Context::StartNext() {
  if (queue_.empty()) return;
  Job* job = queue_.front();
  queue_.pop_front();
  running_ = true;
  job->Queue();
}

void Context::Finished(bool ok) {
  running_ = false;
  if (ok) {
    StartNext();
    return;
  }
  // The environment is going away: release the TPM now rather than after every queued
  // command, and drop the queued jobs (their promises can no longer be observed).
  {
    std::lock_guard<std::mutex> lock(tss_->mu);
    tss_->Close();
  }
  for (Job* job : queue_) delete job;
  queue_.clear();
  state_ = State::Closed;
}

}  // namespace tpm2
