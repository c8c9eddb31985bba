// Argument parsing for the factories: copies JS values into C++ values on the JS thread.
// The TypeScript layer validates first with friendlier messages; these checks exist so no
// input can overrun a fixed-size TPM2B buffer whatever calls the addon.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tpm2 {

[[noreturn]] inline void BadArgument(Napi::Env env, const std::string& name,
                                     const std::string& expected) {
  throw Napi::TypeError::New(env, "Expected " + expected + " for " + name);
}

inline uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) BadArgument(info.Env(), name, "a 32-bit unsigned integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    BadArgument(info.Env(), name, "a 32-bit unsigned integer");
  }
  return static_cast<uint32_t>(d);
}

inline std::vector<uint8_t> ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name,
                                     size_t max) {
  Napi::Value v = info[i];
  if (!v.IsBuffer()) BadArgument(info.Env(), name, "a Buffer");
  auto buf = v.As<Napi::Buffer<uint8_t>>();
  if (buf.Length() > max) {
    BadArgument(info.Env(), name, "a Buffer of at most " + std::to_string(max) + " bytes");
  }
  return std::vector<uint8_t>(buf.Data(), buf.Data() + buf.Length());
}

inline std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsString()) BadArgument(info.Env(), name, "a string");
  return v.As<Napi::String>().Utf8Value();
}

inline std::vector<uint32_t> ArgU32List(const Napi::CallbackInfo& info, size_t i,
                                        const char* name, uint32_t maxValue) {
  Napi::Value v = info[i];
  if (!v.IsArray()) BadArgument(info.Env(), name, "an array of integers");
  auto arr = v.As<Napi::Array>();
  std::vector<uint32_t> out;
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value e = arr.Get(k);
    if (!e.IsNumber()) BadArgument(info.Env(), name, "an array of integers");
    double d = e.As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= maxValue) || d != static_cast<double>(static_cast<uint32_t>(d))) {
      BadArgument(info.Env(), name,
                  "an array of integers between 0 and " + std::to_string(maxValue));
    }
    out.push_back(static_cast<uint32_t>(d));
  }
  return out;
}

}  // namespace tpm2
