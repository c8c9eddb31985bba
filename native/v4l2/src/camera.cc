// Camera: open (async, negotiation on a worker thread), the uv_poll loop that dequeues,
// copies and requeues frames, the newest-wins hand-off to JavaScript, controls and close.
// Resources are released by Teardown() on every path: close(), a device error (before the
// error callback runs), garbage collection of an unopened camera, and environment teardown.
#include "camera.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <iterator>

#include "addon.h"
#include "jpeg.h"

namespace v4l2 {

class OpenWorker : public Napi::AsyncWorker {
 public:
  OpenWorker(Camera* cam, std::string path, StreamRequest req)
      : Napi::AsyncWorker(cam->Env()), cam_(cam), path_(std::move(path)), req_(req),
        deferred_(Napi::Promise::Deferred::New(cam->Env())) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { failure_ = dev_.Start(path_, req_); }
  void OnOK() override { cam_->Opened(std::move(dev_), failure_, deferred_); }

 private:
  Camera* cam_;
  std::string path_;
  StreamRequest req_;
  Napi::Promise::Deferred deferred_;
  Device dev_;
  Failure failure_;
};

namespace {

uint32_t FourccOf(const std::string& format) {
  if (format == "mjpeg") return V4L2_PIX_FMT_MJPEG;
  if (format == "yuyv") return V4L2_PIX_FMT_YUYV;
  if (format == "nv12") return V4L2_PIX_FMT_NV12;
  return 0;
}

const char* FormatName(uint32_t fourcc) {
  switch (fourcc) {
    case V4L2_PIX_FMT_MJPEG:
    case V4L2_PIX_FMT_JPEG: return "mjpeg";
    case V4L2_PIX_FMT_YUYV: return "yuyv";
    case V4L2_PIX_FMT_NV12: return "nv12";
    default: return "unknown";
  }
}

uint32_t UintOption(const Napi::Object& o, const char* key, uint32_t dflt, uint32_t max) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return dflt;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 1 && d <= max && std::floor(d) == d))
    throw Napi::TypeError::New(o.Env(), std::string("Expected integer between 1 and ") + std::to_string(max) + " for " +
                                            key);
  return static_cast<uint32_t>(d);
}

}  // namespace

Napi::Function Camera::Define(Napi::Env env) {
  return DefineClass(env, "Camera",
                     {InstanceMethod<&Camera::Open>("open"), InstanceMethod<&Camera::Done>("done"),
                      InstanceMethod<&Camera::Recycle>("recycle"),
                      InstanceMethod<&Camera::Close>("close"), InstanceMethod<&Camera::GetControl>("getControl"),
                      InstanceMethod<&Camera::SetControl>("setControl"), InstanceMethod<&Camera::Stats>("stats")});
}

Camera::Camera(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Camera>(info) {
  Napi::Env env = info.Env();
  addon_ = env.GetInstanceData<AddonData>();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsFunction() || !info[2].IsFunction())
    throw Napi::TypeError::New(env, "Expected (path: string, onFrame: function, onError: function)");
  path_ = info[0].As<Napi::String>().Utf8Value();
  onFrame_ = Napi::Persistent(info[1].As<Napi::Function>());
  onError_ = Napi::Persistent(info[2].As<Napi::Function>());
  addon_->live.insert(this);
}

Camera::~Camera() { Teardown(true); }

Napi::Value Camera::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "Expected an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::Value fmt = o.Get("format");
  uint32_t fourcc = fmt.IsString() ? FourccOf(fmt.As<Napi::String>().Utf8Value()) : 0;
  if (!fourcc) throw Napi::TypeError::New(env, "Expected one of 'mjpeg', 'yuyv', 'nv12' for format");
  StreamRequest req;
  req.fourcc = fourcc;
  req.width = UintOption(o, "width", 0, 16384);
  req.height = UintOption(o, "height", 0, 16384);
  req.buffers = UintOption(o, "buffers", 4, 32);
  if (!req.width || !req.height) throw Napi::TypeError::New(env, "Expected integer between 1 and 16384 for width and height");
  Napi::Value fps = o.Get("fps");
  if (!fps.IsUndefined()) {
    double d = fps.IsNumber() ? fps.As<Napi::Number>().DoubleValue() : -1;
    if (!(d > 0 && d <= 1000)) throw Napi::TypeError::New(env, "Expected number between 0 and 1000 for fps");
    req.fps = d;
  }
  Napi::Value fix = o.Get("fixHuffman");
  fixHuffman_ = fix.IsUndefined() ? true : fix.ToBoolean().Value();

  if (state_ != State::Idle) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(StateError("open", state_ == State::Closed ? "the camera is closed" : "open() was already called").Value());
    return d.Promise();
  }
  state_ = State::Opening;
  Ref();  // the worker holds `this`; so will the poll handle once streaming
  pinned_ = true;
  auto* w = new OpenWorker(this, path_, req);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

void Camera::Opened(Device&& dev, const Failure& failure, Napi::Promise::Deferred deferred) {
  Napi::Env env = Env();
  if (failure) {
    Teardown(false);
    deferred.Reject(ToError(env, failure, path_).Value());
    return;
  }
  if (closeRequested_ || state_ != State::Opening) {
    dev.Release();
    Teardown(false);
    deferred.Reject(StateError("open", "close() was called while the camera was opening").Value());
    return;
  }
  dev_ = std::move(dev);
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  handles_ = new Handles();
  handles_->owner = this;
  handles_->addon = addon_;
  if (addon_) addon_->liveHandles++;
  handles_->poll.data = handles_;
  handles_->async.data = handles_;
  int r = uv_poll_init(loop, &handles_->poll, dev_.fd);
  if (r == 0) {
    handles_->open++;
    r = uv_async_init(loop, &handles_->async, OnAsync);
    if (r == 0) {
      handles_->open++;
      uv_unref(reinterpret_cast<uv_handle_t*>(&handles_->async));  // only the poll keeps Node alive
      r = uv_poll_start(&handles_->poll, UV_READABLE, OnPoll);
    }
  }
  if (r != 0) {
    Failure f = OwnFailure("ERR_CAMERA_IO", "uv_poll_start", uv_strerror(r));
    Teardown(false);
    deferred.Reject(ToError(env, f, path_).Value());
    return;
  }
  state_ = State::Streaming;
  Napi::Object info = Napi::Object::New(env);
  info.Set("format", FormatName(dev_.fourcc));
  info.Set("fourcc", FourccString(dev_.fourcc));
  info.Set("width", dev_.width);
  info.Set("height", dev_.height);
  info.Set("stride", dev_.stride);
  info.Set("sizeImage", dev_.sizeImage);
  info.Set("fps", dev_.fps);
  info.Set("buffers", static_cast<uint32_t>(dev_.ring.size()));
  deferred.Resolve(info);
}

void Camera::OnPoll(uv_poll_t* handle, int status, int) {
  auto* h = static_cast<Handles*>(handle->data);
  if (h->owner) Guard(h, [&](Camera* c) { c->Drain(status); });
}

void Camera::OnAsync(uv_async_t* handle) {
  auto* h = static_cast<Handles*>(handle->data);
  if (h->owner) Guard(h, [](Camera* c) { c->DeliverPending(); });
}

// A libuv callback has no JavaScript caller to throw to: a failed N-API call (the environment
// is stopping, e.g. its worker was terminated, or memory ran out) stops the camera instead of
// escaping into libuv and aborting the process.
template <typename Fn>
void Camera::Guard(Handles* h, Fn fn) {
  napi_env env = h->owner->Env();
  // The error escapes fn's own handle scope: reading it needs one here.
  Napi::HandleScope scope(env);
  auto stop = [h]() {
    if (Camera* c = h->owner) {
      try {
        c->Teardown(false);
      } catch (...) {
      }
    }
  };
  try {
    fn(h->owner);
  } catch (const Napi::Error& e) {
    stop();
    if (!e.IsEmpty()) napi_fatal_exception(env, e.Value());
  } catch (const std::exception&) {
    stop();
  }
}

void Camera::OnClosed(uv_handle_t* handle) {
  auto* h = static_cast<Handles*>(handle->data);
  if (--h->open > 0) return;
  AddonData* a = h->addon;
  delete h;
  if (a) a->HandlesClosed();
}

void Camera::Drain(int status) {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  for (size_t n = 0; n <= dev_.ring.size() && state_ == State::Streaming; n++) {
    v4l2_buffer b{};
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    int e = Xioctl(dev_.fd, VIDIOC_DQBUF, &b);
    if (e == EAGAIN) break;
    if (e) return Fail(SysFailure("VIDIOC_DQBUF", e));
    if (b.index >= dev_.ring.size()) return Fail(OwnFailure("ERR_CAMERA_IO", "VIDIOC_DQBUF", "buffer index out of range"));
    const Mapping& m = dev_.ring[b.index];
    const uint8_t* src = static_cast<const uint8_t*>(m.addr);
    size_t used = b.bytesused && b.bytesused <= m.length ? b.bytesused : m.length;
    bool bad = (b.flags & V4L2_BUF_FLAG_ERROR) != 0;
    bool jpeg = dev_.fourcc == V4L2_PIX_FMT_MJPEG || dev_.fourcc == V4L2_PIX_FMT_JPEG;
    if (haveSequence_ && b.sequence > lastSequence_ + 1) driverDropped_ += b.sequence - lastSequence_ - 1;
    haveSequence_ = true;
    lastSequence_ = b.sequence;
    Meta meta{b.sequence, b.timestamp.tv_sec * 1e6 + b.timestamp.tv_usec, false};
    Napi::Uint8Array direct;
    if (!bad) {
      captured_++;
      size_t out = jpeg && fixHuffman_ ? JpegOutputSize(src, used) : used;
      uint8_t* dst;
      if (!inFlight_) {
        if (hasPending_) {  // done() came, its hand-over has not run yet: this one is newer
          hasPending_ = false;
          dropped_++;
        }
        direct = FrameMemory(env, out, &dst);
      } else {
        if (hasPending_) dropped_++;
        pending_.resize(out);
        dst = pending_.data();
        hasPending_ = true;
      }
      if (jpeg && fixHuffman_) meta.huffmanInserted = WriteJpeg(src, used, dst);
      else std::memcpy(dst, src, used);
      if (inFlight_) pendingMeta_ = meta;
    } else {
      corrupt_++;
    }
    if (int q = Xioctl(dev_.fd, VIDIOC_QBUF, &b)) return Fail(SysFailure("VIDIOC_QBUF", q));
    if (!direct.IsEmpty()) Emit(direct, meta);
  }
  // libuv reports POLLERR as a negative status and stops polling the descriptor: no frame will
  // come again. V4L2 raises it when the device is gone or its queue failed. The frames that
  // were ready have been delivered above; the source reopens the camera.
  if (status < 0 && state_ == State::Streaming)
    Fail(OwnFailure("ERR_CAMERA_GONE", "poll", "the device reported POLLERR: it was unplugged or reset"));
}

namespace {
// Recycled buffers kept at most: the frames the inference workers can hold at once, with room.
constexpr size_t kSpares = 16;
}  // namespace

Napi::Uint8Array Camera::FrameMemory(Napi::Env env, size_t size, uint8_t** dst) {
  // The newest spare that holds the frame (a detached one reads as 0 bytes and never does).
  for (size_t i = spare_.size(); i-- > 0;) {
    Napi::ArrayBuffer ab = spare_[i].Value();
    if (ab.IsEmpty() || ab.ByteLength() < size) continue;
    spare_.erase(spare_.begin() + static_cast<std::ptrdiff_t>(i));
    reused_++;
    *dst = static_cast<uint8_t*>(ab.Data());
    return Napi::Uint8Array::New(env, size, ab, 0);
  }
  // New memory, with room for a somewhat larger frame (JPEG sizes vary) when it comes back.
  size_t capacity = (size + size / 4 + 4095) & ~static_cast<size_t>(4095);
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, capacity);
  *dst = static_cast<uint8_t*>(ab.Data());
  return Napi::Uint8Array::New(env, size, ab, 0);
}

void Camera::Recycle(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) throw Napi::TypeError::New(info.Env(), "Expected an ArrayBuffer");
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  // A closed camera, a full shelf or an empty (detached) buffer: JavaScript's GC frees it.
  if (state_ == State::Closed || spare_.size() >= kSpares || ab.ByteLength() == 0) return;
  spare_.push_back(Napi::Persistent(ab));
}

void Camera::Emit(Napi::Uint8Array data, const Meta& meta) {
  Napi::Env env = Env();
  // The names, and the format's, are made once: a name made per frame is a string-table lookup.
  static constexpr const char* kNames[] = {"data",     "format",    "width",           "height", "stride",
                                           "sequence", "timestamp", "huffmanInserted", "dropped"};
  // (Node 20 references objects only: the strings are kept in an array.)
  if (frameNames_.IsEmpty()) {
    Napi::Array names = Napi::Array::New(env, std::size(kNames) + 1);
    uint32_t i = 0;
    for (const char* n : kNames) names.Set(i++, Napi::String::New(env, n));
    names.Set(i, Napi::String::New(env, FormatName(dev_.fourcc)));
    frameNames_ = Napi::Persistent(names);
  }
  Napi::Array names = frameNames_.Value();
  auto name = [&names](uint32_t i) { return names.Get(i); };
  Napi::Object f = Napi::Object::New(env);
  f.Set(name(0), data);
  f.Set(name(1), name(9));
  f.Set(name(2), Napi::Number::New(env, dev_.width));
  f.Set(name(3), Napi::Number::New(env, dev_.height));
  f.Set(name(4), Napi::Number::New(env, dev_.stride));
  f.Set(name(5), Napi::Number::New(env, meta.sequence));
  f.Set(name(6), Napi::Number::New(env, meta.timestamp));
  f.Set(name(7), Napi::Boolean::New(env, meta.huffmanInserted));
  f.Set(name(8), Napi::Number::New(env, dropped_));
  inFlight_ = true;
  delivered_++;
  Call(onFrame_, f);
}

void Camera::DeliverPending() {
  if (state_ != State::Streaming || inFlight_ || !hasPending_) return;
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  hasPending_ = false;
  uint8_t* dst;
  Napi::Uint8Array data = FrameMemory(env, pending_.size(), &dst);
  std::memcpy(dst, pending_.data(), pending_.size());
  Emit(data, pendingMeta_);
}

void Camera::Done(const Napi::CallbackInfo&) {
  inFlight_ = false;
  if (hasPending_ && handles_) uv_async_send(&handles_->async);
}

void Camera::Call(Napi::FunctionReference& fn, napi_value arg) {
  if (fn.IsEmpty()) return;
  Napi::Env env = Env();
  try {
    fn.MakeCallback(Value(), {arg});
  } catch (const Napi::Error& e) {
    // Nobody up the stack can catch it: hand it to process 'uncaughtException'.
    napi_fatal_exception(env, e.Value());
  }
}

void Camera::Fail(const Failure& failure) {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Napi::Error err = ToError(env, failure, path_);
  [[maybe_unused]] Napi::Object self = Value();  // keeps the wrapper alive across the callback after Teardown unpins it
  Napi::FunctionReference onError = std::move(onError_);
  Teardown(false);
  Call(onError, err.Value());
}

void Camera::Close(const Napi::CallbackInfo&) {
  if (state_ == State::Opening) {
    closeRequested_ = true;  // Opened() releases what the worker acquired and rejects
    return;
  }
  Teardown(false);
}

void Camera::Teardown(bool finalizing) {
  if (handles_) {
    uv_poll_stop(&handles_->poll);
    handles_->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&handles_->poll), OnClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&handles_->async), OnClosed);
    handles_ = nullptr;
  }
  dev_.Release();
  state_ = State::Closed;
  hasPending_ = false;
  pending_.clear();
  pending_.shrink_to_fit();
  if (addon_) addon_->live.erase(this);
  addon_ = nullptr;  // closed for good; the environment's data may go before this object does
  if (finalizing) return;  // references belong to a dying environment: leave them to it
  spare_.clear();
  frameNames_.Reset();
  onFrame_.Reset();
  onError_.Reset();
  if (pinned_) {
    pinned_ = false;
    Unref();
  }
}

Napi::Error Camera::StateError(const char* syscall, const char* detail) {
  return ToError(Env(), OwnFailure(state_ == State::Closed ? "ERR_CAMERA_CLOSED" : "ERR_CAMERA_STATE", syscall, detail),
                 path_);
}

Napi::Value Camera::GetControl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "Expected a control id");
  if (state_ != State::Streaming) throw StateError("VIDIOC_G_CTRL", "the camera is not open");
  v4l2_control c{};
  c.id = info[0].As<Napi::Number>().Uint32Value();
  if (int e = Xioctl(dev_.fd, VIDIOC_G_CTRL, &c))
    throw ToError(env, e == ENODEV ? SysFailure("VIDIOC_G_CTRL", e) : SysFailure("VIDIOC_G_CTRL", e, "ERR_CAMERA_CONTROL"),
                  path_);
  return Napi::Number::New(env, c.value);
}

void Camera::SetControl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "Expected (id: number, value: integer)");
  double v = info[1].As<Napi::Number>().DoubleValue();
  if (std::floor(v) != v || v < INT32_MIN || v > INT32_MAX)
    throw Napi::TypeError::New(env, "Expected a 32-bit integer for the control value");
  if (state_ != State::Streaming) throw StateError("VIDIOC_S_CTRL", "the camera is not open");
  v4l2_control c{};
  c.id = info[0].As<Napi::Number>().Uint32Value();
  c.value = static_cast<int32_t>(v);
  if (int e = Xioctl(dev_.fd, VIDIOC_S_CTRL, &c))
    throw ToError(env, e == ENODEV ? SysFailure("VIDIOC_S_CTRL", e) : SysFailure("VIDIOC_S_CTRL", e, "ERR_CAMERA_CONTROL"),
                  path_);
}

Napi::Value Camera::Stats(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("captured", captured_);
  o.Set("delivered", delivered_);
  o.Set("dropped", dropped_);
  o.Set("corrupt", corrupt_);
  o.Set("driverDropped", driverDropped_);
  o.Set("reused", reused_);
  const char* s = state_ == State::Idle ? "idle" : state_ == State::Opening ? "opening" : state_ == State::Streaming ? "streaming" : "closed";
  o.Set("state", s);
  return o;
}

}  // namespace v4l2
