# N-API addon over the kernel's V4L2 API (linux/videodev2.h); built by scripts/build-native.mjs.
# It needs no library beyond libc and the kernel headers, so it builds on any Linux host.
{
  "targets": [
    {
      "target_name": "v4l2",
      "sources": [
        "src/addon.cc",
        "src/camera.cc",
        "src/device.cc",
        "src/query.cc",
        "src/failure.cc",
        "src/jpeg.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      # A call from JavaScript while its worker is being terminated cannot throw; without this
      # node-addon-api turns that into std::terminate (an abort of the whole process).
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags_cc!": ["-std=gnu++17"]
    }
  ]
}
