// PCRs and attestation: pcrRead, quote (PCR digest signed by the restricted attestation
// key) and certify (the attestation key vouching that another object lives in this TPM).
// Each returns the TPMS_ATTEST bytes exactly as signed, so a verifier hashes what it gets.
#include "args.h"
#include "context.h"
#include "convert.h"
#include "job.h"
#include "jobs.h"

namespace tpm2 {
namespace {

constexpr uint32_t kMaxPcr = 23;  // PC Client TPMs have 24 PCRs per bank

TPML_PCR_SELECTION Selection(TPMI_ALG_HASH bank, const std::vector<uint32_t>& pcrs) {
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = bank;
  sel.pcrSelections[0].sizeofSelect = 3;
  for (uint32_t pcr : pcrs) sel.pcrSelections[0].pcrSelect[pcr / 8] |= 1u << (pcr % 8);
  return sel;
}

bool Empty(const TPML_PCR_SELECTION& sel) {
  for (uint32_t i = 0; i < sel.count; ++i) {
    for (uint32_t b = 0; b < sel.pcrSelections[i].sizeofSelect; ++b) {
      if (sel.pcrSelections[i].pcrSelect[b] != 0) return false;
    }
  }
  return true;
}

struct Attested {
  std::vector<uint8_t> attest;
  TPMT_SIGNATURE signature{};
};

Napi::Value AttestedToJs(Napi::Env env, const Attested& a) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("attest", ToBuffer(env, a.attest));
  out.Set("signature", SignatureToJs(env, a.signature));
  return out;
}

class PcrReadJob : public Job {
 public:
  PcrReadJob(Context* ctx, TPMI_ALG_HASH bank, std::vector<uint32_t> pcrs)
      : Job(ctx), bank_(bank), pcrs_(std::move(pcrs)) {}

 protected:
  void Run(Tss& tss) override {
    // One TPM2_PCR_Read returns at most 8 digests: ask again for what is still missing.
    TPML_PCR_SELECTION want = Selection(bank_, pcrs_);
    std::vector<std::vector<uint8_t>> byPcr(kMaxPcr + 1);
    while (!Empty(want)) {
      uint32_t counter = 0;
      TPML_PCR_SELECTION* rawSel = nullptr;
      TPML_DIGEST* rawValues = nullptr;
      Check(Esys_PCR_Read(tss.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, &counter,
                          &rawSel, &rawValues),
            "Esys_PCR_Read");
      EsysPtr<TPML_PCR_SELECTION> got(rawSel);
      EsysPtr<TPML_DIGEST> values(rawValues);
      updateCounter_ = counter;
      if (values->count == 0) {
        throw TssError{"Esys_PCR_Read", 0, "the TPM has no such PCR bank allocated"};
      }
      uint32_t k = 0;
      for (uint32_t i = 0; i < got->count; ++i) {
        const TPMS_PCR_SELECTION& s = got->pcrSelections[i];
        for (uint32_t pcr = 0; pcr < s.sizeofSelect * 8u && pcr <= kMaxPcr; ++pcr) {
          if ((s.pcrSelect[pcr / 8] & (1u << (pcr % 8))) == 0 || k >= values->count) continue;
          byPcr[pcr] = Bytes(values->digests[k++]);
          want.pcrSelections[0].pcrSelect[pcr / 8] &= ~(1u << (pcr % 8));
        }
      }
    }
    for (uint32_t pcr : pcrs_) digests_.push_back(byPcr[pcr]);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("updateCounter", Napi::Number::New(env, updateCounter_));
    Napi::Array digests = Napi::Array::New(env, digests_.size());
    for (size_t i = 0; i < digests_.size(); ++i) {
      digests.Set(static_cast<uint32_t>(i), ToBuffer(env, digests_[i]));
    }
    out.Set("digests", digests);
    return out;
  }

 private:
  TPMI_ALG_HASH bank_;
  std::vector<uint32_t> pcrs_;
  uint32_t updateCounter_ = 0;
  std::vector<std::vector<uint8_t>> digests_;
};

// Copies a signed attestation out of the ESYS-allocated buffers, which are freed here.
static void TakeAttested(TPM2B_ATTEST* rawAttest, TPMT_SIGNATURE* rawSig, Attested& out) {
  EsysPtr<TPM2B_ATTEST> attest(rawAttest);
  EsysPtr<TPMT_SIGNATURE> sig(rawSig);
  out.attest.assign(attest->attestationData, attest->attestationData + attest->size);
  out.signature = *sig;
}

class QuoteJob : public Job {
 public:
  QuoteJob(Context* ctx, TPM2_HANDLE ak, TPMI_ALG_HASH bank, std::vector<uint32_t> pcrs,
           std::vector<uint8_t> nonce)
      : Job(ctx), ak_(ak), bank_(bank), pcrs_(std::move(pcrs)), nonce_(std::move(nonce)) {}

 protected:
  void Run(Tss& tss) override {
    TPM2B_DATA nonce{};
    CopyInto(nonce, nonce_);
    TPMT_SIG_SCHEME scheme{};
    scheme.scheme = TPM2_ALG_NULL;  // the key's own scheme (ECDSA-SHA256)
    TPML_PCR_SELECTION sel = Selection(bank_, pcrs_);
    TPM2B_ATTEST* rawAttest = nullptr;
    TPMT_SIGNATURE* rawSig = nullptr;
    TSS2_RC rc = Esys_Quote(tss.esys, tss.Persistent(ak_), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &nonce, &scheme, &sel, &rawAttest, &rawSig);
    if (rc != TSS2_RC_SUCCESS) tss.Forget(ak_);
    Check(rc, "Esys_Quote");
    TakeAttested(rawAttest, rawSig, out_);
  }

  Napi::Value Result(Napi::Env env) override { return AttestedToJs(env, out_); }

 private:
  TPM2_HANDLE ak_;
  TPMI_ALG_HASH bank_;
  std::vector<uint32_t> pcrs_;
  std::vector<uint8_t> nonce_;
  Attested out_;
};

class CertifyJob : public Job {
 public:
  CertifyJob(Context* ctx, TPM2_HANDLE object, TPM2_HANDLE ak, std::vector<uint8_t> nonce)
      : Job(ctx), object_(object), ak_(ak), nonce_(std::move(nonce)) {}

 protected:
  void Run(Tss& tss) override {
    TPM2B_DATA nonce{};
    CopyInto(nonce, nonce_);
    TPMT_SIG_SCHEME scheme{};
    scheme.scheme = TPM2_ALG_NULL;
    TPM2B_ATTEST* rawAttest = nullptr;
    TPMT_SIGNATURE* rawSig = nullptr;
    // Two password sessions: one authorises use of the certified object, one the AK.
    TSS2_RC rc = Esys_Certify(tss.esys, tss.Persistent(object_), tss.Persistent(ak_),
                              ESYS_TR_PASSWORD, ESYS_TR_PASSWORD, ESYS_TR_NONE, &nonce, &scheme,
                              &rawAttest, &rawSig);
    if (rc != TSS2_RC_SUCCESS) {
      tss.Forget(object_);
      tss.Forget(ak_);
    }
    Check(rc, "Esys_Certify");
    TakeAttested(rawAttest, rawSig, out_);
  }

  Napi::Value Result(Napi::Env env) override { return AttestedToJs(env, out_); }

 private:
  TPM2_HANDLE object_, ak_;
  std::vector<uint8_t> nonce_;
  Attested out_;
};

TPMI_ALG_HASH Bank(const Napi::CallbackInfo& info, size_t i) {
  const uint32_t bank = ArgU32(info, i, "bank");
  if (bank != TPM2_ALG_SHA1 && bank != TPM2_ALG_SHA256 && bank != TPM2_ALG_SHA384 &&
      bank != TPM2_ALG_SHA512) {
    BadArgument(info.Env(), "bank", "a TPM hash algorithm id (sha1, sha256, sha384, sha512)");
  }
  return static_cast<TPMI_ALG_HASH>(bank);
}

}  // namespace

Job* MakePcrRead(Context* ctx, const Napi::CallbackInfo& info) {
  TPMI_ALG_HASH bank = Bank(info, 0);
  return new PcrReadJob(ctx, bank, ArgU32List(info, 1, "pcrs", kMaxPcr));
}

Job* MakeQuote(Context* ctx, const Napi::CallbackInfo& info) {
  const TPM2_HANDLE ak = ArgU32(info, 0, "akHandle");
  TPMI_ALG_HASH bank = Bank(info, 1);
  std::vector<uint32_t> pcrs = ArgU32List(info, 2, "pcrs", kMaxPcr);
  std::vector<uint8_t> nonce = ArgBytes(info, 3, "nonce", sizeof(TPMU_HA));
  return new QuoteJob(ctx, ak, bank, std::move(pcrs), std::move(nonce));
}

Job* MakeCertify(Context* ctx, const Napi::CallbackInfo& info) {
  const TPM2_HANDLE object = ArgU32(info, 0, "objectHandle");
  const TPM2_HANDLE ak = ArgU32(info, 1, "akHandle");
  std::vector<uint8_t> nonce = ArgBytes(info, 2, "nonce", sizeof(TPMU_HA));
  return new CertifyJob(ctx, object, ak, std::move(nonce));
}

}  // namespace tpm2
