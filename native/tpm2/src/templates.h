// Public-area templates of the objects this addon creates: the standard ECC SRK, the
// project's signing key and attestation key (ECDSA P-256), and the imported HMAC key.
#pragma once

#include <tss2/tss2_tpm2_types.h>

namespace tpm2 {

enum class KeyKind { Signing, Attestation };

TPM2B_PUBLIC SrkTemplate();
TPM2B_PUBLIC SigningKeyTemplate(KeyKind kind);
TPM2B_PUBLIC HmacKeyTemplate();

// Whether an existing object's public area is the kind of key the template would make.
bool MatchesKind(const TPMT_PUBLIC& pub, KeyKind kind);

}  // namespace tpm2
