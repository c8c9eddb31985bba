// The per-context TSS state (ESYS + TCTI) and the RAII helpers every operation uses.
// Everything here runs on a libuv worker thread under Tss::mu, never on the JS thread,
// and every transient TPM object is owned by a guard so each error path flushes it.
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tpm2 {

// A failed TSS/TPM call: the failing function, its TSS2 return code (0 when the failure
// is ours, e.g. a key of the wrong type) and an optional explanation.
struct TssError {
  std::string operation;
  TSS2_RC rc = 0;
  std::string detail;
};

inline void Check(TSS2_RC rc, const char* operation) {
  if (rc != TSS2_RC_SUCCESS) throw TssError{operation, rc, {}};
}

// ESYS allocates every output with malloc; Esys_Free releases it.
struct EsysFree {
  void operator()(void* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFree>;

// Secret bytes (HMAC keys) are wiped before their memory is returned.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&&) = default;
  SecretBytes& operator=(SecretBytes&&) = default;
  ~SecretBytes();
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

void Wipe(void* p, size_t n);

// One open connection to a TPM. The mutex is held for a whole operation so two threads
// never drive the same ESYS context, even if a bug queued two jobs at once.
struct Tss {
  std::mutex mu;
  ESYS_CONTEXT* esys = nullptr;
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  // ESYS_TR of persistent objects, cached so a sign is one TPM command, not two.
  std::map<TPM2_HANDLE, ESYS_TR> persistent;

  ~Tss();
  // Caller holds mu. Idempotent.
  void Close();
  // ESYS_TR for a persistent handle (TPM2_ReadPublic on first use).
  ESYS_TR Persistent(TPM2_HANDLE handle);
  // Drops a cached ESYS_TR, e.g. after an error that may mean the object changed.
  void Forget(TPM2_HANDLE handle);
  // Records the ESYS_TR EvictControl returned for a newly persisted object.
  void Remember(TPM2_HANDLE handle, ESYS_TR tr);
};

// A transient TPM object (key, primary, sequence, session) flushed when the guard dies,
// whatever path the operation takes out of its scope.
class Transient {
 public:
  Transient(ESYS_CONTEXT* esys, ESYS_TR tr) : esys_(esys), tr_(tr) {}
  Transient(const Transient&) = delete;
  Transient& operator=(const Transient&) = delete;
  ~Transient();
  ESYS_TR get() const { return tr_; }
  // The TPM consumed the object itself (e.g. SequenceComplete); nothing left to flush.
  void Consumed() { tr_ = ESYS_TR_NONE; }

 private:
  ESYS_CONTEXT* esys_;
  ESYS_TR tr_;
};

// Handles currently in one TPM handle range (first = start of the range).
std::vector<TPM2_HANDLE> ListHandles(Tss& tss, TPM2_HANDLE first);
bool PersistentExists(Tss& tss, TPM2_HANDLE handle);

// The storage root key, created fresh from the standard template for one operation.
ESYS_TR CreateSrk(Tss& tss);

// Makes a loaded transient object persistent at `handle` and caches its ESYS_TR.
void Persist(Tss& tss, ESYS_TR loaded, TPM2_HANDLE handle);
// Evicts the persistent object at `handle`.
void Evict(Tss& tss, TPM2_HANDLE handle);

template <typename T2B>
void CopyInto(T2B& dst, const std::vector<uint8_t>& src) {
  // Callers validate sizes when parsing arguments; this guards the struct regardless.
  if (src.size() > sizeof(dst.buffer)) throw TssError{"copy", 0, "input too large"};
  dst.size = static_cast<uint16_t>(src.size());
  if (!src.empty()) std::copy(src.begin(), src.end(), dst.buffer);
}

}  // namespace tpm2
