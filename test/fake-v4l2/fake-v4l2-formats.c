// The fake camera's offer: formats (MJPEG from the frames folder, generated YUYV and NV12),
// sizes, rates and controls, like a UVC webcam's; and the frames it sends, generated so that
// tests can recompute every byte.
#include "fake-v4l2.h"

uint32_t formats[3];
int nformats(void) {
  int n = 0;
  if (cfg.njpegs) formats[n++] = V4L2_PIX_FMT_MJPEG;
  formats[n++] = V4L2_PIX_FMT_YUYV;
  formats[n++] = V4L2_PIX_FMT_NV12;
  return n;
}

int format_offered(uint32_t f) {
  int n = nformats();
  for (int i = 0; i < n; i++)
    if (formats[i] == f) return 1;
  return 0;
}

static const uint32_t raw_sizes[][2] = {{640, 480}, {1280, 720}};
static const uint32_t odd_sizes[][2] = {{322, 242}};

int size_at(uint32_t f, uint32_t i, uint32_t *w, uint32_t *h) {
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

int size_offered(uint32_t f, uint32_t w, uint32_t h) {
  uint32_t sw, sh;
  for (uint32_t i = 0; size_at(f, i, &sw, &sh); i++)
    if (sw == w && sh == h) return 1;
  return 0;
}

const uint32_t fps_offered[3] = {30, 15, 5};

void set_geometry(ffd_t *f, uint32_t fourcc, uint32_t w, uint32_t h) {
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

void fill_pix(const ffd_t *f, struct v4l2_pix_format *p) {
  memset(p, 0, sizeof *p);
  p->width = f->width;
  p->height = f->height;
  p->pixelformat = f->fourcc;
  p->field = V4L2_FIELD_NONE;
  p->bytesperline = f->stride;
  p->sizeimage = f->sizeimage;
  p->colorspace = f->fourcc == V4L2_PIX_FMT_MJPEG ? V4L2_COLORSPACE_JPEG : V4L2_COLORSPACE_SRGB;
}

const ctrl_t ctrls[NCTRLS] = {
    {V4L2_CID_BRIGHTNESS, V4L2_CTRL_TYPE_INTEGER, "Brightness", -64, 64, 1, 0},
    {V4L2_CID_POWER_LINE_FREQUENCY, V4L2_CTRL_TYPE_MENU, "Power Line Frequency", 0, 2, 1, 1},
    {V4L2_CID_EXPOSURE_AUTO, V4L2_CTRL_TYPE_MENU, "Exposure, Auto", 0, 3, 1, 3},
    {V4L2_CID_EXPOSURE_ABSOLUTE, V4L2_CTRL_TYPE_INTEGER, "Exposure (Absolute)", 3, 2047, 1, 156},
};

int32_t *ctrl_value(device_t *d, uint32_t id) {
  switch (id) {
  case V4L2_CID_BRIGHTNESS: return &d->brightness;
  case V4L2_CID_POWER_LINE_FREQUENCY: return &d->power_line;
  case V4L2_CID_EXPOSURE_AUTO: return &d->exposure_auto;
  case V4L2_CID_EXPOSURE_ABSOLUTE: return &d->exposure_abs;
  default: return NULL;
  }
}

const char *menu_name(uint32_t id, uint32_t index) {
  static const char *power[] = {"Disabled", "50 Hz", "60 Hz"};
  /* UVC cameras offer only manual and aperture priority: the menu has holes */
  static const char *exposure[] = {NULL, "Manual Mode", NULL, "Aperture Priority Mode"};
  if (id == V4L2_CID_POWER_LINE_FREQUENCY && index < 3) return power[index];
  if (id == V4L2_CID_EXPOSURE_AUTO && index < 4) return exposure[index];
  return NULL;
}

int ctrl_inactive(const device_t *d, uint32_t id) {
  return id == V4L2_CID_EXPOSURE_ABSOLUTE && d->exposure_auto != V4L2_EXPOSURE_MANUAL;
}

/* Generated frames: luma (x + 2y + 3*seq) & 255, every U (64 + seq) & 255, every V
 * (192 - seq) & 255, padding bytes zero. Tests recompute this from the frame's sequence. */
/* The bytes of frame `seq` and their length: a JPEG of the folder as loaded, or a raw frame
 * drawn into the descriptor's scratch buffer. */
const unsigned char *render(ffd_t *f, uint32_t seq, size_t *len) {
  unsigned char *d = f->scratch;
  uint8_t u = (uint8_t)(64 + seq), v = (uint8_t)(192 - seq);
  if (f->fourcc == V4L2_PIX_FMT_MJPEG) {
    /* The JPEG's own bytes, copied once into the buffer by the caller (a camera's DMA). Clearing
     * and filling a scratch buffer of twice the frame's size first cost more CPU than anything
     * the reader of the frame does, in the process that reads it. */
    const jpeg_t *j = &cfg.jpegs[seq % cfg.njpegs];
    *len = j->len < f->sizeimage ? j->len : f->sizeimage;
    return j->data;
  }
  memset(d, 0, f->sizeimage); /* the padding of odd strides */
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
  *len = f->sizeimage;
  return d;
}
