// The Job plumbing: run under the context lock, catch every C++ failure into a Failure,
// settle the promise, then let the context start its next queued job.
#include "job.h"

#include <tss2/tss2_rc.h>

#include <cstdio>

#include "context.h"

namespace tpm2 {

Failure Describe(const TssError& error) {
  Failure f;
  f.operation = error.operation;
  f.rc = error.rc;
  f.message = error.operation + " failed";
  if (error.rc != 0) {
    const char* text = Tss2_RC_Decode(error.rc);
    f.rcText = text != nullptr ? text : "";
    char code[16];
    std::snprintf(code, sizeof(code), "0x%08x", error.rc);
    f.message += std::string(": ") + code + " " + f.rcText;
  }
  if (!error.detail.empty()) f.message += ": " + error.detail;
  return f;
}

Napi::Error MakeError(Napi::Env env, const Failure& failure) {
  Napi::Error error = Napi::Error::New(env, failure.message);
  error.Set("operation", Napi::String::New(env, failure.operation));
  error.Set("rc", Napi::Number::New(env, failure.rc));
  error.Set("rcText", Napi::String::New(env, failure.rcText));
  return error;
}

Napi::Value Rejected(Napi::Env env, const Failure& failure) {
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(MakeError(env, failure).Value());
  return deferred.Promise();
}

Job::Job(Context* ctx)
    : Napi::AsyncWorker(ctx->Env(), "tpm2"),
      ctx_(ctx),
      tss_(ctx->tss()),
      self_(Napi::Persistent(ctx->Value())) {
  NAPI_THROW_IF_FAILED_VOID(Env(), napi_create_promise(Env(), &deferred_, &promise_));
}

void Job::Execute() {
  std::lock_guard<std::mutex> lock(tss_->mu);
  try {
    if (NeedsOpen() && tss_->esys == nullptr) {
      throw TssError{"tpm2", 0, "the TPM context is not open"};
    }
    Run(*tss_);
  } catch (const TssError& error) {
    failure_ = Describe(error);
  } catch (const std::exception& error) {
    failure_ = Failure{"tpm2", 0, "", std::string("tpm2 failed: ") + error.what()};
  }
}

void Job::OnOK() {
  Napi::Env env = Env();
  napi_status status;
  try {
    if (failure_) {
      status = napi_reject_deferred(env, deferred_, MakeError(env, *failure_).Value());
    } else {
      status = napi_resolve_deferred(env, deferred_, Result(env));
    }
  } catch (const Napi::Error& error) {
    status = napi_reject_deferred(env, deferred_, error.Value());
  }
  // A promise that cannot be settled means the environment is being torn down (worker
  // terminated): the context must stop feeding the TPM instead of draining its queue.
  ctx_->Finished(status == napi_ok);
}

void Job::OnError(const Napi::Error& error) {
  // Execute() never calls SetError; kept so a future one still settles the promise.
  napi_status status = napi_reject_deferred(Env(), deferred_, error.Value());
  ctx_->Finished(status == napi_ok);
}

}  // namespace tpm2
