// Public-area templates. The SRK follows the TCG Provisioning Guidance ECC NIST P-256 SRK
// template (unique = 32 zero bytes each for x and y) so it is the same primary key other
// TCG-conformant tools derive from the owner seed.
#include "templates.h"

namespace tpm2 {

TPM2B_PUBLIC SrkTemplate() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_ECC;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                       TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  TPMS_ECC_PARMS& e = p.parameters.eccDetail;
  e.symmetric.algorithm = TPM2_ALG_AES;
  e.symmetric.keyBits.aes = 128;
  e.symmetric.mode.aes = TPM2_ALG_CFB;
  e.scheme.scheme = TPM2_ALG_NULL;
  e.curveID = TPM2_ECC_NIST_P256;
  e.kdf.scheme = TPM2_ALG_NULL;
  p.unique.ecc.x.size = 32;
  p.unique.ecc.y.size = 32;
  return t;
}

TPM2B_PUBLIC SigningKeyTemplate(KeyKind kind) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_ECC;
  p.nameAlg = TPM2_ALG_SHA256;
  // fixedTPM + sensitiveDataOrigin: the private key was born in this TPM and never
  // leaves it, which is what a certify of the key proves to a verifier.
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                       TPMA_OBJECT_SIGN_ENCRYPT;
  // Restricted: the attestation key only signs TPM-generated structures (quote,
  // certify), so it cannot be made to sign a forged TPMS_ATTEST.
  if (kind == KeyKind::Attestation) p.objectAttributes |= TPMA_OBJECT_RESTRICTED;
  TPMS_ECC_PARMS& e = p.parameters.eccDetail;
  e.symmetric.algorithm = TPM2_ALG_NULL;
  e.scheme.scheme = TPM2_ALG_ECDSA;
  e.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  e.curveID = TPM2_ECC_NIST_P256;
  e.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

TPM2B_PUBLIC HmacKeyTemplate() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_KEYEDHASH;
  p.nameAlg = TPM2_ALG_SHA256;
  // No sensitiveDataOrigin: the caller supplies the key (the IoT Hub SAS key).
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_SIGN_ENCRYPT;
  p.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_HMAC;
  p.parameters.keyedHashDetail.scheme.details.hmac.hashAlg = TPM2_ALG_SHA256;
  return t;
}

bool MatchesKind(const TPMT_PUBLIC& pub, KeyKind kind) {
  if (pub.type != TPM2_ALG_ECC || pub.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256) {
    return false;
  }
  const TPMA_OBJECT a = pub.objectAttributes;
  const bool restricted = (a & TPMA_OBJECT_RESTRICTED) != 0;
  return (a & TPMA_OBJECT_SIGN_ENCRYPT) != 0 && (a & TPMA_OBJECT_DECRYPT) == 0 &&
         restricted == (kind == KeyKind::Attestation);
}

}  // namespace tpm2
