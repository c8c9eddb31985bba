// getRandom and listHandles: the TPM's RNG (looped, since one TPM2_GetRandom returns at
// most a digest's worth of bytes) and the handles in a range, which tests use to prove
// that no transient object or session outlives its operation.
#include "args.h"
#include "context.h"
#include "convert.h"
#include "job.h"
#include "jobs.h"

namespace tpm2 {
namespace {

constexpr uint32_t kMaxRandom = 1 << 20;

class GetRandomJob : public Job {
 public:
  GetRandomJob(Context* ctx, uint32_t n) : Job(ctx), n_(n) {}

 protected:
  void Run(Tss& tss) override {
    out_.reserve(n_);
    while (out_.size() < n_) {
      const uint32_t want = std::min<uint32_t>(n_ - out_.size(), sizeof(TPMU_HA));
      TPM2B_DIGEST* raw = nullptr;
      Check(Esys_GetRandom(tss.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, want, &raw),
            "Esys_GetRandom");
      EsysPtr<TPM2B_DIGEST> bytes(raw);
      if (bytes->size == 0) throw TssError{"Esys_GetRandom", 0, "the TPM returned no bytes"};
      out_.insert(out_.end(), bytes->buffer, bytes->buffer + bytes->size);
    }
    out_.resize(n_);
  }
  Napi::Value Result(Napi::Env env) override { return ToBuffer(env, out_); }

 private:
  uint32_t n_;
  std::vector<uint8_t> out_;
};

class ListHandlesJob : public Job {
 public:
  ListHandlesJob(Context* ctx, uint32_t first) : Job(ctx), first_(first) {}

 protected:
  void Run(Tss& tss) override { handles_ = ListHandles(tss, first_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, handles_.size());
    for (size_t i = 0; i < handles_.size(); ++i) {
      out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, handles_[i]));
    }
    return out;
  }

 private:
  uint32_t first_;
  std::vector<TPM2_HANDLE> handles_;
};

}  // namespace

Job* MakeGetRandom(Context* ctx, const Napi::CallbackInfo& info) {
  const uint32_t n = ArgU32(info, 0, "size");
  if (n > kMaxRandom) BadArgument(info.Env(), "size", "at most 1048576 bytes");
  return new GetRandomJob(ctx, n);
}

Job* MakeListHandles(Context* ctx, const Napi::CallbackInfo& info) {
  return new ListHandlesJob(ctx, ArgU32(info, 0, "first"));
}

}  // namespace tpm2
