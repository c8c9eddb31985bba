// Conversions of TPM structures to what JavaScript callers can use without a TPM library.
#include "convert.h"

#include <string>

namespace tpm2 {

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const std::vector<uint8_t>& bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

Napi::Object SignatureToJs(Napi::Env env, const TPMT_SIGNATURE& sig) {
  if (sig.sigAlg != TPM2_ALG_ECDSA) {
    throw Napi::Error::New(env, "unsupported signature algorithm 0x" +
                                    std::to_string(sig.sigAlg) + " (expected ECDSA)");
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("alg", Napi::Number::New(env, sig.sigAlg));
  out.Set("hash", Napi::Number::New(env, sig.signature.ecdsa.hash));
  out.Set("r", ToBuffer(env, Bytes(sig.signature.ecdsa.signatureR)));
  out.Set("s", ToBuffer(env, Bytes(sig.signature.ecdsa.signatureS)));
  return out;
}

std::vector<uint8_t> SpkiDer(const TPMT_PUBLIC& pub) {
  if (pub.type != TPM2_ALG_ECC || pub.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256) {
    return {};
  }
  // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING { 04 || X || Y } }
  static const uint8_t prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
  const TPMS_ECC_POINT& point = pub.unique.ecc;
  if (point.x.size > 32 || point.y.size > 32) return {};
  std::vector<uint8_t> der(prefix, prefix + sizeof(prefix));
  // Coordinates are fixed-width in SPKI; a TPM may send them without leading zeros.
  der.insert(der.end(), 32 - point.x.size, 0);
  der.insert(der.end(), point.x.buffer, point.x.buffer + point.x.size);
  der.insert(der.end(), 32 - point.y.size, 0);
  der.insert(der.end(), point.y.buffer, point.y.buffer + point.y.size);
  return der;
}

}  // namespace tpm2
