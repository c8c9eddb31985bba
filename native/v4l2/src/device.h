// One opened capture device as plain C++ data: the descriptor, the negotiated format and the
// mmap ring. Start() runs on a libuv worker thread (UVC ioctls can take a USB round trip);
// Release() runs wherever the device ends and frees every mapping and the descriptor.
#pragma once
#include <linux/videodev2.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "failure.h"

namespace v4l2 {

/** ioctl with EINTR retried; returns 0 or errno. */
int Xioctl(int fd, unsigned long request, void* arg);

struct StreamRequest {
  uint32_t fourcc = 0;
  uint32_t width = 0;
  uint32_t height = 0;
  double fps = 0;  // 0: leave the driver's rate
  uint32_t buffers = 4;
};

struct Mapping {
  void* addr = nullptr;
  size_t length = 0;
};

struct Device {
  int fd = -1;
  bool streaming = false;
  std::vector<Mapping> ring;
  uint32_t fourcc = 0, width = 0, height = 0, stride = 0, sizeImage = 0;
  double fps = 0;

  Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  Device(Device&& o) noexcept { *this = std::move(o); }
  Device& operator=(Device&& o) noexcept;
  ~Device() { Release(); }

  /** open, QUERYCAP, S_FMT, S_PARM, REQBUFS, QUERYBUF + mmap, QBUF, STREAMON. On failure
   * everything acquired so far is released. */
  Failure Start(const std::string& path, const StreamRequest& req);

  /** STREAMOFF, munmap of every buffer, REQBUFS 0, close. Idempotent; never fails. */
  void Release();
};

/** The fourcc as its four characters ("MJPG"). */
std::string FourccString(uint32_t fourcc);

}  // namespace v4l2
