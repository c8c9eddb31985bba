// A fake V4L2 camera in user space, loaded with LD_PRELOAD, so the native capture addon runs
// unchanged on machines without /dev/video* or kernel modules (no vivid, no v4l2loopback).
// It answers open/access/ioctl/mmap/poll for /dev/videoN; each open is a real timerfd that
// becomes readable when a frame is due, so libuv's epoll wait works as with a real device.
//
// Environment (read once, at load):
//   FAKE_V4L2_DEVICES=n         number of devices /dev/video0..n-1 (default 1, at most 64)
//   FAKE_V4L2_FRAMES=<folder>   its *.jpg/*.jpeg files are served, in name order, as MJPEG at
//                               the size of the first file; without it only YUYV/NV12 exist
//   FAKE_V4L2_UNPLUG_AFTER=n    after n frames of a stream the device is gone: DQBUF and every
//                               other ioctl fail with ENODEV, poll() reports POLLERR|POLLHUP
//   FAKE_V4L2_GONE_MS=ms        after an unplug, open/access fail with ENOENT for ms (default 0)
//   FAKE_V4L2_EIO_AFTER=n       after n frames DQBUF fails with EIO
//   FAKE_V4L2_STALL_AFTER=n     after n frames no frame is ever due again
//   FAKE_V4L2_STRIP_DHT=1       MJPEG frames lose their DHT segments (as many UVC cameras send)
//   FAKE_V4L2_ODD=1             raw formats are offered at 322x242 with rows padded to 128 bytes
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVICES 64
#define MAX_FDS 256
#define MAX_BUFS 8
#define MAX_MAPS 256

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
} real;

/* The next definition of a symbol (libc's), looked up once. */
static void *next_sym(void **slot, const char *name) {
  if (!*slot) *slot = dlsym(RTLD_NEXT, name);
  return *slot;
}
#define REAL(name, sym) ((__typeof__(real.name))next_sym((void **)&real.name, sym))

typedef struct {
  unsigned char *data;
  size_t len;
} jpeg_t;

static struct {
  int devices;
  jpeg_t *jpegs;
  size_t njpegs;
  uint32_t jw, jh;
  long unplug_after, eio_after, stall_after, gone_ms;
  int strip_dht, odd;
} cfg;

typedef struct {
  int32_t brightness, power_line, exposure_auto, exposure_abs;
  int owner; /* fd that holds the buffers, or -1 */
  struct timespec gone_until;
} device_t;

typedef struct {
  int used, fd, dev, nonblock;
  uint32_t fourcc, width, height, stride, sizeimage;
  uint32_t tpf_num, tpf_den;
  int nbufs;
  int memfd[MAX_BUFS];
  int queued[MAX_BUFS]; /* FIFO of buffer indices */
  int qhead, qcount;
  size_t span; /* page-rounded buffer size: offsets are index * span */
  int streaming, unplugged;
  uint32_t sequence;
  unsigned long served;
  unsigned char *scratch;
} ffd_t;

typedef struct {
  void *addr;
  size_t len;
} map_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static device_t devs[MAX_DEVICES];
static ffd_t fds[MAX_FDS];
static map_t maps[MAX_MAPS];

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

/* ---- devices, formats, sizes ---- */

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

static uint32_t formats[3];
static int nformats(void) {
  int n = 0;
  if (cfg.njpegs) formats[n++] = V4L2_PIX_FMT_MJPEG;
  formats[n++] = V4L2_PIX_FMT_YUYV;
  formats[n++] = V4L2_PIX_FMT_NV12;
  return n;
}

static int format_offered(uint32_t f) {
  int n = nformats();
  for (int i = 0; i < n; i++)
    if (formats[i] == f) return 1;
  return 0;
}

static const uint32_t raw_sizes[][2] = {{640, 480}, {1280, 720}};
static const uint32_t odd_sizes[][2] = {{322, 242}};

static int size_at(uint32_t f, uint32_t i, uint32_t *w, uint32_t *h) {
  if (f == V4L2_PIX_FMT_MJPEG) {
    if (i > 0 || !cfg.njpegs) return 0;
    *w = cfg.jw;
    *h = cfg.jh;
    return 1;
  }
  if (cfg.odd) {
    if (i >= 1) return 0;
    *w = odd_sizes[i][0];
    *h = odd_sizes[i][1];
    return 1;
  }
  if (i >= 2) return 0;
  *w = raw_sizes[i][0];
  *h = raw_sizes[i][1];
  return 1;
}

static int size_offered(uint32_t f, uint32_t w, uint32_t h) {
  uint32_t sw, sh;
  for (uint32_t i = 0; size_at(f, i, &sw, &sh); i++)
    if (sw == w && sh == h) return 1;
  return 0;
}

static const uint32_t fps_offered[] = {30, 15, 5};

static void set_geometry(ffd_t *f, uint32_t fourcc, uint32_t w, uint32_t h) {
  f->fourcc = fourcc;
  f->width = w;
  f->height = h;
  uint32_t pad = cfg.odd ? 128 : 1;
  if (fourcc == V4L2_PIX_FMT_MJPEG) {
    f->stride = 0;
    f->sizeimage = w * h * 2; /* what UVC drivers ask for: room for any JPEG of this size */
  } else if (fourcc == V4L2_PIX_FMT_YUYV) {
    f->stride = (w * 2 + pad - 1) / pad * pad;
    f->sizeimage = f->stride * h;
  } else {
    f->stride = (w + pad - 1) / pad * pad;
    f->sizeimage = f->stride * h + f->stride * ((h + 1) / 2);
  }
}

static void fill_pix(const ffd_t *f, struct v4l2_pix_format *p) {
  memset(p, 0, sizeof *p);
  p->width = f->width;
  p->height = f->height;
  p->pixelformat = f->fourcc;
  p->field = V4L2_FIELD_NONE;
  p->bytesperline = f->stride;
  p->sizeimage = f->sizeimage;
  p->colorspace = f->fourcc == V4L2_PIX_FMT_MJPEG ? V4L2_COLORSPACE_JPEG : V4L2_COLORSPACE_SRGB;
}

/* ---- controls ---- */

typedef struct {
  uint32_t id, type;
  const char *name;
  int32_t min, max, step, dflt;
} ctrl_t;

static const ctrl_t ctrls[] = {
    {V4L2_CID_BRIGHTNESS, V4L2_CTRL_TYPE_INTEGER, "Brightness", -64, 64, 1, 0},
    {V4L2_CID_POWER_LINE_FREQUENCY, V4L2_CTRL_TYPE_MENU, "Power Line Frequency", 0, 2, 1, 1},
    {V4L2_CID_EXPOSURE_AUTO, V4L2_CTRL_TYPE_MENU, "Exposure, Auto", 0, 3, 1, 3},
    {V4L2_CID_EXPOSURE_ABSOLUTE, V4L2_CTRL_TYPE_INTEGER, "Exposure (Absolute)", 3, 2047, 1, 156},
};
#define NCTRLS (sizeof ctrls / sizeof ctrls[0])

static int32_t *ctrl_value(device_t *d, uint32_t id) {
  switch (id) {
  case V4L2_CID_BRIGHTNESS: return &d->brightness;
  case V4L2_CID_POWER_LINE_FREQUENCY: return &d->power_line;
  case V4L2_CID_EXPOSURE_AUTO: return &d->exposure_auto;
  case V4L2_CID_EXPOSURE_ABSOLUTE: return &d->exposure_abs;
  default: return NULL;
  }
}

static const char *menu_name(uint32_t id, uint32_t index) {
  static const char *power[] = {"Disabled", "50 Hz", "60 Hz"};
  /* UVC cameras offer only manual and aperture priority: the menu has holes */
  static const char *exposure[] = {NULL, "Manual Mode", NULL, "Aperture Priority Mode"};
  if (id == V4L2_CID_POWER_LINE_FREQUENCY && index < 3) return power[index];
  if (id == V4L2_CID_EXPOSURE_AUTO && index < 4) return exposure[index];
  return NULL;
}

static int ctrl_inactive(const device_t *d, uint32_t id) {
  return id == V4L2_CID_EXPOSURE_ABSOLUTE && d->exposure_auto != V4L2_EXPOSURE_MANUAL;
}

/* ---- descriptors and buffers ---- */

static ffd_t *lookup(int fd) {
  for (int i = 0; i < MAX_FDS; i++)
    if (fds[i].used && fds[i].fd == fd) return &fds[i];
  return NULL;
}

static void free_buffers(ffd_t *f) {
  for (int i = 0; i < f->nbufs; i++) REAL(close, "close")(f->memfd[i]);
  f->nbufs = f->qhead = f->qcount = 0;
  free(f->scratch);
  f->scratch = NULL;
  if (devs[f->dev].owner == f->fd) devs[f->dev].owner = -1;
}

static void arm(ffd_t *f, long first_ns, int periodic) {
  struct itimerspec its = {0};
  if (first_ns >= 0) {
    its.it_value.tv_sec = first_ns / 1000000000L;
    its.it_value.tv_nsec = first_ns % 1000000000L;
    if (!its.it_value.tv_sec && !its.it_value.tv_nsec) its.it_value.tv_nsec = 1;
  }
  if (periodic) {
    long period = (long)(1e9 * f->tpf_num / f->tpf_den);
    its.it_interval.tv_sec = period / 1000000000L;
    its.it_interval.tv_nsec = period % 1000000000L;
  }
  timerfd_settime(f->fd, 0, &its, NULL);
}

static void unplug(ffd_t *f) {
  f->unplugged = 1;
  clock_gettime(CLOCK_MONOTONIC, &devs[f->dev].gone_until);
  devs[f->dev].gone_until.tv_sec += cfg.gone_ms / 1000;
  devs[f->dev].gone_until.tv_nsec += (cfg.gone_ms % 1000) * 1000000L;
  if (devs[f->dev].gone_until.tv_nsec >= 1000000000L) {
    devs[f->dev].gone_until.tv_sec++;
    devs[f->dev].gone_until.tv_nsec -= 1000000000L;
  }
  arm(f, 0, 0); /* wake the waiter now: a real device reports POLLERR at once */
}

/* Generated frames: luma (x + 2y + 3*seq) & 255, every U (64 + seq) & 255, every V
 * (192 - seq) & 255, padding bytes zero. Tests recompute this from the frame's sequence. */
static size_t render(ffd_t *f, uint32_t seq) {
  unsigned char *d = f->scratch;
  memset(d, 0, f->sizeimage);
  uint8_t u = (uint8_t)(64 + seq), v = (uint8_t)(192 - seq);
  if (f->fourcc == V4L2_PIX_FMT_MJPEG) {
    const jpeg_t *j = &cfg.jpegs[seq % cfg.njpegs];
    size_t n = j->len < f->sizeimage ? j->len : f->sizeimage;
    memcpy(d, j->data, n);
    return n;
  }
  for (uint32_t y = 0; y < f->height; y++) {
    unsigned char *row = d + (size_t)y * f->stride;
    for (uint32_t x = 0; x < f->width; x++) {
      uint8_t luma = (uint8_t)(x + 2 * y + 3 * seq);
      if (f->fourcc == V4L2_PIX_FMT_YUYV) {
        row[x * 2] = luma;
        row[x * 2 + 1] = (x & 1) ? v : u;
      } else {
        row[x] = luma;
      }
    }
  }
  if (f->fourcc == V4L2_PIX_FMT_NV12) {
    unsigned char *uv = d + (size_t)f->stride * f->height;
    for (uint32_t y = 0; y < (f->height + 1) / 2; y++)
      for (uint32_t x = 0; x + 1 < f->width + 1; x += 2) {
        uv[(size_t)y * f->stride + x] = u;
        uv[(size_t)y * f->stride + x + 1] = v;
      }
  }
  return f->sizeimage;
}

static int do_dqbuf(ffd_t *f, struct v4l2_buffer *b) {
  if (!f->streaming) return EINVAL;
  if (cfg.unplug_after >= 0 && (long)f->served >= cfg.unplug_after) {
    if (!f->unplugged) unplug(f);
    return ENODEV;
  }
  if (cfg.eio_after >= 0 && (long)f->served >= cfg.eio_after) return EIO;
  uint64_t ticks = 0;
  if (read(f->fd, &ticks, sizeof ticks) != sizeof ticks) return EAGAIN;
  uint32_t seq = f->sequence;
  f->sequence += (uint32_t)ticks; /* ticks beyond one are frames the "sensor" dropped */
  if (!f->qcount) return EAGAIN;  /* no buffer to fill: the frame is lost, as in a driver */
  int idx = f->queued[f->qhead];
  f->qhead = (f->qhead + 1) % MAX_BUFS;
  f->qcount--;
  size_t used = render(f, seq);
  if (pwrite(f->memfd[idx], f->scratch, used, 0) != (ssize_t)used) return EIO;
  f->served++;
  if (cfg.stall_after >= 0 && (long)f->served >= cfg.stall_after) arm(f, -1, 0);
  memset(b, 0, sizeof *b);
  b->index = (uint32_t)idx;
  b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  b->memory = V4L2_MEMORY_MMAP;
  b->bytesused = (uint32_t)used;
  b->length = f->sizeimage;
  b->m.offset = (uint32_t)(idx * f->span);
  b->field = V4L2_FIELD_NONE;
  b->flags = V4L2_BUF_FLAG_MAPPED | V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC | V4L2_BUF_FLAG_DONE;
  b->sequence = seq;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  b->timestamp.tv_sec = now.tv_sec;
  b->timestamp.tv_usec = now.tv_nsec / 1000;
  return 0;
}

static int buffer_queued(const ffd_t *f, int idx) {
  for (int i = 0; i < f->qcount; i++)
    if (f->queued[(f->qhead + i) % MAX_BUFS] == idx) return 1;
  return 0;
}

static int fake_ioctl(ffd_t *f, unsigned long req, void *arg) {
  device_t *d = &devs[f->dev];
  if (f->unplugged) return ENODEV;
  switch (req) {
  case VIDIOC_QUERYCAP: {
    struct v4l2_capability *c = arg;
    memset(c, 0, sizeof *c);
    snprintf((char *)c->driver, sizeof c->driver, "fake-v4l2");
    snprintf((char *)c->card, sizeof c->card, "Fake Camera %d", f->dev);
    snprintf((char *)c->bus_info, sizeof c->bus_info, "fake:%d", f->dev);
    c->version = (6u << 16) | (1u << 8);
    c->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
    c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
    return 0;
  }
  case VIDIOC_ENUM_FMT: {
    struct v4l2_fmtdesc *e = arg;
    int n = nformats();
    if (e->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || e->index >= (uint32_t)n) return EINVAL;
    uint32_t fmt = formats[e->index], index = e->index;
    memset(e, 0, sizeof *e);
    e->index = index;
    e->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    e->pixelformat = fmt;
    e->flags = fmt == V4L2_PIX_FMT_MJPEG ? V4L2_FMT_FLAG_COMPRESSED : 0;
    snprintf((char *)e->description, sizeof e->description, "%s",
             fmt == V4L2_PIX_FMT_MJPEG ? "Motion-JPEG" : fmt == V4L2_PIX_FMT_YUYV ? "YUYV 4:2:2" : "Y/UV 4:2:0");
    return 0;
  }
  case VIDIOC_ENUM_FRAMESIZES: {
    struct v4l2_frmsizeenum *s = arg;
    uint32_t w, h;
    if (!format_offered(s->pixel_format) || !size_at(s->pixel_format, s->index, &w, &h)) return EINVAL;
    s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
    s->discrete.width = w;
    s->discrete.height = h;
    return 0;
  }
  case VIDIOC_ENUM_FRAMEINTERVALS: {
    struct v4l2_frmivalenum *v = arg;
    if (!format_offered(v->pixel_format) || !size_offered(v->pixel_format, v->width, v->height) || v->index >= 3)
      return EINVAL;
    v->type = V4L2_FRMIVAL_TYPE_DISCRETE;
    v->discrete.numerator = 1;
    v->discrete.denominator = fps_offered[v->index];
    return 0;
  }
  case VIDIOC_G_FMT:
  case VIDIOC_S_FMT:
  case VIDIOC_TRY_FMT: {
    struct v4l2_format *fm = arg;
    if (fm->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
    if (req != VIDIOC_G_FMT) {
      if (req == VIDIOC_S_FMT && (f->streaming || f->nbufs || (d->owner >= 0 && d->owner != f->fd))) return EBUSY;
      uint32_t fourcc = fm->fmt.pix.pixelformat, w = fm->fmt.pix.width, h = fm->fmt.pix.height;
      if (!format_offered(fourcc)) fourcc = formats[0];
      if (!size_offered(fourcc, w, h)) size_at(fourcc, 0, &w, &h); /* drivers adjust, never fail */
      ffd_t tmp = *f;
      set_geometry(&tmp, fourcc, w, h);
      if (req == VIDIOC_S_FMT) set_geometry(f, fourcc, w, h);
      fill_pix(&tmp, &fm->fmt.pix);
      return 0;
    }
    fill_pix(f, &fm->fmt.pix);
    return 0;
  }
  case VIDIOC_G_PARM:
  case VIDIOC_S_PARM: {
    struct v4l2_streamparm *p = arg;
    if (p->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
    if (req == VIDIOC_S_PARM) {
      struct v4l2_fract t = p->parm.capture.timeperframe;
      double want = t.numerator ? (double)t.denominator / t.numerator : 30;
      uint32_t best = fps_offered[0];
      for (int i = 0; i < 3; i++) {
        double a = want - fps_offered[i], b = want - best;
        if ((a < 0 ? -a : a) < (b < 0 ? -b : b)) best = fps_offered[i];
      }
      f->tpf_num = 1;
      f->tpf_den = best;
      if (f->streaming) arm(f, (long)(1e9 / best), 1);
    }
    memset(&p->parm, 0, sizeof p->parm);
    p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
    p->parm.capture.timeperframe.numerator = f->tpf_num;
    p->parm.capture.timeperframe.denominator = f->tpf_den;
    p->parm.capture.readbuffers = 0;
    return 0;
  }
  case VIDIOC_REQBUFS: {
    struct v4l2_requestbuffers *r = arg;
    if (r->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || r->memory != V4L2_MEMORY_MMAP) return EINVAL;
    if (f->streaming) return EBUSY;
    if (d->owner >= 0 && d->owner != f->fd) return EBUSY;
    free_buffers(f);
    if (r->count == 0) return 0;
    uint32_t n = r->count < 2 ? 2 : r->count > MAX_BUFS ? MAX_BUFS : r->count;
    long page = sysconf(_SC_PAGESIZE);
    f->span = (f->sizeimage + (size_t)page - 1) / (size_t)page * (size_t)page;
    for (uint32_t i = 0; i < n; i++) {
      int m = memfd_create("fake-v4l2-buffer", MFD_CLOEXEC);
      if (m < 0 || ftruncate(m, (off_t)f->span) != 0) {
        if (m >= 0) REAL(close, "close")(m);
        free_buffers(f);
        return ENOMEM;
      }
      f->memfd[f->nbufs++] = m;
    }
    f->scratch = malloc(f->sizeimage);
    d->owner = f->fd;
    r->count = n;
    return 0;
  }
  case VIDIOC_QUERYBUF:
  case VIDIOC_QBUF: {
    struct v4l2_buffer *b = arg;
    if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->index >= (uint32_t)f->nbufs) return EINVAL;
    if (req == VIDIOC_QBUF) {
      if (b->memory != V4L2_MEMORY_MMAP || buffer_queued(f, (int)b->index)) return EINVAL;
      f->queued[(f->qhead + f->qcount) % MAX_BUFS] = (int)b->index;
      f->qcount++;
    }
    uint32_t index = b->index;
    memset(b, 0, sizeof *b);
    b->index = index;
    b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b->memory = V4L2_MEMORY_MMAP;
    b->length = f->sizeimage;
    b->m.offset = (uint32_t)(index * f->span);
    b->flags = V4L2_BUF_FLAG_MAPPED | (buffer_queued(f, (int)index) ? V4L2_BUF_FLAG_QUEUED : 0);
    return 0;
  }
  case VIDIOC_DQBUF: {
    struct v4l2_buffer *b = arg;
    if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->memory != V4L2_MEMORY_MMAP) return EINVAL;
    int r = do_dqbuf(f, b);
    while (r == EAGAIN && !f->nonblock && f->streaming) {
      struct pollfd p = {f->fd, POLLIN, 0};
      pthread_mutex_unlock(&lock);
      REAL(poll, "poll")(&p, 1, 1000);
      pthread_mutex_lock(&lock);
      r = do_dqbuf(f, b);
    }
    return r;
  }
  case VIDIOC_STREAMON:
  case VIDIOC_STREAMOFF: {
    if (*(int *)arg != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
    if (req == VIDIOC_STREAMON) {
      if (!f->nbufs) return EINVAL;
      if (!f->streaming) arm(f, (long)(1e9 * f->tpf_num / f->tpf_den), 1);
      f->streaming = 1;
    } else {
      arm(f, -1, 0);
      uint64_t drain;
      (void)!read(f->fd, &drain, sizeof drain);
      f->streaming = 0;
      f->qhead = f->qcount = 0;
    }
    return 0;
  }
  case VIDIOC_QUERYCTRL: {
    struct v4l2_queryctrl *q = arg;
    uint32_t id = q->id & ~(V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND);
    const ctrl_t *c = NULL;
    for (size_t i = 0; i < NCTRLS && !c; i++)
      if ((q->id & V4L2_CTRL_FLAG_NEXT_CTRL) ? ctrls[i].id > id : ctrls[i].id == id) c = &ctrls[i];
    if (!c) return EINVAL;
    memset(q, 0, sizeof *q);
    q->id = c->id;
    q->type = c->type;
    snprintf((char *)q->name, sizeof q->name, "%s", c->name);
    q->minimum = c->min;
    q->maximum = c->max;
    q->step = c->step;
    q->default_value = c->dflt;
    q->flags = ctrl_inactive(d, c->id) ? V4L2_CTRL_FLAG_INACTIVE : 0;
    return 0;
  }
  case VIDIOC_QUERYMENU: {
    struct v4l2_querymenu *m = arg;
    const char *name = menu_name(m->id, m->index);
    if (!name) return EINVAL;
    snprintf((char *)m->name, sizeof m->name, "%s", name);
    return 0;
  }
  case VIDIOC_G_CTRL:
  case VIDIOC_S_CTRL: {
    struct v4l2_control *c = arg;
    int32_t *v = ctrl_value(d, c->id);
    if (!v) return EINVAL;
    if (req == VIDIOC_G_CTRL) {
      c->value = *v;
      return 0;
    }
    const ctrl_t *def = NULL;
    for (size_t i = 0; i < NCTRLS; i++)
      if (ctrls[i].id == c->id) def = &ctrls[i];
    if (ctrl_inactive(d, c->id)) return EACCES;
    if (c->value < def->min || c->value > def->max) return ERANGE;
    if (def->type == V4L2_CTRL_TYPE_MENU && !menu_name(c->id, (uint32_t)c->value)) return EINVAL;
    *v = c->value;
    return 0;
  }
  default:
    return ENOTTY;
  }
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

int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = open_mode(flags, ap);
  va_end(ap);
  OPEN_BODY(REAL(open, "open")(path, flags, mode))
}

int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = open_mode(flags, ap);
  va_end(ap);
  OPEN_BODY(REAL(open64, "open64")(path, flags, mode))
}

int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = open_mode(flags, ap);
  va_end(ap);
  OPEN_BODY(REAL(openat, "openat")(dirfd, path, flags, mode))
}

int openat64(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = open_mode(flags, ap);
  va_end(ap);
  OPEN_BODY(REAL(openat64, "openat64")(dirfd, path, flags, mode))
}

/* The fortified entry points that _FORTIFY_SOURCE builds call instead of open/openat. */
int __open_2(const char *path, int flags) { OPEN_BODY(REAL(open_2, "__open_2")(path, flags)) }
int __open64_2(const char *path, int flags) { OPEN_BODY(REAL(open64_2, "__open64_2")(path, flags)) }
int __openat_2(int dirfd, const char *path, int flags) { OPEN_BODY(REAL(openat_2, "__openat_2")(dirfd, path, flags)) }

int access(const char *path, int mode) {
  int idx = device_index(path);
  if (idx < 0) return REAL(access, "access")(path, mode);
  pthread_mutex_lock(&lock);
  int present = device_present(idx);
  pthread_mutex_unlock(&lock);
  if (present && !(mode & X_OK)) return 0;
  errno = present ? EACCES : ENOENT;
  return -1;
}

int close(int fd) {
  pthread_mutex_lock(&lock);
  ffd_t *f = lookup(fd);
  if (f) {
    free_buffers(f);
    f->used = 0;
  }
  pthread_mutex_unlock(&lock);
  return REAL(close, "close")(fd);
}

int ioctl(int fd, unsigned long req, ...) {
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

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return fake_mmap(addr, len, prot, flags, fd, off, REAL(mmap, "mmap"));
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return fake_mmap(addr, len, prot, flags, fd, off, REAL(mmap64, "mmap64"));
}

int munmap(void *addr, size_t len) {
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

int poll(struct pollfd *pfds, nfds_t n, int timeout) {
  int r = REAL(poll, "poll")(pfds, n, timeout);
  if (r < 0) return r;
  pthread_mutex_lock(&lock);
  for (nfds_t i = 0; i < n; i++) {
    ffd_t *f = lookup(pfds[i].fd);
    if (f && f->unplugged) {
      if (!pfds[i].revents) r++;
      pfds[i].revents |= POLLERR | POLLHUP;
    }
  }
  pthread_mutex_unlock(&lock);
  return r;
}
