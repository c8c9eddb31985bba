// A fake V4L2 camera in user space, loaded with LD_PRELOAD, so the native capture addon runs
// unchanged on machines without /dev/video* or kernel modules (no vivid, no v4l2loopback).
// It answers open/access/ioctl/mmap/poll for /dev/videoN; each open is a real timerfd that
// becomes readable when a frame is due, so libuv's epoll wait works as with a real device.
// A timerfd cannot report an error itself, so epoll_wait/epoll_pwait add POLLERR to the
// events of a descriptor in error (libuv keeps the descriptor in epoll_event.data.fd).
//
// Environment (read once, at load):
//   FAKE_V4L2_DEVICES=n         number of devices /dev/video0..n-1 (default 1, at most 64)
//   FAKE_V4L2_FRAMES=<folder>   its *.jpg/*.jpeg files are served, in name order, as MJPEG at
//                               the size of the first file; without it only YUYV/NV12 exist
//   FAKE_V4L2_UNPLUG_AFTER=n    after n frames of a stream the device is gone: DQBUF and every
//                               other ioctl fail with ENODEV, poll() reports POLLERR|POLLHUP
//   FAKE_V4L2_GONE_MS=ms        after an unplug, open/access fail with ENOENT for ms (default 0)
//   FAKE_V4L2_POLLERR_AFTER=n   after n frames the stream fails as a V4L2 queue does when its
//                               device resets: poll and epoll report POLLERR, DQBUF has no
//                               frame (EAGAIN), other ioctls still work
//   FAKE_V4L2_EIO_AFTER=n       after n frames DQBUF fails with EIO
//   FAKE_V4L2_STALL_AFTER=n     after n frames no frame is ever due again (0: none ever)
//   FAKE_V4L2_STRIP_DHT=1       MJPEG frames lose their DHT segments (as many UVC cameras send)
//   FAKE_V4L2_ODD=1             raw formats are offered at 322x242 with rows padded to 128 bytes
#include "fake-v4l2.h"

#define EXPORT __attribute__((visibility("default")))

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*openat2_fn)(int, const char *, int);
typedef int (*access_fn)(const char *, int);
typedef int (*close_fn)(int);
typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*munmap_fn)(void *, size_t);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*epoll_wait_fn)(int, struct epoll_event *, int, int);
typedef int (*epoll_pwait_fn)(int, struct epoll_event *, int, int, const sigset_t *);

static struct {
  open_fn open, open64;
  openat_fn openat, openat64;
  open2_fn open_2, open64_2;
  openat2_fn openat_2;
  access_fn access;
  close_fn close;
  ioctl_fn ioctl;
  mmap_fn mmap, mmap64;
  munmap_fn munmap;
  poll_fn poll;
  epoll_wait_fn epoll_wait;
  epoll_pwait_fn epoll_pwait;
} real;

/* The next definition of a symbol (libc's), looked up once. */
static void *next_sym(void **slot, const char *name) {
  if (!*slot) *slot = dlsym(RTLD_NEXT, name);
  return *slot;
}
#define REAL(name, sym) ((__typeof__(real.name))next_sym((void **)&real.name, sym))

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
config_t cfg;
device_t devs[MAX_DEVICES];
ffd_t fds[MAX_FDS];
map_t maps[MAX_MAPS];
volatile int any_error;

int real_close(int fd) { return REAL(close, "close")(fd); }
int real_poll(struct pollfd *pfds, nfds_t n, int timeout) { return REAL(poll, "poll")(pfds, n, timeout); }

static long env_long(const char *name, long dflt) {
  const char *v = getenv(name);
  return v && *v ? strtol(v, NULL, 10) : dflt;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_jpeg_name(const char *n) {
  const char *dot = strrchr(n, '.');
  return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

/* The frame size from the first SOF marker, or 0 when there is none. */
static void jpeg_size(const unsigned char *d, size_t n, uint32_t *w, uint32_t *h) {
  size_t i = 2;
  *w = *h = 0;
  while (i + 9 < n && d[i] == 0xff) {
    unsigned m = d[i + 1];
    size_t len = ((size_t)d[i + 2] << 8) | d[i + 3];
    if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
      *h = ((uint32_t)d[i + 5] << 8) | d[i + 6];
      *w = ((uint32_t)d[i + 7] << 8) | d[i + 8];
      return;
    }
    if (m == 0xda) return;
    i += 2 + len;
  }
}

/* Removes every DHT segment that precedes the scan, in place; returns the new length. */
static size_t strip_dht(unsigned char *d, size_t n) {
  size_t i = 2, o = 2;
  while (i + 4 <= n && d[i] == 0xff && d[i + 1] != 0xda) {
    size_t len = ((size_t)d[i + 2] << 8) | d[i + 3];
    if (i + 2 + len > n) break;
    if (d[i + 1] != 0xc4) {
      memmove(d + o, d + i, 2 + len);
      o += 2 + len;
    }
    i += 2 + len;
  }
  memmove(d + o, d + i, n - i);
  return o + (n - i);
}

static void load_jpegs(const char *dir) {
  DIR *dp = opendir(dir);
  if (!dp) {
    fprintf(stderr, "fake-v4l2: cannot read FAKE_V4L2_FRAMES=%s: %s\n", dir, strerror(errno));
    return;
  }
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(dp))) {
    if (!is_jpeg_name(e->d_name)) continue;
    names = realloc(names, (n + 1) * sizeof *names);
    names[n++] = strdup(e->d_name);
  }
  closedir(dp);
  qsort(names, n, sizeof *names, cmp_names);
  cfg.jpegs = calloc(n ? n : 1, sizeof(jpeg_t));
  for (size_t i = 0; i < n; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    FILE *f = fopen(path, "rb");
    if (f) {
      fseek(f, 0, SEEK_END);
      long len = ftell(f);
      fseek(f, 0, SEEK_SET);
      unsigned char *d = malloc(len > 0 ? (size_t)len : 1);
      if (len > 0 && fread(d, 1, (size_t)len, f) == (size_t)len) {
        size_t l = (size_t)len;
        if (cfg.strip_dht) l = strip_dht(d, l);
        cfg.jpegs[cfg.njpegs].data = d;
        cfg.jpegs[cfg.njpegs++].len = l;
      } else {
        free(d);
      }
      fclose(f);
    }
    free(names[i]);
  }
  free(names);
  if (cfg.njpegs) jpeg_size(cfg.jpegs[0].data, cfg.jpegs[0].len, &cfg.jw, &cfg.jh);
  if (cfg.njpegs && (!cfg.jw || !cfg.jh)) {
    fprintf(stderr, "fake-v4l2: the first JPEG in %s has no frame header; MJPEG is not offered\n", dir);
    cfg.njpegs = 0;
  }
}

__attribute__((constructor)) static void fake_init(void) {
  cfg.devices = (int)env_long("FAKE_V4L2_DEVICES", 1);
  if (cfg.devices < 0) cfg.devices = 0;
  if (cfg.devices > MAX_DEVICES) cfg.devices = MAX_DEVICES;
  cfg.unplug_after = env_long("FAKE_V4L2_UNPLUG_AFTER", -1);
  cfg.gone_ms = env_long("FAKE_V4L2_GONE_MS", 0);
  cfg.eio_after = env_long("FAKE_V4L2_EIO_AFTER", -1);
  cfg.pollerr_after = env_long("FAKE_V4L2_POLLERR_AFTER", -1);
  cfg.stall_after = env_long("FAKE_V4L2_STALL_AFTER", -1);
  cfg.strip_dht = env_long("FAKE_V4L2_STRIP_DHT", 0) != 0;
  cfg.odd = env_long("FAKE_V4L2_ODD", 0) != 0;
  for (int i = 0; i < MAX_DEVICES; i++) {
    devs[i].brightness = 0;
    devs[i].power_line = 1;
    devs[i].exposure_auto = 3;
    devs[i].exposure_abs = 156;
    devs[i].owner = -1;
  }
  const char *dir = getenv("FAKE_V4L2_FRAMES");
  if (dir && *dir) load_jpegs(dir);
}

/* ---- devices and descriptors ---- */

static int device_index(const char *path) {
  if (!path || strncmp(path, "/dev/video", 10) != 0) return -1;
  const char *p = path + 10;
  if (!*p) return -1;
  int n = 0;
  for (; *p; p++) {
    if (!isdigit((unsigned char)*p) || n > MAX_DEVICES) return -1;
    n = n * 10 + (*p - '0');
  }
  return n;
}

static int now_before(const struct timespec *t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec < t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec < t->tv_nsec);
}

static int device_present(int idx) {
  return idx >= 0 && idx < cfg.devices && !now_before(&devs[idx].gone_until);
}

static ffd_t *lookup(int fd) {
  for (int i = 0; i < MAX_FDS; i++)
    if (fds[i].used && fds[i].fd == fd) return &fds[i];
  return NULL;
}

/* ---- the intercepted calls ---- */

static int fake_open(const char *path) {
  int idx = device_index(path);
  pthread_mutex_lock(&lock);
  if (!device_present(idx)) {
    pthread_mutex_unlock(&lock);
    errno = ENOENT;
    return -1;
  }
  int slot = -1;
  for (int i = 0; i < MAX_FDS && slot < 0; i++)
    if (!fds[i].used) slot = i;
  int fd = slot < 0 ? -1 : timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) {
    pthread_mutex_unlock(&lock);
    errno = slot < 0 ? EMFILE : errno;
    return -1;
  }
  ffd_t *f = &fds[slot];
  memset(f, 0, sizeof *f);
  f->used = 1;
  f->fd = fd;
  f->dev = idx;
  f->tpf_num = 1;
  f->tpf_den = 30;
  uint32_t w = 640, h = 480;
  (void)nformats();
  size_at(formats[0], 0, &w, &h);
  set_geometry(f, formats[0], w, h);
  pthread_mutex_unlock(&lock);
  return fd;
}

#define OPEN_BODY(call)                                                                            \
  if (device_index(path) >= 0) {                                                                   \
    int fd = fake_open(path);                                                                      \
    if (fd >= 0) {                                                                                 \
      pthread_mutex_lock(&lock);                                                                   \
      lookup(fd)->nonblock = (flags & O_NONBLOCK) != 0;                                            \
      pthread_mutex_unlock(&lock);                                                                 \
    }                                                                                              \
    return fd;                                                                                     \
  }                                                                                                \
  return call;

static mode_t open_mode(int flags, va_list ap) {
  return (flags & (O_CREAT | __O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = open_mode(flags, ap);
  va_end(ap);
  OPEN_BODY(REAL(open, "open")(path, flags, mode))
}

EXPORT int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = open_mode(flags, ap);
  va_end(ap);
  OPEN_BODY(REAL(open64, "open64")(path, flags, mode))
}

EXPORT int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = open_mode(flags, ap);
  va_end(ap);
  OPEN_BODY(REAL(openat, "openat")(dirfd, path, flags, mode))
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = open_mode(flags, ap);
  va_end(ap);
  OPEN_BODY(REAL(openat64, "openat64")(dirfd, path, flags, mode))
}

/* The fortified entry points that _FORTIFY_SOURCE builds call instead of open/openat. */
EXPORT int __open_2(const char *path, int flags) { OPEN_BODY(REAL(open_2, "__open_2")(path, flags)) }
EXPORT int __open64_2(const char *path, int flags) { OPEN_BODY(REAL(open64_2, "__open64_2")(path, flags)) }
EXPORT int __openat_2(int dirfd, const char *path, int flags) { OPEN_BODY(REAL(openat_2, "__openat_2")(dirfd, path, flags)) }

EXPORT int access(const char *path, int mode) {
  int idx = device_index(path);
  if (idx < 0) return REAL(access, "access")(path, mode);
  pthread_mutex_lock(&lock);
  int present = device_present(idx);
  pthread_mutex_unlock(&lock);
  if (present && !(mode & X_OK)) return 0;
  errno = present ? EACCES : ENOENT;
  return -1;
}

EXPORT int close(int fd) {
  pthread_mutex_lock(&lock);
  ffd_t *f = lookup(fd);
  if (f) {
    free_buffers(f);
    f->used = 0;
  }
  pthread_mutex_unlock(&lock);
  return REAL(close, "close")(fd);
}

EXPORT int ioctl(int fd, unsigned long req, ...) {
  va_list ap;
  va_start(ap, req);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  pthread_mutex_lock(&lock);
  ffd_t *f = lookup(fd);
  if (!f) {
    pthread_mutex_unlock(&lock);
    return REAL(ioctl, "ioctl")(fd, req, arg);
  }
  int err = fake_ioctl(f, req, arg);
  pthread_mutex_unlock(&lock);
  if (err) {
    errno = err;
    return -1;
  }
  return 0;
}

static void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, mmap_fn next) {
  pthread_mutex_lock(&lock);
  ffd_t *f = lookup(fd);
  if (!f) {
    pthread_mutex_unlock(&lock);
    return next(addr, len, prot, flags, fd, off);
  }
  int idx = f->span ? (int)((size_t)off / f->span) : -1;
  if (f->unplugged || idx < 0 || idx >= f->nbufs || (size_t)off % f->span || len > f->span) {
    pthread_mutex_unlock(&lock);
    errno = f->unplugged ? ENODEV : EINVAL;
    return MAP_FAILED;
  }
  void *p = next(addr, len, prot, flags, f->memfd[idx], 0);
  if (p != MAP_FAILED) {
    for (int i = 0; i < MAX_MAPS; i++)
      if (!maps[i].addr) {
        maps[i].addr = p;
        maps[i].len = len;
        break;
      }
  }
  pthread_mutex_unlock(&lock);
  return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return fake_mmap(addr, len, prot, flags, fd, off, REAL(mmap, "mmap"));
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return fake_mmap(addr, len, prot, flags, fd, off, REAL(mmap64, "mmap64"));
}

EXPORT int munmap(void *addr, size_t len) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < MAX_MAPS; i++)
    if (maps[i].addr == addr) {
      if (maps[i].len != len)
        fprintf(stderr, "fake-v4l2: munmap(%p, %zu) of a buffer mapped with length %zu\n", addr, len, maps[i].len);
      maps[i].addr = NULL;
      break;
    }
  pthread_mutex_unlock(&lock);
  return REAL(munmap, "munmap")(addr, len);
}

EXPORT int poll(struct pollfd *pfds, nfds_t n, int timeout) {
  int r = REAL(poll, "poll")(pfds, n, timeout);
  if (r < 0) return r;
  pthread_mutex_lock(&lock);
  for (nfds_t i = 0; i < n; i++) {
    ffd_t *f = lookup(pfds[i].fd);
    if (f && (f->unplugged || f->pollerr)) {
      if (!pfds[i].revents) r++;
      pfds[i].revents |= f->unplugged ? POLLERR | POLLHUP : POLLERR;
    }
  }
  pthread_mutex_unlock(&lock);
  return r;
}

/* The events epoll returned, with POLLERR (and POLLHUP when unplugged) added for ours in error.
 * Such a descriptor is also readable (its timer fires at once), so epoll returns it. */
static void epoll_errors(struct epoll_event *ev, int n) {
  if (n <= 0 || !any_error) return;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n; i++) {
    ffd_t *f = lookup(ev[i].data.fd);
    if (f && f->unplugged) ev[i].events |= EPOLLERR | EPOLLHUP;
    else if (f && f->pollerr) ev[i].events |= EPOLLERR;
  }
  pthread_mutex_unlock(&lock);
}

EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout) {
  int n = REAL(epoll_wait, "epoll_wait")(epfd, ev, max, timeout);
  epoll_errors(ev, n);
  return n;
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask) {
  int n = REAL(epoll_pwait, "epoll_pwait")(epfd, ev, max, timeout, mask);
  epoll_errors(ev, n);
  return n;
}

