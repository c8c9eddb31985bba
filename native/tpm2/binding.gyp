# N-API addon over tss2-esys and the TCTI loader; built by scripts/build-native.mjs.
# Flags come from pkg-config so distro and source installs of tpm2-tss both work.
{
  "targets": [
    {
      "target_name": "tpm2",
      "sources": [
        "src/addon.cc",
        "src/context.cc",
        "src/job.cc",
        "src/tss.cc",
        "src/templates.cc",
        "src/convert.cc",
        "src/lifecycle.cc",
        "src/capability.cc",
        "src/keys.cc",
        "src/sign.cc",
        "src/quote.cc",
        "src/hmac.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra",
        "-fvisibility=hidden",
        "<!@(pkg-config --cflags tss2-esys tss2-tctildr tss2-mu tss2-rc)"
      ],
      "cflags_cc!": ["-std=gnu++17"],
      "libraries": [
        "<!@(pkg-config --libs tss2-esys tss2-tctildr tss2-mu tss2-rc)"
      ]
    }
  ]
}
