// What a device offers, read with QUERYCAP, ENUM_FMT/FRAMESIZES/FRAMEINTERVALS, QUERYCTRL and
// QUERYMENU into plain structs (off the JS thread), and their conversion to JS objects.
#pragma once
#include <napi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "failure.h"

namespace v4l2 {

struct DeviceInfo {
  std::string path;
  int index = 0;
  Failure failure;  // set when the node exists but cannot be opened or queried
  std::string driver, card, busInfo;
  uint32_t version = 0, capabilities = 0;
};

struct Interval {
  uint32_t numerator = 0, denominator = 0;
};

struct FrameSize {
  uint32_t width = 0, height = 0;
  std::vector<Interval> intervals;
  bool stepwiseIntervals = false;  // intervals holds [min, max] of a continuous range
};

struct FormatInfo {
  uint32_t fourcc = 0, flags = 0;
  std::string description;
  std::vector<FrameSize> sizes;
  bool stepwiseSizes = false;  // sizes holds [min, max] of a stepwise or continuous range
};

struct MenuItem {
  uint32_t index = 0;
  std::string name;
  int64_t value = 0;
  bool integer = false;
};

struct ControlInfo {
  uint32_t id = 0, type = 0, flags = 0;
  std::string name;
  int32_t minimum = 0, maximum = 0, step = 0, defaultValue = 0;
  std::optional<int32_t> value;
  std::vector<MenuItem> menu;
};

struct Description {
  DeviceInfo device;
  std::vector<FormatInfo> formats;
  std::vector<ControlInfo> controls;
};

/** /dev/video0../dev/video63 that exist (access(2), so a preloaded fake device counts). */
std::vector<DeviceInfo> ListDevices();

/** Everything `path` offers; the failure is set when it cannot be opened or is no V4L2 node. */
Description Describe(const std::string& path);

Napi::Object ToJs(Napi::Env env, const DeviceInfo& d);
Napi::Object ToJs(Napi::Env env, const Description& d);

}  // namespace v4l2
