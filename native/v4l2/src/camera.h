// The Camera class of the addon: one device streaming into JavaScript. Frames are waited for
// with uv_poll on the device's descriptor (no thread per camera), dequeued, copied out and
// requeued at once; one frame at a time is in JavaScript's hands, a newer one waits in a
// single pending slot and replaces an older waiting one (counted as dropped). Frame memory
// that JavaScript hands back (recycle) is written again by later frames, so a camera streaming
// into the inference workers allocates no fresh memory per frame once its buffers circulate.
#pragma once
#include <napi.h>
#include <uv.h>

#include <string>
#include <vector>

#include "device.h"

namespace v4l2 {

struct AddonData;

class Camera : public Napi::ObjectWrap<Camera> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Camera(const Napi::CallbackInfo& info);
  ~Camera() override;

  /** Releases the stream, mappings and descriptor without calling back. Idempotent. */
  void Teardown(bool finalizing);
  void Detach() { addon_ = nullptr; }

 private:
  friend class OpenWorker;
  enum class State { Idle, Opening, Streaming, Closed };

  struct Handles {
    uv_poll_t poll;
    uv_async_t async;
    Camera* owner = nullptr;
    AddonData* addon = nullptr;
    int open = 0;
  };

  struct Meta {
    uint32_t sequence = 0;
    double timestamp = 0;
    bool huffmanInserted = false;
  };

  Napi::Value Open(const Napi::CallbackInfo& info);
  void Done(const Napi::CallbackInfo& info);
  void Recycle(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  Napi::Value GetControl(const Napi::CallbackInfo& info);
  void SetControl(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  void Opened(Device&& dev, const Failure& failure, Napi::Promise::Deferred deferred);
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnAsync(uv_async_t* handle);
  static void OnClosed(uv_handle_t* handle);
  template <typename Fn>
  static void Guard(Handles* h, Fn fn);
  void Drain(int status);
  void DeliverPending();
  /** A view of `size` bytes for the next frame: a recycled buffer that holds it, else new memory. */
  Napi::Uint8Array FrameMemory(Napi::Env env, size_t size, uint8_t** dst);
  void Emit(Napi::Uint8Array data, const Meta& meta);
  void Fail(const Failure& failure);
  void Call(Napi::FunctionReference& fn, napi_value arg);
  Napi::Error StateError(const char* syscall, const char* detail);

  AddonData* addon_;
  std::string path_;
  Napi::FunctionReference onFrame_, onError_;
  State state_ = State::Idle;
  bool closeRequested_ = false, pinned_ = false, fixHuffman_ = true;
  Device dev_;
  Handles* handles_ = nullptr;
  bool inFlight_ = false, hasPending_ = false;
  std::vector<uint8_t> pending_;
  std::vector<Napi::Reference<Napi::ArrayBuffer>> spare_;
  /** A frame object's property names, then the stream's format name (see Emit). */
  Napi::Reference<Napi::Array> frameNames_;
  Meta pendingMeta_;
  double captured_ = 0, delivered_ = 0, dropped_ = 0, corrupt_ = 0, driverDropped_ = 0, reused_ = 0;
  bool haveSequence_ = false;
  uint32_t lastSequence_ = 0;
};

}  // namespace v4l2
