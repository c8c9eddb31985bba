// Per-environment state of the addon (napi instance data), so it loads safely in several
// worker threads: each Node environment has its own Camera constructor and live cameras,
// torn down when that environment ends.
#pragma once
#include <napi.h>

#include <set>

namespace v4l2 {

class Camera;

struct AddonData {
  Napi::FunctionReference cameraCtor;
  std::set<Camera*> live;
  ~AddonData();
};

}  // namespace v4l2
