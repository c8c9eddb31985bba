// HMAC keys held by the TPM (the IoT Hub SAS key): importHmacKey seals caller-supplied key
// bytes into a persistent keyed-hash object, sending them encrypted under a session salted
// with the SRK so the key never crosses the TPM bus in clear; hmac computes HMAC-SHA256.
#include "args.h"
#include "context.h"
#include "convert.h"
#include "job.h"
#include "jobs.h"
#include "templates.h"

namespace tpm2 {
namespace {

constexpr size_t kChunk = TPM2_MAX_DIGEST_BUFFER;
constexpr size_t kMaxHmacData = 16u << 20;

class ImportHmacKeyJob : public Job {
 public:
  ImportHmacKeyJob(Context* ctx, TPM2_HANDLE handle, SecretBytes key)
      : Job(ctx), handle_(handle), key_(std::move(key)) {}

 protected:
  void Run(Tss& tss) override {
    Transient srk(tss.esys, CreateSrk(tss));
    ESYS_TR rawSession = ESYS_TR_NONE;
    TPMT_SYM_DEF sym{};
    sym.algorithm = TPM2_ALG_AES;
    sym.keyBits.aes = 128;
    sym.mode.aes = TPM2_ALG_CFB;
    Check(Esys_StartAuthSession(tss.esys, srk.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                ESYS_TR_NONE, nullptr, TPM2_SE_HMAC, &sym, TPM2_ALG_SHA256,
                                &rawSession),
          "Esys_StartAuthSession");
    // continueSession keeps the TPM from flushing it on success only; the guard flushes
    // it on every path so a failed Create cannot leave a session slot taken.
    Transient session(tss.esys, rawSession);
    Check(Esys_TRSess_SetAttributes(tss.esys, session.get(),
                                    TPMA_SESSION_DECRYPT | TPMA_SESSION_CONTINUESESSION, 0xff),
          "Esys_TRSess_SetAttributes");

    TPM2B_SENSITIVE_CREATE sensitive{};
    CopyInto(sensitive.sensitive.data, key_.bytes());
    TPM2B_PUBLIC templ = HmacKeyTemplate();
    TPM2B_DATA outside{};
    TPML_PCR_SELECTION pcrs{};
    TPM2B_PRIVATE* priv = nullptr;
    TPM2B_PUBLIC* pub = nullptr;
    TSS2_RC rc = Esys_Create(tss.esys, srk.get(), session.get(), ESYS_TR_NONE, ESYS_TR_NONE,
                             &sensitive, &templ, &outside, &pcrs, &priv, &pub, nullptr, nullptr,
                             nullptr);
    Wipe(&sensitive, sizeof(sensitive));
    Check(rc, "Esys_Create");
    EsysPtr<TPM2B_PRIVATE> privGuard(priv);
    EsysPtr<TPM2B_PUBLIC> pubGuard(pub);

    ESYS_TR loaded = ESYS_TR_NONE;
    Check(Esys_Load(tss.esys, srk.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub,
                    &loaded),
          "Esys_Load");
    Transient key(tss.esys, loaded);
    // Replace an earlier key only once the new one is loaded, to keep the window in
    // which no key is persisted as short as possible.
    if (PersistentExists(tss, handle_)) Evict(tss, handle_);
    Persist(tss, key.get(), handle_);
  }

 private:
  TPM2_HANDLE handle_;
  SecretBytes key_;
};

class HmacJob : public Job {
 public:
  HmacJob(Context* ctx, TPM2_HANDLE handle, std::vector<uint8_t> data)
      : Job(ctx), handle_(handle), data_(std::move(data)) {}

 protected:
  void Run(Tss& tss) override {
    try {
      ESYS_TR key = tss.Persistent(handle_);
      mac_ = data_.size() <= kChunk ? OneShot(tss, key) : Sequence(tss, key);
    } catch (const TssError&) {
      tss.Forget(handle_);
      throw;
    }
  }

  Napi::Value Result(Napi::Env env) override { return ToBuffer(env, mac_); }

 private:
  std::vector<uint8_t> OneShot(Tss& tss, ESYS_TR key) {
    TPM2B_MAX_BUFFER buffer{};
    CopyInto(buffer, data_);
    TPM2B_DIGEST* raw = nullptr;
    Check(Esys_HMAC(tss.esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &buffer,
                    TPM2_ALG_SHA256, &raw),
          "Esys_HMAC");
    EsysPtr<TPM2B_DIGEST> mac(raw);
    return Bytes(*mac);
  }

  // Data longer than one TPM input buffer goes through an HMAC sequence object, which
  // is transient: the guard flushes it if any step fails before SequenceComplete.
  std::vector<uint8_t> Sequence(Tss& tss, ESYS_TR key) {
    TPM2B_AUTH auth{};
    ESYS_TR raw = ESYS_TR_NONE;
    Check(Esys_HMAC_Start(tss.esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &auth,
                          TPM2_ALG_SHA256, &raw),
          "Esys_HMAC_Start");
    Transient seq(tss.esys, raw);
    size_t offset = 0;
    TPM2B_MAX_BUFFER chunk{};
    while (data_.size() - offset > kChunk) {
      chunk.size = kChunk;
      std::copy(data_.begin() + offset, data_.begin() + offset + kChunk, chunk.buffer);
      Check(Esys_SequenceUpdate(tss.esys, seq.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &chunk),
            "Esys_SequenceUpdate");
      offset += kChunk;
    }
    chunk.size = static_cast<uint16_t>(data_.size() - offset);
    std::copy(data_.begin() + offset, data_.end(), chunk.buffer);
    TPM2B_DIGEST* rawMac = nullptr;
    Check(Esys_SequenceComplete(tss.esys, seq.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &chunk, ESYS_TR_RH_NULL, &rawMac, nullptr),
          "Esys_SequenceComplete");
    seq.Consumed();  // the TPM flushed it and ESYS closed its ESYS_TR
    EsysPtr<TPM2B_DIGEST> mac(rawMac);
    return Bytes(*mac);
  }

  TPM2_HANDLE handle_;
  std::vector<uint8_t> data_;
  std::vector<uint8_t> mac_;
};

}  // namespace

Job* MakeImportHmacKey(Context* ctx, const Napi::CallbackInfo& info) {
  const TPM2_HANDLE handle = ArgU32(info, 0, "handle");
  // TPM2B_SENSITIVE_DATA bounds the key; the TPM may refuse a key longer than the hash
  // block (64 bytes for SHA-256) and says so with TPM_RC_SIZE.
  SecretBytes key(ArgBytes(info, 1, "key", sizeof(TPM2B_SENSITIVE_DATA::buffer)));
  if (key.bytes().empty()) BadArgument(info.Env(), "key", "a non-empty Buffer");
  return new ImportHmacKeyJob(ctx, handle, std::move(key));
}

Job* MakeHmac(Context* ctx, const Napi::CallbackInfo& info) {
  const TPM2_HANDLE handle = ArgU32(info, 0, "handle");
  return new HmacJob(ctx, handle, ArgBytes(info, 1, "data", kMaxHmacData));
}

}  // namespace tpm2
