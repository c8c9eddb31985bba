// errno to ERR_CAMERA_* codes, and the JS errors built from them. Retry decisions in
// TypeScript read `code` (camera gone: back off and reopen; busy: another process streams).
#include "failure.h"

#include <cerrno>
#include <cstring>

namespace v4l2 {
namespace {

const char* CodeFor(int err) {
  switch (err) {
    case ENODEV:
    case ENXIO:
    case ESHUTDOWN:
      return "ERR_CAMERA_GONE";
    case ENOENT:
      return "ERR_CAMERA_NOT_FOUND";
    case EACCES:
    case EPERM:
      return "ERR_CAMERA_ACCESS";
    case EBUSY:
      return "ERR_CAMERA_BUSY";
    default:
      return "ERR_CAMERA_IO";
  }
}

const char* Hint(const std::string& code) {
  if (code == "ERR_CAMERA_GONE") return "the camera was unplugged or reset; reopen it when it is back";
  if (code == "ERR_CAMERA_NOT_FOUND") return "no such device; list cameras with `percept cameras`";
  if (code == "ERR_CAMERA_ACCESS")
    return "permission denied; add the user to the video group (usermod -aG video $USER) or pass the device to the container";
  if (code == "ERR_CAMERA_BUSY") return "another process is streaming from this camera; stop it (fuser /dev/videoN)";
  return "";
}

std::string ErrnoName(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* n = strerrorname_np(err);
  if (n) return n;
#endif
  return "errno " + std::to_string(err);
}

}  // namespace

Failure SysFailure(const char* syscall, int err) { return SysFailure(syscall, err, CodeFor(err)); }

Failure SysFailure(const char* syscall, int err, const char* code) {
  Failure f;
  f.code = code;
  f.syscall = syscall;
  f.err = err;
  f.detail = Hint(f.code);
  return f;
}

Failure OwnFailure(const char* code, const char* syscall, std::string detail) {
  Failure f;
  f.code = code;
  f.syscall = syscall;
  f.detail = std::move(detail);
  return f;
}

Napi::Error ToError(Napi::Env env, const Failure& f, const std::string& path) {
  std::string msg = f.syscall + " on " + path + " failed";
  if (f.err) msg += ": " + std::string(std::strerror(f.err)) + " (" + ErrnoName(f.err) + ")";
  if (!f.detail.empty()) msg += (f.err ? "; " : ": ") + f.detail;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, f.code));
  e.Set("syscall", Napi::String::New(env, f.syscall));
  e.Set("errno", Napi::Number::New(env, f.err));
  e.Set("errnoName", f.err ? Napi::Value(Napi::String::New(env, ErrnoName(f.err))) : env.Null());
  e.Set("path", Napi::String::New(env, path));
  return e;
}

}  // namespace v4l2
