// Factories of the operations: each parses and copies its JS arguments (throwing a
// TypeError synchronously when they are malformed) and returns a Job ready to queue.
#pragma once

#include <napi.h>

namespace tpm2 {

class Context;
class Job;

Job* MakeOpen(Context* ctx, const Napi::CallbackInfo& info);
Job* MakeClose(Context* ctx, const Napi::CallbackInfo& info);
Job* MakeGetRandom(Context* ctx, const Napi::CallbackInfo& info);
Job* MakeListHandles(Context* ctx, const Napi::CallbackInfo& info);
Job* MakeEnsureKeys(Context* ctx, const Napi::CallbackInfo& info);
Job* MakeReadPublic(Context* ctx, const Napi::CallbackInfo& info);
Job* MakeEvict(Context* ctx, const Napi::CallbackInfo& info);
Job* MakeSign(Context* ctx, const Napi::CallbackInfo& info);
Job* MakePcrRead(Context* ctx, const Napi::CallbackInfo& info);
Job* MakeQuote(Context* ctx, const Napi::CallbackInfo& info);
Job* MakeCertify(Context* ctx, const Napi::CallbackInfo& info);
Job* MakeImportHmacKey(Context* ctx, const Napi::CallbackInfo& info);
Job* MakeHmac(Context* ctx, const Napi::CallbackInfo& info);

}  // namespace tpm2
