// C++ results to JS values (JS thread only): byte buffers, ECDSA signatures and public
// keys as SubjectPublicKeyInfo DER so node:crypto can verify TPM signatures directly.
#pragma once

#include <napi.h>
#include <tss2/tss2_tpm2_types.h>

#include <cstdint>
#include <vector>

namespace tpm2 {

template <typename T2B>
std::vector<uint8_t> Bytes(const T2B& b) {
  return std::vector<uint8_t>(b.buffer, b.buffer + b.size);
}

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const std::vector<uint8_t>& bytes);
// {alg, hash, r, s} for ECDSA; throws (on the JS thread) for other signature schemes.
Napi::Object SignatureToJs(Napi::Env env, const TPMT_SIGNATURE& sig);
// SPKI DER of an ECC NIST P-256 public area; empty for anything else.
std::vector<uint8_t> SpkiDer(const TPMT_PUBLIC& pub);

}  // namespace tpm2
