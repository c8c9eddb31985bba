// Negotiation and the mmap ring of a V4L2 capture device. Every exit path of Start() leaves
// either a streaming device or nothing acquired; Release() undoes Start() step by step.
#include "device.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace v4l2 {

int Xioctl(int fd, unsigned long request, void* arg) {
  int r;
  do r = ioctl(fd, request, arg);
  while (r == -1 && errno == EINTR);
  return r == -1 ? errno : 0;
}

std::string FourccString(uint32_t f) {
  std::string s;
  for (int i = 0; i < 4; i++) s += static_cast<char>((f >> (8 * i)) & 0xff);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

Device& Device::operator=(Device&& o) noexcept {
  if (this != &o) {
    Release();
    fd = o.fd;
    streaming = o.streaming;
    ring = std::move(o.ring);
    fourcc = o.fourcc;
    width = o.width;
    height = o.height;
    stride = o.stride;
    sizeImage = o.sizeImage;
    fps = o.fps;
    o.fd = -1;
    o.streaming = false;
    o.ring.clear();
  }
  return *this;
}

void Device::Release() {
  if (fd >= 0 && streaming) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    Xioctl(fd, VIDIOC_STREAMOFF, &type);
  }
  streaming = false;
  for (auto& m : ring)
    if (m.addr) munmap(m.addr, m.length);
  if (fd >= 0 && !ring.empty()) {
    // Frees the driver's buffers now rather than at close; errors (a gone device) are moot.
    v4l2_requestbuffers rb{};
    rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    rb.memory = V4L2_MEMORY_MMAP;
    Xioctl(fd, VIDIOC_REQBUFS, &rb);
  }
  ring.clear();
  if (fd >= 0) close(fd);
  fd = -1;
}

Failure Device::Start(const std::string& path, const StreamRequest& req) {
  Failure f = [&]() -> Failure {
    fd = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return SysFailure("open", errno);

    v4l2_capability cap{};
    if (int e = Xioctl(fd, VIDIOC_QUERYCAP, &cap)) return SysFailure("VIDIOC_QUERYCAP", e);
    uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING))
      return OwnFailure("ERR_CAMERA_UNSUPPORTED", "VIDIOC_QUERYCAP",
                        "not a streaming capture device (a UVC camera's second node carries metadata; try the other one)");

    v4l2_format fmt{};
    fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    fmt.fmt.pix.pixelformat = req.fourcc;
    fmt.fmt.pix.width = req.width;
    fmt.fmt.pix.height = req.height;
    fmt.fmt.pix.field = V4L2_FIELD_NONE;
    if (int e = Xioctl(fd, VIDIOC_S_FMT, &fmt)) return SysFailure("VIDIOC_S_FMT", e);
    // Some older cameras call their MJPEG "JPEG": the same frames.
    bool jpegAlias = req.fourcc == V4L2_PIX_FMT_MJPEG && fmt.fmt.pix.pixelformat == V4L2_PIX_FMT_JPEG;
    if (fmt.fmt.pix.pixelformat != req.fourcc && !jpegAlias)
      return OwnFailure("ERR_CAMERA_FORMAT", "VIDIOC_S_FMT",
                        "the camera does not offer " + FourccString(req.fourcc) + " (it chose " +
                            FourccString(fmt.fmt.pix.pixelformat) + "); pick a format that `percept cameras` lists");
    fourcc = fmt.fmt.pix.pixelformat;
    width = fmt.fmt.pix.width;
    height = fmt.fmt.pix.height;
    stride = fmt.fmt.pix.bytesperline;
    sizeImage = fmt.fmt.pix.sizeimage;

    v4l2_streamparm parm{};
    parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (Xioctl(fd, VIDIOC_G_PARM, &parm) == 0 && (parm.parm.capture.capability & V4L2_CAP_TIMEPERFRAME) &&
        req.fps > 0) {
      parm.parm.capture.timeperframe.numerator = 1000;
      parm.parm.capture.timeperframe.denominator = static_cast<uint32_t>(std::lround(req.fps * 1000));
      if (int e = Xioctl(fd, VIDIOC_S_PARM, &parm)) return SysFailure("VIDIOC_S_PARM", e);
    }
    const v4l2_fract& t = parm.parm.capture.timeperframe;
    fps = t.numerator ? static_cast<double>(t.denominator) / t.numerator : 0;

    v4l2_requestbuffers rb{};
    rb.count = req.buffers;
    rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    rb.memory = V4L2_MEMORY_MMAP;
    if (int e = Xioctl(fd, VIDIOC_REQBUFS, &rb)) return SysFailure("VIDIOC_REQBUFS", e);
    ring.resize(rb.count);  // before any early return, so Release() frees the driver's buffers
    if (rb.count < 2) return OwnFailure("ERR_CAMERA_IO", "VIDIOC_REQBUFS", "the driver granted fewer than 2 buffers");

    for (uint32_t i = 0; i < rb.count; i++) {
      v4l2_buffer b{};
      b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      b.memory = V4L2_MEMORY_MMAP;
      b.index = i;
      if (int e = Xioctl(fd, VIDIOC_QUERYBUF, &b)) return SysFailure("VIDIOC_QUERYBUF", e);
      void* p = mmap(nullptr, b.length, PROT_READ, MAP_SHARED, fd, b.m.offset);
      if (p == MAP_FAILED) return SysFailure("mmap", errno);
      ring[i] = Mapping{p, b.length};
    }
    for (uint32_t i = 0; i < rb.count; i++) {
      v4l2_buffer b{};
      b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      b.memory = V4L2_MEMORY_MMAP;
      b.index = i;
      if (int e = Xioctl(fd, VIDIOC_QBUF, &b)) return SysFailure("VIDIOC_QBUF", e);
    }
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (int e = Xioctl(fd, VIDIOC_STREAMON, &type)) return SysFailure("VIDIOC_STREAMON", e);
    streaming = true;
    return Failure{};
  }();
  if (f) Release();
  return f;
}

}  // namespace v4l2
