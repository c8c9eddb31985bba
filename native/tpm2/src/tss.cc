// Lifetime of the TSS state and the helpers shared by the operations: handle listing,
// the SRK, persisting and evicting. Runs on worker threads under Tss::mu.
#include "tss.h"

#include <cstring>

#include "templates.h"

namespace tpm2 {

void Wipe(void* p, size_t n) {
  // volatile stores so the compiler cannot drop the wipe of memory about to be freed.
  volatile uint8_t* v = static_cast<volatile uint8_t*>(p);
  while (n--) *v++ = 0;
}

SecretBytes::~SecretBytes() {
  if (!bytes_.empty()) Wipe(bytes_.data(), bytes_.size());
}

Tss::~Tss() {
  std::lock_guard<std::mutex> lock(mu);
  Close();
}

void Tss::Close() {
  if (esys != nullptr) {
    for (auto& entry : persistent) Esys_TR_Close(esys, &entry.second);
    persistent.clear();
    Esys_Finalize(&esys);
    esys = nullptr;
  }
  if (tcti != nullptr) {
    Tss2_TctiLdr_Finalize(&tcti);
    tcti = nullptr;
  }
}

ESYS_TR Tss::Persistent(TPM2_HANDLE handle) {
  auto it = persistent.find(handle);
  if (it != persistent.end()) return it->second;
  ESYS_TR tr = ESYS_TR_NONE;
  Check(Esys_TR_FromTPMPublic(esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr),
        "Esys_TR_FromTPMPublic");
  persistent[handle] = tr;
  return tr;
}

void Tss::Forget(TPM2_HANDLE handle) {
  auto it = persistent.find(handle);
  if (it == persistent.end()) return;
  Esys_TR_Close(esys, &it->second);
  persistent.erase(it);
}

void Tss::Remember(TPM2_HANDLE handle, ESYS_TR tr) {
  Forget(handle);
  persistent[handle] = tr;
}

Transient::~Transient() {
  // Best effort: if the TPM is unreachable the flush fails too, and a restarted TPM
  // has dropped its transient objects anyway.
  if (tr_ != ESYS_TR_NONE && esys_ != nullptr) Esys_FlushContext(esys_, tr_);
}

std::vector<TPM2_HANDLE> ListHandles(Tss& tss, TPM2_HANDLE first) {
  std::vector<TPM2_HANDLE> out;
  const TPM2_HANDLE type = first & TPM2_HR_RANGE_MASK;
  TPM2_HANDLE next = first;
  TPMI_YES_NO more = TPM2_YES;
  while (more == TPM2_YES) {
    TPMS_CAPABILITY_DATA* raw = nullptr;
    Check(Esys_GetCapability(tss.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                             next, TPM2_MAX_CAP_HANDLES, &more, &raw),
          "Esys_GetCapability");
    EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
    const TPML_HANDLE& list = data->data.handles;
    if (list.count == 0) break;
    for (uint32_t i = 0; i < list.count; ++i) {
      // The TPM continues into the next range when this one is exhausted.
      if ((list.handle[i] & TPM2_HR_RANGE_MASK) != type) return out;
      out.push_back(list.handle[i]);
    }
    next = out.back() + 1;
  }
  return out;
}

bool PersistentExists(Tss& tss, TPM2_HANDLE handle) {
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TPMI_YES_NO more = TPM2_NO;
  // Asking for one handle starting at `handle` answers existence without the error
  // (and the ESYS error log) that TR_FromTPMPublic gives for a missing object.
  Check(Esys_GetCapability(tss.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                           handle, 1, &more, &raw),
        "Esys_GetCapability");
  EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
  return data->data.handles.count == 1 && data->data.handles.handle[0] == handle;
}

ESYS_TR CreateSrk(Tss& tss) {
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_PUBLIC templ = SrkTemplate();
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION pcrs{};
  ESYS_TR srk = ESYS_TR_NONE;
  Check(Esys_CreatePrimary(tss.esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, &sensitive, &templ, &outside, &pcrs, &srk, nullptr,
                           nullptr, nullptr, nullptr),
        "Esys_CreatePrimary");
  return srk;
}

void Persist(Tss& tss, ESYS_TR loaded, TPM2_HANDLE handle) {
  ESYS_TR persisted = ESYS_TR_NONE;
  Check(Esys_EvictControl(tss.esys, ESYS_TR_RH_OWNER, loaded, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                          ESYS_TR_NONE, handle, &persisted),
        "Esys_EvictControl");
  tss.Remember(handle, persisted);
}

void Evict(Tss& tss, TPM2_HANDLE handle) {
  ESYS_TR tr = tss.Persistent(handle);
  ESYS_TR none = ESYS_TR_NONE;
  TSS2_RC rc = Esys_EvictControl(tss.esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                 ESYS_TR_NONE, handle, &none);
  // Whether it worked or not, the cached ESYS_TR no longer describes a live object we trust.
  tss.Forget(handle);
  Check(rc, "Esys_EvictControl");
}

}  // namespace tpm2
