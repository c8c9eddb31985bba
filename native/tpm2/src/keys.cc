// Key lifecycle: ensureKeys creates the ECDSA P-256 signing and attestation keys under a
// transient SRK and persists them (reusing any that already exist and are of the right
// kind), readPublic returns a key's public area, name and SPKI, evictPersistent removes one.
#include <tss2/tss2_mu.h>

#include <cstdio>

#include "args.h"
#include "context.h"
#include "convert.h"
#include "job.h"
#include "jobs.h"
#include "templates.h"

namespace tpm2 {
namespace {

std::string Hex(uint32_t handle) {
  char s[16];
  std::snprintf(s, sizeof(s), "0x%08x", handle);
  return s;
}

struct KeySpec {
  TPM2_HANDLE handle;
  KeyKind kind;
  bool created = false;
};

class EnsureKeysJob : public Job {
 public:
  EnsureKeysJob(Context* ctx, std::vector<KeySpec> specs) : Job(ctx), specs_(std::move(specs)) {}

 protected:
  void Run(Tss& tss) override {
    // The SRK is created only if some key is missing and flushed when this scope ends,
    // on success and on every error alike.
    std::unique_ptr<Transient> srk;
    for (KeySpec& spec : specs_) {
      if (PersistentExists(tss, spec.handle)) {
        CheckKind(tss, spec);
        continue;
      }
      if (!srk) srk = std::make_unique<Transient>(tss.esys, CreateSrk(tss));
      Create(tss, srk->get(), spec);
      spec.created = true;
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, specs_.size());
    for (size_t i = 0; i < specs_.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("handle", Napi::Number::New(env, specs_[i].handle));
      o.Set("created", Napi::Boolean::New(env, specs_[i].created));
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

 private:
  static void CheckKind(Tss& tss, const KeySpec& spec) {
    TPM2B_PUBLIC* raw = nullptr;
    Check(Esys_ReadPublic(tss.esys, tss.Persistent(spec.handle), ESYS_TR_NONE, ESYS_TR_NONE,
                          ESYS_TR_NONE, &raw, nullptr, nullptr),
          "Esys_ReadPublic");
    EsysPtr<TPM2B_PUBLIC> pub(raw);
    if (!MatchesKind(pub->publicArea, spec.kind)) {
      // Never evict silently: the object may belong to someone else.
      throw TssError{"ensureKeys", 0,
                     "persistent handle " + Hex(spec.handle) + " holds an object that is not " +
                         (spec.kind == KeyKind::Attestation ? "an attestation" : "a signing") +
                         " key (ECDSA P-256); evict it or configure another handle"};
    }
  }

  static void Create(Tss& tss, ESYS_TR srk, const KeySpec& spec) {
    TPM2B_SENSITIVE_CREATE sensitive{};
    TPM2B_PUBLIC templ = SigningKeyTemplate(spec.kind);
    TPM2B_DATA outside{};
    TPML_PCR_SELECTION pcrs{};
    TPM2B_PRIVATE* priv = nullptr;
    TPM2B_PUBLIC* pub = nullptr;
    Check(Esys_Create(tss.esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                      &templ, &outside, &pcrs, &priv, &pub, nullptr, nullptr, nullptr),
          "Esys_Create");
    EsysPtr<TPM2B_PRIVATE> privGuard(priv);
    EsysPtr<TPM2B_PUBLIC> pubGuard(pub);
    ESYS_TR loaded = ESYS_TR_NONE;
    Check(Esys_Load(tss.esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub,
                    &loaded),
          "Esys_Load");
    Transient key(tss.esys, loaded);
    Persist(tss, key.get(), spec.handle);
  }

  std::vector<KeySpec> specs_;
};

class ReadPublicJob : public Job {
 public:
  ReadPublicJob(Context* ctx, TPM2_HANDLE handle) : Job(ctx), handle_(handle) {}

 protected:
  void Run(Tss& tss) override {
    TPM2B_PUBLIC* rawPub = nullptr;
    TPM2B_NAME* rawName = nullptr;
    TSS2_RC rc = Esys_ReadPublic(tss.esys, tss.Persistent(handle_), ESYS_TR_NONE, ESYS_TR_NONE,
                                 ESYS_TR_NONE, &rawPub, &rawName, nullptr);
    if (rc != TSS2_RC_SUCCESS) tss.Forget(handle_);
    Check(rc, "Esys_ReadPublic");
    EsysPtr<TPM2B_PUBLIC> pub(rawPub);
    EsysPtr<TPM2B_NAME> name(rawName);
    type_ = pub->publicArea.type;
    attributes_ = pub->publicArea.objectAttributes;
    name_.assign(name->name, name->name + name->size);  // TPM2B_NAME calls it `name`
    spki_ = SpkiDer(pub->publicArea);
    // The marshalled TPMT_PUBLIC: what the object's name is a digest of.
    uint8_t buf[sizeof(TPMT_PUBLIC)];
    size_t offset = 0;
    Check(Tss2_MU_TPMT_PUBLIC_Marshal(&pub->publicArea, buf, sizeof(buf), &offset),
          "Tss2_MU_TPMT_PUBLIC_Marshal");
    publicArea_.assign(buf, buf + offset);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("type", Napi::Number::New(env, type_));
    out.Set("attributes", Napi::Number::New(env, attributes_));
    out.Set("name", ToBuffer(env, name_));
    out.Set("publicArea", ToBuffer(env, publicArea_));
    out.Set("spki", spki_.empty() ? env.Null() : ToBuffer(env, spki_));
    return out;
  }

 private:
  TPM2_HANDLE handle_;
  uint16_t type_ = 0;
  uint32_t attributes_ = 0;
  std::vector<uint8_t> name_, publicArea_, spki_;
};

class EvictJob : public Job {
 public:
  EvictJob(Context* ctx, TPM2_HANDLE handle) : Job(ctx), handle_(handle) {}

 protected:
  void Run(Tss& tss) override { Evict(tss, handle_); }

 private:
  TPM2_HANDLE handle_;
};

}  // namespace

Job* MakeEnsureKeys(Context* ctx, const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) BadArgument(env, "keys", "an array of {handle, kind}");
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<KeySpec> specs;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsObject()) BadArgument(env, "keys", "an array of {handle, kind}");
    Napi::Object o = v.As<Napi::Object>();
    Napi::Value handle = o.Get("handle");
    Napi::Value kind = o.Get("kind");
    if (!handle.IsNumber() || !kind.IsString()) BadArgument(env, "keys", "{handle, kind}");
    const std::string k = kind.As<Napi::String>().Utf8Value();
    if (k != "signing" && k != "attestation") {
      BadArgument(env, "kind", "'signing' or 'attestation'");
    }
    specs.push_back({handle.As<Napi::Number>().Uint32Value(),
                     k == "attestation" ? KeyKind::Attestation : KeyKind::Signing});
  }
  return new EnsureKeysJob(ctx, std::move(specs));
}

Job* MakeReadPublic(Context* ctx, const Napi::CallbackInfo& info) {
  return new ReadPublicJob(ctx, ArgU32(info, 0, "handle"));
}

Job* MakeEvict(Context* ctx, const Napi::CallbackInfo& info) {
  return new EvictJob(ctx, ArgU32(info, 0, "handle"));
}

}  // namespace tpm2
