// Enumeration of devices, formats, sizes, intervals and controls. Controls carry the same
// `key` v4l2-ctl prints ("Power Line Frequency" -> power_line_frequency), so users can take
// names from `v4l2-ctl --list-ctrls` into percept's config.
#include "query.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

#include "device.h"

namespace v4l2 {
namespace {

bool QueryCap(int fd, DeviceInfo& d) {
  v4l2_capability cap{};
  if (int e = Xioctl(fd, VIDIOC_QUERYCAP, &cap)) {
    d.failure = SysFailure("VIDIOC_QUERYCAP", e);
    return false;
  }
  d.driver = reinterpret_cast<const char*>(cap.driver);
  d.card = reinterpret_cast<const char*>(cap.card);
  d.busInfo = reinterpret_cast<const char*>(cap.bus_info);
  d.version = cap.version;
  d.capabilities = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
  return true;
}

std::vector<Interval> Intervals(int fd, uint32_t fourcc, uint32_t w, uint32_t h, bool& stepwise) {
  std::vector<Interval> out;
  for (uint32_t i = 0; i < 64; i++) {
    v4l2_frmivalenum v{};
    v.index = i;
    v.pixel_format = fourcc;
    v.width = w;
    v.height = h;
    if (Xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &v)) break;
    if (v.type == V4L2_FRMIVAL_TYPE_DISCRETE) {
      out.push_back({v.discrete.numerator, v.discrete.denominator});
    } else {
      stepwise = true;
      out.push_back({v.stepwise.min.numerator, v.stepwise.min.denominator});
      out.push_back({v.stepwise.max.numerator, v.stepwise.max.denominator});
      break;
    }
  }
  return out;
}

std::vector<FormatInfo> Formats(int fd) {
  std::vector<FormatInfo> out;
  for (uint32_t i = 0; i < 64; i++) {
    v4l2_fmtdesc fd_{};
    fd_.index = i;
    fd_.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (Xioctl(fd, VIDIOC_ENUM_FMT, &fd_)) break;
    FormatInfo f;
    f.fourcc = fd_.pixelformat;
    f.flags = fd_.flags;
    f.description = reinterpret_cast<const char*>(fd_.description);
    for (uint32_t j = 0; j < 256; j++) {
      v4l2_frmsizeenum s{};
      s.index = j;
      s.pixel_format = f.fourcc;
      if (Xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &s)) break;
      if (s.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
        FrameSize fs{s.discrete.width, s.discrete.height, {}, false};
        fs.intervals = Intervals(fd, f.fourcc, fs.width, fs.height, fs.stepwiseIntervals);
        f.sizes.push_back(std::move(fs));
      } else {
        f.stepwiseSizes = true;
        for (auto [w, h] : {std::pair{s.stepwise.min_width, s.stepwise.min_height},
                            std::pair{s.stepwise.max_width, s.stepwise.max_height}}) {
          FrameSize fs{w, h, {}, false};
          fs.intervals = Intervals(fd, f.fourcc, w, h, fs.stepwiseIntervals);
          f.sizes.push_back(std::move(fs));
        }
        break;
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<ControlInfo> Controls(int fd) {
  std::vector<ControlInfo> out;
  v4l2_queryctrl q{};
  q.id = V4L2_CTRL_FLAG_NEXT_CTRL;
  while (Xioctl(fd, VIDIOC_QUERYCTRL, &q) == 0) {
    uint32_t id = q.id;
    if (!(q.flags & V4L2_CTRL_FLAG_DISABLED) && q.type != V4L2_CTRL_TYPE_CTRL_CLASS) {
      ControlInfo c;
      c.id = id;
      c.type = q.type;
      c.flags = q.flags;
      c.name = reinterpret_cast<const char*>(q.name);
      c.minimum = q.minimum;
      c.maximum = q.maximum;
      c.step = q.step;
      c.defaultValue = q.default_value;
      if (q.type == V4L2_CTRL_TYPE_MENU || q.type == V4L2_CTRL_TYPE_INTEGER_MENU) {
        for (int32_t k = q.minimum; k <= q.maximum && k - q.minimum < 256; k++) {
          v4l2_querymenu m{};
          m.id = id;
          m.index = static_cast<uint32_t>(k);
          if (Xioctl(fd, VIDIOC_QUERYMENU, &m)) continue;  // menus may have holes
          MenuItem item;
          item.index = m.index;
          item.integer = q.type == V4L2_CTRL_TYPE_INTEGER_MENU;
          if (item.integer) item.value = m.value;
          else item.name = reinterpret_cast<const char*>(m.name);
          c.menu.push_back(std::move(item));
        }
      }
      if (!(q.flags & V4L2_CTRL_FLAG_WRITE_ONLY) && q.type != V4L2_CTRL_TYPE_BUTTON) {
        v4l2_control v{};
        v.id = id;
        if (Xioctl(fd, VIDIOC_G_CTRL, &v) == 0) c.value = v.value;
      }
      out.push_back(std::move(c));
    }
    q = v4l2_queryctrl{};
    q.id = id | V4L2_CTRL_FLAG_NEXT_CTRL;
  }
  return out;
}

std::string Key(const std::string& name) {  // v4l2-ctl's name2var
  std::string s;
  bool underscore = false;
  for (char ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      if (underscore) s += '_';
      underscore = false;
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    } else if (!s.empty()) {
      underscore = true;
    }
  }
  return s;
}

const char* TypeName(uint32_t t) {
  switch (t) {
    case V4L2_CTRL_TYPE_INTEGER: return "integer";
    case V4L2_CTRL_TYPE_BOOLEAN: return "boolean";
    case V4L2_CTRL_TYPE_MENU: return "menu";
    case V4L2_CTRL_TYPE_INTEGER_MENU: return "integer_menu";
    case V4L2_CTRL_TYPE_BUTTON: return "button";
    case V4L2_CTRL_TYPE_INTEGER64: return "integer64";
    case V4L2_CTRL_TYPE_STRING: return "string";
    case V4L2_CTRL_TYPE_BITMASK: return "bitmask";
    default: return "other";
  }
}

Napi::Array Fractions(Napi::Env env, const std::vector<Interval>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (uint32_t i = 0; i < v.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("numerator", v[i].numerator);
    o.Set("denominator", v[i].denominator);
    a.Set(i, o);
  }
  return a;
}

}  // namespace

std::vector<DeviceInfo> ListDevices() {
  std::vector<DeviceInfo> out;
  for (int i = 0; i < 64; i++) {
    std::string path = "/dev/video" + std::to_string(i);
    if (access(path.c_str(), F_OK) != 0) continue;
    DeviceInfo d;
    d.path = path;
    d.index = i;
    int fd = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      d.failure = SysFailure("open", errno);
    } else {
      QueryCap(fd, d);
      close(fd);
    }
    out.push_back(std::move(d));
  }
  return out;
}

Description Describe(const std::string& path) {
  Description r;
  r.device.path = path;
  r.device.index = -1;
  if (path.rfind("/dev/video", 0) == 0) r.device.index = std::atoi(path.c_str() + 10);
  int fd = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    r.device.failure = SysFailure("open", errno);
    return r;
  }
  if (QueryCap(fd, r.device)) {
    r.formats = Formats(fd);
    r.controls = Controls(fd);
  }
  close(fd);
  return r;
}

Napi::Object ToJs(Napi::Env env, const DeviceInfo& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", d.path);
  o.Set("index", d.index);
  o.Set("error", d.failure ? Napi::Value(ToError(env, d.failure, d.path).Value()) : env.Null());
  o.Set("driver", d.driver);
  o.Set("card", d.card);
  o.Set("busInfo", d.busInfo);
  o.Set("version", (std::to_string(d.version >> 16) + "." + std::to_string((d.version >> 8) & 0xff) + "." +
                    std::to_string(d.version & 0xff)));
  o.Set("capabilities", d.capabilities);
  o.Set("capture", !d.failure && (d.capabilities & V4L2_CAP_VIDEO_CAPTURE) && (d.capabilities & V4L2_CAP_STREAMING));
  return o;
}

Napi::Object ToJs(Napi::Env env, const Description& d) {
  Napi::Object o = ToJs(env, d.device);
  Napi::Array formats = Napi::Array::New(env, d.formats.size());
  for (uint32_t i = 0; i < d.formats.size(); i++) {
    const FormatInfo& f = d.formats[i];
    Napi::Object fo = Napi::Object::New(env);
    fo.Set("fourcc", FourccString(f.fourcc));
    fo.Set("description", f.description);
    fo.Set("compressed", (f.flags & V4L2_FMT_FLAG_COMPRESSED) != 0);
    fo.Set("emulated", (f.flags & V4L2_FMT_FLAG_EMULATED) != 0);
    fo.Set("stepwise", f.stepwiseSizes);
    Napi::Array sizes = Napi::Array::New(env, f.sizes.size());
    for (uint32_t j = 0; j < f.sizes.size(); j++) {
      Napi::Object so = Napi::Object::New(env);
      so.Set("width", f.sizes[j].width);
      so.Set("height", f.sizes[j].height);
      so.Set("intervals", Fractions(env, f.sizes[j].intervals));
      so.Set("stepwise", f.sizes[j].stepwiseIntervals);
      sizes.Set(j, so);
    }
    fo.Set("sizes", sizes);
    formats.Set(i, fo);
  }
  o.Set("formats", formats);
  Napi::Array controls = Napi::Array::New(env, d.controls.size());
  for (uint32_t i = 0; i < d.controls.size(); i++) {
    const ControlInfo& c = d.controls[i];
    Napi::Object co = Napi::Object::New(env);
    co.Set("id", c.id);
    co.Set("key", Key(c.name));
    co.Set("name", c.name);
    co.Set("type", TypeName(c.type));
    co.Set("minimum", c.minimum);
    co.Set("maximum", c.maximum);
    co.Set("step", c.step);
    co.Set("default", c.defaultValue);
    co.Set("value", c.value ? Napi::Value(Napi::Number::New(env, *c.value)) : env.Null());
    co.Set("readOnly", (c.flags & V4L2_CTRL_FLAG_READ_ONLY) != 0);
    co.Set("inactive", (c.flags & V4L2_CTRL_FLAG_INACTIVE) != 0);
    if (c.type == V4L2_CTRL_TYPE_MENU || c.type == V4L2_CTRL_TYPE_INTEGER_MENU) {
      Napi::Array menu = Napi::Array::New(env, c.menu.size());
      for (uint32_t k = 0; k < c.menu.size(); k++) {
        Napi::Object mo = Napi::Object::New(env);
        mo.Set("index", c.menu[k].index);
        if (c.menu[k].integer) mo.Set("value", Napi::Number::New(env, static_cast<double>(c.menu[k].value)));
        else mo.Set("name", c.menu[k].name);
        menu.Set(k, mo);
      }
      co.Set("menu", menu);
    } else {
      co.Set("menu", env.Null());
    }
    controls.Set(i, co);
  }
  o.Set("controls", controls);
  return o;
}

}  // namespace v4l2
