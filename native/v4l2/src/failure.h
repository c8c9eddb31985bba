// A failed system call as plain data (filled off the JS thread), and its conversion to the
// JS error the contract promises: a stable `code` (ERR_CAMERA_*), the ioctl, errno, path.
#pragma once
#include <napi.h>

#include <string>

namespace v4l2 {

struct Failure {
  std::string code;     // ERR_CAMERA_*; empty when there is no failure
  std::string syscall;  // "open", "mmap", "VIDIOC_DQBUF", ...
  int err = 0;          // errno, 0 when the failure is the addon's own check
  std::string detail;   // what to do next, or what was expected

  explicit operator bool() const { return !code.empty(); }
};

/** A failure of `syscall` with errno `err`, its code derived from errno. */
Failure SysFailure(const char* syscall, int err);

/** The same, with `code` forced (e.g. ERR_CAMERA_CONTROL for a refused control). */
Failure SysFailure(const char* syscall, int err, const char* code);

/** A failure found by the addon itself (no errno). */
Failure OwnFailure(const char* code, const char* syscall, std::string detail);

/** The JS Error for a failure on `path`. */
Napi::Error ToError(Napi::Env env, const Failure& f, const std::string& path);

}  // namespace v4l2
