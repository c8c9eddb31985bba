// Entry point of the v4l2 addon: listDevices() and describe() (async, enumeration runs on a
// libuv worker thread) and the Camera class. State lives per Napi::Env (instance data).
#include <napi.h>

#include "addon.h"
#include "camera.h"
#include "query.h"

namespace v4l2 {

void AddonData::Watch(napi_env env) { napi_add_async_cleanup_hook(env, Stop, this, &cleanupHook); }

void AddonData::Stop(napi_async_cleanup_hook_handle hook, void* arg) {
  auto* a = static_cast<AddonData*>(arg);
  a->stopping = true;
  for (Camera* c : std::set<Camera*>(a->live)) c->Teardown(true);
  if (a->liveHandles == 0 && a->cleanupHook) {
    a->cleanupHook = nullptr;
    napi_remove_async_cleanup_hook(hook);
  }
}

void AddonData::HandlesClosed() {
  if (--liveHandles == 0 && stopping && cleanupHook) {
    napi_async_cleanup_hook_handle hook = cleanupHook;
    cleanupHook = nullptr;
    napi_remove_async_cleanup_hook(hook);
  }
}

AddonData::~AddonData() {
  // Normally Stop() ran first (cleanup hooks run newest first; this one was registered before
  // it); whatever is left is released without its libuv handles' callbacks.
  for (Camera* c : std::set<Camera*>(live)) {
    c->Detach();
    c->Teardown(true);
  }
}

namespace {

template <typename Result>
class QueryWorker : public Napi::AsyncWorker {
 public:
  using Run = Result (*)(const std::string&);
  QueryWorker(Napi::Env env, Run run, std::string arg)
      : Napi::AsyncWorker(env), run_(run), arg_(std::move(arg)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { result_ = run_(arg_); }
  void OnOK() override { deferred_.Resolve(Convert(Env(), result_)); }

 private:
  static Napi::Value Convert(Napi::Env env, const Description& d) { return ToJs(env, d); }
  static Napi::Value Convert(Napi::Env env, const std::vector<DeviceInfo>& list) {
    Napi::Array a = Napi::Array::New(env, list.size());
    for (uint32_t i = 0; i < list.size(); i++) a.Set(i, ToJs(env, list[i]));
    return a;
  }
  Run run_;
  std::string arg_;
  Napi::Promise::Deferred deferred_;
  Result result_;
};

std::vector<DeviceInfo> ListAll(const std::string&) { return ListDevices(); }

Napi::Value JsListDevices(const Napi::CallbackInfo& info) {
  auto* w = new QueryWorker<std::vector<DeviceInfo>>(info.Env(), ListAll, "");
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value JsDescribe(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "Expected a device path");
  auto* w = new QueryWorker<Description>(info.Env(), Describe, info[0].As<Napi::String>().Utf8Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  data->Watch(env);
  Napi::Function ctor = Camera::Define(env);
  data->cameraCtor = Napi::Persistent(ctor);
  exports.Set("Camera", ctor);
  exports.Set("listDevices", Napi::Function::New<JsListDevices>(env, "listDevices"));
  exports.Set("describe", Napi::Function::New<JsDescribe>(env, "describe"));
  return exports;
}

}  // namespace
}  // namespace v4l2

static Napi::Object InitV4l2(Napi::Env env, Napi::Object exports) { return v4l2::Init(env, exports); }

NODE_API_MODULE(v4l2, InitV4l2)
