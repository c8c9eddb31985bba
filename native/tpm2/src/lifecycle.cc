// open and close: the TCTI loader turns a configuration string ("swtpm:host=..,port=..",
// "device:/dev/tpmrm0", "mssim:...") into a transport, ESYS runs on top of it, and a first
// GetCapability proves a TPM answers before open() resolves.
#include <string>

#include "args.h"
#include "context.h"
#include "job.h"
#include "jobs.h"

namespace tpm2 {
namespace {

std::string FourChars(uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) {
    char c = static_cast<char>((v >> shift) & 0xff);
    if (c >= 0x20 && c < 0x7f) s.push_back(c);
  }
  return s;
}

class OpenJob : public Job {
 public:
  OpenJob(Context* ctx, std::string conf) : Job(ctx), conf_(std::move(conf)) {}

 protected:
  bool NeedsOpen() const override { return false; }

  void Run(Tss& tss) override {
    if (tss.esys != nullptr) throw TssError{"open", 0, "already open"};
    try {
      Check(Tss2_TctiLdr_Initialize(conf_.empty() ? nullptr : conf_.c_str(), &tss.tcti),
            "Tss2_TctiLdr_Initialize");
      Check(Esys_Initialize(&tss.esys, tss.tcti, nullptr), "Esys_Initialize");
      ReadIdentity(tss);
    } catch (...) {
      tss.Close();
      throw;
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("manufacturer", manufacturer_);
    out.Set("vendor", vendor_);
    out.Set("firmware", firmware_);
    return out;
  }

 private:
  void ReadIdentity(Tss& tss) {
    TPMS_CAPABILITY_DATA* raw = nullptr;
    TPMI_YES_NO more = TPM2_NO;
    Check(Esys_GetCapability(tss.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                             TPM2_CAP_TPM_PROPERTIES, TPM2_PT_MANUFACTURER, 8, &more, &raw),
          "Esys_GetCapability");
    EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
    uint32_t fw1 = 0, fw2 = 0;
    const TPML_TAGGED_TPM_PROPERTY& props = data->data.tpmProperties;
    for (uint32_t i = 0; i < props.count; ++i) {
      const uint32_t value = props.tpmProperty[i].value;
      switch (props.tpmProperty[i].property) {
        case TPM2_PT_MANUFACTURER: manufacturer_ = FourChars(value); break;
        case TPM2_PT_VENDOR_STRING_1:
        case TPM2_PT_VENDOR_STRING_2:
        case TPM2_PT_VENDOR_STRING_3:
        case TPM2_PT_VENDOR_STRING_4: vendor_ += FourChars(value); break;
        case TPM2_PT_FIRMWARE_VERSION_1: fw1 = value; break;
        case TPM2_PT_FIRMWARE_VERSION_2: fw2 = value; break;
        default: break;
      }
    }
    char fw[32];
    std::snprintf(fw, sizeof(fw), "%08x.%08x", fw1, fw2);
    firmware_ = fw;
  }

  std::string conf_;
  std::string manufacturer_, vendor_, firmware_;
};

class CloseJob : public Job {
 public:
  explicit CloseJob(Context* ctx) : Job(ctx) {}

 protected:
  bool NeedsOpen() const override { return false; }
  void Run(Tss& tss) override { tss.Close(); }
};

}  // namespace

Job* MakeOpen(Context* ctx, const Napi::CallbackInfo& info) {
  return new OpenJob(ctx, ArgString(info, 0, "tcti"));
}

Job* MakeClose(Context* ctx, const Napi::CallbackInfo&) { return new CloseJob(ctx); }

}  // namespace tpm2
