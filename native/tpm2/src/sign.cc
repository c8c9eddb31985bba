// sign: ECDSA-SHA256 over a caller-computed digest with a persistent, unrestricted signing
// key. One TPM2_Sign per call (the key's ESYS_TR is cached), no transient objects at all.
#include "args.h"
#include "context.h"
#include "convert.h"
#include "job.h"
#include "jobs.h"

namespace tpm2 {
namespace {

class SignJob : public Job {
 public:
  SignJob(Context* ctx, TPM2_HANDLE handle, std::vector<uint8_t> digest)
      : Job(ctx), handle_(handle), digest_(std::move(digest)) {}

 protected:
  void Run(Tss& tss) override {
    TPM2B_DIGEST digest{};
    CopyInto(digest, digest_);
    TPMT_SIG_SCHEME scheme{};
    scheme.scheme = TPM2_ALG_ECDSA;
    scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    // A NULL ticket: fine for an unrestricted key, which may sign any digest.
    TPMT_TK_HASHCHECK validation{};
    validation.tag = TPM2_ST_HASHCHECK;
    validation.hierarchy = TPM2_RH_NULL;
    TPMT_SIGNATURE* raw = nullptr;
    TSS2_RC rc = Esys_Sign(tss.esys, tss.Persistent(handle_), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, &digest, &scheme, &validation, &raw);
    if (rc != TSS2_RC_SUCCESS) tss.Forget(handle_);
    Check(rc, "Esys_Sign");
    EsysPtr<TPMT_SIGNATURE> sig(raw);
    signature_ = *sig;
  }

  Napi::Value Result(Napi::Env env) override { return SignatureToJs(env, signature_); }

 private:
  TPM2_HANDLE handle_;
  std::vector<uint8_t> digest_;
  TPMT_SIGNATURE signature_{};
};

}  // namespace

Job* MakeSign(Context* ctx, const Napi::CallbackInfo& info) {
  const TPM2_HANDLE handle = ArgU32(info, 0, "handle");
  std::vector<uint8_t> digest = ArgBytes(info, 1, "digest", sizeof(TPMU_HA));
  return new SignJob(ctx, handle, std::move(digest));
}

}  // namespace tpm2
