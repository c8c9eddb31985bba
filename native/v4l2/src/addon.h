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
  /** libuv handles of cameras not yet closed: Node must not unload the addon (it does, for a
   * worker) before their close callbacks, which are its code, have run. */
  int liveHandles = 0;
  napi_async_cleanup_hook_handle cleanupHook = nullptr;
  bool stopping = false;

  /** Registers Stop() to run when the environment ends. */
  void Watch(napi_env env);
  /** The environment is ending: release every camera, and let Node finish once the handles are closed. */
  static void Stop(napi_async_cleanup_hook_handle hook, void* arg);
  /** One camera's handles are closed. */
  void HandlesClosed();
  ~AddonData();
};

}  // namespace v4l2
